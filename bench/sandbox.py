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
import http.client
import json
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from _harness import (
    IMAGE,
    credentials,
    kubectl_argv,
    process_memory,
    sandbox,
    wait_until,
    wall,
    web_deployment,
    workdir,
)
from _report import arguments, median, publish, stamp, table

from kubectl_trace.kube.client import connect
from kubectl_trace.kube.settings import KubeSettings
from kubectl_trace.sandbox.process import SandboxHandle


def deployment(name: str, replicas: int, tag: str) -> dict[str, Any]:
    return web_deployment(
        name,
        "default",
        replicas,
        f"{IMAGE}:{tag}",
        probe_every=5,
        strategy={"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
    )


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
    """Seconds until the rollout of ``name`` is complete."""
    started = time.monotonic()
    wait_until(lambda: complete(kube, name), timeout, f"the rollout of {name}", every=0.2)
    return time.monotonic() - started


def rss_mb(pid: int) -> float:
    return process_memory(pid)[0]


class Raw:
    """Plain HTTPS reads with the sandbox's token (what a log reader costs the server)."""

    def __init__(self, handle: SandboxHandle) -> None:
        self.credentials = credentials(handle.kubeconfig)
        self.host, self.port = handle.host, handle.port

    def read(self, path: str) -> tuple[int, int]:
        """(bytes, lines) of a whole response body."""
        conn = http.client.HTTPSConnection(
            self.host, self.port, context=self.credentials.context, timeout=300
        )
        conn.request("GET", path, headers=self.credentials.headers)
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


def bench_pods(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    with sandbox(work / "pods.kubeconfig", time_scale=0.05, fixture="empty", log_rate=2.0) as handle:
        kube = connect(KubeSettings(kubeconfig=handle.kubeconfig, namespace="default"))
        rss_idle = rss_mb(handle.pid)
        kube.create("deployments", deployment("big", args.pods, "1000001"), "default")
        create_s = wait_complete(kube, "big")
        rss_up = rss_mb(handle.pid)
        kubectl = kubectl_argv(handle.kubeconfig, work / "kubectl-cache")
        wall([*kubectl, "get", "pods", "-o", "json"])  # discovery cache warm-up
        py_list, kc_json, kc_table = [], [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            items = kube.list("pods", "default").items
            py_list.append(time.perf_counter() - started)
            assert len(items) == args.pods, len(items)
            kc_json.append(wall([*kubectl, "get", "pods", "-o", "json"]))
            kc_table.append(wall([*kubectl, "get", "pods"]))
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


def bench_logs(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    options = {"time_scale": 0.05, "fixture": "empty", "log_rate": 2.0, "log_backlog": args.backlog}
    with sandbox(work / "logs.kubeconfig", **options) as handle:
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
        kubectl = kubectl_argv(handle.kubeconfig, work / "kubectl-cache-logs")
        wall([*kubectl, "logs", pods[0], "-c", "web"])
        lines_per_pod = raw.read(path.format(pods[0]))[1]
        kc_one = [
            lines_per_pod / wall([*kubectl, "logs", pods[i % len(pods)], "-c", "web"])
            for i in range(args.runs)
        ]

        def kubectl_many(readers: int) -> float:
            procs = []
            started = time.perf_counter()
            for i in range(readers):
                procs.append(
                    subprocess.Popen(
                        [*kubectl, "logs", pods[i % 20], "-c", "web"],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
            codes = [p.wait() for p in procs]
            if any(codes):  # a kubectl that failed would look fast
                raise RuntimeError(f"kubectl logs exited {sorted(set(codes))}")
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


def main() -> None:
    parser = arguments(__doc__, runs=5)
    parser.add_argument("--pods", type=int, default=2000)
    parser.add_argument("--backlog", type=int, default=50_000)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with workdir("bench-sandbox-") as work:
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
        *table(
            ["measure", "value"],
            "lr",
            [
                ["create → rollout complete", f"{pods['create_s']:.1f} s"],
                ["roll to a new image → complete", f"{pods['roll_s']:.1f} s"],
                [
                    f"server RSS: idle / {pods['pods']} pods / after the roll",
                    f"{pods['rss_idle']:.0f} / {pods['rss_up']:.0f} / {pods['rss_rolled']:.0f} MB",
                ],
                [f"list {pods['pods']} pods, Python client (`Kube.list`)", f"{pods['py_list_ms']:.0f} ms"],
                [
                    f"list {pods['pods']} pods, `kubectl get pods -o json` (peer, whole process)",
                    f"{pods['kc_json_ms']:.0f} ms",
                ],
                ["`kubectl get pods` table (peer, whole process)", f"{pods['kc_table_ms']:.0f} ms"],
            ],
        ),
        "",
        f"**Logs served** (20 pods, {logs['backlog']:,} lines of history each = "
        f"{logs['lines_per_pod']:,} lines per read, whole log, no follow):",
        "",
        *table(
            ["reader", "lines/s"],
            "lr",
            [
                [reader, f"{logs[key]:,.0f}"]
                for reader, key in [
                    ("1 raw HTTPS reader", "one"),
                    ("1 raw HTTPS reader, `timestamps=true`", "one_ts"),
                    ("50 concurrent raw readers (aggregate)", "fifty"),
                    ("1 `kubectl logs` (peer, whole process)", "kc_one"),
                    ("50 concurrent `kubectl logs` (peer, aggregate)", "kc_fifty"),
                ]
            ],
        ),
        "",
        f"Server RSS after the log runs: {logs['rss']:.0f} MB. A product benchmark reading logs faster",
        "than the raw readers above would be measuring the sandbox, not itself.",
    ]
    publish("sandbox", lines, args.no_write)


if __name__ == "__main__":
    main()
