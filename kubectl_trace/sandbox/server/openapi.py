"""A minimal OpenAPI v3 discovery, enough for ``kubectl apply``'s validation step.

kubectl apply checks in ``/openapi/v3`` whether the PATCH operation of the object's
group-version-kind takes the ``fieldValidation`` query parameter (server-side field
validation); without an OpenAPI v3 document it falls back to downloading ``/openapi/v2``
and fails. These documents list, per resource, the PATCH operation with that parameter and
its ``x-kubernetes-group-version-kind``; they hold no schemas (kubectl then computes
strategic merge patches from its compiled-in types, and ``kubectl explain`` is unsupported).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from kubectl_trace.kube.resources import RESOURCES
from kubectl_trace.sandbox.server.discovery import KUBERNETES_VERSION

__all__ = ["openapi_document"]

_GROUP_VERSIONS = {"api/v1": "", "apis/apps/v1": "apps", "apis/batch/v1": "batch"}


def _query(name: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": True}}


def _group_version_document(prefix: str, group: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for resource in sorted(RESOURCES.values(), key=lambda r: r.plural):
        if resource.group != group:
            continue
        base = (
            f"/{prefix}/namespaces/{{namespace}}/{resource.plural}"
            if resource.namespaced
            else (f"/{prefix}/{resource.plural}")
        )
        gvk = {"group": group, "version": "v1", "kind": resource.kind}
        paths[f"{base}/{{name}}"] = {
            "patch": {
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
        }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION["gitVersion"]},
        "paths": paths,
        "components": {},
    }


def _hash(document: dict[str, Any]) -> str:
    return hashlib.sha512(json.dumps(document, sort_keys=True).encode()).hexdigest()[:64].upper()


def openapi_document(path: str) -> dict[str, Any] | None:
    """The document at ``/openapi/v3`` or ``/openapi/v3/<group-version>``, or None."""
    if path == "/openapi/v3":
        paths = {}
        for prefix, group in _GROUP_VERSIONS.items():
            digest = _hash(_group_version_document(prefix, group))
            paths[prefix] = {"serverRelativeURL": f"/openapi/v3/{prefix}?hash={digest}"}
        return {"paths": paths}
    prefix = path.removeprefix("/openapi/v3/")
    if prefix in _GROUP_VERSIONS:
        return _group_version_document(prefix, _GROUP_VERSIONS[prefix])
    return None
