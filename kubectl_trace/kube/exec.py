"""``pods/exec`` over a WebSocket: the channel protocol of ``v5.channel.k8s.io`` / ``v4``.

Two faces:

- ``open_exec(kube, …) -> ExecSession``: a streaming session for the interactive shell.
  One thread runs ``session.run(on_stdout, on_stderr)`` (it owns the socket: reads, writes,
  answers pings); any other thread may call ``send_stdin``, ``close_stdin`` and ``resize``.
- ``run_command(kube, namespace, pod, container, argv, stdin=b"", timeout=30.0)
  -> (exit_code, stdout, stderr)``: run a command to completion and collect its output.

The handshake uses the connection's own TLS settings (CA, client certificate, verification
on unless the kubeconfig turns it off) and bearer token: with a ``Kube`` it goes through
websocket-client exactly as the official client's ``kubernetes.stream`` does (proxies
included); with a ``LiteKube`` it is done here on the lean client's socket (no import
cost, TLS session resumed). After the handshake the session speaks RFC 6455 itself on the
socket: large reads, no per-byte Python work, one thread touching the TLS socket (OpenSSL
objects must not be read and written concurrently).

Channels: 0 stdin, 1 stdout, 2 stderr, 3 error (a ``metav1.Status`` carrying the exit code),
4 resize (``{"Width":W,"Height":H}``), 255 close (v5 only: ``[255, 0]`` half-closes stdin).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from kubectl_trace.kube.errors import KubeError, TransportError, api_error

__all__ = [
    "CHANNEL_CLOSE",
    "CHANNEL_ERROR",
    "CHANNEL_RESIZE",
    "CHANNEL_STDERR",
    "CHANNEL_STDIN",
    "CHANNEL_STDOUT",
    "PROTOCOLS",
    "V4_PROTOCOL",
    "V5_PROTOCOL",
    "ExecError",
    "ExecSession",
    "ExecStatus",
    "ExecStreamLost",
    "FrameDecoder",
    "ProtocolError",
    "encode_frame",
    "encode_stdin",
    "exec_path",
    "mask_payload",
    "open_attach",
    "open_exec",
    "parse_status",
    "run_command",
]

CHANNEL_STDIN = 0
CHANNEL_STDOUT = 1
CHANNEL_STDERR = 2
CHANNEL_ERROR = 3
CHANNEL_RESIZE = 4
CHANNEL_CLOSE = 255

V5_PROTOCOL = "v5.channel.k8s.io"
V4_PROTOCOL = "v4.channel.k8s.io"
PROTOCOLS = (V5_PROTOCOL, V4_PROTOCOL)  # offered in this order

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_CONTROL = (OP_CLOSE, OP_PING, OP_PONG)

MAX_FRAME = 256 * 1024  # stdin is cut into messages of at most this size
_RECV_SIZE = 256 * 1024
_READ_BURST = 32  # reads in a row before the loop writes again (a TLS read yields ≤ 16 KiB)
_MAX_MESSAGE = 64 * 1024 * 1024  # refuse a server message larger than this


# -- frame codec (RFC 6455, the client side) -----------------------------------------------

_XOR_TABLES: dict[int, bytes] = {}


def _xor_table(key_byte: int) -> bytes:
    # Built on first use per key byte; a dict store is atomic, so threads may race harmlessly.
    table = _XOR_TABLES.get(key_byte)
    if table is None:
        table = _XOR_TABLES[key_byte] = bytes(i ^ key_byte for i in range(256))
    return table


def _mask_into(out: bytearray, offset: int, src: bytes, key: bytes, phase: int = 0) -> None:
    """``out[offset:offset+len(src)] = src`` XOR the key, starting at key byte ``phase``.

    Four strided C-level passes (one per key byte, ``bytes.translate``): no per-byte Python.
    """
    for lane in range(4):
        out[offset + lane :: 4] = src[lane::4].translate(_xor_table(key[(lane + phase) % 4]))


def mask_payload(key: bytes, data: bytes | bytearray | memoryview) -> bytes:
    """XOR ``data`` with the 4-byte ``key`` repeated (masking and unmasking are the same)."""
    if len(key) != 4:
        raise ValueError("a WebSocket masking key has 4 bytes")
    src = bytes(data)
    if not src:
        return b""
    out = bytearray(len(src))
    _mask_into(out, 0, src, key)
    return bytes(out)


def _header(opcode: int, length: int, masked: bool) -> bytes:
    mask_bit = 0x80 if masked else 0
    if length < 126:
        return bytes((0x80 | opcode, mask_bit | length))
    if length < 65536:
        return bytes((0x80 | opcode, mask_bit | 126)) + length.to_bytes(2, "big")
    return bytes((0x80 | opcode, mask_bit | 127)) + length.to_bytes(8, "big")


def encode_frame(opcode: int, payload: bytes = b"", *, mask_key: bytes | None = None) -> bytes:
    """One final frame. Clients must mask (``mask_key`` = 4 fresh random bytes); servers must not."""
    head = _header(opcode, len(payload), mask_key is not None)
    if mask_key is None:
        return head + payload
    return head + mask_key + mask_payload(mask_key, payload)


def _client_frame(opcode: int, payload: bytes) -> bytes:
    return encode_frame(opcode, payload, mask_key=os.urandom(4))


def encode_stdin(data: bytes | bytearray | memoryview, mask_key: bytes | None = None) -> bytearray:
    """A masked binary frame of channel 0 (stdin) carrying ``data``, built in one buffer.

    Same bytes as ``encode_frame(OP_BINARY, bytes([0]) + data, mask_key=…)`` without the
    intermediate copies (this is the hot path of piping data in).
    """
    key = os.urandom(4) if mask_key is None else mask_key
    src = bytes(data)
    head = _header(OP_BINARY, len(src) + 1, True)
    base = len(head) + 4
    frame = bytearray(base + 1 + len(src))
    frame[: len(head)] = head
    frame[len(head) : base] = key
    frame[base] = CHANNEL_STDIN ^ key[0]
    if src:
        _mask_into(frame, base + 1, src, key, phase=1)
    return frame


class ProtocolError(Exception):
    """The peer broke the WebSocket framing rules."""


class FrameDecoder:
    """Incremental WebSocket decoder: ``feed(bytes)`` returns the complete messages.

    Each message is ``(opcode, payload)``; fragmented data messages are reassembled and
    control frames (ping, pong, close) come out as they arrive, even between fragments.
    Masked frames (which a server should not send) are unmasked.
    """

    def __init__(self, max_message: int = _MAX_MESSAGE) -> None:
        self._buf = bytearray()
        self._need = 2  # bytes required before the next parse attempt can make progress
        self._fragments: list[bytes] = []
        self._fragment_opcode: int | None = None
        self._fragment_size = 0
        self._max = max_message

    def feed(self, data: bytes | bytearray | memoryview) -> list[tuple[int, bytes]]:
        """Add received bytes; return the messages they complete (often none or one)."""
        buf = self._buf
        buf += data
        if len(buf) < self._need:
            return []
        out: list[tuple[int, bytes]] = []
        pos = 0
        end = len(buf)
        while True:
            if end - pos < 2:
                self._need = 2
                break
            b0, b1 = buf[pos], buf[pos + 1]
            if b0 & 0x70:
                raise ProtocolError("reserved bits set in a WebSocket frame")
            fin, opcode = b0 & 0x80, b0 & 0x0F
            masked, length = b1 & 0x80, b1 & 0x7F
            header = 2
            if length == 126:
                header = 4
                if end - pos < header:
                    self._need = header
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
            elif length == 127:
                header = 10
                if end - pos < header:
                    self._need = header
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
            if masked:
                header += 4
            if length > self._max:
                raise ProtocolError(f"WebSocket frame of {length} bytes is too large")
            total = header + length
            if end - pos < total:
                self._need = total
                break
            with memoryview(buf) as view:
                payload = bytes(view[pos + header : pos + total])
                if masked:
                    payload = mask_payload(bytes(view[pos + header - 4 : pos + header]), payload)
            pos += total
            message = self._frame(bool(fin), opcode, payload)
            if message is not None:
                out.append(message)
        if pos:
            del buf[:pos]  # self._need counts from the first unparsed byte: still right
        return out

    def _frame(self, fin: bool, opcode: int, payload: bytes) -> tuple[int, bytes] | None:
        if opcode in _CONTROL:
            if not fin or len(payload) > 125:
                raise ProtocolError("a WebSocket control frame must be final and short")
            return opcode, payload
        if opcode == OP_CONT:
            if self._fragment_opcode is None:
                raise ProtocolError("WebSocket continuation frame without a start")
            self._fragments.append(payload)
            self._fragment_size += len(payload)
            if self._fragment_size > self._max:
                raise ProtocolError("fragmented WebSocket message is too large")
            if not fin:
                return None
            message = (self._fragment_opcode, b"".join(self._fragments))
            self._fragments, self._fragment_opcode, self._fragment_size = [], None, 0
            return message
        if opcode not in (OP_TEXT, OP_BINARY):
            raise ProtocolError(f"unknown WebSocket opcode {opcode}")
        if self._fragment_opcode is not None:
            raise ProtocolError("new WebSocket message before the previous one ended")
        if fin:
            return opcode, payload
        self._fragment_opcode, self._fragments, self._fragment_size = opcode, [payload], len(payload)
        return None


# -- the exit status (channel 3) ------------------------------------------------------------


@dataclass(frozen=True)
class ExecStatus:
    """What the error channel said: an exit code, or a failure message (no exit code)."""

    exit_code: int | None
    message: str = ""
    reason: str = ""


def parse_status(data: bytes) -> ExecStatus:
    """Decode the channel-3 ``metav1.Status`` (v4/v5; older protocols send plain text)."""
    text = data.decode("utf-8", "replace").strip()
    try:
        status = json.loads(text)
    except ValueError:
        return ExecStatus(None, text or "the command failed", "")
    if not isinstance(status, dict):
        return ExecStatus(None, text, "")
    message = str(status.get("message") or "")
    reason = str(status.get("reason") or "")
    if status.get("status") == "Success":
        return ExecStatus(0, message, reason)
    causes = (status.get("details") or {}).get("causes") or []
    for cause in causes:
        if isinstance(cause, dict) and cause.get("reason") == "ExitCode":
            try:
                return ExecStatus(int(str(cause.get("message", "")).strip()), message, reason)
            except ValueError:
                break
    return ExecStatus(None, message or "the command failed", reason)


class ExecError(KubeError):
    """The API server or kubelet could not run the command (a Failure without exit code)."""


class ExecStreamLost(TransportError):
    """The exec stream ended without an exit status: the connection to the pod was lost."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint, kind="lost")


