"""The rollout dashboard on a 1,000-pod Deployment mid-rollout, against watches vs polling.

Usage: .venv/bin/python bench/dashboard.py [--pods 1000] [--runs 3] [--cpu-seconds 30]
                                           [--steady-seconds 60] [--no-write]

Set-up: a private sandbox (empty fixture, ``--time-scale 0.2``); namespace ``bench``; a
Deployment ``big`` of N replicas rolled to a new image and paused when a quarter of the pods
are updated (mid-rollout, so both ReplicaSets are live).

1. Time to first full frame: ``kubectl-nodeapp rollout big -n bench`` started in tmux
   (120×40) until the screen shows the pods table with every pod counted; the peer is the
   real ``kubectl get deploy,rs,pods -n bench`` (time until its table is printed).
2. One frame: the dashboard's frame pipeline in process (fold the inputs, derive, render
   with rich, convert for prompt_toolkit) at 120×40, with 5 pod changes folded in before
   each frame; median and 95th percentile.
3. CPU and memory of the running dashboard (the tmux process) while the bench patches 50
   pods a second (each patch is a MODIFIED watch event): CPU time / wall time from
   ``/proc/PID/stat``, resident memory from ``/proc/PID/status``.
4. API requests in steady state: the sandbox's request counter over ``--steady-seconds``
   with only the dashboard connected; the peer is a poller that lists Deployments,
   ReplicaSets, pods and events every 2 s (a client without watches), run for the same time: its
   requests, bytes received and CPU.

Writes its section of BENCHMARKS.md unless --no-write.
"""

from __future__ import annotations

import io
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from _harness import (
    IMAGE,
    NODEAPP,
    kubectl_argv,
    private_sandbox,
    process_cpu,
    process_memory,
    wait_until,
    wall,
    web_deployment,
)
from _report import ROOT, arguments, median, publish, ratio, stamp, table

from kubectl_trace.kube.client import connect
from kubectl_trace.kube.settings import KubeSettings
from kubectl_trace.sandbox.process import SandboxHandle

NS = "bench"


def deployment(replicas: int) -> dict[str, Any]:
    return web_deployment(
        "big",
        NS,
        replicas,
        f"{IMAGE}:1000001",
        probe_every=30,
        liveness=True,
        progressDeadlineSeconds=36000,
        strategy={"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
    )


def set_up(kube: Any, pods: int) -> dict[str, Any]:
    started = time.monotonic()
    kube.create("namespaces", {"metadata": {"name": NS}})
    kube.create("deployments", deployment(pods), NS)

    def available() -> bool:
        status = kube.get("deployments", "big", NS).get("status") or {}
        return status.get("availableReplicas", 0) == pods and status.get("updatedReplicas", 0) == pods

    wait_until(available, 1200, f"{pods} pods to be available")
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": f"{IMAGE}:1000002"}]}}}}
    kube.patch("deployments", "big", patch, NS)

    def quarter() -> bool:
        status = kube.get("deployments", "big", NS).get("status") or {}
        return status.get("updatedReplicas", 0) >= pods // 4

    wait_until(quarter, 600, "a quarter of the pods to be updated")
    kube.patch("deployments", "big", {"spec": {"paused": True}}, NS)

    def settled() -> bool:  # every pod there is ready: no more start-up events
        status = kube.get("deployments", "big", NS).get("status") or {}
        return status.get("readyReplicas", 0) == status.get("replicas", -1)

    wait_until(settled, 600, "the paused rollout's pods to be ready")
    time.sleep(5)  # the last events land
    status = kube.get("deployments", "big", NS).get("status") or {}
    return {"setup_s": time.monotonic() - started, "status": status, "pods": len(kube.list("pods", NS).items)}


class Screen:
    """The dashboard in a private tmux server."""

    def __init__(self, work: str) -> None:
        self.socket = os.path.join(tempfile.mkdtemp(prefix="bt-"), "s")
        self.work = work

    def tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-S", self.socket, *args], capture_output=True, text=True, check=False
        ).stdout

    def start(self, kubeconfig: str, name: str) -> tuple[float, int]:
        pid_file = os.path.join(self.work, f"{name}.pid")
        argv = [NODEAPP, "rollout", "big", "-n", NS, "--kubeconfig", kubeconfig]
        script = f"echo $$ > {pid_file}; exec {shlex.join(argv)}"
        for _attempt in range(3):  # a tmux server still shutting down can refuse a new session
            started = time.perf_counter()
            self.tmux(
                "new-session", "-d", "-s", name, "-x", "120", "-y", "40", "bash", "--norc", "-c", script
            )
            deadline = time.monotonic() + 10
            while not os.path.exists(pid_file) and time.monotonic() < deadline:
                time.sleep(0.005)
            if os.path.exists(pid_file):
                time.sleep(0.05)
                return started, int(Path(pid_file).read_text())
            self.tmux("kill-session", "-t", name)
        raise RuntimeError(f"tmux did not start the dashboard ({name})")

    def capture(self, name: str) -> str:
        return self.tmux("capture-pane", "-p", "-t", name)

    def close(self) -> None:
        self.tmux("kill-server")
        shutil.rmtree(os.path.dirname(self.socket), ignore_errors=True)


