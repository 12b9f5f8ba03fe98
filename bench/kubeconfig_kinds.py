"""Start-up by kubeconfig kind: token vs exec credential plugin, each against kubectl in the same run.

Usage: .venv/bin/python bench/kubeconfig_kinds.py [--runs N] [--no-write]

Starts a private sandbox (demo fixture) and writes two kubeconfigs for it: the sandbox's
own (bearer token) and one whose user is an exec credential plugin (a shell script printing
an ``ExecCredential`` with the same token, as ``gke-gcloud-auth-plugin`` or ``aws eks
get-token`` would: the plugin itself takes a few milliseconds). Then, rounds alternating
every case so load drifts hit all of them, it measures what a user waits for:

- ``logs deploy/trace-api-web --tail 1 --no-follow`` vs ``kubectl logs deploy/… --tail 1``:
  spawn to the first byte of output;
- ``shell POD -- echo hi`` vs ``kubectl exec POD -- echo hi``: spawn to the first byte;
- ``status trace-api`` vs ``kubectl get deploy,rs,pods -l app=trace-api`` followed by
  ``kubectl get events``: spawn to exit (both print their whole report at once).

Medians of N rounds; goal ≤ 1.5× kubectl's for each, with either kubeconfig. Writes the
``kubeconfig-kinds`` section of BENCHMARKS.md unless --no-write.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import ROOT, median, stamp, update_section

NODEAPP = str(ROOT / "bin" / "kubectl-nodeapp")
KUBECTL = str(ROOT / ".venv" / "bin" / "kubectl")
NS = "production"


def first_output(argv: list[str]) -> float:
    """Seconds from spawn to the first byte on stdout (the process is then waited for)."""
    start = time.perf_counter()
    child = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0
    )
    assert child.stdout is not None
    byte = child.stdout.read(1)
    elapsed = time.perf_counter() - start
    rest, err = child.communicate(timeout=60)
    if not byte or child.returncode != 0:
        raise RuntimeError(f"{argv} failed ({child.returncode}): {byte + rest!r} {err[-300:]!r}")
    return elapsed


def until_exit(*argvs: list[str]) -> float:
    """Seconds to run the commands one after the other (each must succeed and print)."""
    start = time.perf_counter()
    for argv in argvs:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, check=False)
        if done.returncode != 0 or not done.stdout:
            raise RuntimeError(f"{argv} failed ({done.returncode}): {done.stderr[-300:]!r}")
    return time.perf_counter() - start


def exec_kubeconfig(kubeconfig: str, directory: Path) -> str:
    """A copy of ``kubeconfig`` whose user runs a plugin printing the same token."""
    config = yaml.safe_load(Path(kubeconfig).read_text())
    token = config["users"][0]["user"]["token"]
    answer = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": {"token": token},
    }
    plugin = directory / "token-plugin"
    plugin.write_text(f"#!/bin/sh\ncat <<'EOF'\n{json.dumps(answer)}\nEOF\n")
    plugin.chmod(plugin.stat().st_mode | stat.S_IXUSR)
    config["users"][0]["user"] = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": str(plugin),
            "interactiveMode": "Never",
        }
    }
    path = directory / "exec.kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def cases(
    kubeconfig: str, cache: Path, pod: str
) -> dict[str, tuple[Callable[[], float], Callable[[], float]]]:
    """Per command: (ours, kubectl's) measurements for one kubeconfig."""
    ours = [NODEAPP, "--kubeconfig", kubeconfig, "-n", NS]
    theirs = [KUBECTL, "--kubeconfig", kubeconfig, "--cache-dir", str(cache), "-n", NS]
    return {
        "logs --tail 1 --no-follow": (
            lambda: first_output([*ours, "logs", "deploy/trace-api-web", "--tail", "1", "--no-follow"]),
            lambda: first_output([*theirs, "logs", "deploy/trace-api-web", "--tail", "1"]),
        ),
        "shell POD -- echo hi": (
            lambda: first_output([*ours, "shell", pod, "--", "echo", "hi"]),
            lambda: first_output([*theirs, "exec", pod, "--", "echo", "hi"]),
        ),
        "status": (
            lambda: until_exit([*ours, "status", "trace-api"]),
            lambda: until_exit(
                [*theirs, "get", "deploy,rs,pods", "-l", "app=trace-api"], [*theirs, "get", "events"]
            ),
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    from shell import wait_for_pod

    from kubectl_trace.sandbox.interfaces import SandboxOptions
    from kubectl_trace.sandbox.process import start_sandbox

    load_before = os.getloadavg()[0]
    results: dict[tuple[str, str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-kinds-") as tmp:
        work = Path(tmp)
        handle = start_sandbox(
            str(work / "kubeconfig"),
            SandboxOptions(time_scale=0.1, log_rate=1.0),
            exit_with_parent=os.getpid(),
        )
        try:
            pod = wait_for_pod(handle.kubeconfig)
            kinds = {"token": handle.kubeconfig, "exec plugin": exec_kubeconfig(handle.kubeconfig, work)}
            plan: dict[tuple[str, str, str], Callable[[], float]] = {}
            for kind, kubeconfig in kinds.items():
                for command, (ours, theirs) in cases(kubeconfig, work / "cache", pod).items():
                    plan[(kind, command, "nodeapp")] = ours
                    plan[(kind, command, "kubectl")] = theirs
            for run in plan.values():  # warm-up: kubectl's discovery cache, the page cache
                run()
            results = {key: [] for key in plan}
            for _ in range(args.runs):
                for key, run in plan.items():
                    results[key].append(run())
        finally:
            handle.stop()
    load_after = os.getloadavg()[0]

    lines = [
        "## Start-up by kubeconfig kind: token vs exec credential plugin",
        "",
        f"{stamp()} Load average {load_before:.1f} before, {load_after:.1f} after.",
        f"`bench/kubeconfig_kinds.py --runs {args.runs}`: medians of {args.runs} alternating rounds against",
        "one sandbox; logs and shell to the first byte of output, status (and kubectl's",
        "`get deploy,rs,pods` + `get events`) to exit. The exec-plugin kubeconfig runs a shell",
        "script printing an ExecCredential (as cloud plugins do); kubectl runs the same plugin.",
        "Goal: ≤ 1.5× kubectl with either kubeconfig.",
        "",
        "| command | token: nodeapp | token: kubectl | ratio "
        "| exec plugin: nodeapp | exec plugin: kubectl | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for command in ("logs --tail 1 --no-follow", "shell POD -- echo hi", "status"):
        row = [f"`{command}`"]
        for kind in ("token", "exec plugin"):
            ours = median(results[(kind, command, "nodeapp")]) * 1000
            theirs = median(results[(kind, command, "kubectl")]) * 1000
            row += [f"{ours:.0f} ms", f"{theirs:.0f} ms", f"{ours / theirs:.2f}×"]
        lines.append("| " + " | ".join(row) + " |")
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        update_section("kubeconfig-kinds", text)


if __name__ == "__main__":
    main()
