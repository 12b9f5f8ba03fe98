"""The sandbox API server under many followers and watchers: CPU per stream, lines delivered.

Usage: .venv/bin/python bench/sandbox_api.py [--pods 50] [--seconds 10] [--rate 20] [--no-write]

A private sandbox (empty fixture, ``--time-scale 0.05``, ``--log-rate RATE``) runs a
Deployment of ``--pods`` replicas. Then, each for ``--seconds``, while the server's CPU time
(``/proc/PID/stat``) is sampled:

1. idle: nobody reads;
2. ``--pods`` raw followers (one per pod, ``follow=true&tailLines=0``, HTTPS from one asyncio
   process) — lines received per follower against RATE × seconds;
3. the peer: the same number of real ``kubectl logs -f --tail=0`` processes;
4. 4 × ``--pods`` raw followers (four per pod);
5. 100 raw watchers of all pods while the Deployment is scaled down and up (events
   delivered per watcher).

Writes its section of BENCHMARKS.md unless --no-write.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from pathlib import Path

from _harness import IMAGE, Credentials, credentials, kubectl_argv, output, private_sandbox, process_cpu
from _report import arguments, median, publish, row, stamp, table

from kubectl_trace.sandbox.process import SandboxHandle

TAG = "aaaa111"


def load() -> str:
    """The load averages, for the report."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


async def _follow_all(creds: Credentials, pods: list[str], seconds: float) -> list[int]:
    import aiohttp

    counts = [0] * len(pods)
    deadline = time.monotonic() + seconds

    async def follow(i: int, session: aiohttp.ClientSession) -> None:
        url = f"{creds.server}/api/v1/namespaces/default/pods/{pods[i]}/log?follow=true&tailLines=0"
        async with session.get(url, headers=creds.headers, ssl=creds.context) as response:
            async for _line in response.content:
                if time.monotonic() >= deadline:
                    return
                counts[i] += 1

    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=None, sock_read=seconds + 30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        tasks = [asyncio.create_task(follow(i, session)) for i in range(len(pods))]
        await asyncio.sleep(seconds)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return counts


def raw_followers(handle: SandboxHandle, pods: list[str], seconds: float) -> tuple[float, list[int]]:
    """Server CPU seconds and lines per follower for raw followers of ``pods``."""
    creds = credentials(handle.kubeconfig)
    before = process_cpu(handle.pid)
    counts = asyncio.run(_follow_all(creds, pods, seconds))
    return process_cpu(handle.pid) - before, counts


