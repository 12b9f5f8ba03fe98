"""``status`` and ``events`` vs the kubectl commands that gather the same facts; the health module's cost.

Usage: .venv/bin/python bench/status.py [--runs N] [--pods P] [--no-write]

1. Pure cost of ``kubectl_trace.health`` (no I/O): ``pod_health`` over P synthetic pods
   with an ``EventIndex`` (3 events per pod; a tenth of the pods failing readiness), the
   index build, ``event_record`` per event and ``deployment_rollout`` per Deployment.
   Medians of N passes (CPU time of this process, so other load on the machine counts less).
2. Against a private sandbox (demo fixture, time scale 0.1), alternating the two sides in
   the same run, median wall time of N runs of each (spawn to exit, output discarded):
   - ``kubectl-nodeapp status trace-api -n production`` vs ``kubectl get deploy,rs,pods``
     + ``kubectl get events`` (the listings a user reads to answer the same question);
   - ``kubectl-nodeapp status deploy/trace-api-web --probe`` vs, per web pod,
     ``kubectl get --raw …/pods/POD:3000/proxy/healthz`` + ``kubectl exec POD -- node --version``;
   - ``kubectl-nodeapp events trace-api -n production`` vs ``kubectl events -n production``;
   - ``events -w``: from creating an Event to its line on stdout, vs ``kubectl get events -w``.
Writes the ``status`` section of BENCHMARKS.md unless --no-write.
"""

from __future__ import annotations

import argparse
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import ROOT, median, stamp, update_section

sys.path.insert(0, str(ROOT))
NODEAPP = str(ROOT / "bin" / "kubectl-nodeapp")
KUBECTL = str(ROOT / ".venv" / "bin" / "kubectl")
NS = "production"
T0 = 1_772_366_400.0


