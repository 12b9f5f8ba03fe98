"""HTTP/1.1 pieces of the lean client: a streaming answer, chunked decoding, raw heads.

``http.client`` makes several Python calls per chunk; a log follower gets a chunk per
line or two, so ``dechunk`` takes the chunk framing apart itself, many chunks per read.
"""

from __future__ import annotations

import http.client
import socket
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from kubectl_trace.kube.errors import KubeError
from kubectl_trace.kube.stream import StreamBase, split_lines

__all__ = [
    "Http1Stream",
    "dechunk",
    "dechunk_bytes",
    "read_body",
    "read_head",
    "request_upgrade",
    "split_lines",
]


class Http1Stream(StreamBase):
    """An open streaming answer over ``http.client`` (the lean client's)."""

    def __init__(
        self,
        conn: http.client.HTTPConnection,
        sock: socket.socket | None,
        response: http.client.HTTPResponse,
        on_error: Callable[[BaseException], KubeError],
    ) -> None:
        super().__init__(on_error)
        self._conn = conn
        self._sock = sock  # the connection's: conn.sock is None once the response owns it
        self._response = response

    @property
    def status(self) -> int:
        """The HTTP status code."""
        return self._response.status

    @property
    def headers(self) -> Mapping[str, str]:
        """Response headers."""
        return dict(self._response.getheaders())

    def _read_chunks(self, size: int) -> Iterator[bytes]:
        if self._response.chunked:
            yield from dechunk(self._response.fp, min(size, 16384))
            return
        read1 = self._response.read1
        while True:
            data = read1(size)
            if not data:
                return
            yield data

    def _socket(self) -> socket.socket | None:
        return self._sock

    def _release(self) -> None:
        self._response.close()
        self._conn.close()


def dechunk(fp: Any, size: int) -> Iterator[bytes]:
    """Decode a chunked body read from ``fp`` (the response's buffered socket file).

    Yields the data of as many chunks as one read brought. Raises ``IncompleteRead`` when
    the connection ends before the last chunk.
    """
    # Read into one buffer of our own: ``read1(size)`` would allocate ``size`` bytes per
    # read and shrink them, and across hundreds of threads that churn fragments the heap.
    # Ask for at most what is buffered: ``readinto1`` into a buffer larger than fp's own makes
    # a raw read even when bytes are buffered, so an event that came with the headers would
    # wait for the next one. ``peek`` returns the buffered bytes, reading (once) only when none.
    scratch = bytearray(size)
    view = memoryview(scratch)
    readinto1 = fp.readinto1
    peek = fp.peek
    buf = b""
    remaining = 0  # bytes of the current chunk's data still to come
    trailer = False  # the CRLF after a chunk's data is still to come
    while True:
        count = readinto1(view[: len(peek(1))])
        if not count:
            raise http.client.IncompleteRead(buf)
        data = view[:count].tobytes()
        buf = buf + data if buf else data
        out: list[bytes] = []
        pos = 0
        end = len(buf)
        while pos < end:
            if remaining:
                take = min(remaining, end - pos)
                out.append(buf[pos : pos + take])
                pos += take
                remaining -= take
                if remaining:
                    break
                trailer = True
            if trailer:
                if end - pos < 2:
                    break
                pos += 2
                trailer = False
            nl = buf.find(b"\r\n", pos)
            if nl < 0:
                break
            length = int(buf[pos:nl].split(b";", 1)[0], 16)
            pos = nl + 2
            if length == 0:  # the last chunk (trailers, if any, are not read)
                if out:
                    yield b"".join(out)
                return
            remaining = length
        buf = buf[pos:]
        if out:
            yield out[0] if len(out) == 1 else b"".join(out)


_MAX_HEAD = 64 * 1024
_MAX_ERROR_BODY = 1024 * 1024


def read_head(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Read an HTTP/1.1 response head: ``(status, headers (lower-case names), bytes after)``."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        if len(buf) > _MAX_HEAD:
            raise ValueError("the server sent an oversized HTTP response head")
        chunk = sock.recv(16384)
        if not chunk:
            raise ConnectionResetError("the server closed the connection before answering")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ValueError(f"not an HTTP response: {status_line[:80]!r}")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers, rest


def read_body(sock: socket.socket, headers: Mapping[str, str], rest: bytes) -> bytes:
    """The body of a (small, error) response: by Content-Length, chunks, or until closed."""
    length = headers.get("content-length", "")
    chunked = headers.get("transfer-encoding", "").lower() == "chunked"
    body = rest
    while len(body) < _MAX_ERROR_BODY:
        if length.isdigit() and len(body) >= int(length):
            break
        if chunked and (body.startswith(b"0\r\n") or b"\r\n0\r\n" in body) and body.endswith(b"\r\n\r\n"):
            break
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    if chunked:
        return dechunk_bytes(body)
    return body[: int(length)] if length.isdigit() else body


def request_upgrade(
    sock: socket.socket, host: str, target: str, headers: Mapping[str, str]
) -> tuple[int, dict[str, str], bytes]:
    """Send ``GET target`` asking to switch protocols on ``sock`` and read the answer's head.

    Returns ``(status, headers with lower-case names, rest)``: after a 101 the socket speaks
    the new protocol and ``rest`` holds the bytes that came after the head; otherwise
    ``rest`` is the (error) body and the socket is closed. Both clients open the socket
    their own way (``LiteKube.open_upgrade``, ``Kube.open_upgrade``) and send it here.
    """
    lines = [f"GET {target} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items() if k.lower() != "accept"]
    try:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        status, answer, rest = read_head(sock)
        if status != 101:
            rest = read_body(sock, answer, rest)
            sock.close()
    except BaseException:
        sock.close()
        raise
    return status, answer, rest


def dechunk_bytes(data: bytes) -> bytes:
    """A whole chunked body, already read, decoded."""
    out, pos = [], 0
    while True:
        end = data.find(b"\r\n", pos)
        if end < 0:
            break
        size = int(data[pos:end].split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out.append(data[end + 2 : end + 2 + size])
        pos = end + 2 + size + 2
    return b"".join(out)
