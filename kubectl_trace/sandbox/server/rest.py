"""CRUD on objects: get, list, create, update, patch, delete, and the scale subresource."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kubectl_trace.kube.resources import RESOURCES, Resource
from kubectl_trace.kube.selectors import format_label_selector
from kubectl_trace.sandbox.defaults import apply_defaults as _cluster_defaults
from kubectl_trace.sandbox.server.eventsv1 import from_events_v1, is_view, view_of
from kubectl_trace.sandbox.server.fields import compile_selectors
from kubectl_trace.sandbox.server.patch import (
    PatchError,
    apply_json_patch,
    apply_merge_patch,
    apply_strategic_merge_patch,
)
from kubectl_trace.sandbox.server.responses import (
    dumps,
    json_response,
    query_bool,
    query_int,
    success_status,
)
from kubectl_trace.sandbox.server.routes import Route
from kubectl_trace.sandbox.server.tables import table, wants_table
from kubectl_trace.sandbox.server.watch import serve_watch
from kubectl_trace.sandbox.store import StoreError, rfc3339

if TYPE_CHECKING:
    from kubectl_trace.sandbox.server.api import ApiServer

__all__ = ["handle_object_request", "read_json_body"]

Obj = dict[str, Any]
Predicate = Callable[[Obj], bool]

_PATCHERS = {
    "application/strategic-merge-patch+json": apply_strategic_merge_patch,
    "application/merge-patch+json": apply_merge_patch,
    "application/json-patch+json": apply_json_patch,
}


def _cluster_ip(obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    digest = hashlib.sha256(f"{meta.get('namespace')}/{meta.get('name')}".encode()).digest()
    return f"10.96.{digest[0]}.{digest[1] % 254 + 1}"


def apply_defaults(resource: str, obj: Obj) -> Obj:
    """The cluster's API defaults, plus what the API server itself allocates or labels."""
    _cluster_defaults(resource, obj)
    meta = obj.setdefault("metadata", {})
    if resource == "namespaces" and meta.get("name"):
        meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
    elif resource == "services":
        spec = obj.setdefault("spec", {})
        if spec.get("type") != "ExternalName":
            spec.setdefault("clusterIP", _cluster_ip(obj))
            spec.setdefault("clusterIPs", [spec["clusterIP"]])
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
            spec.setdefault("internalTrafficPolicy", "Cluster")
        obj.setdefault("status", {"loadBalancer": {}})
    return obj


def method_not_allowed() -> StoreError:
    """405 for a method the path does not take."""
    return StoreError(
        405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
    )


async def read_json_body(request: web.Request) -> Any:
    """The request body as JSON (or a supported protobuf object); 415/400 otherwise."""
    content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    raw = await request.read()
    if content_type == "application/vnd.kubernetes.protobuf":
        from kubectl_trace.sandbox.server.protobuf import UnsupportedProtobuf, decode_object

        try:
            return decode_object(raw)
        except UnsupportedProtobuf as exc:
            raise StoreError(
                415,
                "UnsupportedMediaType",
                f"the sandbox cannot read this protobuf body ({exc}); send JSON instead "
                "(e.g. kubectl apply -f FILE)",
            ) from None
    if content_type and not (content_type == "application/json" or content_type.endswith("+json")):
        raise StoreError(
            415,
            "UnsupportedMediaType",
            "the body of the request was in an unknown format - accepted media types include: "
            "application/json, application/json-patch+json, application/merge-patch+json, "
            "application/strategic-merge-patch+json",
        )
    if not raw.strip():
        raise StoreError.bad_request("the body of the request was empty")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise StoreError.bad_request(f"couldn't get version/kind; json parse error: {exc}") from None


def _table_or_json(
    api: ApiServer, request: web.Request, resource: Resource, objects: list[Obj], **kw: Any
) -> web.Response:
    include = request.query.get("includeObject", "Metadata")
    return json_response(table(resource.plural, objects, now=api.store.clock(), include_object=include, **kw))


# -- reading ------------------------------------------------------------------------------


