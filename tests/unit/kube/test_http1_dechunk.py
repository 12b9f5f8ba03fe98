import http.client
import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_trace.kube.http1 import dechunk as _dechunk


class Trickle:
    """A buffered file whose bytes arrive in the given piece sizes: ``peek`` shows what has
    arrived (waiting for the next piece only when nothing has), ``readinto1`` takes from it."""

    def __init__(self, data: bytes, sizes):
        self.data = data
        self.sizes = list(sizes)
        self.buffered = b""

    def _arrive(self):
        if not self.buffered and self.data:
            k = min(len(self.data), self.sizes.pop(0) if self.sizes else len(self.data))
            self.buffered, self.data = self.data[:k], self.data[k:]

    def peek(self, size=0):
        self._arrive()
        return self.buffered

    def readinto1(self, view):
        self._arrive()
        k = min(len(view), len(self.buffered))
        view[:k] = self.buffered[:k]
        self.buffered = self.buffered[k:]
        return k


def encode(pieces, extension=b""):
    return b"".join(b"%x%s\r\n%s\r\n" % (len(p), extension, p) for p in pieces) + b"0\r\n\r\n"


@settings(max_examples=200, deadline=None)
@given(
    pieces=st.lists(st.binary(min_size=1, max_size=300), max_size=20),
    sizes=st.lists(st.integers(min_value=1, max_value=50), max_size=200),
    extension=st.sampled_from([b"", b";name=value"]),
)
def test_dechunk_returns_the_body_whatever_the_reads(pieces, sizes, extension):
    body = b"".join(_dechunk(Trickle(encode(pieces, extension), sizes), 64))
    assert body == b"".join(pieces)


def test_dechunk_yields_as_chunks_arrive():
    stream = _dechunk(Trickle(encode([b"line 1\n", b"line 2\n"]), [12, 100]), 1024)
    assert next(stream) == b"line 1\n"
    assert next(stream) == b"line 2\n"
    with pytest.raises(StopIteration):
        next(stream)


def test_a_body_cut_before_the_last_chunk_is_an_incomplete_read():
    data = encode([b"abc", b"def"])[:-5]  # the connection dropped: no final 0-size chunk
    with pytest.raises(http.client.IncompleteRead):
        list(_dechunk(Trickle(data, []), 64))


def test_a_chunk_buffered_with_the_headers_is_yielded_without_waiting_for_more():
    """A real buffered socket file: the headers' read brought the first chunk along."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(b"HTTP/1.1 200 OK\r\n\r\n" + b"%x\r\n%s\r\n" % (len(b"event 1\n"), b"event 1\n"))
        ours.settimeout(2)  # nothing more comes: a read that waits for it fails the test
        fp = ours.makefile("rb")
        assert fp.readline() == b"HTTP/1.1 200 OK\r\n"
        assert fp.readline() == b"\r\n"
        assert next(_dechunk(fp, 65536)) == b"event 1\n"