# -- the session -------------------------------------------------------------------------------


Sink = Callable[[bytes], object]


class ExecSession:
    """An open exec stream. ``run()`` drives it in one thread; other threads feed it.

    ``send_stdin``, ``close_stdin`` and ``resize`` are thread-safe and only queue frames:
    the thread inside ``run()`` is the only one that touches the socket. ``send_stdin``
    blocks while more than ``max_queued`` bytes wait (backpressure on local stdin).
    """

    def __init__(
        self,
        sock: Any,
        protocol: str,
        *,
        description: str,
        initial: bytes = b"",
        closer: Callable[[], object] | None = None,
        ping_interval: float = 5.0,
        read_deadline: float = 61.0,
        max_queued: int = 2 * 1024 * 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sock: Any = sock
        self._initial = initial  # frames that arrived with the handshake answer
        self._closer = closer
        self.protocol = protocol
        self.description = description
        self._ping_interval = ping_interval
        self._read_deadline = read_deadline
        self._max_queued = max_queued
        self._clock = clock
        self._cond = threading.Condition()
        self._queue: deque[bytes | bytearray] = deque()
        self._control: deque[bytes] = deque()  # pongs and closes go before queued data
        self._queued = 0
        self._ended = False
        self._stdin_closed = False
        self._closed = False
        self._close_sent = False
        self._woken = False
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self.status: ExecStatus | None = None

    # -- feeding (any thread) --

    @property
    def can_half_close(self) -> bool:
        """Whether stdin can be closed while the command runs (v5 only)."""
        return self.protocol == V5_PROTOCOL

    @property
    def ended(self) -> bool:
        """The stream is over (exit status received, connection closed or lost)."""
        return self._ended

    def send_stdin(self, data: bytes | bytearray | memoryview) -> bool:
        """Queue ``data`` for the command's stdin; False when the stream is already over."""
        view = memoryview(data)
        for start in range(0, len(view), MAX_FRAME - 1):
            frame = encode_stdin(view[start : start + MAX_FRAME - 1])
            if not self._enqueue(frame, block=True):
                return False
        return True

    def close_stdin(self) -> None:
        """Half-close stdin (``[255, 0]``, v5); with v4 there is no way to say EOF."""
        if self._stdin_closed:
            return
        self._stdin_closed = True
        if self.can_half_close:
            self._enqueue(_client_frame(OP_BINARY, bytes((CHANNEL_CLOSE, CHANNEL_STDIN))), block=False)

    def resize(self, width: int, height: int) -> None:
        """Tell the remote terminal its size (channel 4)."""
        payload = json.dumps({"Width": int(width), "Height": int(height)}).encode() + b"\n"
        self._enqueue(_client_frame(OP_BINARY, bytes((CHANNEL_RESIZE,)) + payload), block=False)

    def _enqueue(self, frame: bytes | bytearray, *, block: bool) -> bool:
        with self._cond:
            while block and self._queued > self._max_queued and not self._ended:
                self._cond.wait()
            if self._ended:
                return False
            self._queue.append(frame)
            self._queued += len(frame)
        self._wake()
        return True

    def _wake(self) -> None:
        self._woken = True  # seen by a busy loop that does not poll
        fd = self._wake_w
        if fd >= 0:
            with contextlib.suppress(OSError):  # a full pipe: a wake-up is pending anyway
                os.write(fd, b"x")

    def wake(self) -> None:
        """Interrupt a ``run()`` blocked waiting (e.g. after a signal handler set a flag)."""
        self._wake()

    # -- driving (one thread) --

    def run(
        self,
        on_stdout: Sink,
        on_stderr: Sink | None = None,
        *,
        stdin: bytes | None = None,
        timeout: float | None = None,
        on_wake: Callable[[], None] | None = None,
    ) -> int:
        """Pump the stream until the command exits; return its exit code.

        ``stdin`` (bytes) is sent and then stdin is half-closed. ``on_wake`` runs in this
        thread after every ``wake()``. Raises ``ExecError`` when the command could not run,
        ``ExecStreamLost`` when the stream ends without an exit status, ``TransportError``
        (kind ``timeout``) after ``timeout`` seconds.
        """
        sock = self._sock
        if sock is None:
            raise ExecStreamLost(f"connection to the pod lost ({self.description})")
        sock.setblocking(False)
        fileno = sock.fileno()
        decoder = FrameDecoder()
        pending = decoder.feed(self._initial) if self._initial else []
        self._initial = b""
        poller = select.poll()
        poller.register(self._wake_r, select.POLLIN)
        now = self._clock()
        deadline = None if timeout is None else now + timeout
        last_inbound = now
        next_ping = now + self._ping_interval
        out = memoryview(b"")
        feed = memoryview(stdin) if stdin is not None else None
        feed_pos = 0
        # TLS may hold decrypted bytes that poll() cannot see (the handshake was read byte
        # by byte, so frames sent right after it can sit there): read before waiting.
        maybe_buffered = True
        # A send that fails (the server closed after the command exited, while stdin was
        # still flowing) ends sending, not the session: the exit status may be in the
        # receive buffer already, so reading goes on until the stream ends.
        send_failure = ""
        try:
            closed_early = False
            for opcode, payload in pending:
                closed_early = self._handle(opcode, payload, on_stdout, on_stderr) or closed_early
            while not closed_early and self.status is None:
                if self._woken:
                    self._woken = False
                    with contextlib.suppress(BlockingIOError, OSError):
                        os.read(self._wake_r, 4096)
                    if on_wake is not None:
                        on_wake()
                if not out and not send_failure:
                    out, feed_pos = self._next_outbound(feed, feed_pos)
                    if feed is not None and feed_pos >= len(feed):
                        feed = None
                        self.close_stdin()
                        if not out:
                            out, _ = self._next_outbound(None, 0)
                progress = False
                # 1. write what the socket takes now
                if out:
                    try:
                        sent = sock.send(out[:MAX_FRAME])
                        out = out[sent:]
                        progress = sent > 0
                    except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
                        pass
                    except OSError as exc:
                        send_failure = f"the connection failed: {exc}"
                        out, feed = memoryview(b""), None
                # 2. read what is there, a bounded burst (so that writing is not starved)
                maybe_buffered = False
                remote_closed = False
                received = False
                for _ in range(_READ_BURST):
                    try:
                        data = sock.recv(_RECV_SIZE)
                    except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError, InterruptedError):
                        break
                    except OSError as exc:
                        raise self._lost(f"the connection failed: {exc}") from None
                    if not data:
                        remote_closed = True
                        break
                    progress = received = True
                    for opcode, payload in decoder.feed(data):
                        if self._handle(opcode, payload, on_stdout, on_stderr):
                            remote_closed = True
                    if remote_closed or self.status is not None:
                        break
                else:
                    maybe_buffered = True
                if self.status is not None or remote_closed:
                    break
                now = self._clock()
                if received:
                    last_inbound = now
                if now >= next_ping:
                    with self._cond:
                        self._control.append(_client_frame(OP_PING, b""))
                    next_ping = now + self._ping_interval
                if deadline is not None and now >= deadline:
                    raise TransportError(
                        f"the command in {self.description} did not finish within {timeout:g}s",
                        kind="timeout",
                    )
                if progress or maybe_buffered:
                    continue
                # 3. nothing moved: wait for the socket, a wake-up or the next timer
                if now - last_inbound > self._read_deadline:
                    raise self._lost(f"no answer for {self._read_deadline:g}s")
                poller.register(fileno, select.POLLIN | (select.POLLOUT if out else 0))
                wait = max(0.0, min(next_ping - now, self._read_deadline - (now - last_inbound)))
                if deadline is not None:
                    wait = min(wait, max(0.0, deadline - now))
                for fd, _events in poller.poll(wait * 1000.0):
                    if fd == self._wake_r:
                        self._woken = True
        except ProtocolError as exc:
            raise self._lost(f"protocol error: {exc}") from None
        finally:
            self._finish()
        status = self.status
        if status is None:
            raise self._lost(send_failure or "the stream ended without an exit status")
        if status.exit_code is None:
            raise ExecError(f"cannot run the command in {self.description}: {status.message}")
        return status.exit_code

    def _next_outbound(self, feed: memoryview | None, feed_pos: int) -> tuple[memoryview, int]:
        with self._cond:
            if self._control:
                control = b"".join(self._control)
                self._control.clear()
                return memoryview(control), feed_pos
            if self._queue:
                frames: list[bytes | bytearray] = []
                size = 0
                while self._queue and size < MAX_FRAME:
                    frame = self._queue.popleft()
                    frames.append(frame)
                    size += len(frame)
                self._queued -= size
                self._cond.notify_all()
                return memoryview(b"".join(frames) if len(frames) > 1 else frames[0]), feed_pos
        if feed is not None and feed_pos < len(feed):
            chunk = feed[feed_pos : feed_pos + MAX_FRAME - 1]
            return memoryview(encode_stdin(chunk)), feed_pos + len(chunk)
        return memoryview(b""), feed_pos

    def _handle(self, opcode: int, payload: bytes, on_stdout: Sink, on_stderr: Sink | None) -> bool:
        """Dispatch one message; True when the server closed the WebSocket."""
        if opcode in (OP_BINARY, OP_TEXT):
            if not payload:
                return False
            channel = payload[0]
            if channel == CHANNEL_STDOUT:
                if len(payload) > 1:
                    on_stdout(payload[1:])
            elif channel == CHANNEL_STDERR:
                if len(payload) > 1:
                    (on_stderr or on_stdout)(payload[1:])
            elif channel == CHANNEL_ERROR:
                self.status = parse_status(payload[1:])
            # CHANNEL_CLOSE from the server ([255, ch]) and unknown channels: nothing to do
            return False
        if opcode == OP_PING:
            with self._cond:
                self._control.append(_client_frame(OP_PONG, payload))
            return False
        if opcode == OP_CLOSE:
            if not self._close_sent:
                self._close_sent = True
                code = payload[:2] if len(payload) >= 2 else (1000).to_bytes(2, "big")
                self._send_now(_client_frame(OP_CLOSE, code))
            return True
        return False  # pong

    def _send_now(self, frame: bytes) -> None:
        """Best-effort immediate write of a small frame (close), never blocking long."""
        sock = self._sock
        if sock is None:
            return
        try:
            sock.settimeout(1.0)
            sock.sendall(frame)
        except (OSError, ValueError):
            pass

    def _lost(self, detail: str) -> ExecStreamLost:
        return ExecStreamLost(
            f"connection to the pod lost ({self.description}): {detail}",
            "run the command again; if it keeps happening, check the pod and the network",
        )

    def _finish(self) -> None:
        with self._cond:
            self._ended = True
            self._cond.notify_all()
        self.close()

    def close(self) -> None:
        """End the session: say goodbye (close frame, best effort) and close the socket."""
        if self._closed:
            return
        self._closed = True
        with self._cond:
            self._ended = True
            self._cond.notify_all()
        if self._sock is not None and not self._close_sent:
            self._close_sent = True
            self._send_now(_client_frame(OP_CLOSE, (1000).to_bytes(2, "big")))
        with contextlib.suppress(Exception):
            if self._sock is not None:
                self._sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            if self._closer is not None:
                self._closer()
            elif self._sock is not None:
                self._sock.close()
        self._sock = None
        # -1 first: a signal handler calling wake() later must not write to a reused fd
        fds, self._wake_r, self._wake_w = (self._wake_r, self._wake_w), -1, -1
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> ExecSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- opening ----------------------------------------------------------------------------------


