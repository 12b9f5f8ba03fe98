"""The watch hub: one store subscription fanned out to every open watch.

A ``Watcher`` is one open watch's filter and queue; ``WatchHub`` offers each store change to the
watchers of its resource. Selector semantics follow the apiserver's cacher: an object that
starts matching arrives as ADDED, one that stops matching as DELETED (its previous state with
the new resourceVersion). ``watch.serve_watch`` writes the queues to the clients.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubectl_trace.sandbox.server.responses import EncodeCache
from kubectl_trace.sandbox.store import Change, Store

__all__ = ["MAX_BACKLOG", "WatchHub", "Watcher"]

Obj = dict[str, Any]

MAX_BACKLOG = 50_000  # a watcher this far behind is cut off (the client re-watches)


@dataclass(eq=False)
class Watcher:
    """One open watch: a filter and a queue of (type, object) waiting to be written."""

    resource: str
    namespace: str | None
    predicate: Callable[[Obj], bool] | None
    name: str | None = None  # a watch of one object, by name
    queue: deque[tuple[str, Obj]] = field(default_factory=deque)
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    overflow: bool = False
    dropped: bool = False

    def matches(self, obj: Obj | None) -> bool:
        """Whether ``obj`` is in this watch's selection."""
        if obj is None:
            return False
        meta = obj.get("metadata") or {}
        if self.namespace and meta.get("namespace") != self.namespace:
            return False
        if self.name is not None and meta.get("name") != self.name:
            return False
        return self.predicate is None or self.predicate(obj)

    def push(self, kind: str, obj: Obj) -> None:
        """Queue one event."""
        if len(self.queue) >= MAX_BACKLOG:
            self.overflow = True
        else:
            self.queue.append((kind, obj))
        self.wakeup.set()

    def offer(self, change: Change) -> None:
        """Translate a store change into what this watch sees, if anything."""
        if change.type == "ADDED":
            if self.matches(change.object):
                self.push("ADDED", change.object)
            return
        if change.type == "DELETED":
            if self.matches(change.previous or change.object):
                self.push("DELETED", change.object)
            return
        now_in = self.matches(change.object)
        was_in = self.matches(change.previous)
        if now_in and was_in:
            self.push("MODIFIED", change.object)
        elif now_in:
            self.push("ADDED", change.object)
        elif was_in and change.previous is not None:
            gone = dict(change.previous)
            gone["metadata"] = {**(change.previous.get("metadata") or {}), "resourceVersion": str(change.rv)}
            self.push("DELETED", gone)

    def drop(self) -> None:
        """Fault or shutdown: end this watch now."""
        self.dropped = True
        self.wakeup.set()


class WatchHub:
    """The one store subscription that feeds every watcher."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._watchers: dict[str, set[Watcher]] = {}
        self.cache = EncodeCache()
        self._unsubscribe = store.subscribe(self._on_change)

    def _on_change(self, change: Change) -> None:
        for watcher in list(self._watchers.get(change.resource, ())):
            watcher.offer(change)

    def add(self, watcher: Watcher) -> None:
        """Start delivering changes to ``watcher``."""
        self._watchers.setdefault(watcher.resource, set()).add(watcher)

    def remove(self, watcher: Watcher) -> None:
        """Stop delivering changes to ``watcher``."""
        self._watchers.get(watcher.resource, set()).discard(watcher)

    def count(self) -> int:
        """Open watchers."""
        return sum(len(s) for s in self._watchers.values())

    def encode(self, obj: Obj) -> bytes:
        """JSON of a stored object, computed once however many watchers send it."""
        return self.cache.encode(obj)

    def close(self) -> None:
        """Unsubscribe from the store and end every watch."""
        self._unsubscribe()
        for watchers in self._watchers.values():
            for watcher in list(watchers):
                watcher.drop()
