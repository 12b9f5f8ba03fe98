"""``kubectl nodeapp forward`` vs ``kubectl port-forward``: time to first byte, and MB/s through the forward.

Usage: .venv/bin/python bench/forward.py [--runs N] [--blob-runs N] [--megabytes M] [--no-write]

Starts a private sandbox whose containers run real Node.js (demo fixture), picks a ready
web pod of trace-api in production and starts a second small Node.js server in it by exec
(``GET /blob?mb=M`` answers M MiB). Then, on the same pod, alternating the two tools:

- time to first byte: from spawning the forward to the first byte of the app's answer to
  ``GET /healthz`` through it (start-up, the printed port, the tunnel, the request);
- throughput: with one forward of each tool running, ``GET /blob`` of M MiB on a new
  connection each run, every byte counted, MB/s.

Medians of N runs each. Writes the ``forward`` section of BENCHMARKS.md unless --no-write.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import ROOT, median, stamp, update_section

NODEAPP = str(ROOT / "bin" / "kubectl-nodeapp")
KUBECTL = str(ROOT / ".venv" / "bin" / "kubectl")
NS = "production"
BLOB_SERVER = (
    "const http = require('http'); const mib = Buffer.alloc(1 << 20, 120);"
    "const s = http.createServer((q, r) => {"
    " const n = Number(new URL(q.url, 'http://x').searchParams.get('mb') || '1');"
    " r.writeHead(200, {'Content-Length': n * mib.length}); let i = 0;"
    " const more = () => { while (i < n) { i++;"
    " if (!r.write(mib)) { r.once('drain', more); return; } } r.end(); };"
    " more(); });"
    "s.listen(0, '0.0.0.0', () => console.log('blob port ' + s.address().port));"
)
_PORT_LINE = re.compile(rb"(?:Forwarding from |Forwarding http://)127\.0\.0\.1:(\d+)")


class Forward:
    """A forward process and the local port it printed."""

    def __init__(self, argv: list[str]) -> None:
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        found = _PORT_LINE.search(line)
        if not found:
            self.stop()
            raise RuntimeError(f"{argv[0]} printed {line!r}")
        self.port = int(found.group(1))
        # keep reading (kubectl prints a line per connection): a full pipe would stall it
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.process.stdout is not None
        while self.process.stdout.read(65536):
            pass

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def first_byte(port: int, path: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
        return sock.recv(1)


def time_to_first_byte(argv: list[str]) -> float:
    start = time.perf_counter()
    forward = Forward(argv)
    try:
        byte = first_byte(forward.port, "/healthz")
        elapsed = time.perf_counter() - start
    finally:
        forward.stop()
    if byte != b"H":
        raise RuntimeError(f"{argv[0]}: no HTTP answer ({byte!r})")
    return elapsed


def blob(port: int, megabytes: int) -> float:
    """Seconds for GET /blob (every byte read) on a new connection."""
    size = megabytes << 20
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(
            f"GET /blob?mb={megabytes} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(65536)
            if not chunk:
                raise RuntimeError("closed before the answer's head")
            head += chunk
        received = len(head.split(b"\r\n\r\n", 1)[1])
        while received < size:
            chunk = sock.recv(1 << 20)
            if not chunk:
                raise RuntimeError(f"closed after {received} of {size} bytes")
            received += len(chunk)
    return time.perf_counter() - start


def alternate(runs: int, cases: dict[str, Callable[[], float]]) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, case in cases.items():
            results[name].append(case())
    return results


def wait_for_pod(kubeconfig: str, timeout: float = 120.0) -> str:
    from kubectl_trace.kube.lite import connect_lite
    from kubectl_trace.kube.settings import KubeSettings

    client = connect_lite(KubeSettings(kubeconfig=kubeconfig), {})
    assert client is not None
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            for pod in client.list("pods", NS, label_selector="app=trace-api,process=web").items:
                conditions = pod["status"].get("conditions") or []
                ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
                if ready and not pod["metadata"].get("deletionTimestamp"):
                    return str(pod["metadata"]["name"])
            time.sleep(0.5)
    finally:
        client.close()
    raise RuntimeError("no ready web pod in production")


def start_blob_server(kubectl: list[str], pod: str) -> tuple[subprocess.Popen[bytes], int]:
    child = subprocess.Popen(
        [*kubectl, "exec", pod, "--", "node", "-e", BLOB_SERVER],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    found = re.search(rb"blob port (\d+)", line)
    if not found:
        child.kill()
        raise RuntimeError(
            f"the blob server did not start: {line!r} {child.stderr.read()[-300:] if child.stderr else b''!r}"
        )
    return child, int(found.group(1))


NOTES = [
    "Where the difference in time to first byte comes from: `kubectl port-forward` is a Go binary;",
    "the plugin is a Python process whose start-up and imports, the kubeconfig and the app's",
    "Deployments and pods (it resolves APP and picks a ready pod, where kubectl is given the pod)",
    "come before the forward listens. Once listening, each new connection costs one WebSocket",
    "handshake (TLS included) to the API server.",
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=11, help="rounds for time to first byte")
    parser.add_argument("--blob-runs", type=int, default=5, help="rounds for the throughput test")
    parser.add_argument("--megabytes", type=int, default=64)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    from kubectl_trace.sandbox.interfaces import SandboxOptions
    from kubectl_trace.sandbox.process import start_sandbox

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-forward-") as tmp:
        work = Path(tmp)
        handle = start_sandbox(
            str(work / "kubeconfig"),
            SandboxOptions(time_scale=0.1, log_rate=1.0, containers="node"),
            exit_with_parent=os.getpid(),
        )
        try:
            kubeconfig = handle.kubeconfig
            pod = wait_for_pod(kubeconfig)
            kubectl = [KUBECTL, "--kubeconfig", kubeconfig, "--cache-dir", str(work / "cache"), "-n", NS]
            ours = [NODEAPP, "forward", "trace-api", "--pod", pod, "--kubeconfig", kubeconfig, "-n", NS]
            theirs = [*kubectl, "port-forward", f"pod/{pod}"]
            time_to_first_byte([*theirs, "0:3000"])  # warm-up (kubectl's discovery cache, page cache)
            time_to_first_byte([*ours, "0:3000"])
            ttfb = alternate(
                args.runs,
                {
                    "nodeapp": lambda: time_to_first_byte([*ours, "0:3000"]),
                    "kubectl": lambda: time_to_first_byte([*theirs, "0:3000"]),
                },
            )
            server, blob_port = start_blob_server(kubectl, pod)
            forwards = {
                "nodeapp": Forward([*ours, f"0:{blob_port}"]),
                "kubectl": Forward([*theirs, f"0:{blob_port}"]),
            }
            try:
                for forward in forwards.values():
                    blob(forward.port, 1)  # warm-up
                through = alternate(
                    args.blob_runs,
                    {
                        name: (lambda f=forward: blob(f.port, args.megabytes))
                        for name, forward in forwards.items()
                    },
                )
            finally:
                for forward in forwards.values():
                    forward.stop()
                server.kill()
                server.wait()
        finally:
            handle.stop()
    load_after = os.getloadavg()

    ours_ms, theirs_ms = median(ttfb["nodeapp"]) * 1000, median(ttfb["kubectl"]) * 1000
    rate = {name: (args.megabytes << 20) / median(values) / 1e6 for name, values in through.items()}
    rows = [
        f"| time to first byte of `GET /healthz` | {ours_ms:.0f} ms | {theirs_ms:.0f} ms | "
        f"{ours_ms / theirs_ms:.2f}× |",
        f"| {args.megabytes} MiB `GET /blob` | {rate['nodeapp']:.0f} MB/s | {rate['kubectl']:.0f} MB/s | "
        f"{rate['nodeapp'] / rate['kubectl']:.2f}× |",
    ]
    markdown = "\n".join(
        [
            "## forward: `kubectl nodeapp forward` vs `kubectl port-forward`",
            "",
            stamp(),
            f"Load average before/after: {load_before[0]:.2f} / {load_after[0]:.2f} (1 min).",
            "",
            "Same sandbox (real Node.js containers), same pod, alternating runs; medians of "
            f"{args.runs} runs (first byte) and {args.blob_runs} runs (throughput). Time to first byte "
            "is spawn → the printed port → connect → first byte of the app's answer; throughput is one "
            "GET on a new connection through a running forward, every byte read. kubectl tunnels "
            "SPDY in one WebSocket for all connections; ours opens a `v4.channel.k8s.io` WebSocket per "
            "connection (the protocol has one stream per port). Script: `bench/forward.py`.",
            "",
            "| measure | kubectl nodeapp forward | kubectl port-forward | ratio |",
            "|---|---|---|---|",
            *rows,
            "",
            *NOTES,
        ]
    )
    print(markdown)
    if not args.no_write:
        update_section("forward", markdown)


if __name__ == "__main__":
    main()