def exec_path(namespace: str, pod: str) -> str:
    """The ``pods/exec`` subresource path."""
    return f"/api/v1/namespaces/{namespace}/pods/{pod}/exec"


def _query(
    command: Sequence[str], container: str | None, *, stdin: bool, stdout: bool, stderr: bool, tty: bool
) -> list[tuple[str, str]]:
    # Only true flags, as kubectl sends them; one ``command`` per argv element.
    query = [("command", arg) for arg in command]
    if container:
        query.append(("container", container))
    for name, value in (("stdin", stdin), ("stdout", stdout), ("stderr", stderr), ("tty", tty)):
        if value:
            query.append((name, "true"))
    return query


def _ssl_options(configuration: Any, secure: bool) -> dict[str, Any]:
    # The same choices as kubernetes.stream.ws_client.create_websocket.
    if secure and configuration.verify_ssl:
        import certifi

        opts: dict[str, Any] = {
            "cert_reqs": ssl.CERT_REQUIRED,
            "ca_certs": configuration.ssl_ca_cert or certifi.where(),
        }
        if configuration.assert_hostname is not None:
            opts["check_hostname"] = configuration.assert_hostname
    else:
        opts = {"cert_reqs": ssl.CERT_NONE}
    if configuration.cert_file:
        opts["certfile"] = configuration.cert_file
    if configuration.key_file:
        opts["keyfile"] = configuration.key_file
    if getattr(configuration, "tls_server_name", None):
        opts["server_hostname"] = configuration.tls_server_name
    return opts