def _ts(offset: float) -> str:
    return datetime.fromtimestamp(int(T0 + offset), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def synthetic(
    pods: int,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
    """Pods, events, a Deployment and its ReplicaSets shaped as the API sends them."""
    probe = {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 5, "failureThreshold": 3}
    out_pods, out_events = [], []
    for i in range(pods):
        name = f"trace-api-web-6f4957b6c8-{i:05d}"
        ready = i % 10 != 0
        out_pods.append(
            {
                "metadata": {
                    "name": name,
                    "namespace": NS,
                    "uid": f"uid-{i}",
                    "creationTimestamp": _ts(-600),
                    "labels": {"app": "trace-api", "process": "web", "pod-template-hash": "6f4957b6c8"},
                    "ownerReferences": [
                        {"kind": "ReplicaSet", "name": "trace-api-web-6f4957b6c8", "controller": True}
                    ],
                },
                "spec": {
                    "nodeName": "node-1",
                    "containers": [
                        {
                            "name": "web",
                            "image": "registry.sandbox.local/trace/trace-api:3f9c2a1",
                            "ports": [{"name": "http", "containerPort": 3000}],
                            "readinessProbe": probe,
                            "livenessProbe": {**probe, "failureThreshold": 6},
                        }
                    ],
                },
                "status": {
                    "phase": "Running",
                    "conditions": [
                        {"type": "Ready", "status": "True" if ready else "False"},
                        {"type": "PodScheduled", "status": "True"},
                    ],
                    "containerStatuses": [
                        {
                            "name": "web",
                            "ready": ready,
                            "started": True,
                            "restartCount": 0,
                            "image": "registry.sandbox.local/trace/trace-api:3f9c2a1",
                            "imageID": "",
                            "state": {"running": {"startedAt": _ts(-590)}},
                        }
                    ],
                },
            }
        )
        for j, (reason, message, kind) in enumerate(
            [
                ("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", "Warning"),
                ("Pulled", 'Container image "x" already present on machine', "Normal"),
                ("Started", "Started container web", "Normal"),
            ]
        ):
            out_events.append(
                {
                    "metadata": {
                        "name": f"{name}.{j}",
                        "namespace": NS,
                        "uid": f"ev-{i}-{j}",
                        "resourceVersion": str(i * 3 + j),
                    },
                    "involvedObject": {
                        "kind": "Pod",
                        "namespace": NS,
                        "name": name,
                        "uid": f"uid-{i}",
                        "fieldPath": "spec.containers{web}",
                    },
                    "reason": reason,
                    "message": message,
                    "type": kind,
                    "count": 5,
                    "firstTimestamp": _ts(-300),
                    "lastTimestamp": _ts(-2),
                    "source": {"component": "kubelet"},
                }
            )
    deployment = {
        "metadata": {
            "name": "trace-api-web",
            "namespace": NS,
            "uid": "d1",
            "generation": 3,
            "annotations": {"deployment.kubernetes.io/revision": "2"},
        },
        "spec": {
            "replicas": pods,
            "selector": {"matchLabels": {"app": "trace-api", "process": "web"}},
            "template": {
                "metadata": {"labels": {"app": "trace-api", "process": "web"}},
                "spec": out_pods[0]["spec"],
            },
        },
        "status": {
            "observedGeneration": 3,
            "replicas": pods,
            "updatedReplicas": pods,
            "readyReplicas": pods,
            "availableReplicas": pods,
        },
    }
    rss = [
        {
            "metadata": {
                "name": f"trace-api-web-{h}",
                "namespace": NS,
                "annotations": {"deployment.kubernetes.io/revision": str(r)},
                "ownerReferences": [
                    {"kind": "Deployment", "name": "trace-api-web", "uid": "d1", "controller": True}
                ],
            },
            "spec": {"replicas": pods if r == 2 else 0, "template": deployment["spec"]["template"]},
            "status": {"replicas": pods if r == 2 else 0},
        }
        for r, h in ((1, "5b6976f64"), (2, "6f4957b6c8"))
    ]
    return out_pods, out_events, deployment, rss


def cpu(fn: Any, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.process_time()
        fn()
        samples.append(time.process_time() - start)
    return median(samples)


def pure_section(pods: int, runs: int) -> list[str]:
    from kubectl_trace.health import deployment_rollout, event_record, index_events, pod_health

    out_pods, out_events, deployment, rss = synthetic(pods)
    index = index_events(out_events)
    now = T0
    frame = cpu(lambda: [pod_health(p, index, now) for p in out_pods], runs)
    build = cpu(lambda: index_events(out_events), runs)
    records = cpu(lambda: [event_record(e) for e in out_events], runs)
    rollout = cpu(lambda: [deployment_rollout(deployment, rss, now) for _ in range(100)], runs) / 100
    return [
        f"Pure health module, {pods} pods / {len(out_events)} events, median CPU time of {runs} passes:",
        "",
        "| work | median | per item |",
        "|---|---:|---:|",
        f"| `pod_health` for every pod (one frame) | {frame * 1000:.0f} ms "
        f"| {frame / pods * 1e6:.0f} µs/pod |",
        f"| `index_events` (build the per-pod index) | {build * 1000:.0f} ms "
        f"| {build / len(out_events) * 1e6:.1f} µs/event |",
        f"| `event_record` (normalise one event) | {records * 1000:.0f} ms "
        f"| {records / len(out_events) * 1e6:.1f} µs/event |",
        f"| `deployment_rollout` (one Deployment, 2 ReplicaSets) | {rollout * 1e6:.0f} µs | |",
    ]


def wall(argv: list[str]) -> float:
    """Seconds from spawn to exit; a command that fails is an error, not a fast result."""
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False, env=_env())
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{argv[:4]} exited {done.returncode}: {done.stderr[-300:]!r}")
    return took


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}


def watch_latency(argv: list[str], kube: Any, namespace: str, marker: str, runs: int) -> float:
    """Median seconds from creating an Event to a stdout line mentioning it."""
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_env())
    buffer = b""

    def wait_for(text: bytes, timeout: float) -> float | None:
        nonlocal buffer
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in buffer:
                buffer = buffer[buffer.index(text) + len(text) :]
                return time.perf_counter()
            ready, _, _ = select.select([child.stdout], [], [], 0.05)
            if ready:
                chunk = os.read(child.stdout.fileno(), 65536)  # type: ignore[union-attr]
                if not chunk:
                    return None
                buffer += chunk
        return None

    samples = []
    try:
        for i in range(runs + 1):
            reason = f"{marker}{i}"
            now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            start = time.perf_counter()
            kube.create(
                "events",
                {
                    "metadata": {"name": f"bench.{time.time_ns():x}", "namespace": namespace},
                    "involvedObject": {"kind": "Pod", "namespace": namespace, "name": "bench-pod"},
                    "reason": reason,
                    "message": "bench",
                    "type": "Normal",
                    "firstTimestamp": now,
                    "lastTimestamp": now,
                    "count": 1,
                },
                namespace,
            )
            seen = wait_for(reason.encode(), 10)
            if seen is not None and i > 0:  # the first one also waits for the watch to open
                samples.append(seen - start)
            time.sleep(0.2)
    finally:
        child.terminate()
        child.wait(timeout=10)
    return median(samples) if samples else float("nan")


