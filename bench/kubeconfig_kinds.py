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

import json
import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import yaml
from _harness import (
    NODEAPP,
    PYTHON,
    alternate,
    demo_web_pod,
    first_output,
    kubectl_argv,
    wall,
    warm_up,
)
from _report import arguments, median, ms, publish, ratio, stamp, table

NS = "production"
COMMANDS = ("logs --tail 1 --no-follow", "shell POD -- echo hi", "status")

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


def import_profile(argv: list[str], runs: int) -> tuple[float, dict[str, float]]:
    """Median total import time (ms) of a command, and the median self time (ms) per module.

    From ``PYTHONPROFILEIMPORTTIME`` (``-X importtime``) in separate runs, not the timed ones.
    """
    totals: list[float] = []
    per_module: dict[str, list[float]] = {}
    for _ in range(runs):
        env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, env=env, check=False)
        if done.returncode != 0:  # a command that failed early would import less and look cheap
            raise RuntimeError(f"{argv} failed ({done.returncode}): {done.stderr[-300:]!r}")
        seen: dict[str, float] = {}
        for line in done.stderr.decode("utf-8", "replace").splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            own, _cumulative, name = line[len("import time:") :].split("|")
            # imports in other threads can make a self time negative (their time is
            # subtracted from the importing module's): count none of it twice, none below 0
            seen[name.strip()] = seen.get(name.strip(), 0.0) + max(0, int(own)) / 1000
        totals.append(sum(seen.values()))
        for name, took in seen.items():
            per_module.setdefault(name, []).append(took)
    # a module missing from a run (imported only sometimes) counts 0 there
    return median(totals), {
        name: median(values + [0.0] * (runs - len(values))) for name, values in per_module.items()
    }


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


def commands(kubeconfig: str, pod: str) -> dict[str, list[str]]:
    """Our side of each case, for one kubeconfig."""
    ours = [NODEAPP, "--kubeconfig", kubeconfig, "-n", NS]
    return {
        "logs --tail 1 --no-follow": [*ours, "logs", "deploy/trace-api-web", "--tail", "1", "--no-follow"],
        "shell POD -- echo hi": [*ours, "shell", pod, "--", "echo", "hi"],
        "status": [*ours, "status", "trace-api"],
    }


def cases(
    kubeconfig: str, cache: Path, pod: str
) -> dict[str, tuple[Callable[[], float], Callable[[], float]]]:
    """Per command: (ours, kubectl's) measurements for one kubeconfig."""
    ours = commands(kubeconfig, pod)
    theirs = [*kubectl_argv(kubeconfig, cache), "-n", NS]
    return {
        "logs --tail 1 --no-follow": (
            lambda: first_output(ours["logs --tail 1 --no-follow"]),
            lambda: first_output([*theirs, "logs", "deploy/trace-api-web", "--tail", "1"]),
        ),
        "shell POD -- echo hi": (
            lambda: first_output(ours["shell POD -- echo hi"]),
            lambda: first_output([*theirs, "exec", pod, "--", "echo", "hi"]),
        ),
        "status": (
            lambda: wall(ours["status"], need_output=True),
            lambda: wall(
                [*theirs, "get", "deploy,rs,pods", "-l", "app=trace-api"],
                [*theirs, "get", "events"],
                need_output=True,
            ),
        ),
    }


def main() -> None:
    args = arguments(__doc__, runs=11).parse_args()
    load_before = os.getloadavg()[0]
    with demo_web_pod("bench-kinds-") as (handle, work, pod):
        kinds = {"token": handle.kubeconfig, "exec plugin": exec_kubeconfig(handle.kubeconfig, work)}
        plan: dict[tuple[str, str, str], Callable[[], float]] = {}
        for kind, kubeconfig in kinds.items():
            for command, (ours, theirs) in cases(kubeconfig, work / "cache", pod).items():
                plan[(kind, command, "nodeapp")] = ours
                plan[(kind, command, "kubectl")] = theirs
        warm_up(plan)
        results = alternate(args.runs, plan)
        profiles = {
            command: import_profile(argv, args.runs)
            for command, argv in commands(handle.kubeconfig, pod).items()
        }
        interpreter = median([wall([PYTHON, "-c", "pass"]) for _ in range(args.runs)])
    load_after = os.getloadavg()[0]

    def median_of(kind: str, command: str, tool: str) -> float:
        return median(results[(kind, command, tool)])

    def kind_cells(kind: str, command: str) -> list[str]:
        ours, theirs = median_of(kind, command, "nodeapp"), median_of(kind, command, "kubectl")
        return [ms(ours), ms(theirs), ratio(ours, theirs)]

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
        *table(
            [
                "command",
                *("token: nodeapp", "token: kubectl", "ratio"),
                *("exec plugin: nodeapp", "exec plugin: kubectl", "ratio"),
            ],
            "lrrrrrr",
            [
                [f"`{command}`", *kind_cells("token", command), *kind_cells("exec plugin", command)]
                for command in COMMANDS
            ],
        ),
        "",
        "Where the time goes (token kubeconfig, medians; imports from `-X importtime` in separate runs):",
        "",
    ]
    rows = []
    for command, (imported, _modules) in profiles.items():
        total, peer = median_of("token", command, "nodeapp"), median_of("token", command, "kubectl")
        rest = total - interpreter - imported / 1000
        rows.append([f"`{command}`", ms(total), ms(interpreter), f"{imported:.0f} ms", ms(rest), ms(peer)])
    lines += table(
        [
            "command",
            "nodeapp total",
            "Python start-up (`python -c pass`)",
            "imports",
            "the rest (config, TLS, requests, output)",
            "kubectl total",
        ],
        "lrrrrr",
        rows,
    )
    _total, modules = profiles["logs --tail 1 --no-follow"]
    ours_ms = sum(took for name, took in modules.items() if name.startswith("kubectl_trace"))
    top = sorted(modules.items(), key=lambda item: -item[1])[:12]
    lines += [
        "",
        f"Imports of `logs`: {len(modules)} modules, {sum(modules.values()):.0f} ms, "
        f"of which kubectl_trace's own {ours_ms:.0f} ms. Largest self times: "
        + ", ".join(f"{name} {took:.1f}" for name, took in top)
        + " (ms).",
        "",
        *NOTES,
    ]
    publish("kubeconfig-kinds", lines, args.no_write)


if __name__ == "__main__":
    main()
