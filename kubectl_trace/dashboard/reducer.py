"""The pure reducer: ``(Snapshot, inputs) → Snapshot``.

Watch events of Deployments, ReplicaSets, pods, Jobs, CronJobs and events fold into the snapshot's maps;
connection events move each watch's ``Link`` between connecting, live, reconnecting and
failed; log inputs grow the tail of the selected pod; a metrics poll replaces the usage.
``reduce_all`` applies a batch copying each touched shard of each map once, which is how
the app applies everything that arrived between two frames.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from kubectl_trace.dashboard.pmap import PMap, PMapEvolver
from kubectl_trace.dashboard.state import (
    LOG_LINES,
    Input,
    Link,
    LogInput,
    LogTail,
    MetricsInput,
    NoticeInput,
    Snapshot,
    Usage,
    WatchInput,
)
from kubectl_trace.health.events import EventRecord, event_record

__all__ = ["reduce", "reduce_all"]

_OBJECT_KINDS = ("deployments", "replicasets", "pods", "jobs", "cronjobs")
_KIND_OF = {
    "deployments": "Deployment",
    "replicasets": "ReplicaSet",
    "pods": "Pod",
    "events": "Event",
    "jobs": "Job",
    "cronjobs": "CronJob",
}


def _belongs(kind: str, obj: dict[str, Any]) -> bool:
    """Whether a watched object is of the watched kind (a server that mixes kinds is not believed)."""
    declared = obj.get("kind")
    return not declared or declared == _KIND_OF.get(kind, declared)


def _name(obj: dict[str, Any] | None) -> str:
    meta = (obj or {}).get("metadata") or {}
    return str(meta.get("name") or "")


class _Batch:
    """Mutable scratch space for one ``reduce_all`` call (never escapes it)."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.objects: dict[str, PMapEvolver[str, dict[str, Any]] | PMap[str, dict[str, Any]]] = {}
        self.events: PMapEvolver[str, EventRecord] | PMap[str, EventRecord] | None = None
        self.by_object: PMapEvolver[tuple[str, str], tuple[EventRecord, ...]] | None = None
        self.links = dict(snapshot.links)
        self.log = snapshot.log
        self.notice = snapshot.notice
        self.usage = snapshot.usage
        self.changed = False
        self.at = snapshot.updated_at

    # -- objects ------------------------------------------------------------------------

    def _objects(self, kind: str) -> PMapEvolver[str, dict[str, Any]]:
        current = self.objects.get(kind)
        if isinstance(current, PMapEvolver):
            return current
        base = current if isinstance(current, PMap) else self.snapshot.collection(kind)
        evolver = base.evolver()
        self.objects[kind] = evolver
        return evolver

    def reset_objects(self, kind: str, items: tuple[dict[str, Any], ...]) -> None:
        self.objects[kind] = PMap((_name(o), o) for o in items if _belongs(kind, o))

    # -- events -------------------------------------------------------------------------

    def _events(
        self,
    ) -> tuple[PMapEvolver[str, EventRecord], PMapEvolver[tuple[str, str], tuple[EventRecord, ...]]]:
        if not isinstance(self.events, PMapEvolver):
            base = self.events if isinstance(self.events, PMap) else self.snapshot.events
            self.events = base.evolver()
        if self.by_object is None:
            self.by_object = self.snapshot.events_by_object.evolver()
        return self.events, self.by_object

    def reset_events(self, items: tuple[dict[str, Any], ...]) -> None:
        records: dict[str, EventRecord] = {}
        for item in items:
            if not _belongs("events", item):
                continue
            record = event_record(item)
            records[record.uid] = record
        by_object: dict[tuple[str, str], list[EventRecord]] = {}
        for record in records.values():
            by_object.setdefault((record.kind, record.object_name), []).append(record)
        self.events = PMap(records)
        index: PMap[tuple[str, str], tuple[EventRecord, ...]] = PMap(
            {key: tuple(value) for key, value in by_object.items()}
        )
        self.by_object = index.evolver()

    def put_event(self, obj: dict[str, Any]) -> None:
        record = event_record(obj)
        events, by_object = self._events()
        old = events.get(record.uid)
        events.set(record.uid, record)
        key = (record.kind, record.object_name)
        current = by_object.get(key) or ()
        if old is not None and (old.kind, old.object_name) != key:
            self._unindex(old)
        kept = tuple(r for r in current if r.uid != record.uid)
        by_object.set(key, (*kept, record))

    def delete_event(self, obj: dict[str, Any]) -> None:
        record = event_record(obj)
        events, _ = self._events()
        old = events.get(record.uid)
        events.delete(record.uid)
        self._unindex(old or record)

    def _unindex(self, record: EventRecord) -> None:
        _, by_object = self._events()
        key = (record.kind, record.object_name)
        kept = tuple(r for r in by_object.get(key) or () if r.uid != record.uid)
        if kept:
            by_object.set(key, kept)
        else:
            by_object.delete(key)

    # -- inputs -------------------------------------------------------------------------

    def apply(self, item: Input) -> None:
        self.at = item.at
        self.changed = True
        if isinstance(item, WatchInput):
            self.apply_watch(item)
        elif isinstance(item, LogInput):
            self.apply_log(item)
        elif isinstance(item, NoticeInput):
            self.notice = item
        elif isinstance(item, MetricsInput):
            by_pod = {_name(m): m for m in item.items or ()}
            self.usage = Usage(by_pod, "" if item.items is not None else item.note, item.at)

    def apply_watch(self, item: WatchInput) -> None:
        kind = item.kind
        link = self.links.get(kind, Link())
        kind_of = item.type
        if kind_of == "RESET":
            if kind == "events":
                self.reset_events(item.items)
            elif kind in _OBJECT_KINDS:
                self.reset_objects(kind, item.items)
            relists = link.relists + (1 if link.synced_at is not None else 0)
            self.links[kind] = Link("live", synced_at=item.at, relists=relists)
        elif kind_of in ("ADDED", "MODIFIED", "DELETED"):
            if item.object is None or not _belongs(kind, item.object):
                return
            if kind == "events":
                if kind_of == "DELETED":
                    self.delete_event(item.object)
                else:
                    self.put_event(item.object)
            elif kind in _OBJECT_KINDS:
                objects = self._objects(kind)
                if kind_of == "DELETED":
                    objects.delete(_name(item.object))
                else:
                    objects.set(_name(item.object), item.object)
        elif kind_of == "DISCONNECTED":
            state = "connecting" if link.synced_at is None else "reconnecting"
            down_since = link.down_since if link.down_since is not None else item.at
            self.links[kind] = replace(
                link, state=state, error=item.error, down_since=down_since, retry_in=item.retry_in
            )
        elif kind_of == "RECONNECTED":
            # Live again once the resumed watch is open (or after the RESET of a relist).
            state = "live" if link.synced_at is not None else "connecting"
            self.links[kind] = replace(link, state=state, error="", down_since=None, retry_in=0.0)
        elif kind_of == "FAILED":
            down_since = link.down_since if link.down_since is not None else item.at
            self.links[kind] = replace(link, state="failed", error=item.error, down_since=down_since)

    def apply_log(self, item: LogInput) -> None:
        log = self.log
        if item.type == "open":
            self.log = LogTail(
                pod=item.pod,
                container=item.container,
                generation=item.generation,
                status=item.status or "connecting",
                detail=item.detail,
            )
            return
        if item.generation != log.generation:
            return  # lines of a tail that is no longer shown
        if item.type == "lines" and item.lines:
            lines = log.lines + item.lines
            if len(lines) > LOG_LINES:
                lines = lines[-LOG_LINES:]
            self.log = replace(log, lines=lines, status="streaming", detail="")
        elif item.type == "status":
            self.log = replace(log, status=item.status, detail=item.detail)

    def result(self) -> Snapshot:
        s = self.snapshot
        if not self.changed:
            return s
        objects = {
            kind: (v.persistent() if isinstance(v, PMapEvolver) else v) for kind, v in self.objects.items()
        }
        events = self.events.persistent() if isinstance(self.events, PMapEvolver) else self.events
        return replace(
            s,
            deployments=objects.get("deployments", s.deployments),
            replicasets=objects.get("replicasets", s.replicasets),
            pods=objects.get("pods", s.pods),
            jobs=objects.get("jobs", s.jobs),
            cronjobs=objects.get("cronjobs", s.cronjobs),
            events=events if events is not None else s.events,
            events_by_object=self.by_object.persistent()
            if self.by_object is not None
            else s.events_by_object,
            links=self.links,
            log=self.log,
            usage=self.usage,
            notice=self.notice,
            version=s.version + 1,
            updated_at=self.at,
        )


def reduce_all(snapshot: Snapshot, inputs: Iterable[Input]) -> Snapshot:
    """Apply ``inputs`` in order; returns ``snapshot`` itself when there were none."""
    batch = _Batch(snapshot)
    for item in inputs:
        batch.apply(item)
    return batch.result()


def reduce(snapshot: Snapshot, item: Input) -> Snapshot:
    """Apply one input."""
    return reduce_all(snapshot, (item,))
