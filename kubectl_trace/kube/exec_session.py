"""The I/O of an exec or attach stream once the WebSocket is open: ``ExecSession``.

One thread runs ``session.run(on_stdout, on_stderr)``: it owns the socket (reads, writes,
answers pings) and speaks RFC 6455 itself — large reads, no per-byte Python work, one thread
touching the TLS socket (OpenSSL objects must not be read and written concurrently). Any
other thread may call ``send_stdin``, ``close_stdin`` and ``resize``: they only queue frames.
The frames themselves are ``kube.frames``; the handshake that opens the socket is
``kube.upgrade``.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import KW_ONLY, InitVar, dataclass

from kubectl_trace.kube import frames
from kubectl_trace.kube.errors import KubeError, TransportError
from kubectl_trace.kube.upgrade import WebSocket

__all__ = ["ExecError", "ExecSession", "ExecStreamLost", "SessionLimits", "Sink"]

_RECV_SIZE = 256 * 1024
_READ_BURST = 32  # reads in a row before the loop writes again (a TLS read yields ≤ 16 KiB)


class ExecError(KubeError):
    """The API server or kubelet could not run the command (a Failure without exit code)."""


class ExecStreamLost(TransportError):
    """The exec stream ended without an exit status: the connection to the pod was lost."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint, kind="lost")


Sink = Callable[[bytes], object]


@dataclass(frozen=True)
class SessionLimits:
    """How long a session waits, and how much it holds."""

    ping_interval: float = 5.0  # seconds of quiet before a ping (as kubectl does)
    read_deadline: float = 61.0  # seconds without hearing anything: the connection is lost
    max_queued: int = 2 * 1024 * 1024  # stdin bytes waiting before ``send_stdin`` blocks