def _websocket_client_request(
    kube: Any, path: str, query: list[tuple[str, str]], offered: Sequence[str]
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """URL, websocket-client ``sslopt`` and ``connect`` options, as ``kubernetes.stream`` builds them.

    From the official client's configuration: CA, client certificate, token, proxy.
    """
    api = kube.api_client
    configuration = api.configuration
    _, url, headers, _, _ = api.param_serialize(
        method="GET", resource_path=path, query_params=query, header_params={}, auth_settings=["BearerToken"]
    )
    secure = url.startswith("https://")
    url = ("wss://" + url[len("https://") :]) if secure else ("ws://" + url[len("http://") :])
    header = [f"Sec-WebSocket-Protocol: {','.join(offered)}"]
    for name, value in headers.items():
        if name.lower() in ("authorization", "user-agent"):
            header.append(f"{name}: {value}")
    if not any(h.lower().startswith("user-agent:") for h in header) and getattr(api, "user_agent", None):
        header.append(f"User-Agent: {api.user_agent}")
    options: dict[str, Any] = {"header": header}
    if configuration.proxy or configuration.proxy_headers:
        from kubernetes.stream.ws_client import websocket_proxycare

        options = websocket_proxycare(options, configuration, url, headers)
    return url, _ssl_options(configuration, secure), options


def _protocol_error(kube: Any, offered: Sequence[str], got: str | None) -> TransportError:
    return TransportError(
        f"the API server at {kube.conn.server} did not agree on an exec protocol "
        f"(offered {', '.join(offered)}; got {got or 'none'})",
        "the cluster may be too old for WebSocket exec; try: kubectl exec",
        kind="protocol",
    )


def _open_with_websocket_client(
    kube: Any,
    path: str,
    query: list[tuple[str, str]],
    protocols: Sequence[str],
    timeout: float,
    namespace: str,
) -> tuple[Any, str, Callable[[], object]]:
    import websocket
    from websocket import WebSocketBadStatusException

    url, sslopt, options = _websocket_client_request(kube, path, query, protocols)
    ws = websocket.WebSocket(sslopt=sslopt, skip_utf8_validation=True)
    try:
        ws.connect(url, timeout=timeout, **options)
    except WebSocketBadStatusException as exc:
        raise api_error(
            int(getattr(exc, "status_code", 0) or 0),
            getattr(exc, "resp_body", None),
            getattr(exc, "resp_headers", None),
            server=kube.conn.server,
            context=kube.conn.context,
            namespace=namespace,
        ) from None
    except Exception as exc:
        with contextlib.suppress(Exception):
            ws.shutdown()
        raise kube.transport_error(exc) from None
    protocol = ws.getsubprotocol()
    if not protocol:
        for key, value in (ws.getheaders() or {}).items():
            if key.lower() == "sec-websocket-protocol":
                protocol = value.strip()
    if protocol not in protocols or ws.sock is None:
        with contextlib.suppress(Exception):
            ws.shutdown()
        raise _protocol_error(kube, protocols, protocol)
    return ws.sock, str(protocol), ws.shutdown


_WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _open_with_lite(
    kube: Any,
    path: str,
    query: list[tuple[str, str]],
    protocols: Sequence[str],
    timeout: float,
    namespace: str,
) -> tuple[Any, str, bytes]:
    """The RFC 6455 client handshake on a ``LiteKube`` socket (no websocket-client import)."""
    import base64
    import hashlib

    key = base64.b64encode(os.urandom(16)).decode("ascii")
    headers = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": key,
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Protocol": ",".join(protocols),
    }
    target = f"{path}?{urlencode(query, quote_via=quote)}"
    sock, status, answer, rest = kube.open_upgrade(target, headers, timeout=timeout)
    if status != 101:
        raise api_error(
            status, rest, answer, server=kube.conn.server, context=kube.conn.context, namespace=namespace
        )
    expected = base64.b64encode(hashlib.sha1((key + _WEBSOCKET_GUID).encode("ascii")).digest()).decode(
        "ascii"
    )
    protocol = answer.get("sec-websocket-protocol", "").strip()
    if answer.get("upgrade", "").lower() != "websocket" or answer.get("sec-websocket-accept") != expected:
        sock.close()
        raise TransportError(
            f"the API server at {kube.conn.server} answered the exec upgrade with an invalid "
            "WebSocket handshake",
            kind="protocol",
        )
    if protocol not in protocols:
        sock.close()
        raise _protocol_error(kube, protocols, protocol)
    return sock, protocol, rest


