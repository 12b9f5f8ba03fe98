"""The release commands vs the kubectl commands a user runs for the same result.

Usage: .venv/bin/python bench/release.py [--runs N] [--no-write]

Against a private sandbox (demo fixture, time scale 0.1), the two sides alternating in the
same run, median wall time of N runs of each (spawn to exit, output discarded):

- ``history trace-api -n production`` (no release recorded there yet: reconstructed from the
  ReplicaSets) vs ``kubectl rollout history`` of each of the three process Deployments;
- the same in staging once the deploys below have recorded releases there (the release
  ConfigMap is read instead of the ReplicaSets);
- ``deploy trace-api --tag T -n staging`` (all three Deployments changed and followed to
  completion) vs ``kubectl set image`` of each Deployment then ``kubectl rollout status`` of
  each (a fresh tag per run, so every run is a real rollout);
- ``env trace-api set K=V -n staging`` (patch and follow the rolling restart) vs
  ``kubectl set env`` of each Deployment then ``kubectl rollout status`` of each;
- ``scale trace-api web=N -n staging`` vs ``kubectl scale`` + ``kubectl rollout status``.

Plus the pure cost of one follower frame (``progress_of`` for one Deployment with P pods
and 3 events per pod), median CPU time. Writes the ``release`` section of BENCHMARKS.md
unless --no-write.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import ROOT, median, stamp, update_section

sys.path.insert(0, str(ROOT))
NODEAPP = str(ROOT / "bin" / "kubectl-nodeapp")
KUBECTL = str(ROOT / ".venv" / "bin" / "kubectl")
REPO = "registry.sandbox.local/trace/trace-api"
PROCESSES = ("clock", "web", "worker")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "NO_COLOR", "FORCE_COLOR")}
    env["KUBECTL_NODEAPP_CONFIG"] = os.devnull + ".missing.toml"
    return env


def wall(argvs: list[list[str]]) -> float:
    """Run the commands one after the other; seconds from the first spawn to the last exit."""
    start = time.perf_counter()
    for argv in argvs:
        done = subprocess.run(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False, env=_env()
        )
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.decode(errors='replace')[-500:]}")
    return time.perf_counter() - start


def pure_frame(pods: int, runs: int) -> float:
    """Median CPU seconds of one follower frame over one Deployment with ``pods`` pods."""
    sys.path.insert(0, str(ROOT / "tests"))
    from unit.release.objects import NOW, deployment, event, pod, replicaset

    from kubectl_trace.health import index_events
    from kubectl_trace.release.follow import Tracked, progress_of

    d = deployment("web", tag="a41c9e7", replicas=pods, generation=5)
    old = replicaset(d, "3f9c2a1", 2, hash_="old000", replicas=pods // 2)
    new = replicaset(d, "a41c9e7", 3, hash_="new111", replicas=pods - pods // 2)
    all_pods = [pod(old if i % 2 else new, f"{i:05d}", ready=i % 10 != 0) for i in range(pods)]
    events = [
        event(p, reason, "Readiness probe failed: HTTP probe failed with statuscode: 503")
        for p in all_pods
        for reason in ("Unhealthy", "Pulled", "Started")
    ]
    index = index_events(events)
    samples = []
    for _ in range(runs):
        start = time.process_time()
        progress_of(Tracked("trace-api-web", 5), d, [old, new], all_pods, index, NOW)
        samples.append(time.process_time() - start)
    return median(samples)


def sandbox_rows(runs: int) -> list[tuple[str, float, float]]:
    from kubectl_trace.kube.client import connect
    from kubectl_trace.kube.settings import KubeSettings
    from kubectl_trace.sandbox.interfaces import SandboxOptions
    from kubectl_trace.sandbox.process import start_sandbox

    directory = tempfile.mkdtemp(prefix="bench-release-")
    cfg = os.path.join(directory, "kubeconfig")
    handle = start_sandbox(
        cfg,
        SandboxOptions(time_scale=0.1, fixture="demo", containers="simulated"),
        exit_with_parent=os.getpid(),
        timeout=90,
    )
    kube = connect(KubeSettings(kubeconfig=cfg))
    k = [KUBECTL, "--kubeconfig", cfg, "--cache-dir", os.path.join(directory, "cache")]
    n = [NODEAPP, "--kubeconfig", cfg]
    status = [[*k, "rollout", "status", f"deployment/trace-api-{p}", "-n", "staging"] for p in PROCESSES]
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the demo app ready everywhere
            if all(
                subprocess.run([*k, *argv[len(k) :]], capture_output=True, env=_env(), check=False).returncode
                == 0
                for argv in status
            ):
                break
            time.sleep(0.5)
        wall(
            [
                [*n, "history", "trace-api", "-n", "production"],
                [*k, "rollout", "history", "deploy/trace-api-web", "-n", "production"],
            ]
        )
        rows: list[tuple[str, float, float]] = []

        def compare(name: str, ours: Any, theirs: Any) -> None:
            a, b = [], []
            for i in range(runs):
                a.append(wall(ours(i)))
                b.append(wall(theirs(i)))
            rows.append((name, median(a), median(b)))

        compare(
            "`history` (reconstructed from ReplicaSets) vs `rollout history` ×3",
            lambda i: [[*n, "history", "trace-api", "-n", "production"]],
            lambda i: [
                [*k, "rollout", "history", f"deployment/trace-api-{p}", "-n", "production"] for p in PROCESSES
            ],
        )
        compare(
            "`deploy --tag T` (3 Deployments, followed) vs `set image` ×3 + `rollout status` ×3",
            lambda i: [[*n, "deploy", "trace-api", "-n", "staging", "--tag", f"bench{i:02d}a"]],
            lambda i: [
                *[
                    [
                        *k,
                        "set",
                        "image",
                        f"deployment/trace-api-{p}",
                        f"{p}={REPO}:bench{i:02d}b",
                        "-n",
                        "staging",
                    ]
                    for p in PROCESSES
                ],
                *status,
            ],
        )
        compare(
            "`env set K=V` (3 Deployments, followed) vs `set env` ×3 + `rollout status` ×3",
            lambda i: [[*n, "env", "trace-api", "set", f"BENCH_A=run{i}", "-n", "staging"]],
            lambda i: [
                *[
                    [*k, "set", "env", f"deployment/trace-api-{p}", f"BENCH_B=run{i}", "-n", "staging"]
                    for p in PROCESSES
                ],
                *status,
            ],
        )
        compare(
            "`history` (recorded releases) vs `rollout history` ×3",
            lambda i: [[*n, "history", "trace-api", "-n", "staging"]],
            lambda i: [
                [*k, "rollout", "history", f"deployment/trace-api-{p}", "-n", "staging"] for p in PROCESSES
            ],
        )
        compare(
            "`scale web=N` (followed) vs `scale` + `rollout status`",
            lambda i: [[*n, "scale", "trace-api", f"web={2 + i % 2 * 2}", "-n", "staging"]],
            lambda i: [
                [*k, "scale", "deployment/trace-api-web", f"--replicas={3 - i % 2 * 2}", "-n", "staging"],
                status[1],
            ],
        )
        return rows
    finally:
        kube.close()
        handle.stop()


def main() -> None:
    """Measure and write the section."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    frame = pure_frame(args.pods, max(args.runs, 5))
    rows = sandbox_rows(args.runs)
    lines = [
        "## release: deploy, history, env, scale",
        "",
        f"{stamp()} Load average at start: {load:.1f}. "
        f"`bench/release.py --runs {args.runs} --pods {args.pods}`.",
        "",
        f"One follower frame (`progress_of`: one Deployment, {args.pods} pods, {args.pods * 3} events), "
        f"median CPU time: {frame * 1000:.1f} ms ({frame / args.pods * 1e6:.0f} µs/pod).",
        "",
        f"Against a private sandbox (demo fixture, time scale 0.1), {args.runs} alternating runs,",
        "median wall time from the first spawn to the last exit; the kubectl side runs the commands",
        "a user would type, one after the other:",
        "",
        "| task | kubectl-nodeapp | kubectl (peer) | ratio |",
        "|---|---:|---:|---:|",
        *[
            f"| {name} | {ours * 1000:.0f} ms | {theirs * 1000:.0f} ms | {ours / theirs:.2f}× |"
            for name, ours, theirs in rows
        ],
        "",
        f"Load average at the end: {os.getloadavg()[0]:.1f}.",
        "",
        "`history` reads the release ConfigMap (one GET) once releases are recorded, and the",
        "ReplicaSets (one LIST) before; `kubectl rollout history` ×3 is three processes. `deploy`",
        "and `env set` do more than the kubectl side: they record the release (read, then a",
        "resourceVersion-guarded write of the ConfigMap, and its outcome at the end) and keep",
        "watching the clock process — no readiness probe, so `kubectl rollout status` calls it",
        "rolled out the moment it starts — until its new container has run 1 s, which is what",
        "catches a tag that crashes at start (c0ffee1) instead of reporting success.",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        update_section("release", text)


if __name__ == "__main__":
    main()
