"""How much the sandbox holds and serves: 2,000 pods, list latency, memory, log throughput.

Usage: .venv/bin/python bench/sandbox.py [--pods 2000] [--runs 5] [--backlog 50000] [--no-write]

1. A private sandbox (empty fixture, ``--time-scale 0.05``): a Deployment of N replicas is
   created and rolled out, then rolled to a new image; wall time of each rollout (until
   ``kubectl rollout status`` would succeed), the server's RSS, and the latency of listing
   the N pods — through the Python client and with the real ``kubectl get pods -o json``
   (the peer), medians of ``--runs``.
2. A private sandbox with ``--log-backlog`` lines of history per container and 20 pods:
   lines per second served to one reader (whole log, no follow), and to 50 concurrent
   readers (spread over the 20 pods), read raw over HTTPS; the peer is ``kubectl logs``
   (1 process, then 50 at once).

Writes its section of BENCHMARKS.md unless --no-write.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _report import ROOT, median, stamp, update_section

from kubectl_trace.kube.client import connect
from kubectl_trace.kube.settings import KubeSettings
from kubectl_trace.sandbox.interfaces import SandboxOptions
from kubectl_trace.sandbox.process import SandboxHandle, start_sandbox

KUBECTL = str(ROOT / ".venv" / "bin" / "kubectl")
IMAGE = "registry.sandbox.local/trace/trace-api"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def deployment(name: str, replicas: int, tag: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": {"app": name, "process": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": f"{IMAGE}:{tag}",
                            "env": [{"name": "PROCESS_TYPE", "value": "web"}],
                            "ports": [{"name": "http", "containerPort": 3000}],
                            "readinessProbe": {
                                "httpGet": {"path": "/healthz", "port": "http"},
                                "periodSeconds": 5,
                            },
                        }
                    ]
                },
            },
        },
    }


def complete(kube: Any, name: str) -> bool:
    d = kube.get("deployments", name, "default")
    s = d.get("status") or {}
    want = d["spec"]["replicas"]
    return (
        s.get("observedGeneration", 0) >= d["metadata"]["generation"]
        and s.get("updatedReplicas", 0) == want
        and s.get("replicas", 0) == want
        and s.get("availableReplicas", 0) == want
    )


def wait_complete(kube: Any, name: str, timeout: float = 900) -> float:
    started = time.monotonic()
    while not complete(kube, name):
        if time.monotonic() - started > timeout:
            raise SystemExit(f"rollout of {name} did not complete within {timeout:.0f}s")
        time.sleep(0.2)
    return time.monotonic() - started


def kubectl(handle: SandboxHandle, cache: str, *args: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [KUBECTL, "--kubeconfig", handle.kubeconfig, "--cache-dir", cache, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - started


class Raw:
    """Plain HTTPS reads with the sandbox's token (what a log reader costs the server)."""

    def __init__(self, handle: SandboxHandle) -> None:
        import yaml

        config = yaml.safe_load(Path(handle.kubeconfig).read_text())
        ca = base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"]).decode()
        self.token = config["users"][0]["user"]["token"]
        self.context = ssl.create_default_context(cadata=ca)
        self.host, self.port = handle.host, handle.port

    def read(self, path: str) -> tuple[int, int]:
        """(bytes, lines) of a whole response body."""
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=300)
        conn.request("GET", path, headers={"Authorization": f"Bearer {self.token}"})
        response = conn.getresponse()
        total = lines = 0
        while True:
            block = response.read(1 << 20)
            if not block:
                break
            total += len(block)
            lines += block.count(b"\n")
        conn.close()
        if response.status != 200:
            raise SystemExit(f"GET {path}: {response.status}")
        return total, lines


