"""Watches: ``?watch=true`` streams with resourceVersion semantics, bookmarks and watch-list.

One store subscription feeds every open watch (``watchhub.WatchHub``). Registering a watcher
and computing its initial events happen in one synchronous step on the event loop, so no
change can fall between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kubectl_trace.kube.resources import Resource
from kubectl_trace.sandbox.server.eventsv1 import is_view, view_of
from kubectl_trace.sandbox.server.fields import compile_selectors
from kubectl_trace.sandbox.server.responses import dumps, query_bool, query_int
from kubectl_trace.sandbox.server.routes import Route
from kubectl_trace.sandbox.server.state import CLIENT_GONE
from kubectl_trace.sandbox.server.tables import table, wants_table
from kubectl_trace.sandbox.server.watchhub import Watcher
from kubectl_trace.sandbox.store import StoreError

if TYPE_CHECKING:
    from kubectl_trace.sandbox.server.api import ApiServer

__all__ = ["serve_watch"]

Obj = dict[str, Any]

DEFAULT_TIMEOUT = 1800.0
_LIVENESS_CHECK = 5.0


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


@dataclass(frozen=True)
class _WatchOptions:
    """The query of a watch, checked."""

    watch_list: bool  # sendInitialEvents=true: the current objects, then an initial-events-end bookmark
    bookmarks: bool
    rv: int | None
    deadline: float  # time.monotonic() when the watch ends


def _watch_options(query: Any) -> _WatchOptions:
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
    timeout = query_int(query, "timeoutSeconds")
    return _WatchOptions(
        watch_list=watch_list,
        bookmarks=bookmarks,
        rv=_parse_rv(query.get("resourceVersion")),
        deadline=time.monotonic() + (timeout if timeout and timeout > 0 else DEFAULT_TIMEOUT),
    )


def _start(api: ApiServer, resource: Resource, watcher: Watcher, options: _WatchOptions) -> StoreError | None:
    """Register ``watcher`` and queue its initial events, with no await in between.

    Returns the 410 error when the asked resourceVersion is older than the store's history.
    """
    store = api.store
    api.hub.add(watcher)
    if options.watch_list or options.rv is None:
        for obj in store.list(resource.plural, watcher.namespace):
            if watcher.matches(obj):
                watcher.queue.append(("ADDED", obj))
        if options.watch_list:
            end = _bookmark(resource.kind, resource.api_version, store.resource_version, initial_end=True)
            watcher.queue.append(("BOOKMARK", end))
    elif options.rv < store.resource_version:
        try:
            for change in store.changes_since(options.rv):
                if change.resource == watcher.resource:  # the history holds every kind
                    watcher.offer(change)
        except StoreError as exc:
            return exc
    return None


class _Events:
    """Turns queued events into the lines of the stream: JSON objects, or Table rows."""

    def __init__(self, api: ApiServer, request: web.Request, resource: Resource) -> None:
        self.resource = resource
        self.clock = api.store.clock
        self.as_table = wants_table(request.headers.get("Accept"))
        self.include = request.query.get("includeObject", "Metadata")
        self.first_table = True
        self.encode: Callable[[Obj], bytes] = (
            api.hub.encode if not is_view(resource) else (lambda obj: dumps(view_of(resource, obj)))
        )

    def line(self, kind: str, obj: Obj) -> bytes:
        if kind == "BOOKMARK":
            body = dumps(obj)
        elif self.as_table:
            rows = table(
                self.resource.plural,
                [obj],
                now=self.clock(),
                include_object=self.include,
                headers=self.first_table,
            )
            self.first_table = False
            body = dumps(rows)
        else:
            body = self.encode(obj)
        return b'{"type":"' + kind.encode() + b'","object":' + body + b"}\n"

    def drain(self, watcher: Watcher) -> bytes:
        lines = []
        while watcher.queue:
            lines.append(self.line(*watcher.queue.popleft()))
        return b"".join(lines)


async def _stream(
    api: ApiServer,
    request: web.Request,
    response: web.StreamResponse,
    resource: Resource,
    watcher: Watcher,
    options: _WatchOptions,
) -> bool:
    """Write events until the watch ends; False when the connection is gone (no clean end)."""
    events = _Events(api, request, resource)
    next_bookmark = time.monotonic() + api.bookmark_interval
    while True:
        if watcher.queue:
            await response.write(events.drain(watcher))
        if watcher.dropped:
            _abort(request)
            return False
        now = time.monotonic()
        if watcher.overflow or now >= options.deadline:
            return True
        if options.bookmarks and now >= next_bookmark:
            mark = _bookmark(resource.kind, resource.api_version, api.store.resource_version)
            await response.write(events.line("BOOKMARK", mark))
            next_bookmark = now + api.bookmark_interval
            continue
        if request.transport is None or request.transport.is_closing():
            return False
        watcher.wakeup.clear()
        if watcher.queue or watcher.dropped:
            continue
        until_bookmark = (next_bookmark - now) if options.bookmarks else _LIVENESS_CHECK
        wait = min(options.deadline - now, _LIVENESS_CHECK, until_bookmark)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(watcher.wakeup.wait(), timeout=max(0.0, wait))


async def serve_watch(
    api: ApiServer, request: web.Request, route: Route, *, single: str | None = None
) -> web.StreamResponse:
    """Answer a watch request with a stream of events."""
    resource = route.resource
    assert resource is not None
    predicate = compile_selectors(resource, request.query)
    options = _watch_options(request.query)
    watcher = Watcher(resource.plural, route.namespace, predicate, single)
    expired = _start(api, resource, watcher, options)
    response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    what = f"{resource.plural} {route.namespace or '*'}"
    try:
        with api.streams.held("watch", what, watcher.drop), contextlib.suppress(*CLIENT_GONE):
            await response.prepare(request)
            if expired is not None:
                api.hub.remove(watcher)
                await response.write(dumps({"type": "ERROR", "object": expired.status()}) + b"\n")
            elif not await _stream(api, request, response, resource, watcher, options):
                return response
            await response.write_eof()
    finally:
        api.hub.remove(watcher)
    return response


def _abort(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.close()