def list_objects(api: ApiServer, request: web.Request, route: Route) -> web.Response:
    """LIST a collection (one namespace or all), honouring selectors, ``limit`` and ``continue``."""
    from kubectl_trace.sandbox.server.paging import page

    resource = route.resource
    assert resource is not None
    predicate = compile_selectors(resource, request.query)
    items = api.store.list(resource.plural, route.namespace, predicate)
    chunk = page(api.store, items, request.query, selected=predicate is not None)
    if wants_table(request.headers.get("Accept")):
        include = request.query.get("includeObject", "Metadata")
        body = table(resource.plural, chunk.items, now=api.store.clock(), include_object=include)
        body["metadata"] = chunk.metadata
        return json_response(body)
    head = dumps({"kind": resource.list_kind, "apiVersion": resource.api_version, "metadata": chunk.metadata})
    encode = api.hub.encode if not is_view(resource) else (lambda obj: dumps(view_of(resource, obj)))
    body_bytes = head[:-1] + b',"items":[' + b",".join(encode(item) for item in chunk.items) + b"]}"
    return web.Response(body=body_bytes, content_type="application/json")


def get_object(api: ApiServer, request: web.Request, route: Route) -> web.Response:
    """GET one object."""
    resource = route.resource
    assert resource is not None and route.name is not None
    obj = api.store.get(resource.plural, route.namespace, route.name)
    if wants_table(request.headers.get("Accept")) and route.subresource is None:
        return _table_or_json(
            api, request, resource, [obj], resource_version=obj["metadata"]["resourceVersion"]
        )
    return json_response(view_of(resource, obj))


# -- writing ------------------------------------------------------------------------------


def _check_identity(resource: Resource, route: Route, body: Any, *, name_required: bool) -> Obj:
    if not isinstance(body, dict):
        raise StoreError.bad_request("the body of the request must be a JSON object")
    kind = body.get("kind")
    if kind and kind != resource.kind:
        raise StoreError.bad_request(
            f"the kind in the data ({kind}) does not match the expected kind ({resource.kind})"
        )
    api_version = body.get("apiVersion")
    if api_version and api_version != resource.api_version:
        raise StoreError.bad_request(
            f"the API version in the data ({api_version}) does not match the expected API version "
            f"({resource.api_version})"
        )
    meta = body.get("metadata")
    if meta is None:
        meta = body["metadata"] = {}
    if not isinstance(meta, dict):
        raise StoreError.bad_request("metadata must be an object")
    if resource.namespaced:
        ns = meta.get("namespace")
        if ns and route.namespace and ns != route.namespace:
            raise StoreError.bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        if route.namespace:
            meta["namespace"] = route.namespace
    if name_required and route.name is not None:
        name = meta.get("name")
        if name and name != route.name:
            raise StoreError.bad_request(
                f"the name of the object ({name}) does not match the name on the URL ({route.name})"
            )
        meta["name"] = route.name
    return body


def _dry_run(request: web.Request, options: Obj | None = None) -> bool:
    """Whether the request is a dry run (``dryRun=All`` in the query or the DeleteOptions body)."""
    values = list(request.query.getall("dryRun", []))
    if options is not None:
        given = options.get("dryRun") or []
        values.extend(given if isinstance(given, list) else [given])
    for value in values:
        if value != "All":
            raise StoreError.bad_request(f'Invalid dry run value: "{value}". Valid values are "All"')
    return bool(values)


def _admit(
    resource: Resource,
    request: web.Request,
    obj: Any,
    warnings: list[str],
    *,
    old: Obj | None = None,
    subresource: str | None = None,
) -> Obj:
    """Decode strictly, apply defaults (main resource), validate: what would be stored."""
    from kubectl_trace.sandbox.schema.admit import check_write, decode_write, field_validation

    decoded = decode_write(resource, obj, field_validation(request.query), warnings)
    if subresource is None:
        apply_defaults(resource.plural, decoded)
    check_write(resource, decoded, old=old, subresource=subresource)
    return decoded


