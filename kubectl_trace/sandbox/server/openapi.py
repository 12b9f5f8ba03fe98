"""OpenAPI v3 (``/openapi/v3``) with the real schemas of every kind served (and v2, see openapi_v2).

``/openapi/v3`` lists one document per group-version, each with a content hash in its
URL (kubectl caches by it). A group-version document holds, per resource, the PATCH
operation with its ``fieldValidation`` parameter (kubectl apply checks it to use
server-side field validation) and, in ``components.schemas``, the schemas of the kinds
with ``x-kubernetes-group-version-kind`` and everything they refer to — read from the
official client's models (``kubectl_trace.sandbox.schema``), so ``kubectl explain`` and
client-side validation work. The group-versions come from the resource table: a kind
added there is published without more code. Documents are built once and cached.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from aiohttp import web

from kubectl_trace.kube.resources import Resource
from kubectl_trace.sandbox.server.discovery import KUBERNETES_VERSION, served

__all__ = ["group_versions", "openapi_bytes", "openapi_document", "serve_openapi"]

Obj = dict[str, Any]


def group_versions() -> dict[str, tuple[str, str]]:
    """``api/v1`` → ("", "v1"), ``apis/apps/v1`` → ("apps", "v1") for every resource served."""
    out: dict[str, tuple[str, str]] = {}
    for resource in served():
        prefix = resource.base_path().lstrip("/")
        out.setdefault(prefix, (resource.group, resource.version))
    return dict(sorted(out.items()))


def _query(name: str) -> Obj:
    return {"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": True}}


def _resources(group: str, version: str) -> list[Resource]:
    return sorted((r for r in served() if r.group == group and r.version == version), key=lambda r: r.plural)


@functools.cache
def _group_version_document(prefix: str) -> Obj:
    from kubectl_trace.sandbox.schema.models import schema_for
    from kubectl_trace.sandbox.schema.openapi_schemas import schema_name, schemas_for

    group, version = group_versions()[prefix]
    paths: Obj = {}
    roots: dict[str, tuple[str, str, str]] = {}
    for resource in _resources(group, version):
        model = schema_for(resource.api_version, resource.kind)
        base = (
            f"/{prefix}/namespaces/{{namespace}}/{resource.plural}"
            if resource.namespaced
            else f"/{prefix}/{resource.plural}"
        )
        gvk = {"group": group, "version": version, "kind": resource.kind}
        operation: Obj = {
            "operationId": f"patch{resource.kind}",
            "parameters": [
                _query("dryRun"),
                _query("fieldManager"),
                _query("fieldValidation"),
                _query("force"),
            ],
            "responses": {"200": {"description": "OK"}},
            "x-kubernetes-action": "patch",
            "x-kubernetes-group-version-kind": gvk,
        }
        if model is not None:
            roots[model] = (group, version, resource.kind)
            ref = {"$ref": f"#/components/schemas/{schema_name(model)}"}
            operation["responses"]["200"]["content"] = {"application/json": {"schema": ref}}
        paths[f"{base}/{{name}}"] = {"patch": operation}
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION["gitVersion"]},
        "paths": paths,
        "components": {"schemas": schemas_for(roots, v3=True)},
    }


@functools.cache
def _encoded(prefix: str) -> tuple[bytes, str]:
    data = json.dumps(_group_version_document(prefix), separators=(",", ":")).encode()
    return data, hashlib.sha512(data).hexdigest()[:128].upper()


def openapi_document(path: str) -> Obj | None:
    """The document at ``/openapi/v3`` or ``/openapi/v3/<group-version>`` (parsed), or None."""
    if path == "/openapi/v3":
        return {
            "paths": {
                prefix: {"serverRelativeURL": f"/openapi/v3/{prefix}?hash={_encoded(prefix)[1]}"}
                for prefix in group_versions()
            }
        }
    prefix = path.removeprefix("/openapi/v3/")
    if prefix in group_versions():
        return _group_version_document(prefix)
    return None


def openapi_bytes(path: str) -> bytes | None:
    """The JSON bytes of a document (group-version documents encoded once)."""
    prefix = path.removeprefix("/openapi/v3/")
    if path.startswith("/openapi/v3/") and prefix in group_versions():
        return _encoded(prefix)[0]
    doc = openapi_document(path)
    return None if doc is None else json.dumps(doc, separators=(",", ":")).encode()


def serve_openapi(request: web.Request, path: str) -> web.Response:
    """Answer ``GET /openapi/v2`` and ``/openapi/v3[/GROUP-VERSION]`` (404 for anything else)."""
    from kubectl_trace.sandbox.store import StoreError

    if request.method != "GET":
        raise StoreError(
            405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
        )
    if path == "/openapi/v2":
        from kubectl_trace.sandbox.server.openapi_v2 import protobuf_content_type, v2_json, v2_protobuf

        content_type = protobuf_content_type(request.headers.get("Accept", ""))
        if content_type is not None:
            return web.Response(body=v2_protobuf(), headers={"Content-Type": content_type})
        return web.Response(body=v2_json(), content_type="application/json")
    data = openapi_bytes(path)
    if data is None:
        raise StoreError(404, "NotFound", "the server could not find the requested resource", details={})
    headers = {"Cache-Control": "public, immutable"} if "hash" in request.query else None
    return web.Response(body=data, content_type="application/json", headers=headers)
