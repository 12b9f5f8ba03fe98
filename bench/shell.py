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

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import ROOT, first_output, median, stamp, update_section

NODEAPP = str(ROOT / "bin" / "kubectl-nodeapp")
KUBECTL = str(ROOT / ".venv" / "bin" / "kubectl")
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


def alternate(runs: int, cases: dict[str, Callable[[], float]]) -> dict[str, list[float]]:
    """Run every case once per round, ``runs`` rounds (so load drifts hit both sides)."""
    results: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, case in cases.items():
            results[name].append(case())
    return results


def wait_for_pod(kubeconfig: str, timeout: float = 120.0) -> str:
    from kubectl_trace.kube.lite import connect_lite
    from kubectl_trace.kube.settings import KubeSettings

    client = connect_lite(KubeSettings(kubeconfig=kubeconfig), {})
    assert client is not None
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            for pod in client.list("pods", NS, label_selector="app=trace-api,process=web").items:
                ready = any(
                    c.get("type") == "Ready" and c.get("status") == "True"
                    for c in pod["status"].get("conditions") or []
                )
                if ready and not pod["metadata"].get("deletionTimestamp"):
                    return str(pod["metadata"]["name"])
            time.sleep(0.5)
    finally:
        client.close()
    raise RuntimeError("no ready web pod in production")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15, help="rounds for time to first output")
    parser.add_argument("--cat-runs", type=int, default=5, help="rounds for the throughput test")
    parser.add_argument("--megabytes", type=int, default=100)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    from kubectl_trace.sandbox.interfaces import SandboxOptions
    from kubectl_trace.sandbox.process import start_sandbox

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-shell-") as tmp:
        work = Path(tmp)
        handle = start_sandbox(
            str(work / "kubeconfig"),
            SandboxOptions(time_scale=0.1, log_rate=1.0, containers="simulated"),
            exit_with_parent=os.getpid(),
        )
        try:
            kubeconfig = handle.kubeconfig
            pod = wait_for_pod(kubeconfig)
            ours = [NODEAPP, "shell", "--kubeconfig", kubeconfig, "-n", NS]
            theirs = [
                KUBECTL,
                "--kubeconfig",
                kubeconfig,
                "--cache-dir",
                str(work / "cache"),
                "-n",
                NS,
                "exec",
            ]
            hi = ["--", "echo", "hi"]
            said_hi([*theirs, pod, *hi])  # warm-up (kubectl's discovery cache, page cache)
            said_hi([*ours, pod, *hi])
            ttfo = alternate(
                args.runs,
                {
                    "nodeapp pod": lambda: said_hi([*ours, pod, *hi]),
                    "kubectl pod": lambda: said_hi([*theirs, pod, *hi]),
                    "nodeapp deploy": lambda: said_hi([*ours, "deploy/trace-api-web", *hi]),
                    "kubectl deploy": lambda: said_hi([*theirs, "deploy/trace-api-web", *hi]),
                },
            )
            size = args.megabytes * 1_000_000
            payload = work / "payload.bin"
            with open(payload, "wb") as handle_out:
                for _ in range(args.megabytes):
                    handle_out.write(os.urandom(1_000_000))
            cat = alternate(
                args.cat_runs,
                {
                    "nodeapp": lambda: through_cat([*ours, pod, "--", "cat"], payload, size),
                    "kubectl": lambda: through_cat([*theirs, "-i", pod, "--", "cat"], payload, size),
                },
            )
        finally:
            handle.stop()
    load_after = os.getloadavg()

    def ms(values: list[float]) -> str:
        return f"{median(values) * 1000:.0f} ms"

    rows = []
    for target in ("pod", "deploy"):
        ratio = median(ttfo[f"nodeapp {target}"]) / median(ttfo[f"kubectl {target}"])
        verdict = "meets" if ratio <= 1.5 else "misses"
        label = "a pod name" if target == "pod" else "`deploy/trace-api-web`"
        rows.append(
            f"| time to first output, {label} | {ms(ttfo[f'nodeapp {target}'])} | "
            f"{ms(ttfo[f'kubectl {target}'])} | {ratio:.2f}× ({verdict} ≤ 1.5×) |"
        )
    rate = {name: size / median(values) / 1e6 for name, values in cat.items()}
    ratio = rate["nodeapp"] / rate["kubectl"]
    verdict = "meets" if ratio >= 0.8 else "misses"
    ours_cat, theirs_cat = median(cat["nodeapp"]), median(cat["kubectl"])
    rows.append(
        f"| {args.megabytes} MB through `cat` | {rate['nodeapp']:.0f} MB/s ({ours_cat:.2f} s) | "
        f"{rate['kubectl']:.0f} MB/s ({theirs_cat:.2f} s) | {ratio:.2f}× ({verdict} ≥ 0.8×) |"
    )
    markdown = "\n".join(
        [
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
            "| measure | kubectl nodeapp shell | kubectl exec | ratio |",
            "|---|---|---|---|",
            *rows,
            "",
            *NOTES,
        ]
    )
    print(markdown)
    if not args.no_write:
        update_section("shell", markdown)


if __name__ == "__main__":
    main()
