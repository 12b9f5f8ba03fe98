"""Event recording as client-go's recorder does it.

One Event per distinct occurrence, repeats folded into ``count`` and ``lastTimestamp``.

Events are core/v1 ``Event`` objects in the involved object's namespace, named
``<object>.<hex nanoseconds>``, with ``source.component`` / ``reportingComponent``
(``kubelet``, ``deployment-controller`` …) and ``source.host`` for the kubelet. Old events
are pruned after an hour, as the API server's TTL would.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from kubectl_trace.sandbox.store import Store, StoreError, rfc3339

__all__ = ["EventRecorder", "EventSource"]

Obj = dict[str, Any]
_Key = tuple[str, str, str, str, str, str, str]


@dataclass(frozen=True)
class EventSource:
    """Who reports an event: ``source.component`` and, for the kubelet, its node (``source.host``)."""

    component: str
    host: str | None = None


@dataclass(eq=False)
class EventRecorder:
    """Writes Events into the store, aggregating identical ones."""

    store: Store
    _: KW_ONLY
    clock: Callable[[], float] = time.time
    ttl: float = 3600.0  # seconds an event is kept after its last occurrence
    max_events: int = 20_000
    _index: dict[_Key, tuple[str, str]] = field(default_factory=dict, init=False, repr=False)
    _last_ns: int = field(default=0, init=False, repr=False)

    def _name(self, base: str) -> str:
        ns = time.time_ns()
        if ns <= self._last_ns:
            ns = self._last_ns + 1
        self._last_ns = ns
        return f"{base}.{ns:x}"

    def record(
        self, obj: Obj, type_: str, reason: str, message: str, source: EventSource, field_path: str = ""
    ) -> None:
        """Record that ``reason``/``message`` happened to ``obj`` (now), reported by ``source``.

        ``field_path``: the part of ``obj`` it is about (a container: ``spec.containers{web}``).
        """
        component, host = source.component, source.host
        meta = obj.get("metadata", {})
        namespace = meta.get("namespace") or "default"
        key: _Key = (
            meta.get("uid", ""),
            field_path or "",
            type_,
            reason,
            message,
            component,
            host or "",
        )
        now = rfc3339(self.clock())
        where = self._index.get(key)
        if where is not None and self.store.try_get("events", *where) is not None:

            def bump(event: Obj) -> None:
                event["count"] = int(event.get("count") or 1) + 1
                event["lastTimestamp"] = now

            self.store.mutate("events", where[0], where[1], bump)
            return
        involved: Obj = {
            "kind": obj.get("kind", ""),
            "namespace": meta.get("namespace"),
            "name": meta.get("name", ""),
            "uid": meta.get("uid", ""),
            "apiVersion": obj.get("apiVersion", "v1"),
            "resourceVersion": meta.get("resourceVersion", ""),
        }
        if involved["namespace"] is None:
            del involved["namespace"]
        if field_path:
            involved["fieldPath"] = field_path
        reported: Obj = {"component": component}
        if host:
            reported["host"] = host
        event: Obj = {
            "metadata": {"name": self._name(meta.get("name", "event")), "namespace": namespace},
            "involvedObject": involved,
            "reason": reason,
            "message": message,
            "source": reported,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "type": type_,
            "reportingComponent": component,
            "reportingInstance": host or "",
        }
        try:
            created = self.store.create("events", event, namespace)
        except StoreError:
            return  # the namespace is gone: nothing to record
        self._index[key] = (namespace, created["metadata"]["name"])

    def prune(self) -> int:
        """Delete events older than the TTL (and the oldest beyond ``max_events``)."""
        now = self.clock()
        events = self.store.list("events")
        doomed: list[Obj] = []
        keep: list[tuple[str, Obj]] = []
        for event in events:
            last = event.get("lastTimestamp") or event["metadata"].get("creationTimestamp") or ""
            if last and _epoch(last) < now - self.ttl:
                doomed.append(event)
            else:
                keep.append((last, event))
        if len(keep) > self.max_events:
            keep.sort(key=lambda item: item[0])
            doomed.extend(e for _, e in keep[: len(keep) - self.max_events])
        for event in doomed:
            meta = event["metadata"]
            with contextlib.suppress(StoreError):
                self.store.remove("events", meta.get("namespace"), meta["name"])
        if doomed:
            live = {(e["metadata"].get("namespace"), e["metadata"]["name"]) for e in doomed}
            self._index = {k: v for k, v in self._index.items() if v not in live}
        return len(doomed)


def _epoch(text: str) -> float:
    from kubectl_trace.timeparse import parse_rfc3339

    try:
        return parse_rfc3339(text)
    except ValueError:
        return 0.0