def first_frame(screen: Screen, kubeconfig: str, pods: int, run: int) -> tuple[float, int]:
    name = f"ff{run}"
    started, pid = screen.start(kubeconfig, name)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = screen.capture(name)
        if f"Pods · {pods} (" in text and "● live" in text and "─ Events" in text:
            return time.perf_counter() - started, pid
        time.sleep(0.01)
    raise SystemExit(f"no full frame within 60 s:\n{screen.capture(name)}")


def import_cost(runs: int) -> tuple[float, float]:
    """Wall time of a bare interpreter, and of one importing the UI libraries (prompt_toolkit, rich)."""
    bare, heavy = [], []
    for _ in range(runs):
        bare.append(wall([sys.executable, "-c", "pass"]))
        heavy.append(wall([sys.executable, "-c", "import prompt_toolkit.application, rich.console"]))
    return median(bare), median(heavy)


def frame_times(kube: Any, frames: int) -> tuple[float, float, int]:
    """The in-process frame pipeline at 120×40 (median and p95 in seconds, pods shown)."""
    import copy

    from rich.console import Console

    from kubectl_trace.dashboard.derive import FrameCache, derive
    from kubectl_trace.dashboard.ptk import fragments
    from kubectl_trace.dashboard.reducer import reduce_all
    from kubectl_trace.dashboard.state import KINDS, WatchInput, empty_snapshot
    from kubectl_trace.dashboard.ui import UiState
    from kubectl_trace.dashboard.views import RenderCache, ViewContext, screen_lines

    now = time.time()
    snapshot = reduce_all(
        empty_snapshot(NS), [WatchInput(k, "RESET", now, items=tuple(kube.list(k, NS).items)) for k in KINDS]
    )
    pods = list(snapshot.pods.values())
    console = Console(file=io.StringIO(), width=120, color_system="truecolor", force_terminal=True)
    cache, ui, blocks = FrameCache(), UiState(deployment="big"), RenderCache()
    times = []
    for i in range(frames):
        changes = []
        for j in range(5):
            pod = copy.deepcopy(pods[(i * 5 + j) % len(pods)])
            pod["metadata"]["annotations"] = {"bench/tick": str(i)}
            changes.append(WatchInput("pods", "MODIFIED", now, object=pod))
        started = time.perf_counter()
        snapshot = reduce_all(snapshot, changes)
        frame = derive(snapshot, ui, now + i * 0.1, cache)
        lines, _ = screen_lines(console, frame, ui, ViewContext(now + i * 0.1, 120, 40), blocks)
        fragments(lines)
        times.append(time.perf_counter() - started)
    times.sort()
    return median(times), times[int(len(times) * 0.95) - 1], len(snapshot.pods)


def churn(kube: Any, names: list[str], rate: float, stop: threading.Event) -> list[int]:
    """Patch ``rate`` pods a second until stopped; returns [patches sent]."""
    sent = [0]

    def loop() -> None:
        i = 0
        next_at = time.monotonic()
        while not stop.is_set():
            name = names[i % len(names)]
            try:
                kube.patch(
                    "pods",
                    name,
                    {"metadata": {"annotations": {"bench/tick": str(i)}}},
                    NS,
                    patch_type="merge",
                )
                sent[0] += 1
            except Exception:
                pass
            i += 1
            next_at += 1.0 / rate
            delay = next_at - time.monotonic()
            if delay > 0:
                stop.wait(delay)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return sent