def open_exec(
    kube: Any,
    namespace: str,
    pod: str,
    command: Sequence[str],
    *,
    container: str | None = None,
    stdin: bool = True,
    stdout: bool = True,
    stderr: bool = True,
    tty: bool = False,
    connect_timeout: float | None = None,
    protocols: Sequence[str] = PROTOCOLS,
    ping_interval: float = 5.0,
    read_deadline: float = 61.0,
) -> ExecSession:
    """Open ``pods/exec`` for ``command`` and return the session (not yet running).

    ``kube`` is a ``Kube`` (the handshake goes through websocket-client with the official
    client's configuration: CA, client certificate, token, proxy, as ``kubernetes.stream``
    does) or a ``LiteKube`` (the same kubeconfig facts; the handshake on its own socket,
    resuming its TLS session, without the import cost). ``protocols`` are offered in order
    (v5 first; v4 has no stdin half-close). While nothing flows the session pings every
    ``ping_interval`` seconds (as kubectl does) and gives the connection up as lost after
    ``read_deadline`` seconds without hearing anything.

    Raises ``ApiError`` when the server refuses (404 pod, 400 container not running, 403)
    and ``TransportError`` when it cannot be reached.
    """
    if not command:
        raise ValueError("exec needs a command")
    query = _query(command, container, stdin=stdin, stdout=stdout, stderr=stderr, tty=tty)
    description = f"pod {namespace}/{pod}" + (f" container {container}" if container else "")
    return _open_session(
        kube,
        exec_path(namespace, pod),
        query,
        namespace,
        description,
        connect_timeout=connect_timeout,
        protocols=protocols,
        ping_interval=ping_interval,
        read_deadline=read_deadline,
    )