def _answer(obj: Obj, warnings: list[str], status: int = 200) -> web.Response:
    if not warnings:
        return json_response(obj, status=status)
    from multidict import CIMultiDict

    from kubectl_trace.sandbox.schema.admit import warning_headers

    return json_response(obj, status=status, headers=CIMultiDict(warning_headers(warnings)))


async def create_object(api: ApiServer, request: web.Request, route: Route) -> web.Response:
    """POST a new object (201)."""
    resource = route.resource
    assert resource is not None
    if resource.namespaced and route.namespace is None:
        raise method_not_allowed()
    body = _check_identity(resource, route, await read_json_body(request), name_required=False)
    for key in (
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
    ):
        body["metadata"].pop(key, None)
    warnings: list[str] = []
    body = _admit(resource, request, copy.deepcopy(body), warnings)
    if is_view(resource):
        body = from_events_v1(body)
    created = api.store.create(resource.plural, body, route.namespace, dry_run=_dry_run(request))
    return _answer(view_of(resource, created), warnings, status=201)


def _write(
    api: ApiServer, request: web.Request, route: Route, new: Any, current: Obj, warnings: list[str]
) -> Obj:
    resource = route.resource
    assert resource is not None
    admitted = _admit(
        resource, request, new, warnings, old=view_of(resource, current), subresource=route.subresource
    )
    if is_view(resource):
        admitted = from_events_v1(admitted)
    for key in ("name", "namespace"):
        if key in current["metadata"]:
            admitted["metadata"][key] = current["metadata"][key]
    dry_run = _dry_run(request)
    updated = api.store.update(resource.plural, admitted, subresource=route.subresource, dry_run=dry_run)
    meta = updated["metadata"]
    last_finalizer_gone = meta.get("deletionTimestamp") and not meta.get("finalizers")
    if last_finalizer_gone and resource.plural != "pods" and not dry_run:
        # the last finalizer went: the object goes too (the answer is its final state)
        api.store.remove(resource.plural, meta.get("namespace"), meta["name"])
    return view_of(resource, updated)


async def update_object(api: ApiServer, request: web.Request, route: Route) -> web.Response:
    """PUT an object or its status (409 on a stale resourceVersion)."""
    resource = route.resource
    assert resource is not None
    body = _check_identity(resource, route, await read_json_body(request), name_required=True)
    current = api.store.get(resource.plural, route.namespace, route.name or "")  # 404 first
    warnings: list[str] = []
    updated = _write(api, request, route, copy.deepcopy(body), current, warnings)
    return _answer(updated, warnings)


def apply_patch(content_type: str, original: Obj, patch: Any) -> Obj:
    """Apply a PATCH body of the given Content-Type (415 for unknown types)."""
    patcher = _PATCHERS.get(content_type.split(";")[0].strip().lower())
    if patcher is None:
        raise StoreError(
            415,
            "UnsupportedMediaType",
            f"the body of the request was in an unknown format - accepted media types include: "
            f"{', '.join(_PATCHERS)}",
        )
    try:
        return patcher(original, patch)
    except PatchError as exc:
        if exc.code == 400:
            raise StoreError.bad_request(str(exc)) from None
        raise StoreError(422, "Invalid", str(exc)) from None


async def patch_object(api: ApiServer, request: web.Request, route: Route) -> web.Response:
    """PATCH an object or its status."""
    resource = route.resource
    assert resource is not None and route.name is not None
    patch = await read_json_body(request)
    current = api.store.get(resource.plural, route.namespace, route.name)
    patched = apply_patch(request.headers.get("Content-Type", ""), view_of(resource, current), patch)
    if not isinstance(patched, dict):
        raise StoreError.bad_request("the patched object must be a JSON object")
    meta = patched.setdefault("metadata", {})
    if not isinstance(meta, dict) or meta.get("name") != route.name:
        raise StoreError.bad_request("metadata.name cannot be changed by a patch")
    if not meta.get("resourceVersion"):
        meta["resourceVersion"] = current["metadata"]["resourceVersion"]
    warnings: list[str] = []
    updated = _write(api, request, route, patched, current, warnings)
    return _answer(updated, warnings)