POLLER = r"""
import json, sys, time
from kubectl_trace.kube.client import connect
from kubectl_trace.kube.settings import KubeSettings
kube = connect(KubeSettings(kubeconfig=sys.argv[1], namespace="bench"))
seconds, received, lists = float(sys.argv[2]), 0, 0
paths = ["/apis/apps/v1/namespaces/bench/deployments", "/apis/apps/v1/namespaces/bench/replicasets",
         "/api/v1/namespaces/bench/pods", "/api/v1/namespaces/bench/events"]
end = time.monotonic() + seconds
while time.monotonic() < end:
    tick = time.monotonic()
    for path in paths:
        stream = kube.open("GET", path)
        data = stream._response.data
        stream._response.release_conn()
        json.loads(data)
        received += len(data)
        lists += 1
    time.sleep(max(0.0, 2.0 - (time.monotonic() - tick)))
print(json.dumps({"lists": lists, "bytes": received, "cpu": time.process_time()}))
"""


def requests_total(handle: SandboxHandle) -> int:
    return int((handle.status().get("requests") or {}).get("total", 0))


def requests_by_kind(handle: SandboxHandle) -> Counter[str]:
    """The sandbox's request counters by verb and resource (``list pods``, ``watch pods`` …)."""
    return Counter((handle.status().get("requests") or {}).get("byVerbResource") or {})


def described(requests: Counter[str]) -> str:
    """``2 list pods.metrics.k8s.io, 1 watch events`` (most first), or ``none``."""
    return ", ".join(f"{n} {what}" for what, n in requests.most_common()) or "none"


