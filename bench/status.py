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

import os
import select
import subprocess
import time
from datetime import UTC, datetime
from typing import Any

from _harness import (
    NODEAPP,
    clean_env,
    compare_walls,
    kubectl_argv,
    median_cpu,
    private_sandbox,
    stop,
    wait_for_success,
)
from _report import arguments, median, ms, publish, stamp, table, versus_table

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


def pure_section(pods: int, runs: int) -> list[str]:
    from kubectl_trace.health import deployment_rollout, event_record, index_events, pod_health

    out_pods, out_events, deployment, rss = synthetic(pods)
    index = index_events(out_events)
    now = T0
    frame = median_cpu(lambda: [pod_health(p, index, now) for p in out_pods], runs)
    build = median_cpu(lambda: index_events(out_events), runs)
    records = median_cpu(lambda: [event_record(e) for e in out_events], runs)
    rollout = median_cpu(lambda: [deployment_rollout(deployment, rss, now) for _ in range(100)], runs) / 100
    return [
        f"Pure health module, {pods} pods / {len(out_events)} events, median CPU time of {runs} passes:",
        "",
        *table(
            ["work", "median", "per item"],
            "lrr",
            [
                ["`pod_health` for every pod (one frame)", ms(frame), f"{frame / pods * 1e6:.0f} µs/pod"],
                [
                    "`index_events` (build the per-pod index)",
                    ms(build),
                    f"{build / len(out_events) * 1e6:.1f} µs/event",
                ],
                [
                    "`event_record` (normalise one event)",
                    ms(records),
                    f"{records / len(out_events) * 1e6:.1f} µs/event",
                ],
                ["`deployment_rollout` (one Deployment, 2 ReplicaSets)", f"{rollout * 1e6:.0f} µs", ""],
            ],
        ),
    ]


def watch_latency(argv: list[str], kube: Any, namespace: str, marker: str, runs: int) -> float:
    """Median seconds from creating an Event to a stdout line mentioning it."""
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=clean_env())
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
        stop(child, timeout=10)
    return median(samples) if samples else float("nan")


def sandbox_section(runs: int) -> list[str]:
    from kubectl_trace.kube.client import connect
    from kubectl_trace.kube.settings import KubeSettings

    with private_sandbox("bench-status-", fixture="demo") as (handle, work):
        cfg = handle.kubeconfig
        ours_status = [NODEAPP, "status", "trace-api", "-n", NS, "--kubeconfig", cfg]
        wait_for_success([ours_status], 60, f"status trace-api -n {NS} to succeed")
        kube = connect(KubeSettings(kubeconfig=cfg))
        try:
            pods = [
                p["metadata"]["name"]
                for p in kube.list("pods", NS, label_selector="app=trace-api,process=web").items
            ]
            k = kubectl_argv(cfg, work / "cache")
            cases = {
                "status": (
                    [ours_status],
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
            results = {
                name: compare_walls(runs, lambda o=ours: o, lambda t=theirs: t)
                for name, (ours, theirs) in cases.items()
            }
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
    peers = {
        "status": "`get deploy,rs,pods` + `get events`",
        "status --probe": f"per web pod ({len(pods)}): `get --raw …/proxy/healthz` + "
        "`exec -- node --version`",
        "events": "`kubectl events`",
    }
    rows = [(f"`{name}` vs {peers[name]}", ours, theirs) for name, (ours, theirs) in results.items()]
    rows.append(("`events -w`: Event created → line printed vs `get events -w`", ours_w, theirs_w))
    return [
        f"Against a private sandbox (demo fixture, time scale 0.1), {runs} alternating runs, median wall",
        "time (spawn to exit, output discarded):",
        "",
        *versus_table(rows),
    ]


def main() -> None:
    parser = arguments(__doc__, runs=10)
    parser.add_argument("--pods", type=int, default=2000)
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
    publish("status", lines, args.no_write)


if __name__ == "__main__":
    main()