# -- deleting -----------------------------------------------------------------------------


_POLICIES = ("Foreground", "Background", "Orphan")
_FINALIZER = {"Orphan": "orphan", "Foreground": "foregroundDeletion"}


def _delete_options(request: web.Request, body: Any) -> Obj:
    if body is not None and not isinstance(body, dict):
        raise StoreError.bad_request("the body of a delete must be a DeleteOptions object")
    options: Obj = dict(body) if isinstance(body, dict) else {}
    grace = query_int(request.query, "gracePeriodSeconds")
    if grace is not None and "gracePeriodSeconds" not in options:
        options["gracePeriodSeconds"] = grace
    policy = request.query.get("propagationPolicy")
    if policy and "propagationPolicy" not in options:
        options["propagationPolicy"] = policy
    if "orphanDependents" not in options and "orphanDependents" in request.query:
        options["orphanDependents"] = query_bool(request.query, "orphanDependents")
    policy = options.get("propagationPolicy")
    if policy is not None and policy not in _POLICIES:
        raise StoreError(
            422,
            "Invalid",
            f'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "{policy}": '
            'supported values: "Foreground", "Background", "Orphan", "nil"',
            details={
                "kind": "DeleteOptions",
                "group": "meta.k8s.io",
                "causes": [
                    {
                        "reason": "FieldValueNotSupported",
                        "message": f'Unsupported value: "{policy}": supported values: '
                        '"Foreground", "Background", "Orphan", "nil"',
                        "field": "propagationPolicy",
                    }
                ],
            },
        )
    if policy is None and options.get("orphanDependents") is True:
        options["propagationPolicy"] = "Orphan"
    options["dryRun"] = _dry_run(request, options)
    return options


def _check_preconditions(resource: Resource, current: Obj, options: Obj) -> None:
    name = current["metadata"]["name"]
    preconditions = options.get("preconditions") or {}
    uid = preconditions.get("uid")
    if uid and uid != current["metadata"].get("uid"):
        raise StoreError.conflict(
            resource,
            name,
            f"Precondition failed: UID in precondition: {uid}, "
            f"UID in object meta: {current['metadata'].get('uid')}",
        )
    rv = preconditions.get("resourceVersion")
    if rv and str(rv) != current["metadata"]["resourceVersion"]:
        raise StoreError.conflict(
            resource,
            name,
            f"Precondition failed: ResourceVersion in precondition: {rv}, "
            f"ResourceVersion in object meta: {current['metadata']['resourceVersion']}",
        )


def delete_one(api: ApiServer, resource: Resource, namespace: str | None, name: str, options: Obj) -> Obj:
    """Delete one object per DeleteOptions; returns what the API server answers.

    ``propagationPolicy`` Orphan / Foreground mark the object (``deletionTimestamp`` and the
    ``orphan`` / ``foregroundDeletion`` finalizer) for the garbage collector, which releases
    or deletes the dependents and then the object; Background (the default) deletes it now
    and the collector deletes the dependents after. ``dryRun``: the same answer, nothing
    changed.
    """
    store = api.store
    current = store.get(resource.plural, namespace, name)
    _check_preconditions(resource, current, options)
    dry_run = bool(options.get("dryRun"))
    if resource.plural == "namespaces":
        return _delete_namespace(api, current, dry_run)
    policy = options.get("propagationPolicy")
    finalizer = _FINALIZER.get(policy or "")
    meta = current["metadata"]
    if finalizer is not None or meta.get("finalizers"):
        return _mark_deleted(api, resource, current, finalizer, dry_run, options)
    if resource.plural == "pods":
        return _delete_pod(api, current, options, dry_run)
    if dry_run:
        return current if resource.plural == "services" else _deleted_status(resource, current)
    gone = store.remove(resource.plural, namespace, name)
    if resource.plural == "services":
        return gone
    return _deleted_status(resource, gone)


