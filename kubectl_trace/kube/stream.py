"""What the two streaming answers share (``client.RawStream``, ``http1.Http1Stream``).

Each says how it reads chunks, which socket it rides on and how it lets go; this base
turns transport errors into ``KubeError`` (none after ``close()``), cuts lines, and
closes so that a read blocked in another thread returns. ``StreamStop`` is how another
thread stops a loop that reads one stream after another (a watch, a log tailer).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from kubectl_trace.kube.errors import KubeError

if TYPE_CHECKING:
    from kubectl_trace.kube.calls import Stream

__all__ = ["StreamBase", "StreamStop", "split_lines"]


def split_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Lines (without the newline) out of chunks cut anywhere; a final unterminated line too."""
    pending = b""
    for chunk in chunks:
        data = pending + chunk if pending else chunk
        start = 0
        while True:
            nl = data.find(b"\n", start)
            if nl < 0:
                break
            yield data[start:nl]
            start = nl + 1
        pending = data[start:]
    if pending:
        yield pending


class StreamBase:
    """An open streaming answer: ``chunks()`` / ``lines()`` as they arrive; ``close()`` to stop."""

    def __init__(self, on_error: Callable[[BaseException], KubeError]) -> None:
        self._on_error = on_error
        self.closed = False

    def _read_chunks(self, size: int) -> Iterator[bytes]:  # pragma: no cover - per transport
        raise NotImplementedError

    def _socket(self) -> socket.socket | None:  # pragma: no cover - per transport
        raise NotImplementedError

    def _release(self) -> None:  # pragma: no cover - per transport
        raise NotImplementedError

    def chunks(self, size: int = 65536) -> Iterator[bytes]:
        """Bytes as they arrive (at most about ``size`` at a time)."""
        try:
            yield from self._read_chunks(size)
        except Exception as exc:  # a dropped body, socket and TLS errors
            if self.closed:
                return
            raise self._on_error(exc) from None

    def lines(self) -> Iterator[bytes]:
        """Complete lines (without the newline); a final unterminated line too."""
        return split_lines(self.chunks())

    def close(self) -> None:
        """Stop reading: shut the socket down so that a blocked read in another thread returns."""
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(Exception):
            sock = self._socket()
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            self._release()


class StreamStop:
    """The stop flag of a thread that reads one stream at a time.

    ``stop()`` may be called from any thread: it sets the flag and closes the stream being
    read, so that a read blocked in it returns. The reading thread names each stream it
    opens with ``reading`` and lets go of it with ``release``.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._stream: Stream | None = None

    def stop(self) -> None:
        """Set the flag and close the stream being read."""
        self._event.set()
        stream = self._stream
        if stream is not None:
            stream.close()

    @property
    def stopped(self) -> bool:
        """Whether ``stop()`` was called."""
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep ``seconds``, or less when stopped meanwhile; whether stopped."""
        return self._event.wait(seconds)

    def reading(self, stream: Stream) -> Stream:
        """``stream`` is now the one being read (closed at once when already stopped)."""
        self._stream = stream
        if self.stopped:
            stream.close()
        return stream

    def release(self, stream: Stream) -> None:
        """Close ``stream``: it is read no more."""
        self._stream = None
        stream.close()
