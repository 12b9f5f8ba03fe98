"""Work queues and the owner index the controllers run on.

Controllers react to store changes the way informers feed work queues: a change marks a
key dirty; the ``Reconciler`` drains the queues on the event loop in priority order
(garbage collection, scheduling, kubelet status, ReplicaSets, Deployments), restarting
from the top after each batch so that a controller always sees the work of the ones
before it settled. Every key is processed at most once per batch however often it was
marked, which keeps thousands of pod changes cheap.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable
from typing import Any

from kubectl_trace.sandbox.store import Change

__all__ = ["OwnerIndex", "Reconciler"]

log = logging.getLogger(__name__)

Key = Hashable
ObjKey = tuple[str, str, str]  # resource, namespace, name


class _Queue:
    __slots__ = ("handler", "name", "pending")

    def __init__(self, name: str, handler: Callable[[Any], None]) -> None:
        self.name = name
        self.handler = handler
        self.pending: dict[Key, None] = {}  # insertion-ordered set


class Reconciler:
    """Named queues drained in the order they were added."""

    def __init__(self, *, on_error: Callable[[str, BaseException], None] | None = None) -> None:
        self._queues: list[_Queue] = []
        self._by_name: dict[str, _Queue] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._scheduled = False
        self._draining = False
        self._on_error = on_error
        self.batches = 0

    def add_queue(self, name: str, handler: Callable[[Any], None]) -> None:
        """A queue whose keys go to ``handler`` (lower priority than the ones before)."""
        queue = _Queue(name, handler)
        self._queues.append(queue)
        self._by_name[name] = queue

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Drain on ``loop`` from now on."""
        self._loop = loop
        if any(q.pending for q in self._queues):
            self._schedule()

    def enqueue(self, name: str, key: Key) -> None:
        """Mark ``key`` dirty in queue ``name``."""
        self._by_name[name].pending[key] = None
        if not self._draining:
            self._schedule()

    def _schedule(self) -> None:
        if self._scheduled or self._loop is None:
            return
        self._scheduled = True
        self._loop.call_soon(self.drain)

    def idle(self) -> bool:
        """Nothing is pending."""
        return not any(q.pending for q in self._queues)

    def drain(self, limit: int = 200_000) -> None:
        """Process every pending key (and the work it causes) now."""
        self._scheduled = False
        if self._draining:
            return
        self._draining = True
        try:
            steps = 0
            while steps < limit:
                queue = next((q for q in self._queues if q.pending), None)
                if queue is None:
                    return
                keys = list(queue.pending)
                queue.pending.clear()
                self.batches += 1
                for key in keys:
                    steps += 1
                    try:
                        queue.handler(key)
                    except Exception as exc:  # one bad object must not stop the cluster
                        log.exception("sandbox %s: error syncing %r", queue.name, key)
                        if self._on_error is not None:
                            self._on_error(queue.name, exc)
            log.warning("sandbox reconciler: gave up after %d steps (a controller loops?)", steps)
        finally:
            self._draining = False
            if any(q.pending for q in self._queues):
                self._schedule()


class OwnerIndex:
    """Which objects each uid owns (from ``metadata.ownerReferences``), kept current from changes."""

    def __init__(self) -> None:
        self._dependents: dict[str, dict[ObjKey, bool]] = {}  # owner uid → key → is controller
        self._owners: dict[ObjKey, list[str]] = {}

    def update(self, change: Change) -> None:
        """Apply one store change."""
        meta = change.object.get("metadata", {})
        key: ObjKey = (change.resource, meta.get("namespace") or "", meta.get("name", ""))
        for uid in self._owners.pop(key, ()):
            deps = self._dependents.get(uid)
            if deps is not None:
                deps.pop(key, None)
                if not deps:
                    del self._dependents[uid]
        if change.type == "DELETED":
            return
        refs = meta.get("ownerReferences") or []
        if not refs:
            return
        uids = []
        for ref in refs:
            uid = ref.get("uid")
            if not uid:
                continue
            self._dependents.setdefault(uid, {})[key] = bool(ref.get("controller"))
            uids.append(uid)
        self._owners[key] = uids

    def dependents(self, uid: str, resource: str | None = None, *, controlled: bool = False) -> list[ObjKey]:
        """Keys of the objects owned by ``uid`` (only those it controls with ``controlled``)."""
        deps = self._dependents.get(uid) or {}
        return [
            key
            for key, is_controller in deps.items()
            if (resource is None or key[0] == resource) and (is_controller or not controlled)
        ]