def _deleted_status(resource: Resource, gone: Obj) -> Obj:
    details: Obj = {
        "name": gone["metadata"]["name"],
        "kind": resource.plural,
        "uid": gone["metadata"].get("uid"),
    }
    if resource.group:
        details["group"] = resource.group
    return success_status(details)


def _mark_deleted(
    api: ApiServer, resource: Resource, current: Obj, finalizer: str | None, dry_run: bool, options: Obj
) -> Obj:
    """Set deletionTimestamp (and the policy's finalizer); the finalizers' owners finish the job."""
    store = api.store
    grace = 0
    if resource.plural == "pods":
        given = options.get("gracePeriodSeconds")
        if given is None:
            given = (current.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
        grace = max(0, int(given))

    def mark(draft: Obj) -> None:
        meta = draft["metadata"]
        if not meta.get("deletionTimestamp"):
            meta["deletionTimestamp"] = rfc3339(store.clock() + grace)
            meta["deletionGracePeriodSeconds"] = grace
        finalizers = [f for f in meta.get("finalizers") or [] if f not in _FINALIZER.values()]
        if finalizer is not None:
            finalizers.append(finalizer)
        if finalizers:
            meta["finalizers"] = finalizers
        else:
            meta.pop("finalizers", None)

    if dry_run:
        draft = copy.deepcopy(current)
        mark(draft)
        return draft
    meta = current["metadata"]
    return store.mutate(resource.plural, meta.get("namespace"), meta["name"], mark)


def _delete_namespace(api: ApiServer, namespace: Obj, dry_run: bool) -> Obj:
    store = api.store
    name = namespace["metadata"]["name"]
    if dry_run:
        gone = copy.deepcopy(namespace)
    else:
        for other in RESOURCES.values():
            if other.namespaced:
                for obj in store.list(other.plural, name):
                    store.remove(other.plural, name, obj["metadata"]["name"])
        gone = copy.deepcopy(store.remove("namespaces", None, name))
    gone["metadata"]["deletionTimestamp"] = rfc3339(store.clock())
    gone.setdefault("status", {})["phase"] = "Terminating"
    return gone


def _delete_pod(api: ApiServer, pod: Obj, options: Obj, dry_run: bool) -> Obj:
    store = api.store
    meta = pod["metadata"]
    ns, name = meta.get("namespace"), meta["name"]
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    grace = options.get("gracePeriodSeconds")
    if grace is None:
        grace = spec.get("terminationGracePeriodSeconds", 30)
    grace = max(0, int(grace))
    terminal = status.get("phase") in ("Succeeded", "Failed")
    if grace == 0 or not spec.get("nodeName") or terminal:
        return pod if dry_run else store.remove("pods", ns, name)
    existing = meta.get("deletionGracePeriodSeconds")
    if meta.get("deletionTimestamp") and existing is not None and int(existing) <= grace:
        return pod
    deadline = store.clock() + grace

    def mark(draft: Obj) -> None:
        draft["metadata"]["deletionTimestamp"] = rfc3339(deadline)
        draft["metadata"]["deletionGracePeriodSeconds"] = grace

    if dry_run:
        draft = copy.deepcopy(pod)
        mark(draft)
        return draft
    return store.mutate("pods", ns, name, mark)


async def _delete_body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise StoreError.bad_request(f"the body of a delete is not JSON: {exc}") from None


async def delete_object(api: ApiServer, request: web.Request, route: Route) -> web.Response:
    """DELETE one object (dry-run from the query or the DeleteOptions body)."""
    resource = route.resource
    assert resource is not None and route.name is not None
    options = _delete_options(request, await _delete_body(request))
    return json_response(delete_one(api, resource, route.namespace, route.name, options))


async def delete_collection(api: ApiServer, request: web.Request, route: Route) -> web.Response:
    """DELETE a collection (selectors narrow it); answers the list of what went."""
    resource = route.resource
    assert resource is not None
    if resource.plural == "namespaces":
        raise method_not_allowed()
    options = _delete_options(request, await _delete_body(request))
    predicate = compile_selectors(resource, request.query)
    items = []
    for obj in api.store.list(resource.plural, route.namespace, predicate):
        meta = obj["metadata"]
        result = delete_one(api, resource, meta.get("namespace"), meta["name"], options)
        items.append(view_of(resource, result if result.get("kind") == resource.kind else obj))
    return json_response(
        {
            "kind": resource.list_kind,
            "apiVersion": resource.api_version,
            "metadata": {"resourceVersion": str(api.store.resource_version)},
            "items": items,
        }
    )


# -- scale --------------------------------------------------------------------------------


def _scale_of(parent: Obj) -> Obj:
    meta = parent["metadata"]
    spec = parent.get("spec") or {}
    selector = spec.get("selector")
    status: Obj = {"replicas": int((parent.get("status") or {}).get("replicas") or 0)}
    if selector is not None:
        status["selector"] = format_label_selector(selector)
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k]
            for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if k in meta
        },
        "spec": {"replicas": int(spec.get("replicas", 1))},
        "status": status,
    }


