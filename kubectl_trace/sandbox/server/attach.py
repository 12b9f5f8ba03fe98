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
from typing import TYPE_CHECKING

from aiohttp import WSMsgType, web

from kubectl_trace.sandbox.server.channels import (
    ERROR,
    RESIZE,
    STDIN,
    STDOUT,
    channel_socket,
    exit_status,
    is_websocket_upgrade,
    negotiate,
    stream_container,
    terminal_size,
)
from kubectl_trace.sandbox.server.responses import dumps, query_bool
from kubectl_trace.sandbox.server.routes import Route
from kubectl_trace.sandbox.store import StoreError

if TYPE_CHECKING:
    from kubectl_trace.sandbox.command import CommandProcess
    from kubectl_trace.sandbox.server.api import ApiServer

__all__ = ["serve_attach"]

_ENDED = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR)


async def serve_attach(api: ApiServer, request: web.Request, route: Route) -> web.StreamResponse:
    """GET (WebSocket upgrade) ``/api/v1/namespaces/NS/pods/NAME/attach``."""
    assert route.name is not None
    container = stream_container(api, route, request.query, "attach to")
    attach_target = getattr(api.runtime, "attach_target", None)
    if attach_target is None:
        raise StoreError.bad_request("this sandbox cannot attach to containers")
    process = attach_target(route.namespace or "", route.name, container)
    if not is_websocket_upgrade(request):
        raise StoreError.bad_request("the sandbox speaks attach over WebSocket only")
    ws = await channel_socket(request, negotiate(request))
    outbox: asyncio.Queue[bytes | None] = asyncio.Queue()
    process.listeners.add(outbox.put_nowait)
    if process.exit_code is not None:
        outbox.put_nowait(None)
    stream = api.streams.open("attach", f"{route.namespace}/{route.name}/{container}", lambda: _drop(request))
    want_stdout = query_bool(request.query, "stdout")
    pumping = asyncio.create_task(_pump(ws, outbox, want_stdout))
    reading = asyncio.create_task(_read_client(ws, process))
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


async def _pump(ws: web.WebSocketResponse, outbox: asyncio.Queue[bytes | None], want_stdout: bool) -> None:
    """What the process prints → channel 1, until it exits (``None``)."""
    while True:
        data = await outbox.get()
        if data is None:
            return
        if want_stdout and not ws.closed:
            await ws.send_bytes(bytes([STDOUT]) + data)


async def _read_client(ws: web.WebSocketResponse, process: CommandProcess) -> None:
    """Client frames → the process's terminal (stdin, resize) until the WebSocket closes."""
    async for message in ws:
        if message.type != WSMsgType.BINARY or not message.data:
            if message.type in _ENDED:
                return
            continue
        data = bytes(message.data)
        channel, payload = data[0], data[1:]
        if channel == STDIN:
            process.write(payload)
        elif channel == RESIZE:
            size = terminal_size(payload)
            if size is not None:
                process.resize(*size)
        # a v5 close of stdin (255) needs nothing: the terminal stays the process's


def _drop(request: web.Request) -> None:
    if request.transport is not None:
        request.transport.close()
