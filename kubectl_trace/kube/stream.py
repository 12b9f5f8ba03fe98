"""What the two streaming answers share (``client.RawStream``, ``http1.Http1Stream``).

Each says how it reads chunks, which socket it rides on and how it lets go; this base
turns transport errors into ``KubeError`` (none after ``close()``), cuts lines, and
closes so that a read blocked in another thread returns.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterable, Iterator

from kubectl_trace.kube.errors import KubeError

__all__ = ["StreamBase", "split_lines"]


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
