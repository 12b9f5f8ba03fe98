"""``pods/portforward`` over a WebSocket (``v4.channel.k8s.io``) and a local listener.

The protocol (the kubelet's ``handleWebSocketStreams``, what the official Python client
speaks): one WebSocket per ``?ports=N``; per requested port index ``i`` a data channel
``2i`` and an error channel ``2i+1``. The server opens each channel with the port number
(2 bytes, little-endian); then the data channel carries the connection's bytes both ways
and the error channel a message when the port cannot be reached. The server closes the
WebSocket when the connection in the pod is over. There is no half-close: when the local
side stops sending, the tunnel ends.

One tunnel carries one TCP connection, so ``kube.forwarder.Forwarder`` opens a WebSocket
per accepted local connection. The handshake is exec's (``kube.upgrade.open_websocket``, over either
client's ``open_upgrade``: the lean client's socket with its TLS session resumed, or one
opened from the official client's configuration; CA, certificate, token and proxies
alike). After it, ``pump`` copies
bytes between the local socket and the tunnel in one thread (the only one touching that
TLS socket), with bounded buffers on both sides (backpressure), answering pings.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubectl_trace.kube.errors import KubeError, TransportError
from kubectl_trace.kube.frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    FrameDecoder,
    ProtocolError,
    client_frame,
    encode_stdin,
)

__all__ = [
    "PROTOCOL",
    "PortRefused",
    "Tunnel",
    "close_local",
    "open_tunnel",
    "portforward_path",
    "pump",
]

PROTOCOL = "v4.channel.k8s.io"
DATA, ERROR = 0, 1  # the channels of the first (only) port
_PREFIX = 2  # the port number that opens each channel
_CHUNK = 64 * 1024
_HIGH_WATER = 1024 * 1024  # stop reading a side while this much waits for the other
_PING_EVERY = 30.0


class PortRefused(KubeError):
    """The pod's port could not be reached (the error channel's message)."""


def portforward_path(namespace: str, pod: str) -> str:
    """The ``pods/portforward`` subresource path."""
    return f"/api/v1/namespaces/{namespace}/pods/{pod}/portforward"


@dataclass
class Tunnel:
    """An open port-forward WebSocket: its socket and the bytes that came with the handshake."""

    sock: Any
    initial: bytes
    description: str

    def close(self) -> None:
        """Close the socket (no goodbye: ``pump`` says it when it ends normally)."""
        with contextlib.suppress(Exception):
            self.sock.close()


def open_tunnel(kube: Any, namespace: str, pod: str, port: int, *, timeout: float | None = None) -> Tunnel:
    """Open ``pods/portforward?ports=PORT`` on pod ``pod``.

    ``kube`` is a ``LiteKube`` or a ``Kube`` (as for ``kube.exec.open_exec``). Raises
    ``ApiError`` when the server refuses (404 pod, 400 not running, 403) and
    ``TransportError`` when it cannot be reached or does not speak the protocol.
    """
    from kubectl_trace.kube.upgrade import open_websocket

    limit = timeout if timeout is not None else (kube.conn.request_timeout or 30.0)
    websocket = open_websocket(
        kube,
        portforward_path(namespace, pod),
        [("ports", str(port))],
        (PROTOCOL,),
        timeout=limit,
        namespace=namespace,
        purpose="port-forward",
    )
    return Tunnel(websocket.sock, websocket.initial, f"pod {namespace}/{pod} port {port}")


class _Channels:
    """Reassembles what the server says per channel, minus each channel's port prefix."""

    def __init__(self) -> None:
        self.skip = {DATA: _PREFIX, ERROR: _PREFIX}
        self.error = bytearray()

    def take(self, payload: bytes) -> tuple[int, bytes]:
        channel, data = payload[0], payload[1:]
        left = self.skip.get(channel, 0)
        if left:
            cut = min(left, len(data))
            self.skip[channel] = left - cut
            data = data[cut:]
        return channel, data


