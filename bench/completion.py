"""Completion latency: `kubectl __complete nodeapp logs -n production trace` end to end.

Usage: .venv/bin/python bench/completion.py [--runs N] [--no-write]

Starts a demo sandbox, puts bin/ (the kubectl_complete-nodeapp* executables) on PATH and
times what a shell waits for on <TAB>, median of N runs. The peer is kubectl completing its
own pod names (`kubectl __complete get pods -n production trace`) against the same sandbox.
Goal: ≤ 300 ms.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import ROOT, median, stamp, update_section

from kubectl_trace.sandbox.interfaces import SandboxOptions
from kubectl_trace.sandbox.process import start_sandbox

KUBECTL = str(ROOT / ".venv" / "bin" / "kubectl")


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(argv, capture_output=True, text=True, env=env, check=True)
    return time.perf_counter() - start, out.stdout


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        handle = start_sandbox(
            os.path.join(tmp, "kubeconfig"),
            SandboxOptions(time_scale=0.1, containers="simulated"),
            timeout=90,
        )
        try:
            env = {
                "PATH": f"{ROOT / 'bin'}:{ROOT / '.venv' / 'bin'}:/usr/bin:/bin",
                "HOME": tmp,
                "KUBECONFIG": handle.kubeconfig,
            }
            ours_argv = [KUBECTL, "__complete", "nodeapp", "logs", "-n", "production", "trace"]
            peer_argv = [KUBECTL, "__complete", "get", "pods", "-n", "production", "trace"]
            for argv in (ours_argv, peer_argv):  # warm-up (kubectl's discovery cache, page cache)
                timed(argv, env)
            ours, peer = [], []
            for _ in range(args.runs):  # interleaved, so both see the same machine load
                ours.append(timed(ours_argv, env)[0])
                peer.append(timed(peer_argv, env)[0])
            sample = timed(ours_argv, env)[1].splitlines()
        finally:
            handle.stop()
    o, p = median(ours) * 1000, median(peer) * 1000
    text = "\n".join(
        [
            "## Completion",
            "",
            f"{stamp()} Load average: {os.getloadavg()[0]:.1f}. `bench/completion.py --runs {args.runs}`,",
            "medians, interleaved runs, demo sandbox. Goal: ≤ 300 ms.",
            "",
            "| what the shell waits for on TAB | median |",
            "|---|---:|",
            f"| `kubectl __complete nodeapp logs -n production trace` (ours: apps and pods) | {o:.0f} ms |",
            f"| `kubectl __complete get pods -n production trace` (kubectl's own, peer) | {p:.0f} ms |",
            f"| ratio | {o / p:.2f}× |",
            "",
            f"Candidates returned: {len(sample) - 1}.",
        ]
    )
    print(text)
    if not args.no_write:
        update_section("completion", text)


if __name__ == "__main__":
    main()
