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

import os
import re
import socket
import subprocess
import threading
import time

from _harness import NODEAPP, alternate, demo_web_pod, kubectl_argv, stop, warm_up
from _report import arguments, median, ms, publish, ratio, stamp, table

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
            stop(self.process)
            raise RuntimeError(f"{argv[0]} printed {line!r}")
        self.port = int(found.group(1))
        # keep reading (kubectl prints a line per connection): a full pipe would stall it
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.process.stdout is not None
        while self.process.stdout.read(65536):
            pass

    def stop(self) -> None:
        stop(self.process)


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
    parser = arguments(__doc__, runs=11, runs_help="rounds for time to first byte")
    parser.add_argument("--blob-runs", type=int, default=5, help="rounds for the throughput test")
    parser.add_argument("--megabytes", type=int, default=64)
    args = parser.parse_args()

    load_before = os.getloadavg()
    with demo_web_pod("bench-forward-", containers="node") as (handle, work, pod):
        kubeconfig = handle.kubeconfig
        kubectl = [*kubectl_argv(kubeconfig, work / "cache"), "-n", NS]
        ours = [NODEAPP, "forward", "trace-api", "--pod", pod, "--kubeconfig", kubeconfig, "-n", NS]
        theirs = [*kubectl, "port-forward", f"pod/{pod}"]
        first = {
            "nodeapp": lambda: time_to_first_byte([*ours, "0:3000"]),
            "kubectl": lambda: time_to_first_byte([*theirs, "0:3000"]),
        }
        warm_up(first)  # kubectl's discovery cache, page cache
        ttfb = alternate(args.runs, first)
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
    load_after = os.getloadavg()

    ours_s, theirs_s = median(ttfb["nodeapp"]), median(ttfb["kubectl"])
    rate = {name: (args.megabytes << 20) / median(values) / 1e6 for name, values in through.items()}
    lines = [
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
        *table(
            ["measure", "kubectl nodeapp forward", "kubectl port-forward", "ratio"],
            "llll",
            [
                ["time to first byte of `GET /healthz`", ms(ours_s), ms(theirs_s), ratio(ours_s, theirs_s)],
                [
                    f"{args.megabytes} MiB `GET /blob`",
                    f"{rate['nodeapp']:.0f} MB/s",
                    f"{rate['kubectl']:.0f} MB/s",
                    ratio(rate["nodeapp"], rate["kubectl"]),
                ],
            ],
        ),
        "",
        *NOTES,
    ]
    publish("forward", lines, args.no_write)


if __name__ == "__main__":
    main()