def open_attach(
    kube: Any,
    namespace: str,
    pod: str,
    *,
    container: str | None = None,
    stdin: bool = True,
    stdout: bool = True,
    stderr: bool = False,
    tty: bool = True,
    connect_timeout: float | None = None,
    protocols: Sequence[str] = PROTOCOLS,
    ping_interval: float = 5.0,
    read_deadline: float = 61.0,
) -> ExecSession:
    """Open ``pods/attach`` to a running container's process (``kubectl attach``).

    The same channels and session as ``open_exec`` (``attach_tty`` / ``attach_pipes`` drive
    it); the server sends the process's exit status on channel 3 when it ends.
    """
    query = _query((), container, stdin=stdin, stdout=stdout, stderr=stderr, tty=tty)
    description = f"pod {namespace}/{pod}" + (f" container {container}" if container else "")
    return _open_session(
        kube,
        f"/api/v1/namespaces/{namespace}/pods/{pod}/attach",
        query,
        namespace,
        description,
        connect_timeout=connect_timeout,
        protocols=protocols,
        ping_interval=ping_interval,
        read_deadline=read_deadline,
    )


def _open_session(
    kube: Any,
    path: str,
    query: list[tuple[str, str]],
    namespace: str,
    description: str,
    *,
    connect_timeout: float | None,
    protocols: Sequence[str],
    ping_interval: float,
    read_deadline: float,
) -> ExecSession:
    timeout = connect_timeout if connect_timeout is not None else (kube.conn.request_timeout or 30.0)
    if hasattr(kube, "open_upgrade"):
        sock, protocol, rest = _open_with_lite(kube, path, query, protocols, timeout, namespace)
        sock.settimeout(None)
        return ExecSession(
            sock,
            protocol,
            description=description,
            initial=rest,
            ping_interval=ping_interval,
            read_deadline=read_deadline,
        )
    sock, protocol, closer = _open_with_websocket_client(kube, path, query, protocols, timeout, namespace)
    sock.settimeout(None)
    return ExecSession(
        sock,
        protocol,
        description=description,
        closer=closer,
        ping_interval=ping_interval,
        read_deadline=read_deadline,
    )