def _want_read(sock: Any) -> bool:
    return isinstance(sock, ssl.SSLSocket) and sock.pending() > 0


class _Pump:
    """The state of one local connection ↔ tunnel copy (see ``pump``)."""

    def __init__(self, tunnel: Tunnel, local: socket.socket, clock: Callable[[], float]) -> None:
        self.tunnel, self.local, self.clock = tunnel, local, clock
        self.decoder = FrameDecoder()
        self.channels = _Channels()
        self.to_remote = bytearray()
        self.to_local = bytearray()
        self.local_eof = False
        self.local_gone = False  # writing to the local client failed: it went away
        self.remote_done = False
        self.close_sent = False
        self.last_heard = clock()

    # -- remote side --

    def handle(self, opcode: int, payload: bytes) -> None:
        if opcode in (OP_BINARY, OP_TEXT):
            if not payload:
                return
            channel, data = self.channels.take(payload)
            if channel == DATA:
                self.to_local += data
            elif channel == ERROR and data:
                self.channels.error += data
                self.remote_done = True  # the port is unreachable: nothing more will come
        elif opcode == OP_PING:
            self.to_remote += client_frame(OP_PONG, payload)
        elif opcode == OP_CLOSE:
            self.remote_done = True
            if not self.close_sent:
                self.say_goodbye()

    def ping(self) -> None:
        self.to_remote += client_frame(OP_PING, b"")

    def say_goodbye(self) -> None:
        self.close_sent = True
        self.to_remote += client_frame(OP_CLOSE, (1000).to_bytes(2, "big"))

    def read_remote(self) -> None:
        sock = self.tunnel.sock
        while len(self.to_local) < _HIGH_WATER and not self.remote_done:
            try:
                data = sock.recv(_CHUNK)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError, InterruptedError):
                return
            if not data:
                self.remote_done = True
                return
            self.last_heard = self.clock()
            for opcode, payload in self.decoder.feed(data):
                self.handle(opcode, payload)

    def write_remote(self) -> None:
        try:
            sent = self.tunnel.sock.send(self.to_remote[:_CHUNK])
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError, InterruptedError):
            return
        del self.to_remote[:sent]

    # -- local side --

    def read_local(self) -> None:
        try:
            data = self.local.recv(_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.local_eof = True
            return
        self.to_remote += encode_stdin(data)  # a masked frame of channel 0: the data channel

    def write_local(self) -> bool:
        try:
            sent = self.local.send(self.to_local[:_CHUNK])
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            return False  # the local client went away
        del self.to_local[:sent]
        return True


def pump(
    tunnel: Tunnel,
    local: socket.socket,
    *,
    stop: threading.Event | None = None,
    clock: Callable[[], float] = time.monotonic,
    ping_every: float = _PING_EVERY,
) -> str | None:
    """Copy bytes between ``local`` and the tunnel until either side is done; close both.

    Returns the error channel's message (the port could not be reached) or None. When the
    local client stops sending, the tunnel is closed (the protocol has no half-close) and
    what the pod still sends is delivered until the server closes, for ``_LINGER`` seconds
    at most. Raises ``TransportError`` (kind ``lost``) when the tunnel's connection fails or
    breaks the WebSocket rules. ``stop`` (set from another thread) ends it at the next ping
    interval at the latest; shutting ``local`` down from another thread ends it at once.
    """
    state = _Pump(tunnel, local, clock)
    try:
        tunnel.sock.setblocking(False)
        local.setblocking(False)
        for opcode, payload in state.decoder.feed(tunnel.initial):
            state.handle(opcode, payload)
        _loop(state, stop, ping_every)
        if not state.close_sent:
            state.say_goodbye()
        _flush(state)
    except ProtocolError as exc:
        raise TransportError(
            f"port-forward to {tunnel.description}: protocol error: {exc}", kind="lost"
        ) from None
    except OSError as exc:
        raise TransportError(f"port-forward to {tunnel.description} lost: {exc}", kind="lost") from None
    finally:
        close_local(local)
        tunnel.close()
    error = bytes(state.channels.error).decode("utf-8", "replace").strip()
    return error or None


_LINGER = 5.0
_IN, _OUT = select.POLLIN, select.POLLOUT


def close_local(local: socket.socket) -> None:
    """Shut a local socket down and close it (errors ignored)."""
    with contextlib.suppress(OSError):
        local.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        local.close()


def _masks(state: _Pump) -> tuple[int, int]:
    remote = _IN if len(state.to_local) < _HIGH_WATER and not state.remote_done else 0
    if state.to_remote:
        remote |= _OUT
    local = _IN if not state.local_eof and len(state.to_remote) < _HIGH_WATER else 0
    if state.to_local:
        local |= _OUT
    return remote, local


def _loop(state: _Pump, stop: threading.Event | None, ping_every: float) -> None:
    """Poll both sockets until the connection is over (see ``pump``)."""
    sock = state.tunnel.sock
    remote_fd, local_fd = sock.fileno(), state.local.fileno()
    poller = select.poll()
    registered: set[int] = set()
    next_ping = state.clock() + ping_every
    linger_until: float | None = None
    while not (state.remote_done and not state.to_local) and not state.local_gone:
        now = state.clock()
        if state.local_eof and not state.to_remote and not state.close_sent:
            state.say_goodbye()
            linger_until = now + _LINGER
        if (linger_until is not None and now >= linger_until) or (stop is not None and stop.is_set()):
            return
        remote_mask, local_mask = _masks(state)
        _watch(poller, registered, remote_fd, remote_mask, state.remote_done)
        _watch(poller, registered, local_fd, local_mask, state.local_eof)
        buffered = _want_read(sock) and bool(remote_mask & _IN)
        wait = 0.0 if buffered else max(0.0, min(next_ping, linger_until or next_ping) - now)
        ready = dict(poller.poll(wait * 1000.0))
        if buffered:
            ready[remote_fd] = ready.get(remote_fd, 0) | _IN
        _serve(state, ready.get(remote_fd, 0), ready.get(local_fd, 0))
        if state.clock() >= next_ping:
            if not state.close_sent:
                state.ping()
            next_ping = state.clock() + ping_every


def _watch(poller: Any, registered: set[int], fd: int, mask: int, done: bool) -> None:
    """Poll ``fd`` for ``mask``; a side that is done and has nothing to do leaves the poll set.

    (POLLHUP is reported even for a mask of 0: left in, a closed side would spin the loop.)
    """
    if not mask and done:
        if fd in registered:
            poller.unregister(fd)
            registered.discard(fd)
    elif fd in registered:
        poller.modify(fd, mask)
    else:
        poller.register(fd, mask)
        registered.add(fd)


def _serve(state: _Pump, remote: int, local: int) -> None:
    """Move bytes for the events polled on each side."""
    if remote & _OUT and state.to_remote:
        state.write_remote()
    if remote & (_IN | select.POLLHUP | select.POLLERR) and not state.remote_done:
        state.read_remote()
    if local & (_OUT | select.POLLHUP | select.POLLERR) and state.to_local and not state.write_local():
        state.local_gone = True
    if local & (_IN | select.POLLHUP | select.POLLERR) and not state.local_eof:
        state.read_local()


def _flush(state: _Pump) -> None:
    """Best effort: send what is queued for the server (the close frame) within a second."""
    deadline = state.clock() + 1.0
    sock = state.tunnel.sock
    poller = select.poll()
    poller.register(sock.fileno(), _OUT)
    while state.to_remote and state.clock() < deadline:
        try:
            sent = sock.send(state.to_remote[:_CHUNK])
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError, InterruptedError):
            poller.poll(100)
            continue
        except OSError:
            return
        del state.to_remote[:sent]
