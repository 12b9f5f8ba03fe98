"""The lean client's HTTP head and error-body reading (over a socket pair, no server)."""

import socket
import threading

import pytest

from kubectl_trace.kube.http1 import dechunk_bytes as _dechunk
from kubectl_trace.kube.http1 import read_body as _read_body
from kubectl_trace.kube.http1 import read_head as _read_head


def feed(*chunks: bytes, close: bool = True):
    ours, theirs = socket.socketpair()

    def write() -> None:
        for chunk in chunks:
            theirs.sendall(chunk)
        if close:
            theirs.close()

    thread = threading.Thread(target=write)
    thread.start()
    return ours, thread, theirs


def test_switching_protocols_head_and_the_bytes_after_it():
    sock, thread, _ = feed(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n",
        b"Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n\x82\x02\x01h",
    )
    status, headers, rest = _read_head(sock)
    thread.join()
    sock.close()
    assert status == 101
    assert headers["sec-websocket-protocol"] == "v5.channel.k8s.io" and headers["upgrade"] == "websocket"
    assert rest == b"\x82\x02\x01h"


def test_error_body_by_content_length_without_waiting_for_close():
    body = b'{"kind":"Status","code":404,"message":"pods \\"x\\" not found"}'
    sock, thread, theirs = feed(
        b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body[:10],
        body[10:],
        close=False,
    )
    status, headers, rest = _read_head(sock)
    assert status == 404
    assert _read_body(sock, headers, rest) == body
    thread.join()
    theirs.close()
    sock.close()


def test_chunked_error_body():
    sock, thread, theirs = feed(
        b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        b"6\r\n world\r\n0\r\n\r\n",
        close=False,
    )
    status, headers, rest = _read_head(sock)
    assert (status, _read_body(sock, headers, rest)) == (400, b"hello world")
    thread.join()
    theirs.close()
    sock.close()


def test_a_closed_connection_or_garbage_is_an_error():
    sock, thread, _ = feed(b"HTTP/1.1 200")
    with pytest.raises(ConnectionResetError):
        _read_head(sock)
    thread.join()
    sock.close()
    sock, thread, _ = feed(b"SSH-2.0-OpenSSH\r\n\r\n")
    with pytest.raises(ValueError, match=r"not an HTTP response: 'SSH-2\.0-OpenSSH'"):
        _read_head(sock)
    thread.join()
    sock.close()


def test_dechunk_ignores_extensions():
    assert _dechunk(b"3;x=1\r\nabc\r\n0\r\n\r\n") == b"abc"
