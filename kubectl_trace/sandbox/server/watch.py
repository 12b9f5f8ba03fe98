"""Watches: ``?watch=true`` streams with resourceVersion semantics, bookmarks and watch-list.

One store subscription feeds every open watch (``WatchHub``). Registering a watcher and
computing its initial events happen in one synchronous step on the event loop, so no
change can fall between them. Selector semantics follow the apiserver's cacher: an object
that starts matching arrives as ADDED, one that stops matching as DELETED (its previous
state with the new resourceVersion).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kubectl_trace.sandbox.server.eventsv1 import is_view, view_of
from kubectl_trace.sandbox.server.responses import EncodeCache, dumps, query_bool, query_int
from kubectl_trace.sandbox.server.routes import Route
from kubectl_trace.sandbox.server.tables import table, wants_table
from kubectl_trace.sandbox.store import Change, Store, StoreError

if TYPE_CHECKING:
    from kubectl_trace.sandbox.server.app import ApiServer

__all__ = ["WatchHub", "Watcher", "serve_watch"]

Obj = dict[str, Any]

DEFAULT_TIMEOUT = 1800.0
MAX_BACKLOG = 50_000  # a watcher this far behind is cut off (the client re-watches)
_LIVENESS_CHECK = 5.0


class Watcher:
    """One open watch: a filter and a queue of (type, object) waiting to be written."""

    def __init__(
        self,
        resource: str,
        namespace: str | None,
        predicate: Callable[[Obj], bool] | None,
        name: str | None = None,
    ) -> None:
        self.resource = resource
        self.namespace = namespace
        self.predicate = predicate
        self.name = name
        self.queue: deque[tuple[str, Obj]] = deque()
        self.wakeup = asyncio.Event()
        self.overflow = False
        self.dropped = False

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


def _bookmark(kind: str, api_version: str, rv: int, *, initial_end: bool = False) -> Obj:
    meta: Obj = {"resourceVersion": str(rv)}
    if initial_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    return {"kind": kind, "apiVersion": api_version, "metadata": meta}


def _parse_rv(value: str | None) -> int | None:
    if value in (None, "", "0"):
        return None
    try:
        return int(value)
    except ValueError:
        raise StoreError(400, "BadRequest", f'invalid resource version "{value}"') from None


def _invalid(message: str, field: str) -> StoreError:
    return StoreError(
        422,
        "Invalid",
        f'ListOptions.meta.k8s.io "" is invalid: {field}: Forbidden: {message}',
        details={
            "kind": "ListOptions",
            "group": "meta.k8s.io",
            "causes": [{"reason": "FieldValueForbidden", "message": f"Forbidden: {message}", "field": field}],
        },
    )


async def serve_watch(
    api: ApiServer, request: web.Request, route: Route, *, single: str | None = None
) -> web.StreamResponse:
    """Answer a watch request with a stream of events."""
    from kubectl_trace.sandbox.server.rest import compile_selectors

    resource = route.resource
    assert resource is not None
    query = request.query
    predicate = compile_selectors(resource, query)
    send_initial = query.get("sendInitialEvents")
    watch_list = send_initial is not None and query_bool(query, "sendInitialEvents")
    bookmarks = query_bool(query, "allowWatchBookmarks")
    rv_match = query.get("resourceVersionMatch", "")
    if send_initial is not None:
        if rv_match != "NotOlderThan":
            raise _invalid(
                "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                "resourceVersionMatch",
            )
        if watch_list and not bookmarks:
            raise _invalid(
                "sendInitialEvents requires setting allowWatchBookmarks to true", "allowWatchBookmarks"
            )
    elif rv_match:
        raise _invalid("resourceVersionMatch is forbidden for watch", "resourceVersionMatch")
    rv = _parse_rv(query.get("resourceVersion"))
    timeout = query_int(query, "timeoutSeconds")
    deadline = time.monotonic() + (timeout if timeout and timeout > 0 else DEFAULT_TIMEOUT)
    as_table = wants_table(request.headers.get("Accept"))
    include = query.get("includeObject", "Metadata")

    store = api.store
    hub = api.hub
    encode = hub.encode if not is_view(resource) else (lambda obj: dumps(view_of(resource, obj)))
    watcher = Watcher(resource.plural, route.namespace, predicate, single)
    expired: StoreError | None = None
    # -- synchronous: register and compute the initial events with no await in between --
    hub.add(watcher)
    if watch_list or rv is None:
        for obj in store.list(resource.plural, route.namespace):
            if watcher.matches(obj):
                watcher.queue.append(("ADDED", obj))
        if watch_list:
            watcher.queue.append(
                (
                    "BOOKMARK",
                    _bookmark(resource.kind, resource.api_version, store.resource_version, initial_end=True),
                )
            )
    elif rv < store.resource_version:
        try:
            for change in store.changes_since(rv):
                if change.resource == watcher.resource:  # the history holds every kind
                    watcher.offer(change)
        except StoreError as exc:
            expired = exc
    # ---------------------------------------------------------------------------------------
    response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    stream = api.streams.open("watch", f"{resource.plural} {route.namespace or '*'}", watcher.drop)
    try:
        await response.prepare(request)
        if expired is not None:
            hub.remove(watcher)
            await response.write(dumps({"type": "ERROR", "object": expired.status()}) + b"\n")
            await response.write_eof()
            return response
        first_table = True
        next_bookmark = time.monotonic() + api.bookmark_interval
        while True:
            if watcher.queue:
                chunks: list[bytes] = []
                while watcher.queue:
                    kind, obj = watcher.queue.popleft()
                    if as_table and kind != "BOOKMARK":
                        body = table(
                            resource.plural,
                            [obj],
                            now=store.clock(),
                            include_object=include,
                            headers=first_table,
                        )
                        first_table = False
                        chunks.append(b'{"type":"' + kind.encode() + b'","object":' + dumps(body) + b"}\n")
                    else:
                        chunks.append(
                            b'{"type":"'
                            + kind.encode()
                            + b'","object":'
                            + (encode(obj) if kind != "BOOKMARK" else dumps(obj))
                            + b"}\n"
                        )
                await response.write(b"".join(chunks))
            if watcher.dropped:
                _abort(request)
                return response
            if watcher.overflow:
                break
            now = time.monotonic()
            if now >= deadline:
                break
            if bookmarks and now >= next_bookmark:
                mark = _bookmark(resource.kind, resource.api_version, store.resource_version)
                await response.write(b'{"type":"BOOKMARK","object":' + dumps(mark) + b"}\n")
                next_bookmark = now + api.bookmark_interval
                continue
            if request.transport is None or request.transport.is_closing():
                return response
            watcher.wakeup.clear()
            if watcher.queue or watcher.dropped:
                continue
            wait = min(
                deadline - now, _LIVENESS_CHECK, (next_bookmark - now) if bookmarks else _LIVENESS_CHECK
            )
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(watcher.wakeup.wait(), timeout=max(0.0, wait))
        await response.write_eof()
        return response
    except (ConnectionResetError, ConnectionError, RuntimeError):
        return response
    finally:
        hub.remove(watcher)
        api.streams.release(stream)


def _abort(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.close()