async def handle_scale(api: ApiServer, request: web.Request, route: Route) -> web.Response:
    """``deployments/scale`` and ``replicasets/scale``: GET, PUT, PATCH of an autoscaling/v1 Scale."""
    resource = route.resource
    assert resource is not None and route.name is not None
    parent = api.store.get(resource.plural, route.namespace, route.name)
    scale = _scale_of(parent)
    if request.method == "GET":
        return json_response(scale)
    if request.method == "PUT":
        wanted = await read_json_body(request)
        if not isinstance(wanted, dict):
            raise StoreError.bad_request("the body of the request must be a Scale object")
    elif request.method == "PATCH":
        wanted = apply_patch(request.headers.get("Content-Type", ""), scale, await read_json_body(request))
    else:
        raise method_not_allowed()
    given = (wanted.get("metadata") or {}).get("resourceVersion")
    if given and str(given) != parent["metadata"]["resourceVersion"]:
        raise StoreError.conflict(
            resource,
            route.name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    replicas = (wanted.get("spec") or {}).get("replicas")
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        raise StoreError(
            422,
            "Invalid",
            f'Scale.autoscaling "{route.name}" is invalid: spec.replicas: Invalid value: {replicas!r}: '
            "must be greater than or equal to 0",
            details={
                "name": route.name,
                "group": "autoscaling",
                "kind": "Scale",
                "causes": [
                    {
                        "reason": "FieldValueInvalid",
                        "message": "must be greater than or equal to 0",
                        "field": "spec.replicas",
                    }
                ],
            },
        )
    if _dry_run(request):
        scale["spec"]["replicas"] = replicas
        return json_response(scale)

    def set_replicas(draft: Obj) -> None:
        draft.setdefault("spec", {})["replicas"] = replicas

    updated = api.store.mutate(
        resource.plural, route.namespace, route.name, set_replicas, bump_generation=True
    )
    return json_response(_scale_of(updated))


# -- dispatch -----------------------------------------------------------------------------


async def handle_object_request(api: ApiServer, request: web.Request, route: Route) -> web.StreamResponse:
    """Requests on a collection, an object, or its ``status`` subresource."""
    method = request.method
    if route.name is None:
        if method == "GET":
            if route.legacy_watch or query_bool(request.query, "watch"):
                return await serve_watch(api, request, route)
            return list_objects(api, request, route)
        if method == "POST":
            return await create_object(api, request, route)
        if method == "DELETE":
            return await delete_collection(api, request, route)
        raise method_not_allowed()
    if method == "GET":
        if route.legacy_watch or query_bool(request.query, "watch"):
            return await serve_watch(api, request, route, single=route.name)
        return get_object(api, request, route)
    if method == "PUT":
        return await update_object(api, request, route)
    if method == "PATCH":
        return await patch_object(api, request, route)
    if method == "DELETE" and route.subresource is None:
        return await delete_object(api, request, route)
    raise method_not_allowed()
