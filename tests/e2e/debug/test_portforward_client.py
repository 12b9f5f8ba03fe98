"""``kube.portforward`` against the sandbox's ``pods/portforward``, over both transports."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from kubectl_trace.kube.errors import ApiError, KubeError
from kubectl_trace.kube.forwarder import Forwarder, ListenError
from kubectl_trace.kube.portforward import PortRefused, open_tunnel, pump

NS = "production"


@pytest.fixture(params=["lite", "official"])
def client(request: Any, sandbox: Any, kube: Any) -> Iterator[Any]:
    """The lean client and the official-client wrapper: the same forwarding over each."""
    if request.param == "official":
        yield kube
        return
    from kubectl_trace.kube.lite import connect_lite
    from kubectl_trace.kube.settings import KubeSettings

    lite = connect_lite(KubeSettings(kubeconfig=sandbox.kubeconfig), {})
    assert lite is not None
    yield lite
    lite.close()


@pytest.fixture
def web_pod(kube: Any, eventually: Any) -> str:
    def ready() -> str | None:
        for pod in kube.list("pods", NS, label_selector="process=web").items:
            conditions = (pod.get("status") or {}).get("conditions") or []
            if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions):
                return str(pod["metadata"]["name"])
        return None

    return str(eventually(ready, message="a ready web pod"))


def _get(port: int, path: str, conn: http.client.HTTPConnection | None = None) -> tuple[int, bytes]:
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    conn.request("GET", path)
    answer = conn.getresponse()
    return answer.status, answer.read()


def test_each_connection_is_forwarded_and_kept_alive(client: Any, web_pod: str) -> None:
    errors: list[tuple[str | None, KubeError]] = []
    seen: list[str] = []
    with Forwarder(
        client, NS, 3000, pod=web_pod, on_error=lambda p, e: errors.append((p, e)), on_connection=seen.append
    ) as forwarder:
        port = forwarder.start()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        status, body = _get(port, "/healthz", conn)
        assert status == 200 and json.loads(body)["status"] == "ok"
        assert _get(port, "/missing", conn)[0] == 404  # the same connection, the same tunnel
        conn.close()
        assert _get(port, "/healthz")[0] == 200  # a second connection: a tunnel of its own
    assert seen == [web_pod, web_pod] and forwarder.connections == 2
    assert errors == []


def test_a_refused_port_closes_the_connection_and_says_why(
    client: Any, web_pod: str, eventually: Any
) -> None:
    errors: list[tuple[str | None, KubeError]] = []
    with Forwarder(client, NS, 4000, pod=web_pod, on_error=lambda p, e: errors.append((p, e))) as forwarder:
        port = forwarder.start()
        with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(100) == b""  # closed without a byte
        eventually(lambda: errors, message="the refusal reported")
    pod, error = errors[0]
    assert pod == web_pod and isinstance(error, PortRefused)
    assert "dial tcp4 127.0.0.1:4000: connect: connection refused" in error.message


def test_a_missing_pod_is_an_api_error(client: Any) -> None:
    with pytest.raises(ApiError) as caught:
        open_tunnel(client, NS, "no-such-pod", 3000, timeout=10)
    assert caught.value.status == 404 and "no-such-pod" in caught.value.message


def test_a_large_request_crosses_with_backpressure(client: Any, web_pod: str) -> None:
    # A request body larger than the high-water mark, cut into many frames; the app answers
    # 404 only after reading it all (Content-Length), so every byte had to get through.
    tunnel = open_tunnel(client, NS, web_pod, 3000, timeout=20)
    ours, theirs = socket.socketpair()
    result: list[str | None] = []
    worker = threading.Thread(target=lambda: result.append(pump(tunnel, theirs)))
    worker.start()
    body = bytes(range(256)) * 12_000  # 3 MB
    head = f"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    ours.sendall(head + body)
    ours.settimeout(20)
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = ours.recv(65536)
        assert chunk, f"closed early: {answer!r}"
        answer += chunk
    assert answer.startswith(b"HTTP/1.1 ")
    ours.close()
    worker.join(20)
    assert not worker.is_alive() and result == [None]


def test_a_local_port_in_use_is_one_clear_error(client: Any) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        busy = taken.getsockname()[1]
        forwarder = Forwarder(client, NS, 3000, pod="x", local_port=busy)
        with pytest.raises(ListenError) as caught:
            forwarder.start()
    assert f"cannot listen on 127.0.0.1:{busy}" in caught.value.message
    assert "\n" not in caught.value.message


def test_with_no_pod_to_go_to_a_connection_is_closed_and_reported(client: Any, eventually: Any) -> None:
    errors: list[tuple[str | None, KubeError]] = []
    with Forwarder(client, NS, 3000, pod=None, on_error=lambda p, e: errors.append((p, e))) as forwarder:
        port = forwarder.start()
        with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
            assert sock.recv(10) == b""
        eventually(lambda: errors, message="the refusal reported")
    assert errors[0][0] is None and "no pod to forward to" in errors[0][1].message


def test_the_end_of_a_response_reaches_the_client_as_end_of_stream(client: Any, web_pod: str) -> None:
    # The kubelet closes the forwarding connection once the pod side is done; a client that
    # reads to the end (Connection: close) must see that end instead of waiting forever.
    with Forwarder(client, NS, 3000, pod=web_pod) as forwarder:
        port = forwarder.start()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            received = b""
            while chunk := sock.recv(65536):  # socket.timeout (a failure) if the end never comes
                received += chunk
    assert received.startswith(b"HTTP/1.1 200")
    assert b'"status"' in received
