"""Connect the local terminal (or pipes) to an exec session.

TTY mode: raw mode, the window size sent before anything else, SIGWINCH forwarded,
every key (Ctrl-C and Ctrl-D included) goes to the remote, and the terminal is restored
on every way out. Pipe mode: stdin streamed and half-closed at EOF, stdout and stderr
kept apart, bytes passed through untouched.
"""

from __future__ import annotations

import contextlib
import io
import os
import select
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import IO, Any

from kubectl_trace.environment import Environment
from kubectl_trace.kube.exec import ExecSession
from kubectl_trace.shell.terminal import (
    raw_mode,
    restore,
    signal_handlers,
    terminal_size,
    terminate_on_signals,
)

__all__ = ["StdinPump", "attach_pipes", "attach_tty", "fileno_of"]

_READ_SIZE = 256 * 1024


def fileno_of(stream: Any) -> int | None:
    """The file descriptor under a stream, or None (in-memory streams)."""
    try:
        return int(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return None


class StdinPump(threading.Thread):
    """Reads local stdin in a thread and feeds the session; half-closes at EOF.

    With a file descriptor it waits in ``select`` together with a stop pipe, so ``stop()``
    ends it at once; an in-memory stream is read until EOF (the thread is a daemon).
    """

    def __init__(self, session: ExecSession, stream: Any, *, close_at_eof: bool = True) -> None:
        super().__init__(name="nodeapp-shell-stdin", daemon=True)
        self._session = session
        self._stream = stream
        self._fd = fileno_of(stream)
        self._close_at_eof = close_at_eof
        self._stop_r, self._stop_w = os.pipe()
        self.error: BaseException | None = None

    def stop(self) -> None:
        """Ask the thread to end (it does at once when reading from a file descriptor)."""
        with contextlib.suppress(OSError):
            os.write(self._stop_w, b"x")

    def close(self) -> None:
        """Stop, wait briefly, and free the stop pipe."""
        self.stop()
        if self.is_alive():
            self.join(timeout=2.0)
        if not self.is_alive():
            for fd in (self._stop_r, self._stop_w):
                with contextlib.suppress(OSError):
                    os.close(fd)

    def _read(self) -> bytes | None:
        """The next chunk; b"" at EOF; None when asked to stop."""
        if self._fd is not None:
            while True:
                readable, _, _ = select.select([self._fd, self._stop_r], [], [])
                if self._stop_r in readable:
                    return None
                try:
                    return os.read(self._fd, _READ_SIZE)
                except BlockingIOError:
                    continue
                except OSError:
                    return b""
        if self._stream is None:  # started with stdin closed: nothing to send
            return b""
        # A real text stream (TextIOWrapper) has the bytes underneath; an in-memory one
        # (StringIO) holds text, encoded here.
        reader = self._stream.buffer if isinstance(self._stream, io.TextIOWrapper) else self._stream
        read1 = getattr(reader, "read1", None)
        data = read1(_READ_SIZE) if read1 is not None else reader.read(_READ_SIZE)
        if isinstance(data, str):
            return data.encode("utf-8", "surrogateescape")
        return data or b""

    def run(self) -> None:
        """Pump until EOF, stop, or the session ends."""
        try:
            while not self._session.ended:
                data = self._read()
                if data is None:
                    return
                if not data:
                    if self._close_at_eof:
                        self._session.close_stdin()
                    return
                if not self._session.send_stdin(data):
                    return
        except BaseException as exc:  # unreadable stdin counts as EOF for the remote side
            self.error = exc
            if self._close_at_eof:
                with contextlib.suppress(Exception):
                    self._session.close_stdin()


class _FdWriter:
    """Writes everything to a file descriptor; remembers whether the last byte ended a line."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.at_line_start = True

    def __call__(self, data: bytes) -> None:
        if data:
            self.at_line_start = data.endswith(b"\n")
        _write_all(self.fd, data)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            select.select([], [fd], [])
            continue
        view = view[written:]


def _stream_writer(stream: IO[str]) -> Callable[[bytes], None]:
    buffer = getattr(stream, "buffer", None)
    stream.flush()
    if buffer is not None:

        def write_bytes(data: bytes) -> None:
            buffer.write(data)
            buffer.flush()

        return write_bytes

    def write_text(data: bytes) -> None:  # an in-memory text stream: best effort
        stream.write(data.decode("utf-8", "replace"))
        stream.flush()

    return write_text


def attach_pipes(session: ExecSession, env: Environment, *, send_stdin: bool = True) -> int:
    """Non-TTY mode: stream stdin (half-close at EOF), stdout and stderr apart; the exit code."""
    pump = StdinPump(session, env.stdin) if send_stdin else None
    if pump is not None:
        pump.start()
    try:
        return session.run(_stream_writer(env.stdout), _stream_writer(env.stderr))
    finally:
        if pump is not None:
            pump.close()


def attach_tty(session: ExecSession, env: Environment) -> int:
    """TTY mode on the terminal of ``env`` (stdin and stdout are terminals); the exit code."""
    in_fd = fileno_of(env.stdin)
    out_fd = fileno_of(env.stdout)
    if in_fd is None or out_fd is None:
        raise RuntimeError("TTY mode needs stdin and stdout with file descriptors")
    env.stdout.flush()
    size = terminal_size(out_fd) or terminal_size(in_fd)
    if size is not None:
        session.resize(*size)  # the first frame: the remote knows its size before any output
    last_size = [size]
    winched = [False]  # a plain flag: a signal handler must not take locks (Event.set does)

    def on_winch(signum: int, frame: FrameType | None) -> None:
        winched[0] = True
        session.wake()

    def on_wake() -> None:
        if not winched[0]:
            return
        winched[0] = False
        now = terminal_size(out_fd) or terminal_size(in_fd)
        if now is not None and now != last_size[0]:
            last_size[0] = now
            session.resize(*now)

    saved: list[list[Any]] = []

    def put_back() -> None:  # a SIGTERM/SIGHUP restores the terminal before it unwinds
        if saved:
            restore(in_fd, saved[0])

    handlers: dict[int, Any] = {**terminate_on_signals(put_back), signal.SIGWINCH: on_winch}
    pump = StdinPump(session, env.stdin, close_at_eof=True)
    with signal_handlers(handlers), raw_mode(in_fd) as attributes:
        saved.append(attributes)
        pump.start()
        writer = _FdWriter(out_fd)
        try:
            return session.run(writer, on_wake=on_wake)
        except BaseException:
            if not writer.at_line_start:  # the error message should start on a line of its own
                with contextlib.suppress(OSError):
                    _write_all(out_fd, b"\r\n")
            raise
        finally:
            pump.close()
