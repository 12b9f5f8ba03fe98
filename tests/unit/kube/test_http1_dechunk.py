import http.client

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_trace.kube.http1 import dechunk as _dechunk


class Trickle:
    """A file whose readinto1 returns the body in the given piece sizes."""

    def __init__(self, data: bytes, sizes):
        self.data = data
        self.sizes = list(sizes)

    def readinto1(self, view):
        if not self.data:
            return 0
        k = min(len(view), len(self.data), self.sizes.pop(0) if self.sizes else len(self.data))
        piece, self.data = self.data[:k], self.data[k:]
        view[:k] = piece
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
