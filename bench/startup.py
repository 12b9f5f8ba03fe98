"""Start-up time: ``kubectl-nodeapp --help`` and ``kubectl-nodeapp logs --help`` vs ``kubectl --help``.

Usage: .venv/bin/python bench/startup.py [--runs N] [--no-write]

Runs each command N times (after 3 warm-ups) through the same executables a user runs
(bin/ wrappers, the venv's kubectl) and reports the median wall time and the ratio to
kubectl's. Writes its section of BENCHMARKS.md unless --no-write.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import ROOT, median, stamp, update_section

CASES = [
    ("kubectl-nodeapp --help", [str(ROOT / "bin" / "kubectl-nodeapp"), "--help"]),
    ("kubectl-nodeapp logs --help", [str(ROOT / "bin" / "kubectl-nodeapp"), "logs", "--help"]),
    ("kubectl-nodeapp-logs --help", [str(ROOT / "bin" / "kubectl-nodeapp-logs"), "--help"]),
    ("kubectl-nodeapp --version", [str(ROOT / "bin" / "kubectl-nodeapp"), "--version"]),
    ("kubectl --help (peer)", [str(ROOT / ".venv" / "bin" / "kubectl"), "--help"]),
]


def wall(argv: list[str]) -> float:
    """Seconds from spawn to exit; a command that fails is an error, not a fast result."""
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{argv[:3]} exited {done.returncode}: {done.stderr[-300:]!r}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    results: dict[str, float] = {}
    for name, argv in CASES:
        for _ in range(3):
            wall(argv)
        # interleaving would be fairer on a busy machine; runs are short, so take many
        results[name] = median([wall(argv) for _ in range(args.runs)]) * 1000
    peer = results["kubectl --help (peer)"]
    load = os.getloadavg()[0]
    lines = [
        "## Start-up",
        "",
        f"{stamp()} Load average at start: {load:.1f}. `bench/startup.py --runs {args.runs}`: median wall",
        "time of each command (output discarded) over the runs, after 3 warm-ups.",
        "Goal: `kubectl-nodeapp --help` ≤ 150 ms.",
        "",
        "| command | median wall | vs kubectl --help |",
        "|---|---:|---:|",
    ]
    for name, ms in results.items():
        lines.append(f"| `{name}` | {ms:.0f} ms | {ms / peer:.2f}× |")
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        update_section("startup", text)


if __name__ == "__main__":
    main()