def kubectl_followers(
    handle: SandboxHandle, kubectl: list[str], pods: list[str], seconds: float
) -> tuple[float, list[int]]:
    """The peer: one ``kubectl logs -f --tail=0`` process per pod."""
    procs = [
        subprocess.Popen(
            [*kubectl, "logs", "-f", "--tail=0", pod],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        for pod in pods
    ]
    counts = [0] * len(procs)

    def drain(i: int) -> None:
        stream = procs[i].stdout
        assert stream is not None
        for _ in iter(stream.readline, b""):
            counts[i] += 1

    threads = [threading.Thread(target=drain, args=(i,), daemon=True) for i in range(len(procs))]
    for t in threads:
        t.start()
    time.sleep(2.0)  # let every kubectl start (discovery is cached after the first)
    start_counts = list(counts)
    before = process_cpu(handle.pid)
    time.sleep(seconds)
    used = process_cpu(handle.pid) - before
    lines = [c - s for c, s in zip(counts, start_counts, strict=True)]
    ended = [p.returncode for p in procs if p.poll() is not None]
    if ended:  # a follower that gave up would make the sandbox look cheap
        for p in procs:
            p.kill()
        raise RuntimeError(f"{len(ended)} kubectl logs -f ended early (exit {sorted(set(ended))})")
    for p in procs:
        p.kill()
    for p in procs:
        p.wait()
    return used, lines


async def _watch_all(creds: Credentials, watchers: int, until: threading.Event) -> list[int]:
    import aiohttp

    counts = [0] * watchers

    async def watch(i: int, session: aiohttp.ClientSession) -> None:
        url = f"{creds.server}/api/v1/pods?watch=true&resourceVersion=0&timeoutSeconds=600"
        async with session.get(url, headers=creds.headers, ssl=creds.context) as response:
            async for _line in response.content:
                counts[i] += 1

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        tasks = [asyncio.create_task(watch(i, session)) for i in range(watchers)]
        while not until.is_set():
            await asyncio.sleep(0.1)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return counts


def watch_fanout(
    handle: SandboxHandle, kubectl: list[str], watchers: int, pods: int
) -> tuple[float, list[int], float]:
    """Server CPU seconds and events per watcher while the Deployment scales down and up."""
    creds = credentials(handle.kubeconfig)
    done = threading.Event()
    result: list[list[int]] = []
    thread = threading.Thread(target=lambda: result.append(asyncio.run(_watch_all(creds, watchers, done))))
    thread.start()
    time.sleep(2.0)
    before = process_cpu(handle.pid)
    started = time.monotonic()
    for replicas in (pods // 2, pods):
        scale(kubectl, replicas)
    time.sleep(2.0)
    elapsed = time.monotonic() - started
    used = process_cpu(handle.pid) - before
    done.set()
    thread.join(60)
    return used, result[0] if result else [], elapsed


def rolled_out(kubectl: list[str]) -> None:
    """Wait until the Deployment ``bench`` has rolled out."""
    output([*kubectl, "rollout", "status", "deployment/bench", "--timeout=300s"], timeout=600)


def scale(kubectl: list[str], replicas: int) -> None:
    """Scale the Deployment ``bench`` and wait for its rollout."""
    output([*kubectl, "scale", "deployment/bench", f"--replicas={replicas}"], timeout=600)
    rolled_out(kubectl)


def main() -> int:
    parser = arguments(__doc__)
    parser.add_argument("--pods", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=20.0)
    args = parser.parse_args()

    rows: list[list[str]] = []
    load_before = load()
    options = {"fixture": "empty", "time_scale": 0.05, "log_rate": args.rate}
    with private_sandbox("bench-sandbox-api-", **options) as (handle, work):
        kubectl = kubectl_argv(handle.kubeconfig, work / "cache")
        output(
            [*kubectl, "create", "deployment", "bench", f"--image={IMAGE}:{TAG}", f"--replicas={args.pods}"]
        )
        rolled_out(kubectl)
        names = output([*kubectl, "get", "pods", "-l", "app=bench", "-o", "name"]).split()
        pods = [p.split("/", 1)[1] for p in names]
        expected = args.rate * args.seconds

        before = process_cpu(handle.pid)
        time.sleep(args.seconds)
        idle = process_cpu(handle.pid) - before

        def add_row(label: str, streams: int, used: float, lines: list[int]) -> None:
            pct = 100.0 * used / args.seconds
            per_stream = 1000.0 * max(0.0, used - idle) / args.seconds / max(1, streams)
            got = median(lines) if lines else 0.0
            spread = f"({min(lines) if lines else 0}–{max(lines) if lines else 0})"
            rows.append(
                [
                    label,
                    str(streams),
                    f"{pct:.1f}%",
                    f"{per_stream:.2f} ms/s",
                    f"{got:.0f} of {expected:.0f} {spread}",
                ]
            )
            print(row(rows[-1]), flush=True)

        rows.append(["idle (nobody reads)", "0", f"{100.0 * idle / args.seconds:.1f}%", "–", "–"])
        print(row(rows[-1]), flush=True)
        used, lines = raw_followers(handle, pods, args.seconds)
        add_row("raw followers (asyncio, HTTPS)", len(pods), used, lines)
        used, lines = kubectl_followers(handle, kubectl, pods, args.seconds)
        add_row("peer: `kubectl logs -f --tail=0` processes", len(pods), used, lines)
        used, lines = raw_followers(handle, pods * 4, args.seconds)
        add_row("raw followers, four per pod", 4 * len(pods), used, lines)
        used, events, elapsed = watch_fanout(handle, kubectl, 100, len(pods))
        status = handle.status()
        watch_line = (
            f"100 raw watchers of all pods while the Deployment scaled {len(pods)} → {len(pods) // 2} → "
            f"{len(pods)} ({elapsed:.1f} s): server CPU {100.0 * used / elapsed:.1f}%, events per watcher "
            f"median {median(events) if events else 0:.0f} (min {min(events) if events else 0}, "
            f"max {max(events) if events else 0})."
        )
        print(watch_line)
        requests = status["requests"]["total"]
    publish(
        "sandbox-api",
        [
            "### Sandbox API server: log followers and watchers",
            "",
            stamp(),
            f"Load average before/after: {load_before} / {load()}. Script: `bench/sandbox_api.py` "
            f"(--pods {args.pods} --seconds {args.seconds:g} --rate {args.rate:g}).",
            "",
            f"Server CPU while {args.pods} pods each log {args.rate:g} lines/s, over {args.seconds:g} s; "
            '"per stream" is the CPU above idle divided by the streams; lines are the median per stream '
            "(min–max) counted inside the window: a shortfall is the readers' lag at the end of the window "
            "(the raw readers share one client process), not loss — the server tests check that a follower "
            "gets every line in order. Writes to a follower are coalesced to at most one per 0.2 s.",
            "",
            *table(["readers", "streams", "server CPU", "per stream", "lines per stream"], "lrrrr", rows),
            "",
            watch_line,
            f"The sandbox counted {requests} API requests in the run.",
        ],
        args.no_write,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
