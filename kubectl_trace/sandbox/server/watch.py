"""Watches: ``?watch=true`` streams with resourceVersion semantics, bookmarks and watch-list.

One store subscription feeds every open watch (``watchhub.WatchHub``). Registering a watcher
and computing its initial events happen in one synchronous step on the event loop, so no
change can fall between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kubectl_trace.sandbox.server.eventsv1 import is_view, view_of
from kubectl_trace.sandbox.server.fields import compile_selectors
from kubectl_trace.sandbox.server.responses import dumps, query_bool, query_int
from kubectl_trace.sandbox.server.routes import Route
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


async def serve_watch(
    api: ApiServer, request: web.Request, route: Route, *, single: str | None = None
) -> web.StreamResponse:
    """Answer a watch request with a stream of events."""
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
