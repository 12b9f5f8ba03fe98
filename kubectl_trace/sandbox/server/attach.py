"""``pods/attach`` over WebSocket (``v5.channel.k8s.io``, ``v4.channel.k8s.io``).

Attaches to a container that runs its command for real (``sandbox/command.py``) with a
TTY: what the process prints from now on goes out on channel 1, what the client types
(channel 0) goes into its terminal, channel 4 resizes it. When the process exits, its
status goes out on channel 3 (as for exec) and the WebSocket closes; when the client goes
away, the process keeps running (as with ``kubectl attach``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING

from aiohttp import WSMsgType, web

from kubectl_trace.sandbox.server.containers import resolve_container
from kubectl_trace.sandbox.server.exec import (
    CLOSE,
    ERROR,
    RESIZE,
    STDIN,
    STDOUT,
    SUPPORTED_PROTOCOLS,
    exit_status,
    pick_protocol,
)
from kubectl_trace.sandbox.server.responses import dumps, query_bool
from kubectl_trace.sandbox.server.routes import Route
from kubectl_trace.sandbox.store import StoreError

if TYPE_CHECKING:
    from kubectl_trace.sandbox.server.api import ApiServer

__all__ = ["serve_attach"]


def _size(payload: bytes) -> tuple[int, int] | None:
    try:
        data = json.loads(payload.decode("utf-8", "replace") or "{}")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    lowered = {str(k).lower(): v for k, v in data.items()}
    try:
        return int(lowered.get("width", 0)), int(lowered.get("height", 0))
    except (TypeError, ValueError):
        return None


async def serve_attach(api: ApiServer, request: web.Request, route: Route) -> web.StreamResponse:
    """GET (WebSocket upgrade) ``/api/v1/namespaces/NS/pods/NAME/attach``."""
    assert route.name is not None
    query = request.query
    pod = api.store.get("pods", route.namespace, route.name)
    container = resolve_container(pod, query.get("container"))
    if not any(query_bool(query, k) for k in ("stdin", "stdout", "stderr")):
        raise StoreError.bad_request("you must specify at least 1 of stdin, stdout, stderr")
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        raise StoreError.bad_request(
            f"cannot attach to a container in a completed pod; current phase is {phase}"
        )
    attach_target = getattr(api.runtime, "attach_target", None)
    if attach_target is None:
        raise StoreError.bad_request("this sandbox cannot attach to containers")
    process = attach_target(route.namespace or "", route.name, container)
    if request.method != "GET" or request.headers.get("Upgrade", "").lower() != "websocket":
        raise StoreError.bad_request("the sandbox speaks attach over WebSocket only")
    protocol = pick_protocol(request.headers.get("Sec-WebSocket-Protocol"))
    if protocol is None:
        raise StoreError.bad_request(
            "none of the requested WebSocket subprotocols is supported "
            f"(supported: {', '.join(SUPPORTED_PROTOCOLS)})"
        )
    ws = web.WebSocketResponse(protocols=(protocol,), autoping=True, max_msg_size=16 * 1024 * 1024)
    await ws.prepare(request)
    outbox: asyncio.Queue[bytes | None] = asyncio.Queue()
    process.listeners.add(outbox.put_nowait)
    if process.exit_code is not None:
        outbox.put_nowait(None)
    stream = api.streams.open("attach", f"{route.namespace}/{route.name}/{container}", lambda: _drop(request))
    want_stdout = query_bool(query, "stdout")

    async def pump() -> None:
        while True:
            data = await outbox.get()
            if data is None:
                return
            if want_stdout and not ws.closed:
                await ws.send_bytes(bytes([STDOUT]) + data)

    async def read_client() -> None:
        async for message in ws:
            if message.type != WSMsgType.BINARY or not message.data:
                if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                    return
                continue
            data = bytes(message.data)
            channel, payload = data[0], data[1:]
            if channel == STDIN:
                process.write(payload)
            elif channel == RESIZE:
                size = _size(payload)
                if size is not None:
                    process.resize(*size)
            elif channel == CLOSE:
                continue

    pumping = asyncio.create_task(pump())
    reading = asyncio.create_task(read_client())
    try:
        done, _ = await asyncio.wait({pumping, reading}, return_when=asyncio.FIRST_COMPLETED)
        if pumping in done and process.exit_code is not None:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_bytes(bytes([ERROR]) + dumps(exit_status(process.exit_code, ["attach"])))
                await ws.close()
        return ws
    except (ConnectionResetError, ConnectionError):
        return ws
    finally:
        process.listeners.discard(outbox.put_nowait)
        for task in (pumping, reading):
            if not task.done():
                task.cancel()
        api.streams.release(stream)


def _drop(request: web.Request) -> None:
    if request.transport is not None:
        request.transport.close()
