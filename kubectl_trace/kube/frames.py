"""The wire format of the streaming subresources (exec, attach) over a WebSocket.

RFC 6455 framing from the client's side (``encode_frame``, ``client_frame``, the incremental
``FrameDecoder``), and the channel protocol of ``v5.channel.k8s.io`` / ``v4`` on top of it:
every binary message starts with its channel byte — 0 stdin, 1 stdout, 2 stderr, 3 error (a
``metav1.Status`` carrying the exit code: ``parse_status``), 4 resize (``resize_frame``), 255
close (v5 only: ``[255, 0]`` half-closes stdin, ``close_stdin_frame``). Pure functions and
one small decoder class: no sockets here (``kube.exec_session`` does the I/O).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

__all__ = [
    "CHANNEL_CLOSE",
    "CHANNEL_ERROR",
    "CHANNEL_RESIZE",
    "CHANNEL_STDERR",
    "CHANNEL_STDIN",
    "CHANNEL_STDOUT",
    "MAX_FRAME",
    "OP_BINARY",
    "OP_CLOSE",
    "OP_CONT",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "PROTOCOLS",
    "V4_PROTOCOL",
    "V5_PROTOCOL",
    "ExecStatus",
    "FrameDecoder",
    "ProtocolError",
    "client_frame",
    "close_frame",
    "close_stdin_frame",
    "encode_frame",
    "encode_stdin",
    "mask_payload",
    "parse_status",
    "resize_frame",
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


def client_frame(opcode: int, payload: bytes) -> bytes:
    """One final frame from the client: masked with a fresh random key."""
    return encode_frame(opcode, payload, mask_key=os.urandom(4))


def close_frame(code: bytes = (1000).to_bytes(2, "big")) -> bytes:
    """The client's close frame (``code``: the 2-byte status, 1000 normal closure)."""
    return client_frame(OP_CLOSE, code)


def close_stdin_frame() -> bytes:
    """``[255, 0]``: the command's stdin ends (v5 only; v4 has no way to say EOF)."""
    return client_frame(OP_BINARY, bytes((CHANNEL_CLOSE, CHANNEL_STDIN)))


def resize_frame(width: int, height: int) -> bytes:
    """Channel 4: the remote terminal's size."""
    payload = json.dumps({"Width": int(width), "Height": int(height)}).encode() + b"\n"
    return client_frame(OP_BINARY, bytes((CHANNEL_RESIZE,)) + payload)


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
