"""``pods/log``: every PodLogOptions parameter over a ``ContainerLog``.

A follower sleeps until the log's next line is due (or the log changes), then writes
every line that exists in one chunk; writes to one follower are at least
``ApiServer.log_flush_interval`` apart (0.2 s: each write is a TLS record and a system
call, the dominant cost), so many followers at tens of lines per second cost little. The
body ends cleanly when the container instance finishes (restart, deletion).

A terminating pod's log is served as long as the pod object exists; once it is removed the
answer is 404, as from a real API server (it reaches the kubelet through the pod object:
``kubectl logs`` of a deleted pod says "pods … not found", kubernetes/kubectl#1622), so
the sandbox keeps no deleted pod's log readable either.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from kubectl_trace.sandbox.interfaces import ContainerLog
from kubectl_trace.sandbox.server.containers import resolve_container
from kubectl_trace.sandbox.server.responses import query_bool, query_int
from kubectl_trace.sandbox.server.routes import Route
from kubectl_trace.sandbox.server.state import CLIENT_GONE
from kubectl_trace.sandbox.store import StoreError
from kubectl_trace.timeparse import format_rfc3339_nano, parse_rfc3339

if TYPE_CHECKING:
    from kubectl_trace.sandbox.server.api import ApiServer

__all__ = ["LogRequest", "parse_log_request", "serve_log"]

_CHUNK_LINES = 2000  # lines per write when catching up on a long backlog
_RECHECK = 2.0  # seconds between checks that the pod still exists while idle


@dataclass(frozen=True, kw_only=True)
class LogRequest:
    """The validated PodLogOptions of one request."""

    container: str | None
    follow: bool
    previous: bool
    timestamps: bool
    since_seconds: int | None
    since_time: float | None
    tail_lines: int | None
    limit_bytes: int | None

    def start_time(self, now: float) -> float | None:
        """The earliest timestamp wanted (later of sinceSeconds and sinceTime), if any."""
        starts = []
        if self.since_seconds is not None:
            starts.append(now - self.since_seconds)
        if self.since_time is not None:
            starts.append(self.since_time)
        return max(starts) if starts else None


def _invalid(field: str, value: object, message: str) -> StoreError:
    return StoreError(
        422,
        "Invalid",
        f'PodLogOptions "" is invalid: {field}: Invalid value: {value}: {message}',
        details={
            "kind": "PodLogOptions",
            "causes": [
                {
                    "reason": "FieldValueInvalid",
                    "message": f"Invalid value: {value}: {message}",
                    "field": field,
                }
            ],
        },
    )


def parse_log_request(query: object) -> LogRequest:
    """Validate the query parameters of a log request (pure)."""
    q = query  # a Mapping[str, str]
    since_seconds = query_int(q, "sinceSeconds")  # type: ignore[arg-type]
    tail_lines = query_int(q, "tailLines")  # type: ignore[arg-type]
    limit_bytes = query_int(q, "limitBytes")  # type: ignore[arg-type]
    since_text = q.get("sinceTime")  # type: ignore[attr-defined]
    since_time = None
    if since_text:
        try:
            since_time = parse_rfc3339(since_text)
        except ValueError:
            raise StoreError.bad_request(
                f'parsing time "{since_text}" as "2006-01-02T15:04:05Z07:00": cannot parse'
            ) from None
    if since_seconds is not None and since_time is not None:
        raise StoreError.bad_request("at most one of `sinceTime` or `sinceSeconds` may be specified")
    if since_seconds is not None and since_seconds < 1:
        raise _invalid("sinceSeconds", since_seconds, "must be greater than 0")
    if tail_lines is not None and tail_lines < 0:
        raise _invalid("tailLines", tail_lines, "must be greater than or equal to 0")
    if limit_bytes is not None and limit_bytes < 1:
        raise _invalid("limitBytes", limit_bytes, "must be greater than 0")
    return LogRequest(
        container=q.get("container") or None,  # type: ignore[attr-defined]
        follow=query_bool(q, "follow"),  # type: ignore[arg-type]
        previous=query_bool(q, "previous"),  # type: ignore[arg-type]
        timestamps=query_bool(q, "timestamps"),  # type: ignore[arg-type]
        since_seconds=since_seconds,
        since_time=since_time,
        tail_lines=tail_lines,
        limit_bytes=limit_bytes,
    )


def _first_index(log: ContainerLog, options: LogRequest, now: float) -> int:
    count = log.line_count(now)
    start = 0
    since = options.start_time(now)
    if since is not None:
        start = min(count, log.first_index_at(since))
    if options.tail_lines is not None:
        start = max(start, count - options.tail_lines)
    return start


def _render(log: ContainerLog, start: int, end: int, timestamps: bool) -> bytes:
    chunk = getattr(log, "chunk", None)  # the optional fast path (pre-rendered backlog)
    if chunk is not None:
        return bytes(chunk(start, end, timestamps=timestamps))
    parts: list[str] = []
    for index in range(start, end):
        ts, text = log.line(index)
        if timestamps:
            parts.append(format_rfc3339_nano(ts))
            parts.append(" ")
        parts.append(text)
        parts.append("\n")
    return "".join(parts).encode("utf-8")


async def serve_log(api: ApiServer, request: web.Request, route: Route) -> web.StreamResponse:
    """GET ``/api/v1/namespaces/NS/pods/NAME/log``."""
    if request.method != "GET":
        raise StoreError(
            405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
        )
    assert route.name is not None
    options = parse_log_request(request.query)
    pod = api.store.get("pods", route.namespace, route.name)
    container = resolve_container(pod, options.container)
    uid = pod["metadata"].get("uid")
    response = web.StreamResponse(status=200, headers={"Content-Type": "text/plain"})
    if not (pod.get("spec") or {}).get("nodeName"):
        # not scheduled yet: the API server answers an empty log
        await response.prepare(request)
        await response.write_eof()
        return response
    log = api.runtime.container_log(route.namespace or "", route.name, container, previous=options.previous)
    clock = api.store.clock
    if options.follow:
        response.enable_chunked_encoding()
    dropped = asyncio.Event()

    def drop() -> None:
        dropped.set()
        if request.transport is not None:
            request.transport.close()

    written = 0
    limit = options.limit_bytes if options.limit_bytes is not None else math.inf
    key = f"{route.namespace}/{route.name}/{container}"
    with api.streams.held("log", key, drop), contextlib.suppress(*CLIENT_GONE):
        await response.prepare(request)
        index = _first_index(log, options, clock())
        follow = options.follow and not options.previous
        flush_interval = api.log_flush_interval
        last_write = 0.0
        while True:
            now = clock()
            count = log.line_count(now)
            while index < count and written < limit:
                end = min(count, index + _CHUNK_LINES)
                data = _render(log, index, end, options.timestamps)
                index = end
                if written + len(data) > limit:
                    data = data[: int(limit - written)]
                written += len(data)
                await response.write(data)
                last_write = time.monotonic()
            if dropped.is_set():
                return response
            if written >= limit or not follow:
                break
            if log.finished and index >= log.line_count(clock()):
                break
            current = api.store.try_get("pods", route.namespace, route.name)
            if current is None or current["metadata"].get("uid") != uid:
                break
            if request.transport is None or request.transport.is_closing():
                return response
            due = log.next_line_time(now)
            wait = _RECHECK if due is None else min(_RECHECK, max(0.001, due - clock()))
            wait = max(wait, last_write + flush_interval - time.monotonic())
            await log.wait(wait)
        await response.write_eof()
    return response