def bench_pods(args: argparse.Namespace, work: str) -> dict[str, Any]:
    handle = start_sandbox(
        os.path.join(work, "pods.kubeconfig"),
        SandboxOptions(time_scale=0.05, fixture="empty", log_rate=2.0, containers="simulated"),
        exit_with_parent=os.getpid(),
        timeout=90,
    )
    try:
        kube = connect(KubeSettings(kubeconfig=handle.kubeconfig, namespace="default"))
        rss_idle = rss_mb(handle.pid)
        kube.create("deployments", deployment("big", args.pods, "1000001"), "default")
        create_s = wait_complete(kube, "big")
        rss_up = rss_mb(handle.pid)
        cache = os.path.join(work, "kubectl-cache")
        kubectl(handle, cache, "get", "pods", "-o", "json")  # discovery cache warm-up
        py_list, kc_json, kc_table = [], [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            items = kube.list("pods", "default").items
            py_list.append(time.perf_counter() - started)
            assert len(items) == args.pods, len(items)
            kc_json.append(kubectl(handle, cache, "get", "pods", "-o", "json"))
            kc_table.append(kubectl(handle, cache, "get", "pods"))
        patch = {
            "spec": {"template": {"spec": {"containers": [{"name": "web", "image": f"{IMAGE}:1000002"}]}}}
        }
        kube.patch("deployments", "big", patch, "default")
        roll_s = wait_complete(kube, "big")
        while len(kube.list("pods", "default").items) != args.pods:
            time.sleep(0.2)
        rss_rolled = rss_mb(handle.pid)
        status = handle.status()
        kube.close()
        return {
            "pods": args.pods,
            "create_s": create_s,
            "roll_s": roll_s,
            "rss_idle": rss_idle,
            "rss_up": rss_up,
            "rss_rolled": rss_rolled,
            "py_list_ms": median(py_list) * 1000,
            "kc_json_ms": median(kc_json) * 1000,
            "kc_table_ms": median(kc_table) * 1000,
            "objects": status.get("objects"),
        }
    finally:
        handle.stop()


def bench_logs(args: argparse.Namespace, work: str) -> dict[str, Any]:
    handle = start_sandbox(
        os.path.join(work, "logs.kubeconfig"),
        SandboxOptions(
            time_scale=0.05, fixture="empty", log_rate=2.0, log_backlog=args.backlog, containers="simulated"
        ),
        exit_with_parent=os.getpid(),
        timeout=90,
    )
    try:
        kube = connect(KubeSettings(kubeconfig=handle.kubeconfig, namespace="default"))
        kube.create("deployments", deployment("logs", 20, "2000001"), "default")
        wait_complete(kube, "logs")
        pods = [p["metadata"]["name"] for p in kube.list("pods", "default").items]
        raw = Raw(handle)
        path = "/api/v1/namespaces/default/pods/{}/log?container=web"
        raw.read(path.format(pods[0]))  # the first read renders the shared backlog once
        one = []
        for i in range(args.runs):
            started = time.perf_counter()
            _, lines = raw.read(path.format(pods[i % len(pods)]))
            one.append(lines / (time.perf_counter() - started))
        with_ts = []
        for i in range(args.runs):
            started = time.perf_counter()
            _, lines = raw.read(path.format(pods[i % len(pods)]) + "&timestamps=true")
            with_ts.append(lines / (time.perf_counter() - started))

        def many(readers: int) -> float:
            counts = [0] * readers

            def reader(i: int) -> None:
                counts[i] = raw.read(path.format(pods[i % len(pods)]))[1]

            threads = [threading.Thread(target=reader, args=(i,)) for i in range(readers)]
            started = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            return sum(counts) / (time.perf_counter() - started)

        fifty = [many(50) for _ in range(max(1, args.runs // 2))]
        cache = os.path.join(work, "kubectl-cache-logs")
        kubectl(handle, cache, "logs", pods[0], "-c", "web")
        lines_per_pod = raw.read(path.format(pods[0]))[1]
        kc_one = [
            lines_per_pod / kubectl(handle, cache, "logs", pods[i % len(pods)], "-c", "web")
            for i in range(args.runs)
        ]

        def kubectl_many(readers: int) -> float:
            procs = []
            started = time.perf_counter()
            for i in range(readers):
                procs.append(
                    subprocess.Popen(
                        [
                            KUBECTL,
                            "--kubeconfig",
                            handle.kubeconfig,
                            "--cache-dir",
                            cache,
                            "logs",
                            pods[i % 20],
                            "-c",
                            "web",
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
            for p in procs:
                p.wait()
            return readers * lines_per_pod / (time.perf_counter() - started)

        kc_fifty = [kubectl_many(50) for _ in range(max(1, args.runs // 2))]
        rss = rss_mb(handle.pid)
        kube.close()
        return {
            "backlog": args.backlog,
            "lines_per_pod": lines_per_pod,
            "one": median(one),
            "one_ts": median(with_ts),
            "fifty": median(fifty),
            "kc_one": median(kc_one),
            "kc_fifty": median(kc_fifty),
            "rss": rss,
        }
    finally:
        handle.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pods", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--backlog", type=int, default=50_000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as work:
        pods = bench_pods(args, work)
        print(json.dumps(pods), flush=True)
        logs = bench_logs(args, work)
        print(json.dumps(logs), flush=True)
    load_end = os.getloadavg()[0]
    lines = [
        "## Sandbox capacity",
        "",
        f"{stamp()} Load average {load:.1f} at start, {load_end:.1f} at the end.",
        f"`bench/sandbox.py --pods {args.pods} --runs {args.runs}"
        f" --backlog {args.backlog}`; medians of the runs.",
        "",
        f"**{pods['pods']} pods in one Deployment** "
        "(time scale 0.05, RollingUpdate 25%/25%, readiness probes):",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| create → rollout complete | {pods['create_s']:.1f} s |",
        f"| roll to a new image → complete | {pods['roll_s']:.1f} s |",
        f"| server RSS: idle / {pods['pods']} pods / after the roll | "
        f"{pods['rss_idle']:.0f} / {pods['rss_up']:.0f} / {pods['rss_rolled']:.0f} MB |",
        f"| list {pods['pods']} pods, Python client (`Kube.list`) | {pods['py_list_ms']:.0f} ms |",
        f"| list {pods['pods']} pods, `kubectl get pods -o json` (peer, whole process) "
        f"| {pods['kc_json_ms']:.0f} ms |",
        f"| `kubectl get pods` table (peer, whole process) | {pods['kc_table_ms']:.0f} ms |",
        "",
        f"**Logs served** (20 pods, {logs['backlog']:,} lines of history each = "
        f"{logs['lines_per_pod']:,} lines per read, whole log, no follow):",
        "",
        "| reader | lines/s |",
        "|---|---:|",
        f"| 1 raw HTTPS reader | {logs['one']:,.0f} |",
        f"| 1 raw HTTPS reader, `timestamps=true` | {logs['one_ts']:,.0f} |",
        f"| 50 concurrent raw readers (aggregate) | {logs['fifty']:,.0f} |",
        f"| 1 `kubectl logs` (peer, whole process) | {logs['kc_one']:,.0f} |",
        f"| 50 concurrent `kubectl logs` (peer, aggregate) | {logs['kc_fifty']:,.0f} |",
        "",
        f"Server RSS after the log runs: {logs['rss']:.0f} MB. A product benchmark reading logs faster",
        "than the raw readers above would be measuring the sandbox, not itself.",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        update_section("sandbox", text)


if __name__ == "__main__":
    main()
