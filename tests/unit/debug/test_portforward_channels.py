"""The v4 port-forward channels as the client reads them (pure): port prefixes, data, the error text."""

from __future__ import annotations

import struct

from kubectl_trace.kube.portforward import DATA, ERROR, _Channels


def test_each_channel_loses_its_two_byte_port_prefix_wherever_the_frames_cut_it() -> None:
    channels = _Channels()
    port = struct.pack("<H", 3000)
    assert channels.take(bytes([DATA]) + port[:1]) == (DATA, b"")  # half of the prefix
    assert channels.take(bytes([DATA]) + port[1:] + b"HTTP/1.1") == (DATA, b"HTTP/1.1")
    assert channels.take(bytes([DATA]) + b" 200") == (DATA, b" 200")  # later frames are all data
    assert channels.take(bytes([ERROR]) + port) == (ERROR, b"")
    assert channels.take(bytes([ERROR]) + b"connection refused") == (ERROR, b"connection refused")


def test_a_prefix_byte_that_happens_to_look_like_data_is_still_the_prefix() -> None:
    channels = _Channels()
    assert channels.take(bytes([DATA]) + b"GET") == (DATA, b"T")  # two bytes eaten: the port, little-endian
