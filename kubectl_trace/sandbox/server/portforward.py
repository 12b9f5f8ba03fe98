"""``pods/portforward``: kubectl's SPDY-over-WebSocket and the official client's channel protocol.

kubectl 1.37 (client-go ``tools/portforward``) opens a WebSocket with the subprotocol
``SPDY/3.1+portforward.k8s.io`` and speaks SPDY/3.1 inside it (``server.spdy``): for each
local connection a pair of streams with the headers ``streamType`` (``error`` / ``data``),
``port`` and ``requestID``. The data stream carries the connection's bytes; the error
stream carries a message when the port cannot be reached; the server ends both (FIN)
when the connection is over. Only when that upgrade fails does kubectl fall back to
SPDY over a plain HTTP upgrade, which this server refuses with a one-line Status.

The official Python client speaks ``v4.channel.k8s.io``: ``?ports=A,B``; per port index
``i`` a data channel ``2i`` and an error channel ``2i+1``, each opened by a frame of the
port number (2 bytes, little-endian); then ``channel byte + bytes`` frames.

Either way the bytes reach the simulated app's HTTP (``server.podhttp``): the same
handler that answers ``/healthz`` through the pod proxy; or, for a pod of real Node.js
containers, the real socket on the pod's loopback address (``podhttp.open_real``), any port
(the app's, the inspector's 9229 once SIGUSR1 opened it).
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import WSMsgType, web

from kubectl_trace.sandbox.server import spdy
from kubectl_trace.sandbox.server.podhttp import Write, open_real, port_open, relay, serve_http
from kubectl_trace.sandbox.server.routes import Route
from kubectl_trace.sandbox.store import StoreError

if TYPE_CHECKING:
    from kubectl_trace.sandbox.server.api import ApiServer

__all__ = ["SPDY_PROTOCOL", "V4_PROTOCOL", "serve_portforward"]

SPDY_PROTOCOL = "SPDY/3.1+portforward.k8s.io"
V4_PROTOCOL = "v4.channel.k8s.io"
_WINDOW = 64 * 1024


def _refused(namespace: str, pod: str, uid: str, port: str) -> str:
    return (
        f"error forwarding port {port} to pod {uid}, uid : failed to execute portforward in network "
        f'namespace "/var/run/netns/cni-{uid}": failed to connect to localhost:{port} inside namespace '
        f'"{namespace}_{pod}", IPv4: dial tcp4 127.0.0.1:{port}: connect: connection refused '
    )


@dataclass
class _Stream:
    sid: int
    headers: dict[str, str]
    reader: asyncio.StreamReader = field(default_factory=asyncio.StreamReader)
    local_closed: bool = False


class _SpdySession:
    """One kubectl port-forward session over a WebSocket."""

    def __init__(self, api: ApiServer, ws: web.WebSocketResponse, namespace: str, pod: str, uid: str) -> None:
        self.api, self.ws = api, ws
        self.namespace, self.pod, self.uid = namespace, pod, uid
        self.codec = spdy.HeaderCodec()
        self.streams: dict[int, _Stream] = {}
        self.pairs: dict[str, dict[str, _Stream]] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()

    async def send(self, data: bytes) -> None:
        if self.ws.closed:
            return
        async with self._lock:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.ws.send_bytes(data)

    async def send_data(self, stream: _Stream, data: bytes, fin: bool = False) -> None:
        if stream.local_closed:
            return
        view = memoryview(data)
        while len(view) > spdy.MAX_DATA:
            await self.send(spdy.data_frame(stream.sid, bytes(view[: spdy.MAX_DATA])))
            view = view[spdy.MAX_DATA :]
        await self.send(spdy.data_frame(stream.sid, bytes(view), spdy.FIN if fin else 0))
        if fin:
            stream.local_closed = True

    async def run(self) -> None:
        buffer = bytearray()
        async for message in self.ws:
            if message.type != WSMsgType.BINARY:
                if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                    break
                continue
            buffer.extend(message.data)
            for frame in spdy.parse_frames(buffer):
                if not await self.handle(frame):
                    return

    async def handle(self, frame: spdy.Frame) -> bool:
        if frame.kind == spdy.DATA:
            stream = self.streams.get(frame.stream)
            if stream is not None:
                if frame.payload:
                    stream.reader.feed_data(frame.payload)
                    await self.send(spdy.window_update(stream.sid, len(frame.payload)))
                if frame.flags & spdy.FIN:
                    stream.reader.feed_eof()
        elif frame.kind == spdy.SYN_STREAM:
            stream = _Stream(frame.stream, self.codec.decode(frame.payload[10:]))
            if frame.flags & spdy.FIN:
                stream.reader.feed_eof()
            self.streams[stream.sid] = stream
            await self.send(spdy.syn_reply(self.codec, stream.sid))
            self._pair(stream)
        elif frame.kind == spdy.RST_STREAM:
            stream = self.streams.pop(frame.stream, None)
            if stream is not None:
                stream.local_closed = True
                stream.reader.feed_eof()
        elif frame.kind == spdy.PING:
            await self.send(spdy.control_frame(spdy.PING, 0, frame.payload))
        elif frame.kind == spdy.GOAWAY:
            return False
        return True

    def _pair(self, stream: _Stream) -> None:
        request = stream.headers.get("requestid", str(stream.sid))
        kind = stream.headers.get("streamtype", "")
        pair = self.pairs.setdefault(request, {})
        pair[kind] = stream
        if "error" in pair and "data" in pair:
            del self.pairs[request]
            task = asyncio.get_running_loop().create_task(self.forward(pair["data"], pair["error"]))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def forward(self, data: _Stream, error: _Stream) -> None:
        port = data.headers.get("port", "")

        async def write(chunk: bytes) -> None:
            await self.send_data(data, chunk)

        try:
            try:
                if port.isdigit() and await _forward_real(
                    self.api, self.namespace, self.pod, int(port), data.reader, write
                ):
                    return
            except ConnectionRefusedError:
                await self.send_data(error, _refused(self.namespace, self.pod, self.uid, port).encode())
                return
            if not port.isdigit() or not port_open(self.api.runtime, self.namespace, self.pod, port):
                await self.send_data(error, _refused(self.namespace, self.pod, self.uid, port).encode())
            else:
                with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, ValueError):
                    await serve_http(self.api.runtime, self.namespace, self.pod, port, data.reader, write)
        finally:
            await self.send_data(data, b"", fin=True)
            await self.send_data(error, b"", fin=True)
            self.streams.pop(data.sid, None)
            self.streams.pop(error.sid, None)

    def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()


async def _forward_real(
    api: ApiServer, namespace: str, pod: str, port: int, reader: asyncio.StreamReader, write: Write
) -> bool:
    """Forward to a real process of the pod (True), or False when the pod is simulated.

    A refused connection raises ``ConnectionRefusedError`` (the caller reports it).
    """
    app = await open_real(api.runtime, namespace, pod, port)
    if app is None:
        return False
    with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
        await relay(reader, write, app)
    return True


async def _serve_v4(
    api: ApiServer, ws: web.WebSocketResponse, namespace: str, pod: str, uid: str, ports: list[int]
) -> None:
    readers = [asyncio.StreamReader() for _ in ports]
    lock = asyncio.Lock()

    async def send(channel: int, payload: bytes) -> None:
        if ws.closed:
            return
        async with lock:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_bytes(bytes([channel]) + payload)

    for index, port in enumerate(ports):
        await send(2 * index, struct.pack("<H", port))
        await send(2 * index + 1, struct.pack("<H", port))

    async def forward(index: int, port: int) -> None:
        async def write(chunk: bytes) -> None:
            await send(2 * index, chunk)

        try:
            if await _forward_real(api, namespace, pod, port, readers[index], write):
                return
        except ConnectionRefusedError:
            await send(2 * index + 1, _refused(namespace, pod, uid, str(port)).encode())
            return
        if not port_open(api.runtime, namespace, pod, str(port)):
            await send(2 * index + 1, _refused(namespace, pod, uid, str(port)).encode())
            return
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, ValueError):
            await serve_http(api.runtime, namespace, pod, str(port), readers[index], write)

    tasks = [asyncio.create_task(forward(i, p)) for i, p in enumerate(ports)]

    async def close_when_forwarded() -> None:
        # As the kubelet does: once the pod side of every port has finished, the connection
        # closes, so a client waiting for the end of a response sees it.
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.close()

    closer = asyncio.create_task(close_when_forwarded())
    try:
        await _read_client(ws, readers)
    finally:
        for reader in readers:
            reader.feed_eof()
        for task in tasks:
            task.cancel()
        closer.cancel()


async def _read_client(ws: web.WebSocketResponse, readers: list[asyncio.StreamReader]) -> None:
    """Feed each port's data channel into its reader until the client closes."""
    async for message in ws:
        if message.type != WSMsgType.BINARY or not message.data:
            if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                break
            continue
        channel, payload = message.data[0], bytes(message.data[1:])
        if channel % 2 == 0 and channel // 2 < len(readers) and payload:
            readers[channel // 2].feed_data(payload)


def _ports(values: list[str]) -> list[int]:
    ports: list[int] = []
    for value in values:
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            if not item.isdigit() or not 0 < int(item) < 65536:
                raise StoreError.bad_request(f"invalid port {item!r}")
            ports.append(int(item))
    return ports


async def serve_portforward(api: ApiServer, request: web.Request, route: Route) -> web.StreamResponse:
    """GET (WebSocket upgrade) ``/api/v1/namespaces/NS/pods/NAME/portforward``."""
    assert route.name is not None
    namespace = route.namespace or ""
    pod = api.store.get("pods", namespace, route.name)
    phase = (pod.get("status") or {}).get("phase")
    if phase != "Running":
        raise StoreError.bad_request(f"pod {route.name} is not running (phase {phase})")
    if request.headers.get("Upgrade", "").lower() != "websocket":
        raise StoreError.bad_request(
            "the sandbox serves port-forward over WebSocket only (SPDY/3.1+portforward.k8s.io tunneled, "
            "v4.channel.k8s.io); a direct SPDY upgrade is not supported"
        )
    offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",")]
    protocol = next((p for p in offered if p in (SPDY_PROTOCOL, V4_PROTOCOL)), None)
    if protocol is None:
        raise StoreError.bad_request(
            "none of the requested WebSocket subprotocols is supported "
            f"(supported: {SPDY_PROTOCOL}, {V4_PROTOCOL})"
        )
    ports = _ports(request.query.getall("ports", []))
    if protocol == V4_PROTOCOL and not ports:
        raise StoreError.bad_request("query parameter ports is required")
    ws = web.WebSocketResponse(protocols=(protocol,), autoping=True, max_msg_size=16 * 1024 * 1024)
    await ws.prepare(request)
    session: _SpdySession | None = None

    def drop() -> None:
        if request.transport is not None:
            request.transport.close()

    stream = api.streams.open("portforward", f"{namespace}/{route.name}", drop)
    uid = str((pod.get("metadata") or {}).get("uid", ""))
    try:
        if protocol == SPDY_PROTOCOL:
            session = _SpdySession(api, ws, namespace, route.name, uid)
            await session.run()
        else:
            await _serve_v4(api, ws, namespace, route.name, uid, ports)
    except (ConnectionError, ValueError, zlib.error, struct.error, IndexError):
        pass  # a peer that breaks the protocol loses its session, nothing else
    finally:
        if session is not None:
            session.stop()
        api.streams.release(stream)
        with contextlib.suppress(Exception):
            await ws.close()
    return ws
