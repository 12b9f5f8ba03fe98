"""Completion latency: `kubectl __complete nodeapp logs -n production trace` end to end.

Usage: .venv/bin/python bench/completion.py [--runs N] [--no-write]

Starts a demo sandbox, puts bin/ (the kubectl_complete-nodeapp* executables) on PATH and
times what a shell waits for on <TAB>, median of N runs. The peer is kubectl completing its
own pod names (`kubectl __complete get pods -n production trace`) against the same sandbox.
Goal: ≤ 300 ms.
"""

from __future__ import annotations

import os

from _harness import KUBECTL, alternate, output, private_sandbox, wall, warm_up
from _report import ROOT, arguments, median, ms, publish, ratio, stamp, table


def main() -> None:
    args = arguments(__doc__, runs=15).parse_args()
    with private_sandbox("bench-completion-", fixture="demo") as (handle, work):
        env = {
            "PATH": f"{ROOT / 'bin'}:{ROOT / '.venv' / 'bin'}:/usr/bin:/bin",
            "HOME": str(work),
            "KUBECONFIG": handle.kubeconfig,
        }
        ours_argv = [KUBECTL, "__complete", "nodeapp", "logs", "-n", "production", "trace"]
        peer_argv = [KUBECTL, "__complete", "get", "pods", "-n", "production", "trace"]
        cases = {"ours": lambda: wall(ours_argv, env=env), "peer": lambda: wall(peer_argv, env=env)}
        warm_up(cases)
        times = alternate(args.runs, cases)
        sample = output(ours_argv, env=env).splitlines()
    o, p = median(times["ours"]), median(times["peer"])
    lines = [
        "## Completion",
        "",
        f"{stamp()} Load average: {os.getloadavg()[0]:.1f}. `bench/completion.py --runs {args.runs}`,",
        "medians, interleaved runs, demo sandbox. Goal: ≤ 300 ms.",
        "",
        *table(
            ["what the shell waits for on TAB", "median"],
            "lr",
            [
                ["`kubectl __complete nodeapp logs -n production trace` (ours: apps and pods)", ms(o)],
                ["`kubectl __complete get pods -n production trace` (kubectl's own, peer)", ms(p)],
                ["ratio", ratio(o, p)],
            ],
        ),
        "",
        f"Candidates returned: {len(sample) - 1}.",
    ]
    publish("completion", lines, args.no_write)


if __name__ == "__main__":
    main()