class ExecSession:
    """An open exec stream. ``run()`` drives it in one thread; other threads feed it.

    ``send_stdin``, ``close_stdin`` and ``resize`` are thread-safe and only queue frames:
    the thread inside ``run()`` is the only one that touches the socket. ``send_stdin``
    blocks while more than ``limits.max_queued`` bytes wait (backpressure on local stdin).
    """

    def __init__(
        self,
        ws: WebSocket,
        *,
        description: str,
        limits: SessionLimits = SessionLimits(),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sock: socket.socket | None = ws.sock
        self._initial = ws.initial  # frames that arrived with the handshake answer
        self.protocol = ws.protocol
        self.description = description
        self.limits = limits
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
        self.status: frames.ExecStatus | None = None

    # -- feeding (any thread) --

    @property
    def can_half_close(self) -> bool:
        """Whether stdin can be closed while the command runs (v5 only)."""
        return self.protocol == frames.V5_PROTOCOL

    @property
    def ended(self) -> bool:
        """The stream is over (exit status received, connection closed or lost)."""
        return self._ended

    def send_stdin(self, data: bytes | bytearray | memoryview) -> bool:
        """Queue ``data`` for the command's stdin; False when the stream is already over."""
        view = memoryview(data)
        for start in range(0, len(view), frames.MAX_FRAME - 1):
            frame = frames.encode_stdin(view[start : start + frames.MAX_FRAME - 1])
            if not self._enqueue(frame, block=True):
                return False
        return True

    def close_stdin(self) -> None:
        """Half-close stdin (``[255, 0]``, v5); with v4 there is no way to say EOF."""
        if self._stdin_closed:
            return
        self._stdin_closed = True
        if self.can_half_close:
            self._enqueue(frames.close_stdin_frame(), block=False)

    def resize(self, width: int, height: int) -> None:
        """Tell the remote terminal its size (channel 4)."""
        self._enqueue(frames.resize_frame(width, height), block=False)

    def _enqueue(self, frame: bytes | bytearray, *, block: bool) -> bool:
        with self._cond:
            while block and self._queued > self.limits.max_queued and not self._ended:
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
        pump = _Pump(self, sock, on_stdout, on_stderr, stdin=stdin, timeout=timeout)
        try:
            pump.drive(on_wake)
        except frames.ProtocolError as exc:
            raise self._lost(f"protocol error: {exc}") from None
        finally:
            self._finish()
        status = self.status
        if status is None:
            raise self._lost(pump.send_failure or "the stream ended without an exit status")
        if status.exit_code is None:
            raise ExecError(f"cannot run the command in {self.description}: {status.message}")
        return status.exit_code

    def _take_wake(self, on_wake: Callable[[], None] | None) -> None:
        self._woken = False
        with contextlib.suppress(BlockingIOError, OSError):
            os.read(self._wake_r, 4096)
        if on_wake is not None:
            on_wake()

    def _queue_control(self, frame: bytes) -> None:
        with self._cond:
            self._control.append(frame)

    def _next_outbound(self, feed: memoryview | None, feed_pos: int) -> tuple[memoryview, int]:
        with self._cond:
            if self._control:
                control = b"".join(self._control)
                self._control.clear()
                return memoryview(control), feed_pos
            if self._queue:
                batch: list[bytes | bytearray] = []
                size = 0
                while self._queue and size < frames.MAX_FRAME:
                    frame = self._queue.popleft()
                    batch.append(frame)
                    size += len(frame)
                self._queued -= size
                self._cond.notify_all()
                return memoryview(b"".join(batch) if len(batch) > 1 else batch[0]), feed_pos
        if feed is not None and feed_pos < len(feed):
            chunk = feed[feed_pos : feed_pos + frames.MAX_FRAME - 1]
            return memoryview(frames.encode_stdin(chunk)), feed_pos + len(chunk)
        return memoryview(b""), feed_pos

    def _handle(self, opcode: int, payload: bytes, on_stdout: Sink, on_stderr: Sink | None) -> bool:
        """Dispatch one message; True when the server closed the WebSocket."""
        if opcode in (frames.OP_BINARY, frames.OP_TEXT):
            if not payload:
                return False
            channel = payload[0]
            if channel == frames.CHANNEL_STDOUT:
                if len(payload) > 1:
                    on_stdout(payload[1:])
            elif channel == frames.CHANNEL_STDERR:
                if len(payload) > 1:
                    (on_stderr or on_stdout)(payload[1:])
            elif channel == frames.CHANNEL_ERROR:
                self.status = frames.parse_status(payload[1:])
            # CHANNEL_CLOSE from the server ([255, ch]) and unknown channels: nothing to do
            return False
        if opcode == frames.OP_PING:
            self._queue_control(frames.client_frame(frames.OP_PONG, payload))
            return False
        if opcode == frames.OP_CLOSE:
            if not self._close_sent:
                self._close_sent = True
                self._send_now(frames.close_frame(payload[:2]) if len(payload) >= 2 else frames.close_frame())
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
            self._send_now(frames.close_frame())
        with contextlib.suppress(Exception):
            if self._sock is not None:
                self._sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            if self._sock is not None:
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


@dataclass(eq=False)
class _Pump:
    """One ``run()`` of a session: the only code that touches the socket while it runs.

    Each turn writes what the socket takes now, reads a bounded burst (so writing is not
    starved), keeps the timers (ping, read deadline, overall timeout) and, when nothing
    moved, waits for the socket, a wake-up or the next timer.
    """

    session: ExecSession
    sock: socket.socket
    on_stdout: Sink
    on_stderr: Sink | None
    _: KW_ONLY
    stdin: InitVar[bytes | None]
    timeout: float | None  # seconds for the whole run (None: no limit)

    def __post_init__(self, stdin: bytes | None) -> None:
        session, timeout = self.session, self.timeout
        self.sock.setblocking(False)
        self.fileno = self.sock.fileno()
        self.decoder = frames.FrameDecoder()
        self.poller = select.poll()
        self.poller.register(session._wake_r, select.POLLIN)
        now = session._clock()
        self.deadline = None if timeout is None else now + timeout
        self.last_inbound = now
        self.next_ping = now + session.limits.ping_interval
        self.out = memoryview(b"")
        self.feed = memoryview(stdin) if stdin is not None else None
        self.feed_pos = 0
        # TLS may hold decrypted bytes that poll() cannot see (the handshake was read byte
        # by byte, so frames sent right after it can sit there): read before waiting.
        self.maybe_buffered = True
        # A send that fails (the server closed after the command exited, while stdin was
        # still flowing) ends sending, not the session: the exit status may be in the
        # receive buffer already, so reading goes on until the stream ends.
        self.send_failure = ""
        self.closed = False  # the server closed the WebSocket

    def drive(self, on_wake: Callable[[], None] | None) -> None:
        """Turn until the exit status arrives or the server closes the stream."""
        session = self.session
        initial, session._initial = session._initial, b""
        if initial:
            self._dispatch(initial)
        while not self.closed and session.status is None:
            if session._woken:
                session._take_wake(on_wake)
            self._refill()
            wrote = self._write()
            received = self._read()
            if session.status is not None or self.closed:
                return
            now = session._clock()
            self._timers(now, received)
            if not (wrote or received or self.maybe_buffered):
                self._wait(now)

    def _dispatch(self, data: bytes) -> None:
        session = self.session
        for opcode, payload in self.decoder.feed(data):
            if session._handle(opcode, payload, self.on_stdout, self.on_stderr):
                self.closed = True

    def _refill(self) -> None:
        """Take the next outbound bytes: control frames, queued frames, then ``stdin``."""
        if self.out or self.send_failure:
            return
        session = self.session
        self.out, self.feed_pos = session._next_outbound(self.feed, self.feed_pos)
        if self.feed is not None and self.feed_pos >= len(self.feed):
            self.feed = None
            session.close_stdin()
            if not self.out:
                self.out, _ = session._next_outbound(None, 0)

    def _write(self) -> bool:
        """Write what the socket takes now; whether anything went."""
        if not self.out:
            return False
        try:
            sent = self.sock.send(self.out[: frames.MAX_FRAME])
        except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
            return False
        except OSError as exc:
            self.send_failure = f"the connection failed: {exc}"
            self.out, self.feed = memoryview(b""), None
            return False
        self.out = self.out[sent:]
        return sent > 0

    def _read(self) -> bool:
        """Read what is there, a bounded burst; whether anything came."""
        self.maybe_buffered = False
        received = False
        for _ in range(_READ_BURST):
            try:
                data = self.sock.recv(_RECV_SIZE)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError, InterruptedError):
                return received
            except OSError as exc:
                raise self.session._lost(f"the connection failed: {exc}") from None
            if not data:
                self.closed = True
                return received
            received = True
            self._dispatch(data)
            if self.closed or self.session.status is not None:
                return received
        self.maybe_buffered = True
        return received

    def _timers(self, now: float, received: bool) -> None:
        session = self.session
        if received:
            self.last_inbound = now
        if now >= self.next_ping:
            session._queue_control(frames.client_frame(frames.OP_PING, b""))
            self.next_ping = now + session.limits.ping_interval
        if self.deadline is not None and now >= self.deadline:
            raise TransportError(
                f"the command in {session.description} did not finish within {self.timeout:g}s",
                kind="timeout",
            )

    def _wait(self, now: float) -> None:
        """Nothing moved: wait for the socket, a wake-up or the next timer."""
        session = self.session
        silent = now - self.last_inbound
        read_deadline = session.limits.read_deadline
        if silent > read_deadline:
            raise session._lost(f"no answer for {read_deadline:g}s")
        self.poller.register(self.fileno, select.POLLIN | (select.POLLOUT if self.out else 0))
        wait = max(0.0, min(self.next_ping - now, read_deadline - silent))
        if self.deadline is not None:
            wait = min(wait, max(0.0, self.deadline - now))
        for fd, _events in self.poller.poll(wait * 1000.0):
            if fd == session._wake_r:
                session._woken = True