def run_command(
    kube: Any,
    namespace: str,
    pod: str,
    container: str | None,
    argv: Sequence[str],
    stdin: bytes = b"",
    timeout: float | None = 30.0,
) -> tuple[int, bytes, bytes]:
    """Run ``argv`` in a container to completion: ``(exit_code, stdout, stderr)``.

    Stable API (used by ``status --probe``). No TTY; stdout and stderr stay apart and are
    returned as bytes. ``stdin`` (if any) is sent and then closed — a v4-only server cannot
    close stdin, so a command reading to EOF would wait for ``timeout`` there.
    ``container=None`` lets the server pick (it refuses pods with several containers).

    Raises ``ApiError`` (pod missing, container not running, forbidden), ``ExecError``
    (the command could not start, e.g. not found in the image), ``ExecStreamLost`` and
    ``TransportError`` (kind ``timeout`` after ``timeout`` seconds) — all ``KubeError``.
    """
    session = open_exec(
        kube,
        namespace,
        pod,
        list(argv),
        container=container,
        stdin=bool(stdin),
        stdout=True,
        stderr=True,
        tty=False,
        connect_timeout=timeout,
    )
    out: list[bytes] = []
    err: list[bytes] = []
    with session:
        code = session.run(out.append, err.append, stdin=stdin or None, timeout=timeout)
    return code, b"".join(out), b"".join(err)
