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
from _report import ROOT, first_output, median, stamp, update_section

NODEAPP = str(ROOT / "bin" / "kubectl-nodeapp")
KUBECTL = str(ROOT / ".venv" / "bin" / "kubectl")
NS = "production"


NOTES = [
    "What the profile says. The exec-plugin kubeconfig no longer costs an import of the official",
    "`kubernetes` package: the lean client runs the plugin itself (a few ms), and the ratios to",
    "kubectl are about the same with either kubeconfig. The remaining gap is the price of a Python",
    "process: a Go binary starts in a few ms with everything linked in, while we pay the",
    "interpreter's start-up and then the imports (ssl, http.client with its email parser, json,",
    "dataclasses/typing/enum, our CLI, options and client) before the first request leaves; on",
    "these 2 shared, loaded cores that is most of the `imports` column, and it grows with load",
    "faster than kubectl's figures do. The rest (kubeconfig, TLS handshakes, the requests, the",
    "first output) is of kubectl's order for logs (target and pod list are asked for in parallel)",
    "and shell; status asks more than kubectl's two `get`s (a namespace check and TARGET resolution",
    "first, then its lists, Jobs, metrics and the release record, asked at once since these",
    "figures were taken: see the section on API latency). Not done here: cutting the import graph",
    "of the logs and status paths (option dataclasses built at import, the CLI registry), and",
    "kubeconfigs `simple_yaml` cannot read (a token it cannot parse makes the loader import PyYAML).",
]


def until_exit(*argvs: list[str]) -> float:
    """Seconds to run the commands one after the other (each must succeed and print)."""
    start = time.perf_counter()
    for argv in argvs:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, check=False)
        if done.returncode != 0 or not done.stdout:
            raise RuntimeError(f"{argv} failed ({done.returncode}): {done.stderr[-300:]!r}")
    return time.perf_counter() - start


def import_profile(argv: list[str], runs: int) -> tuple[float, dict[str, float]]:
    """Median total import time (ms) of a command, and the median self time (ms) per module.

    From ``PYTHONPROFILEIMPORTTIME`` (``-X importtime``) in separate runs, not the timed ones.
    """
    totals: list[float] = []
    per_module: dict[str, list[float]] = {}
    for _ in range(runs):
        env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, env=env, check=False)
        seen: dict[str, float] = {}
        for line in done.stderr.decode("utf-8", "replace").splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            own, _cumulative, name = line[len("import time:") :].split("|")
            # imports in other threads can make a self time negative (their time is
            # subtracted from the importing module's): count none of it twice, none below 0
            seen[name.strip()] = seen.get(name.strip(), 0.0) + max(0, int(own)) / 1000
        totals.append(sum(seen.values()))
        for name, ms in seen.items():
            per_module.setdefault(name, []).append(ms)
    # a module missing from a run (imported only sometimes) counts 0 there
    return median(totals), {
        name: median(values + [0.0] * (runs - len(values))) for name, values in per_module.items()
    }


def interpreter_ms(runs: int) -> float:
    """Median wall time of the venv's Python doing nothing (start-up and exit)."""
    python = str(ROOT / ".venv" / "bin" / "python")
    return median([until_exit_quiet([python, "-c", "pass"]) for _ in range(runs)]) * 1000


def until_exit_quiet(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True)
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
            SandboxOptions(time_scale=0.1, log_rate=1.0, containers="simulated"),
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
            ours = [NODEAPP, "--kubeconfig", handle.kubeconfig, "-n", NS]
            profiles = {
                "logs --tail 1 --no-follow": import_profile(
                    [*ours, "logs", "deploy/trace-api-web", "--tail", "1", "--no-follow"], args.runs
                ),
                "shell POD -- echo hi": import_profile([*ours, "shell", pod, "--", "echo", "hi"], args.runs),
                "status": import_profile([*ours, "status", "trace-api"], args.runs),
            }
            interpreter = interpreter_ms(args.runs)
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
    lines += [
        "",
        "Where the time goes (token kubeconfig, medians; imports from `-X importtime` in separate runs):",
        "",
        "| command | nodeapp total | Python start-up (`python -c pass`) | imports | the rest "
        "(config, TLS, requests, output) | kubectl total |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for command, (imported, _modules) in profiles.items():
        total = median(results[("token", command, "nodeapp")]) * 1000
        peer = median(results[("token", command, "kubectl")]) * 1000
        rest = total - interpreter - imported
        lines.append(
            f"| `{command}` | {total:.0f} ms | {interpreter:.0f} ms | {imported:.0f} ms "
            f"| {rest:.0f} ms | {peer:.0f} ms |"
        )
    _total, modules = profiles["logs --tail 1 --no-follow"]
    ours_ms = sum(ms for name, ms in modules.items() if name.startswith("kubectl_trace"))
    top = sorted(modules.items(), key=lambda item: -item[1])[:12]
    lines += [
        "",
        f"Imports of `logs`: {len(modules)} modules, {sum(modules.values()):.0f} ms, "
        f"of which kubectl_trace's own {ours_ms:.0f} ms. Largest self times: "
        + ", ".join(f"{name} {ms:.1f}" for name, ms in top)
        + " (ms).",
    ]
    lines += ["", *NOTES]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        update_section("kubeconfig-kinds", text)


if __name__ == "__main__":
    main()
