"""Field selectors the API server supports, per resource (pure).

Each resource allows ``metadata.name`` and ``metadata.namespace`` plus its own list
(apiserver ``pkg/registry/*/strategy.go`` ``…ToSelectableFields``); anything else is a
400 ``field label not supported: X``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubectl_trace.kube.selectors import FieldRequirement, SelectorError, parse_field_selector
from kubectl_trace.sandbox.store import StoreError

__all__ = ["compile_field_selector", "field_value"]

Obj = dict[str, Any]


def _path(obj: Obj, dotted: str) -> Any:
    value: Any = obj
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _pod_ips(obj: Obj) -> str | None:
    ips = (obj.get("status") or {}).get("podIPs") or []
    return ",".join(str(ip.get("ip", "")) for ip in ips) or None


def _event_source(obj: Obj) -> str | None:
    source = (obj.get("source") or {}).get("component")
    return source or obj.get("reportingComponent") or obj.get("reportingController")


_SIMPLE: dict[str, frozenset[str]] = {
    "pods": frozenset(
        {
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        }
    ),
    "events": frozenset(
        {
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "type",
        }
    ),
    "secrets": frozenset({"type"}),
    "namespaces": frozenset({"status.phase"}),
    "replicasets": frozenset({"status.replicas"}),
    "nodes": frozenset({"spec.unschedulable"}),
    "services": frozenset({"spec.clusterIP", "spec.type"}),
}

_SPECIAL: dict[tuple[str, str], Callable[[Obj], str | None]] = {
    ("pods", "status.podIPs"): _pod_ips,
    ("events", "source"): _event_source,
}


def _defaults(resource: str, field: str, obj: Obj, raw: Any) -> str | None:
    # Fields whose defaulted value the API server's selectable-fields function reports.
    if raw is not None:
        return _text(raw)
    if resource == "pods" and field == "spec.hostNetwork":
        return "false"
    if resource == "events" and field == "reportingComponent":
        return ""
    if resource == "replicasets" and field == "status.replicas":
        return "0"
    if resource == "nodes" and field == "spec.unschedulable":
        return "false"
    return None


def field_value(resource: str, obj: Obj, field: str) -> str | None:
    """The value of a selectable field of ``obj`` (an object of ``resource``)."""
    if field == "metadata.name":
        return _text((obj.get("metadata") or {}).get("name"))
    if field == "metadata.namespace":
        return _text((obj.get("metadata") or {}).get("namespace")) or ""
    special = _SPECIAL.get((resource, field))
    if special is not None:
        return special(obj)
    return _defaults(resource, field, obj, _path(obj, field))


def _supported(resource: str, field: str) -> bool:
    if field in ("metadata.name", "metadata.namespace"):
        return True
    return field in _SIMPLE.get(resource, frozenset()) or (resource, field) in _SPECIAL


def compile_field_selector(resource: str, text: str | None) -> Callable[[Obj], bool] | None:
    """A predicate for ``fieldSelector=text`` (None when it selects everything).

    Raises StoreError 400 for syntax errors and unsupported fields.
    """
    try:
        requirements: tuple[FieldRequirement, ...] = parse_field_selector(text)
    except SelectorError as exc:
        raise StoreError.bad_request(str(exc)) from None
    if not requirements:
        return None
    for req in requirements:
        if not _supported(resource, req.field):
            raise StoreError.bad_request(f"field label not supported: {req.field}")

    def predicate(obj: Obj) -> bool:
        return all(req.matches(lambda f: field_value(resource, obj, f)) for req in requirements)

    return predicate
