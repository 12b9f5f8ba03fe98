"""``events.k8s.io/v1`` Events: the core Events seen through the newer API.

The API server stores one kind of Event and serves it in both groups; this module is the
conversion between them (as ``pkg/apis/events/v1`` does): ``regarding`` is
``involvedObject``, ``note`` is ``message``, ``reportingController`` is
``reportingComponent``, and the core-only fields come back as ``deprecatedSource``,
``deprecatedFirstTimestamp``, ``deprecatedLastTimestamp`` and ``deprecatedCount``. The
store keeps core Events; requests on ``/apis/events.k8s.io/v1`` convert on the way in and
out, so a watch in either group sees every write of the other.
"""

from __future__ import annotations

from typing import Any

from kubectl_trace.kube.resources import Resource

__all__ = ["EVENTS_V1", "core_field_selector", "from_events_v1", "is_view", "to_events_v1", "view_of"]

Obj = dict[str, Any]

EVENTS_V1 = Resource("events", "event", "Event", "events.k8s.io", "v1", True, ("ev",))

# core field → events.k8s.io/v1 field (the rest keep their names)
_RENAMED = {
    "involvedObject": "regarding",
    "message": "note",
    "reportingComponent": "reportingController",
    "source": "deprecatedSource",
    "firstTimestamp": "deprecatedFirstTimestamp",
    "lastTimestamp": "deprecatedLastTimestamp",
    "count": "deprecatedCount",
}
_BACK = {v: k for k, v in _RENAMED.items()}


def is_view(resource: Resource | None) -> bool:
    """Whether ``resource`` is served by converting another kind's stored objects."""
    return resource is not None and resource.group == "events.k8s.io"


def to_events_v1(core: Obj) -> Obj:
    """A stored core Event as events.k8s.io/v1 serves it."""
    out: Obj = {"kind": "Event", "apiVersion": "events.k8s.io/v1"}
    for key, value in core.items():
        if key in ("kind", "apiVersion") or (value in (None, "") and key in _RENAMED):
            continue
        out[_RENAMED.get(key, key)] = value
    out.setdefault("eventTime", None)
    return out


def from_events_v1(event: Obj) -> Obj:
    """An events.k8s.io/v1 Event as the core Event the store keeps."""
    out: Obj = {"kind": "Event", "apiVersion": "v1"}
    for key, value in event.items():
        if key in ("kind", "apiVersion"):
            continue
        out[_BACK.get(key, key)] = value
    return out


def core_field_selector(selector: str | None) -> str | None:
    """An events.k8s.io field selector in the core names (``regarding.name`` → ``involvedObject.name``)."""
    if not selector:
        return selector
    terms = []
    for term in selector.split(","):
        for field, core in (("regarding.", "involvedObject."), ("reportingController", "reportingComponent")):
            if term.startswith(field):
                term = core + term[len(field) :]
        terms.append(term)
    return ",".join(terms)


def view_of(resource: Resource | None, obj: Obj) -> Obj:
    """``obj`` as ``resource`` serves it (unchanged for stored kinds)."""
    return to_events_v1(obj) if is_view(resource) else obj
