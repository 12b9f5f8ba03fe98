"""SPDY/3.1 framing, as far as Kubernetes port-forward uses it (RFC draft-mbelshe-httpbis-spdy-00).

kubectl 1.37 port-forwards over a WebSocket with the subprotocol
``SPDY/3.1+portforward.k8s.io``: the binary messages carry a plain SPDY/3.1 byte stream
(client-go ``tools/portforward`` tunneling connection, no channel byte). Frames:

* control: ``1 | version(15) | type(16) | flags(8) | length(24) | payload``;
* data: ``0 | stream id(31) | flags(8) | length(24) | data``; flag 0x01 is FIN.

Header blocks (SYN_STREAM, SYN_REPLY) are zlib streams with the SPDY/3 dictionary, one
stream per direction for the whole session, flushed (``Z_SYNC_FLUSH``) after each block;
a block is ``count(32)`` then ``len(32) name len(32) value`` pairs.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

__all__ = [
    "DATA",
    "DICTIONARY",
    "FIN",
    "Frame",
    "HeaderCodec",
    "control_frame",
    "data_frame",
    "parse_frames",
]

SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = 1, 2, 3, 4, 6, 7, 8, 9
DATA = 0  # the frame type parse_frames gives data frames
FIN = 0x01
VERSION = 3
MAX_DATA = 0xFFFF  # bytes per data frame sent (the SPDY maximum is 2^24 - 1)

# The SPDY/3 header dictionary (section 2.6.10.1): length-prefixed header words, then text.
_WORDS = (
    "options head post put delete trace accept accept-charset accept-encoding accept-language "
    "accept-ranges age allow authorization cache-control connection content-base content-encoding "
    "content-language content-length content-location content-md5 content-range content-type date "
    "etag expect expires from host if-match if-modified-since if-none-match if-range "
    "if-unmodified-since last-modified location max-forwards pragma proxy-authenticate "
    "proxy-authorization range referer retry-after server te trailer transfer-encoding upgrade "
    "user-agent vary via warning www-authenticate method get status|200 OK|version HTTP/1.1 url "
    "public set-cookie keep-alive origin"
)
_TAIL = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request"
    "401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented"
    "503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 "
    "Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,"
    "application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age="
    "gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
)


def _dictionary() -> bytes:
    words: list[str] = []
    for part in _WORDS.split("|"):
        if part == "200 OK":
            words.append(part)
        else:
            words.extend(part.split())
    out = b"".join(struct.pack(">I", len(w)) + w.encode("ascii") for w in words)
    return out + _TAIL.encode("ascii")


DICTIONARY = _dictionary()


@dataclass(frozen=True)
class Frame:
    """One parsed frame: ``kind`` is a control type or DATA; ``stream`` 0 for session frames."""

    kind: int
    flags: int
    stream: int
    payload: bytes


def parse_frames(buffer: bytearray) -> list[Frame]:
    """Every complete frame at the start of ``buffer`` (consumed from it)."""
    frames: list[Frame] = []
    while len(buffer) >= 8:
        first = int.from_bytes(buffer[0:4], "big")
        flags = buffer[4]
        length = int.from_bytes(buffer[5:8], "big")
        if len(buffer) < 8 + length:
            break
        payload = bytes(buffer[8 : 8 + length])
        del buffer[: 8 + length]
        if first & 0x80000000:
            kind = first & 0xFFFF
            stream = int.from_bytes(payload[0:4], "big") & 0x7FFFFFFF if len(payload) >= 4 else 0
            if kind in (SETTINGS, PING, GOAWAY):
                stream = 0
            frames.append(Frame(kind, flags, stream, payload))
        else:
            frames.append(Frame(DATA, flags, first & 0x7FFFFFFF, payload))
    return frames


def control_frame(kind: int, flags: int, payload: bytes) -> bytes:
    """A control frame of ``kind`` (SPDY version 3)."""
    return struct.pack(">HHI", 0x8000 | VERSION, kind, (flags << 24) | len(payload)) + payload


def data_frame(stream: int, data: bytes, flags: int = 0) -> bytes:
    """A data frame on ``stream``."""
    return struct.pack(">II", stream & 0x7FFFFFFF, (flags << 24) | len(data)) + data


class HeaderCodec:
    """The session's two zlib streams: headers in (inflate) and out (deflate)."""

    def __init__(self) -> None:
        self._inflate = zlib.decompressobj(zdict=DICTIONARY)
        self._deflate = zlib.compressobj(
            zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, 15, 8, zlib.Z_DEFAULT_STRATEGY, DICTIONARY
        )

    def decode(self, block: bytes) -> dict[str, str]:
        """A header block → lower-case name → value (NUL-separated values joined by ``,``)."""
        raw = self._inflate.decompress(block)
        if len(raw) < 4:
            raise ValueError("truncated SPDY header block")
        count = int.from_bytes(raw[0:4], "big")
        pos, headers = 4, {}
        for _ in range(count):
            size = int.from_bytes(raw[pos : pos + 4], "big")
            name = raw[pos + 4 : pos + 4 + size].decode("latin-1").lower()
            pos += 4 + size
            size = int.from_bytes(raw[pos : pos + 4], "big")
            value = raw[pos + 4 : pos + 4 + size].decode("latin-1")
            pos += 4 + size
            headers[name] = value.replace("\0", ",")
        return headers

    def encode(self, headers: dict[str, str]) -> bytes:
        """``headers`` as a compressed header block."""
        raw = struct.pack(">I", len(headers))
        for name, value in headers.items():
            key, val = name.lower().encode("latin-1"), value.encode("latin-1")
            raw += struct.pack(">I", len(key)) + key + struct.pack(">I", len(val)) + val
        return self._deflate.compress(raw) + self._deflate.flush(zlib.Z_SYNC_FLUSH)


def syn_reply(codec: HeaderCodec, stream: int, headers: dict[str, str] | None = None) -> bytes:
    """SYN_REPLY accepting ``stream``."""
    return control_frame(SYN_REPLY, 0, struct.pack(">I", stream) + codec.encode(headers or {}))


def window_update(stream: int, delta: int) -> bytes:
    """WINDOW_UPDATE giving ``delta`` more bytes of window on ``stream``."""
    return control_frame(WINDOW_UPDATE, 0, struct.pack(">II", stream, delta))
