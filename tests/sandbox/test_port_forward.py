"""Port-forward as kubectl 1.37 (SPDY over WebSocket) and the official client (v4 channels) speak it."""

from __future__ import annotations

import http.client
import json
import queue
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubectl_trace.sandbox.server import spdy
from tests.processes import end
from tests.sandbox.demo import NS

SPDY = "SPDY/3.1+portforward.k8s.io"


class Forward:
    """A running ``kubectl port-forward``: its local port and what it printed."""

    def __init__(self, argv: list[str]) -> None:
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.out: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for text in self.process.stdout:
            self._lines.put(text)
        self._lines.put(None)

    def line(self, pattern: str, timeout: float = 20) -> re.Match[str]:
        """The first stdout line matching ``pattern`` (waits for it)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                text = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                text = None
            if text is None:
                raise AssertionError(f"no line matching {pattern!r} in {self.out}; stderr: {self.stop()[1]}")
            self.out.append(text)
            found = re.search(pattern, text)
            if found:
                return found

    def stop(self) -> tuple[int, str]:
        """End kubectl (if still running); its exit status and stderr."""
        code = end(self.process)
        assert self.process.stderr is not None
        return code, self.process.stderr.read()


@pytest.fixture
def forward(kubectl: Any) -> Iterator[Any]:
    started: list[Forward] = []

    def start(*args: str) -> Forward:
        item = Forward([*kubectl.argv_prefix, "port-forward", "-n", NS, *args])
        started.append(item)
        return item

    yield start
    for item in started:
        item.stop()


def test_kubectl_port_forward_serves_healthz(forward: Any, web_pod: str) -> None:
    running = forward(f"pod/{web_pod}", "0:3000")
    port = int(running.line(r"Forwarding from 127\.0\.0\.1:(\d+) -> 3000").group(1))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request("GET", "/healthz")
        first = conn.getresponse()
        assert first.status == 200 and json.loads(first.read())["status"] == "ok"
        conn.request("GET", "/missing")  # the same connection (keep-alive)
        second = conn.getresponse()
        assert second.status == 404 and b"Cannot GET /missing" in second.read()
    finally:
        conn.close()
    again = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        again.request("GET", "/healthz")
        assert again.getresponse().status == 200
    finally:
        again.close()
    running.line(r"Handling connection for \d+")


def test_a_port_nobody_listens_on(forward: Any, web_pod: str) -> None:
    running = forward(web_pod, "0:4000")
    port = int(running.line(r"Forwarding from 127\.0\.0\.1:(\d+) -> 4000").group(1))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)

    def get() -> None:
        conn.request("GET", "/healthz")
        conn.getresponse()

    with pytest.raises((http.client.HTTPException, OSError)):
        get()
    conn.close()
    _code, err = running.stop()
    assert "dial tcp4 127.0.0.1:4000: connect: connection refused" in err


def test_spdy_fallback_and_the_viewer_get_one_line_errors(kubectl: Any, web_pod: str) -> None:
    spdy_only = kubectl(
        "port-forward", "-n", NS, web_pod, "0:3000", env={"KUBECTL_PORT_FORWARD_WEBSOCKETS": "false"}
    )
    assert spdy_only.returncode == 1
    assert spdy_only.stderr.count("\n") == 1 and "port-forward over WebSocket only" in spdy_only.stderr
    viewer = kubectl("--context", "sandbox-readonly", "port-forward", "-n", NS, web_pod, "0:3000")
    assert viewer.returncode == 1 and 'cannot create resource "pods/portforward"' in viewer.stderr


def test_the_official_client_port_forwards(sandbox: Any, web_pod: str) -> None:
    from kubernetes import client, config
    from kubernetes.stream import portforward

    api = config.new_client_from_config(config_file=sandbox.kubeconfig)
    try:
        core = client.CoreV1Api(api)
        pf = portforward(core.connect_get_namespaced_pod_portforward, web_pod, NS, ports="3000,4000")
        conn = http.client.HTTPConnection("127.0.0.1", 3000, timeout=20)
        conn.sock = pf.socket(3000)
        conn.request("GET", "/healthz")
        answer = conn.getresponse()
        assert answer.status == 200 and json.loads(answer.read())["status"] == "ok"
        refused = pf.socket(4000)
        refused.settimeout(20)
        assert refused.recv(10) == b""
        assert "connect: connection refused" in (pf.error(4000) or "")
        pf.close()
    finally:
        api.close()


def test_spdy_frames_and_header_blocks_round_trip() -> None:
    sender, receiver = spdy.HeaderCodec(), spdy.HeaderCodec()
    headers = {"streamType": "data", "port": "3000", "requestID": "0"}
    frame = spdy.control_frame(spdy.SYN_STREAM, 0, b"\x00\x00\x00\x03" + b"\x00" * 6 + sender.encode(headers))
    second = spdy.syn_reply(sender, 5, {"a": "b"})
    buffer = bytearray(frame + second + spdy.data_frame(3, b"hello", spdy.FIN)[:-2])
    parsed = spdy.parse_frames(buffer)
    assert [(f.kind, f.stream) for f in parsed] == [(spdy.SYN_STREAM, 3), (spdy.SYN_REPLY, 5)]
    assert receiver.decode(parsed[0].payload[10:]) == {"streamtype": "data", "port": "3000", "requestid": "0"}
    assert receiver.decode(parsed[1].payload[4:]) == {"a": "b"}
    buffer.extend(b"lo")
    (data,) = spdy.parse_frames(buffer)
    assert (data.kind, data.stream, data.flags, data.payload, bytes(buffer)) == (
        spdy.DATA,
        3,
        spdy.FIN,
        b"hello",
        b"",
    )
    assert len(spdy.DICTIONARY) == 1423


def test_a_peer_that_breaks_spdy_loses_only_its_session(sandbox: Any, web_pod: str, tmp_path: Any) -> None:
    import base64
    import ssl

    import websocket
    import yaml

    config = yaml.safe_load(Path(sandbox.kubeconfig).read_text(encoding="utf-8"))
    ca = tmp_path / "ca.pem"
    ca.write_bytes(base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"]))
    token = config["users"][0]["user"]["token"]
    url = f"wss://{sandbox.host}:{sandbox.port}/api/v1/namespaces/{NS}/pods/{web_pod}/portforward"
    ws = websocket.create_connection(
        url,
        header=[f"Authorization: Bearer {token}"],
        subprotocols=[SPDY],
        sslopt={"cert_reqs": ssl.CERT_REQUIRED, "ca_certs": str(ca)},
        timeout=20,
    )
    try:
        assert (ws.subprotocol or "").lower() == SPDY.lower()
        bogus = spdy.control_frame(spdy.SYN_STREAM, 0, b"\x00\x00\x00\x01" + b"\x00" * 6 + b"not zlib at all")
        ws.send_binary(bogus)

        def until_closed() -> None:
            while ws.recv_data()[0] != websocket.ABNF.OPCODE_CLOSE:
                pass
            raise ConnectionError("closed")

        with pytest.raises((websocket.WebSocketConnectionClosedException, ConnectionError)):
            until_closed()
    finally:
        ws.close()
    assert sandbox.status()["streams"].get("portforward", 0) == 0
    status, _ = sandbox.request("GET", "/healthz")
    assert status == 200