def main() -> None:
    parser = arguments(__doc__, runs=3)
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--cpu-seconds", type=float, default=30.0)
    parser.add_argument("--steady-seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=50.0)
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is needed (the dashboard runs in a terminal)")
    load_before = os.getloadavg()
    with private_sandbox("bench-dashboard-", time_scale=0.2, fixture="empty", log_rate=1.0) as (handle, work):
        screen = Screen(str(work))
        try:
            kube = connect(KubeSettings(kubeconfig=handle.kubeconfig, namespace=NS))
            setup = set_up(kube, args.pods)
            pods_now = setup["pods"]
            print(f"set-up: {setup['setup_s']:.0f} s, {pods_now} pods, status {setup['status']}", flush=True)

            kubectl_get = [
                *kubectl_argv(handle.kubeconfig, work / "kubectl-cache"),
                "get",
                "deploy,rs,pods",
                "-n",
                NS,
            ]
            wall(kubectl_get)  # discovery cache warm-up
            ours, peer = [], []
            pid = 0
            for run in range(args.runs):
                took, pid = first_frame(screen, handle.kubeconfig, pods_now, run)
                ours.append(took)
                peer.append(wall(kubectl_get))
                if run < args.runs - 1:
                    screen.tmux("kill-session", "-t", f"ff{run}")
            print(f"first frame: ours {median(ours):.2f} s, kubectl get {median(peer):.2f} s", flush=True)
            bare_s, imports_s = import_cost(args.runs)
            events_listed = len(kube.list("events", NS).items)

            frame_med, frame_p95, _shown = frame_times(kube, 60)
            print(f"frame: median {frame_med * 1000:.1f} ms, p95 {frame_p95 * 1000:.1f} ms", flush=True)

            # CPU and memory of the running dashboard (the last first-frame run) under churn
            time.sleep(2)
            names = sorted(p["metadata"]["name"] for p in kube.list("pods", NS).items)
            stop = threading.Event()
            sent = churn(kube, names, args.rate, stop)
            time.sleep(3)  # warm-up
            cpu0, wall0, sent0 = process_cpu(pid), time.monotonic(), sent[0]
            time.sleep(args.cpu_seconds)
            cpu1, wall1, sent1 = process_cpu(pid), time.monotonic(), sent[0]
            stop.set()
            rss, hwm = process_memory(pid)
            cpu_share = (cpu1 - cpu0) / (wall1 - wall0)
            rate = (sent1 - sent0) / (wall1 - wall0)
            print(
                f"cpu {cpu_share * 100:.1f} % at {rate:.1f} changes/s, rss {rss:.0f} MB (peak {hwm:.0f})",
                flush=True,
            )
            idle0 = process_cpu(pid)
            time.sleep(10)
            idle_share = (process_cpu(pid) - idle0) / 10

            # steady state: only the dashboard talks to the API
            time.sleep(3)
            before_kinds = requests_by_kind(handle)
            before = requests_total(handle)
            steady_cpu0 = process_cpu(pid)
            time.sleep(args.steady_seconds)
            ours_requests = requests_total(handle) - before
            ours_kinds = requests_by_kind(handle) - before_kinds
            steady_cpu = (process_cpu(pid) - steady_cpu0) / args.steady_seconds
            screen.close()
            time.sleep(1)
            before = requests_total(handle)
            poll = subprocess.run(
                [sys.executable, "-c", POLLER, handle.kubeconfig, str(args.steady_seconds)],
                capture_output=True,
                text=True,
                check=True,
                cwd=str(ROOT),
            )
            poll_requests = requests_total(handle) - before
            import json

            polled = json.loads(poll.stdout.strip().splitlines()[-1])
            print(
                f"requests in {args.steady_seconds:.0f} s: ours {ours_requests}, polling {poll_requests}",
                flush=True,
            )
            kube.close()
        finally:
            screen.close()
    load_after = os.getloadavg()

    minutes = args.steady_seconds / 60
    lines = [
        "## Rollout dashboard (`bench/dashboard.py`)",
        "",
        stamp(),
        f"Load average {load_before[0]:.1f} before, {load_after[0]:.1f} after.",
        f"Set-up: a sandbox (time scale 0.2) with Deployment `big` of {args.pods} replicas rolled to a new"
        f" image and paused a quarter of the way: {pods_now} pods in the namespace"
        f" ({setup['status'].get('updatedReplicas')} updated), set up in {setup['setup_s']:.0f} s."
        f" Runs: {args.runs}; medians.",
        "",
        *table(
            ["measure", "kubectl-nodeapp rollout", "peer", "ratio"],
            "llll",
            [
                [
                    f"time to first full frame (launch → pods table with all {pods_now} pods, tmux 120×40)"
                    " vs `kubectl get deploy,rs,pods` printed",
                    f"{median(ours):.2f} s",
                    f"{median(peer):.2f} s",
                    ratio(median(ours), median(peer)),
                ],
                [
                    "one frame (fold 5 changes, derive, render, convert) at 120×40",
                    f"median {frame_med * 1000:.1f} ms, p95 {frame_p95 * 1000:.1f} ms",
                    "—",
                    "—",
                ],
                [
                    f"CPU of the dashboard while {rate:.0f} pod changes/s arrive",
                    f"{cpu_share * 100:.1f} % of a core (idle afterwards: {idle_share * 100:.1f} %)",
                    "—",
                    "—",
                ],
                ["resident memory of the dashboard", f"{rss:.0f} MB (peak {hwm:.0f} MB)", "—", "—"],
                [
                    f"API requests in {args.steady_seconds:.0f} s of steady state",
                    f"{ours_requests} ({described(ours_kinds)}; the watches stay open;"
                    f" CPU {steady_cpu * 100:.1f} %)",
                    f"{poll_requests} (lists every 2 s:"
                    f" {polled['bytes'] / 1e6 / minutes:.0f} MB/min received,"
                    f" {polled['cpu'] / args.steady_seconds * 100:.0f} % CPU for the poller alone)",
                    "—",
                ],
            ],
        ),
        "",
        f"The first frame lists and folds all {pods_now} pods and {events_listed} events of the namespace;"
        f" a bare `python` starts in {bare_s:.2f} s and one that only imports prompt_toolkit and rich in"
        f" {imports_s:.2f} s on the same machine. The dashboard talks to the API through the lean client"
        " (no import of the official `kubernetes` package), and its watches start listing before the UI"
        " libraries are imported.",
        "",
        "Targets: first frame ≤ 1 s, one frame ≤ 50 ms, CPU ≤ 25 % at 50 changes/s,"
        " memory ≤ 200 MB, in steady state only open watches (and the metrics poll every 15 s).",
    ]
    publish("dashboard", lines, args.no_write)


if __name__ == "__main__":
    main()
