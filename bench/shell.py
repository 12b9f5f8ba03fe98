"""``kubectl nodeapp shell`` vs ``kubectl exec``: time to first remote output, and 100 MB through ``cat``.

Usage: .venv/bin/python bench/shell.py [--runs N] [--megabytes M] [--no-write]

Starts a private sandbox (demo fixture), waits for a running web pod in production, then
alternates the two tools on the same pod in the same run:

- time to first output: from spawning the command to the first byte of ``echo hi`` on
  its stdout (what a user waits for), for a pod name and for ``deploy/trace-api-web``;
- throughput: M MB of random bytes piped through ``cat`` (spawn to EOF on stdout, every
  byte counted), MB/s.

Medians of N runs each; goals: time to first output ≤ 1.5× kubectl's, throughput ≥ 0.8×
kubectl's. Writes the ``shell`` section of BENCHMARKS.md unless --no-write.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

from _harness import NODEAPP, alternate, demo_web_pod, first_output, kubectl_argv, warm_up
from _report import arguments, median, ms, publish, ratio, stamp, table

NS = "production"


def said_hi(argv: list[str]) -> float:
    """``first_output`` of a command that must print exactly ``hi``."""
    return first_output(argv, b"hi\n")


NOTES = [
    "Where the difference comes from: `kubectl exec` is a Go binary (its times are in the table",
    "above); the plugin is a Python process whose start-up and imports (ssl, yaml, http.client,",
    "argparse, the CLI) take most of its time to first output, although the shell path never",
    "imports the `kubernetes` package (the lean client `kube/lite.py`). For a pod name it makes",
    "the same two requests as kubectl (GET pod, exec). For throughput, every stdin byte must be",
    "XOR-masked by the client (RFC 6455), in pure Python here and in compiled Go in kubectl,",
    "and on 2 shared cores that CPU competes with the sandbox.",
]


def through_cat(argv: list[str], payload: Path, size: int) -> float:
    """Seconds from spawn until ``size`` bytes came back through ``cat`` and the process ended."""
    start = time.perf_counter()
    with open(payload, "rb") as source:
        child = subprocess.Popen(argv, stdin=source, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None and child.stderr is not None
    errors: list[bytes] = []
    reader = threading.Thread(target=lambda: errors.append(child.stderr.read()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    received = 0
    while True:
        chunk = child.stdout.read1(1 << 20)
        if not chunk:
            break
        received += len(chunk)
    child.wait(timeout=120)
    elapsed = time.perf_counter() - start
    reader.join(timeout=5)
    if received != size or child.returncode != 0:
        raise RuntimeError(f"{argv[0]}: {received} of {size} bytes, exit {child.returncode}: {errors[:1]!r}")
    return elapsed


def main() -> None:
    parser = arguments(__doc__, runs=15, runs_help="rounds for time to first output")
    parser.add_argument("--cat-runs", type=int, default=5, help="rounds for the throughput test")
    parser.add_argument("--megabytes", type=int, default=100)
    args = parser.parse_args()

    load_before = os.getloadavg()
    with demo_web_pod("bench-shell-") as (handle, work, pod):
        kubeconfig = handle.kubeconfig
        ours = [NODEAPP, "shell", "--kubeconfig", kubeconfig, "-n", NS]
        theirs = [*kubectl_argv(kubeconfig, work / "cache"), "-n", NS, "exec"]
        hi = ["--", "echo", "hi"]
        first = {
            "nodeapp pod": lambda: said_hi([*ours, pod, *hi]),
            "kubectl pod": lambda: said_hi([*theirs, pod, *hi]),
            "nodeapp deploy": lambda: said_hi([*ours, "deploy/trace-api-web", *hi]),
            "kubectl deploy": lambda: said_hi([*theirs, "deploy/trace-api-web", *hi]),
        }
        warm_up(first)  # kubectl's discovery cache, page cache
        ttfo = alternate(args.runs, first)
        size = args.megabytes * 1_000_000
        payload = work / "payload.bin"
        with open(payload, "wb") as out:
            for _ in range(args.megabytes):
                out.write(os.urandom(1_000_000))
        cat = alternate(
            args.cat_runs,
            {
                "nodeapp": lambda: through_cat([*ours, pod, "--", "cat"], payload, size),
                "kubectl": lambda: through_cat([*theirs, "-i", pod, "--", "cat"], payload, size),
            },
        )
    load_after = os.getloadavg()

    rows = []
    for target, label in (("pod", "a pod name"), ("deploy", "`deploy/trace-api-web`")):
        ours_s, theirs_s = median(ttfo[f"nodeapp {target}"]), median(ttfo[f"kubectl {target}"])
        verdict = "meets" if ours_s / theirs_s <= 1.5 else "misses"
        rows.append(
            [
                f"time to first output, {label}",
                ms(ours_s),
                ms(theirs_s),
                f"{ratio(ours_s, theirs_s)} ({verdict} ≤ 1.5×)",
            ]
        )
    rate = {name: size / median(values) / 1e6 for name, values in cat.items()}
    verdict = "meets" if rate["nodeapp"] / rate["kubectl"] >= 0.8 else "misses"
    ours_cat, theirs_cat = median(cat["nodeapp"]), median(cat["kubectl"])
    rows.append(
        [
            f"{args.megabytes} MB through `cat`",
            f"{rate['nodeapp']:.0f} MB/s ({ours_cat:.2f} s)",
            f"{rate['kubectl']:.0f} MB/s ({theirs_cat:.2f} s)",
            f"{ratio(rate['nodeapp'], rate['kubectl'])} ({verdict} ≥ 0.8×)",
        ]
    )
    lines = [
        "## shell: `kubectl nodeapp shell` vs `kubectl exec`",
        "",
        stamp(),
        f"Load average before/after: {load_before[0]:.2f} / {load_after[0]:.2f} (1 min).",
        "",
        "Same sandbox, same pod, alternating runs; medians of "
        f"{args.runs} runs (first output) and {args.cat_runs} runs (throughput). Time to first "
        "output is spawn → first byte of `echo hi` on stdout; throughput is spawn → EOF with "
        "every byte counted, start-up included. Script: `bench/shell.py`.",
        "",
        *table(["measure", "kubectl nodeapp shell", "kubectl exec", "ratio"], "llll", rows),
        "",
        *NOTES,
    ]
    publish("shell", lines, args.no_write)


if __name__ == "__main__":
    main()
