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

import itertools
import os
from collections.abc import Callable, Iterator

from _harness import (
    IMAGE,
    NODEAPP,
    compare_walls,
    kubectl_argv,
    median_cpu,
    private_sandbox,
    wait_for_success,
)
from _report import arguments, publish, stamp, versus_table

PROCESSES = ("clock", "web", "worker")
Argvs = Callable[[], list[list[str]]]


NOTES = [
    "`history` reads the release ConfigMap (one GET) once releases are recorded, and the",
    "ReplicaSets (one LIST) before; `kubectl rollout history` ×3 is three processes. `deploy`",
    "and `env set` do more than the kubectl side: they record the release (read, then a",
    "resourceVersion-guarded write of the ConfigMap, and its outcome at the end) and keep",
    "watching the clock process — no readiness probe, so `kubectl rollout status` calls it",
    "rolled out the moment it starts — until its new container has run 1 s, which is what",
    "catches a tag that crashes at start (c0ffee1) instead of reporting success.",
]


def pure_frame(pods: int, runs: int) -> float:
    """Median CPU seconds of one follower frame over one Deployment with ``pods`` pods."""
    from kubectl_trace.health import index_events
    from kubectl_trace.release.follow import Tracked, progress_of
    from tests.factories.release import NOW, deployment, event, pod, replicaset

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
    return median_cpu(
        lambda: progress_of(Tracked("trace-api-web", 5), d, [old, new], all_pods, index, NOW), runs
    )


def fresh(template: str) -> Iterator[str]:
    """``template`` with 0, 1, 2, … in turn: a new value for every run, so every run changes something."""
    return (template.format(i) for i in itertools.count())


def each_process(argv: Callable[[str], list[str]]) -> list[list[str]]:
    """The same kubectl command for the Deployment of each process."""
    return [argv(p) for p in PROCESSES]


def rollout_status(k: list[str]) -> list[list[str]]:
    """``kubectl rollout status`` of each process's Deployment in staging."""
    return each_process(lambda p: [*k, "rollout", "status", f"deployment/trace-api-{p}", "-n", "staging"])


def cases(n: list[str], k: list[str]) -> list[tuple[str, Argvs, Argvs]]:
    """Per task: its name, our commands, the kubectl commands a user types for the same result."""
    status = rollout_status(k)
    ours_tag, theirs_tag = fresh("bench{:02d}a"), fresh("bench{:02d}b")
    ours_env, theirs_env = fresh("BENCH_A=run{}"), fresh("BENCH_B=run{}")
    ours_web, theirs_web = itertools.cycle(["web=2", "web=4"]), itertools.cycle(["3", "1"])

    def history(ns: str) -> Argvs:
        return lambda: each_process(
            lambda p: [*k, "rollout", "history", f"deployment/trace-api-{p}", "-n", ns]
        )

    def set_image() -> list[list[str]]:
        tag = next(theirs_tag)
        return each_process(
            lambda p: [*k, "set", "image", f"deployment/trace-api-{p}", f"{p}={IMAGE}:{tag}", "-n", "staging"]
        )

    def set_env() -> list[list[str]]:
        env = next(theirs_env)
        return each_process(lambda p: [*k, "set", "env", f"deployment/trace-api-{p}", env, "-n", "staging"])

    return [
        (
            "`history` (reconstructed from ReplicaSets) vs `rollout history` ×3",
            lambda: [[*n, "history", "trace-api", "-n", "production"]],
            history("production"),
        ),
        (
            "`deploy --tag T` (3 Deployments, followed) vs `set image` ×3 + `rollout status` ×3",
            lambda: [[*n, "deploy", "trace-api", "-n", "staging", "--tag", next(ours_tag)]],
            lambda: [*set_image(), *status],
        ),
        (
            "`env set K=V` (3 Deployments, followed) vs `set env` ×3 + `rollout status` ×3",
            lambda: [[*n, "env", "trace-api", "set", next(ours_env), "-n", "staging"]],
            lambda: [*set_env(), *status],
        ),
        (
            "`history` (recorded releases) vs `rollout history` ×3",
            lambda: [[*n, "history", "trace-api", "-n", "staging"]],
            history("staging"),
        ),
        (
            "`scale web=N` (followed) vs `scale` + `rollout status`",
            lambda: [[*n, "scale", "trace-api", next(ours_web), "-n", "staging"]],
            lambda: [
                [*k, "scale", "deployment/trace-api-web", f"--replicas={next(theirs_web)}", "-n", "staging"],
                status[1],
            ],
        ),
    ]


def sandbox_rows(runs: int) -> list[tuple[str, float, float]]:
    """Per task: median wall seconds of ours and of kubectl's, alternating."""
    with private_sandbox("bench-release-", fixture="demo") as (handle, work):
        k = kubectl_argv(handle.kubeconfig, work / "cache")
        n = [NODEAPP, "--kubeconfig", handle.kubeconfig]
        wait_for_success(rollout_status(k), 60, "the demo app to be ready")
        return [(name, *compare_walls(runs, ours, theirs)) for name, ours, theirs in cases(n, k)]


def main() -> None:
    """Measure and write the section."""
    parser = arguments(__doc__, runs=5)
    parser.add_argument("--pods", type=int, default=1000)
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
        *versus_table(rows),
        "",
        f"Load average at the end: {os.getloadavg()[0]:.1f}.",
        "",
        *NOTES,
    ]
    publish("release", lines, args.no_write)


if __name__ == "__main__":
    main()