def sandbox_section(runs: int) -> list[str]:
    from kubectl_trace.kube.client import connect
    from kubectl_trace.kube.settings import KubeSettings
    from kubectl_trace.sandbox.interfaces import SandboxOptions
    from kubectl_trace.sandbox.process import start_sandbox

    directory = tempfile.mkdtemp(prefix="bench-status-")
    cfg = os.path.join(directory, "kubeconfig")
    handle = start_sandbox(
        cfg,
        SandboxOptions(time_scale=0.1, fixture="demo", containers="simulated"),
        exit_with_parent=os.getpid(),
        timeout=90,
    )
    kube = connect(KubeSettings(kubeconfig=cfg))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if (
                subprocess.run(
                    [NODEAPP, "status", "trace-api", "-n", NS, "--kubeconfig", cfg],
                    capture_output=True,
                    env=_env(),
                ).returncode
                == 0
            ):
                break
            time.sleep(0.5)
        pods = [
            p["metadata"]["name"]
            for p in kube.list("pods", NS, label_selector="app=trace-api,process=web").items
        ]
        k = [KUBECTL, "--kubeconfig", cfg, "--cache-dir", os.path.join(directory, "cache")]
        cases = {
            "status": (
                [[NODEAPP, "status", "trace-api", "-n", NS, "--kubeconfig", cfg]],
                [[*k, "get", "deploy,rs,pods", "-n", NS], [*k, "get", "events", "-n", NS]],
            ),
            "status --probe": (
                [[NODEAPP, "status", "deploy/trace-api-web", "-n", NS, "--probe", "--kubeconfig", cfg]],
                [
                    argv
                    for pod in pods
                    for argv in (
                        [*k, "get", "--raw", f"/api/v1/namespaces/{NS}/pods/{pod}:3000/proxy/healthz"],
                        [*k, "exec", pod, "-n", NS, "-c", "web", "--", "node", "--version"],
                    )
                ],
            ),
            "events": (
                [[NODEAPP, "events", "trace-api", "-n", NS, "--kubeconfig", cfg]],
                [[*k, "events", "-n", NS]],
            ),
        }
        for ours, theirs in cases.values():  # warm-up (discovery cache, page cache)
            for argv in ours + theirs:
                wall(argv)
        results: dict[str, tuple[float, float]] = {}
        for name, (ours, theirs) in cases.items():
            a, b = [], []
            for _ in range(runs):
                a.append(sum(wall(argv) for argv in ours))
                b.append(sum(wall(argv) for argv in theirs))
            results[name] = (median(a), median(b))
        kube.create("namespaces", {"metadata": {"name": "bench-events"}})
        ours_w = watch_latency(
            [NODEAPP, "events", "-n", "bench-events", "-w", "--kubeconfig", cfg],
            kube,
            "bench-events",
            "Ours",
            runs,
        )
        theirs_w = watch_latency(
            [*k, "get", "events", "-n", "bench-events", "-w"], kube, "bench-events", "Theirs", runs
        )
    finally:
        kube.close()
        handle.stop()
        shutil.rmtree(directory, ignore_errors=True)
    lines = [
        f"Against a private sandbox (demo fixture, time scale 0.1), {runs} alternating runs, median wall",
        "time (spawn to exit, output discarded):",
        "",
        "| task | kubectl-nodeapp | kubectl (peer) | ratio |",
        "|---|---:|---:|---:|",
    ]
    peers = {
        "status": "`get deploy,rs,pods` + `get events`",
        "status --probe": f"per web pod ({len(pods)}): `get --raw …/proxy/healthz` + "
        "`exec -- node --version`",
        "events": "`kubectl events`",
    }
    for name, (ours, theirs) in results.items():
        lines.append(
            f"| `{name}` vs {peers[name]} | {ours * 1000:.0f} ms | {theirs * 1000:.0f} ms "
            f"| {ours / theirs:.2f}× |"
        )
    lines.append(
        f"| `events -w`: Event created → line printed vs `get events -w` | {ours_w * 1000:.0f} ms | "
        f"{theirs_w * 1000:.0f} ms | {ours_w / theirs_w:.2f}× |"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--pods", type=int, default=2000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    lines = [
        "## status and events",
        "",
        f"{stamp()} Load average at start: {load:.1f}. "
        f"`bench/status.py --runs {args.runs} --pods {args.pods}`.",
        "",
        *pure_section(args.pods, args.runs),
        "",
        *sandbox_section(args.runs),
        "",
        f"Load average at the end: {os.getloadavg()[0]:.1f}.",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        update_section("status", text)


if __name__ == "__main__":
    main()
