"""Start-up time: ``kubectl-nodeapp --help`` and ``kubectl-nodeapp logs --help`` vs ``kubectl --help``.

Usage: .venv/bin/python bench/startup.py [--runs N] [--no-write]

Runs each command N times (after 3 warm-ups) through the same executables a user runs
(bin/ wrappers, the venv's kubectl) and reports the median wall time and the ratio to
kubectl's. Writes its section of BENCHMARKS.md unless --no-write.
"""

from __future__ import annotations

import os

from _harness import KUBECTL, NODEAPP, wall
from _report import arguments, median, publish, ratio, stamp, table

CASES = [
    ("kubectl-nodeapp --help", [NODEAPP, "--help"]),
    ("kubectl-nodeapp logs --help", [NODEAPP, "logs", "--help"]),
    ("kubectl-nodeapp-logs --help", [NODEAPP + "-logs", "--help"]),
    ("kubectl-nodeapp --version", [NODEAPP, "--version"]),
    ("kubectl --help (peer)", [KUBECTL, "--help"]),
]


def main() -> None:
    args = arguments(__doc__, runs=30).parse_args()
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
        *table(
            ["command", "median wall", "vs kubectl --help"],
            "lrr",
            [(f"`{name}`", f"{ms:.0f} ms", ratio(ms, peer)) for name, ms in results.items()],
        ),
    ]
    publish("startup", lines, args.no_write)


if __name__ == "__main__":
    main()
