"""The exec client's WebSocket frame codec and channel-3 status parsing (no server)."""

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_trace.kube.exec import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_TEXT,
    FrameDecoder,
    ProtocolError,
    encode_frame,
    mask_payload,
    parse_status,
)


def naive_mask(key: bytes, data: bytes) -> bytes:
    return bytes(b ^ key[i % 4] for i, b in enumerate(data))


@given(st.binary(min_size=4, max_size=4), st.binary(max_size=2000))
def test_mask_matches_the_definition(key, data):
    assert mask_payload(key, data) == naive_mask(key, data)
    assert mask_payload(key, mask_payload(key, data)) == data


def test_mask_needs_four_bytes():
    with pytest.raises(ValueError, match="masking key has 4 bytes"):
        mask_payload(b"abc", b"x")


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 300_000])
@pytest.mark.parametrize("masked", [False, True])
def test_frame_round_trip_at_length_boundaries(size, masked):
    payload = os.urandom(size)
    frame = encode_frame(OP_BINARY, payload, mask_key=os.urandom(4) if masked else None)
    assert FrameDecoder().feed(frame) == [(OP_BINARY, payload)]


def test_length_encoding_and_mask_bit_on_the_wire():
    key = b"\x01\x02\x03\x04"
    small = encode_frame(OP_BINARY, b"\x01hi", mask_key=key)
    assert small[:2] == bytes([0x82, 0x80 | 3]) and small[2:6] == key
    assert small[6:] == naive_mask(key, b"\x01hi")
    medium = encode_frame(OP_BINARY, b"x" * 200)
    assert medium[:4] == bytes([0x82, 126, 0, 200])
    large = encode_frame(OP_BINARY, b"x" * 70000)
    assert large[:2] == bytes([0x82, 127]) and int.from_bytes(large[2:10], "big") == 70000


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.binary(max_size=70000), min_size=1, max_size=5),
    st.lists(st.integers(min_value=1, max_value=9000), min_size=1, max_size=40),
)
def test_any_split_of_the_stream_gives_the_same_messages(payloads, cuts):
    stream = b"".join(encode_frame(OP_BINARY, p) for p in payloads)
    decoder = FrameDecoder()
    got = []
    pos = 0
    for cut in cuts:
        got += decoder.feed(stream[pos : pos + cut])
        pos += cut
    got += decoder.feed(stream[pos:])
    assert got == [(OP_BINARY, p) for p in payloads]


def test_fragments_are_reassembled_with_control_frames_in_between():
    def raw(fin: bool, opcode: int, payload: bytes) -> bytes:
        frame = bytearray(encode_frame(opcode, payload))
        if not fin:
            frame[0] &= 0x7F
        return bytes(frame)

    stream = (
        raw(False, OP_BINARY, b"\x01hel")
        + raw(True, OP_PING, b"p")
        + raw(False, OP_CONT, b"lo ")
        + raw(True, OP_CONT, b"world")
    )
    assert FrameDecoder().feed(stream) == [(OP_PING, b"p"), (OP_BINARY, b"\x01hello world")]


@pytest.mark.parametrize(
    "stream",
    [
        bytes([0x80 | 0x40 | OP_BINARY, 0]),  # reserved bit
        bytes([OP_PING, 0]),  # fragmented control frame
        bytes([0x80 | OP_CONT, 0]),  # continuation without start
        bytes([0x80 | 0x3, 0]),  # unknown opcode
        encode_frame(OP_CLOSE, b"x" * 126),  # control frame too long
    ],
)
def test_protocol_violations_are_errors(stream):
    with pytest.raises(ProtocolError):
        FrameDecoder().feed(stream)


def test_a_frame_over_the_size_limit_is_refused_before_buffering_it():
    header = bytes([0x80 | OP_BINARY, 127]) + (10**9).to_bytes(8, "big")
    with pytest.raises(ProtocolError):
        FrameDecoder(max_message=1024).feed(header)


def test_text_frames_pass_through_as_bytes():
    assert FrameDecoder().feed(encode_frame(OP_TEXT, b"\x01caf\xc3\xa9")) == [(OP_TEXT, b"\x01caf\xc3\xa9")]


def status(**fields) -> bytes:
    return json.dumps({"metadata": {}, **fields}).encode()


def test_status_success_is_exit_zero():
    assert parse_status(status(status="Success")).exit_code == 0


def test_status_nonzero_exit_code_from_the_exit_code_cause_anywhere():
    body = status(
        status="Failure",
        reason="NonZeroExitCode",
        message="command terminated with non-zero exit code: 7",
        details={"causes": [{"reason": "Other", "message": "x"}, {"reason": "ExitCode", "message": "7"}]},
    )
    parsed = parse_status(body)
    assert parsed.exit_code == 7 and parsed.reason == "NonZeroExitCode"


def test_status_failure_without_exit_code_keeps_the_message():
    parsed = parse_status(status(status="Failure", message='exec: "nodee": executable file not found'))
    assert parsed.exit_code is None
    assert "executable file not found" in parsed.message


def test_status_in_plain_text_from_old_servers():
    parsed = parse_status(b"container not found\n")
    assert parsed.exit_code is None and parsed.message == "container not found"


@given(st.binary(max_size=3000), st.binary(min_size=4, max_size=4))
def test_stdin_frames_equal_the_generic_encoding(data, key):
    from kubectl_trace.kube.exec import encode_stdin

    assert bytes(encode_stdin(data, key)) == encode_frame(OP_BINARY, b"\x00" + data, mask_key=key)
    assert FrameDecoder().feed(encode_stdin(data, key)) == [(OP_BINARY, b"\x00" + data)]
