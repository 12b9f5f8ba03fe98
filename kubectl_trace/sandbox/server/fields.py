"""Label and field selectors of a request, as one predicate (pure).

Each resource allows the field selectors ``metadata.name`` and ``metadata.namespace`` plus its
own list (apiserver ``pkg/registry/*/strategy.go`` ``…ToSelectableFields``); anything else is a
400 ``field label not supported: X``. ``compile_selectors`` is what list and watch both use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubectl_trace.kube.resources import Resource
from kubectl_trace.kube.selectors import (
    FieldRequirement,
    SelectorError,
    match_labels,
    parse_field_selector,
    parse_label_selector,
)
from kubectl_trace.sandbox.server.eventsv1 import core_field_selector, is_view
from kubectl_trace.sandbox.store import StoreError

__all__ = ["compile_field_selector", "compile_selectors", "field_value"]

Obj = dict[str, Any]
Predicate = Callable[[Obj], bool]


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


def compile_selectors(resource: Resource, query: Any) -> Predicate | None:
    """The combined label and field selector of a request (None = everything)."""
    try:
        labels = parse_label_selector(query.get("labelSelector"))
    except SelectorError as exc:
        raise StoreError.bad_request(f"unable to parse requirement: {exc}") from None
    field_selector = query.get("fieldSelector")
    if is_view(resource):
        field_selector = core_field_selector(field_selector)
    fields = compile_field_selector(resource.plural, field_selector)
    if not labels and fields is None:
        return None

    def predicate(obj: Obj) -> bool:
        if labels and not match_labels(labels, (obj.get("metadata") or {}).get("labels")):
            return False
        return fields is None or fields(obj)

    return predicate
