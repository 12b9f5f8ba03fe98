"""``kubectl nodeapp scale APP web=3 worker=2``: pods per process, like ``heroku ps:scale``."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import Any

from kubectl_trace.cli.options import AppOptions, CommonOptions, add_app_argument, options_from
from kubectl_trace.environment import Environment
from kubectl_trace.release.scaleargs import ScaleRequest
from kubectl_trace.release.settings import ChangeSettings, add_change_arguments, change_settings

DESCRIPTION = (
    "Set the number of pods of the named processes of APP (PROCESS=N, or PROCESS+N / PROCESS-N\n"
    "relative to now) and follow until they are available; the other processes are untouched.\n"
    "`scale APP` alone lists each process with its desired, ready and available pods. A count\n"
    "cannot go below zero (worker-5 with one worker pod is a usage error: say worker=0). Scaling\n"
    "makes no new release: the same release runs on more or fewer pods."
)
# Words may come on both sides of flags (env APP -n NS set K=V): the runner parses intermixed.
INTERMIXED_ARGS = True
EXAMPLES = """\
  kubectl nodeapp scale trace-api -n staging
  kubectl nodeapp scale trace-api web=3 worker=2 -n staging
  kubectl nodeapp scale trace-api web+1 -n production --yes
  kubectl nodeapp scale trace-api worker=0 -n staging --dry-run"""


@dataclass(frozen=True)
class ScaleOptions(AppOptions):
    """Options of ``scale``."""

    requests: tuple[ScaleRequest, ...]
    output: str
    change: ChangeSettings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``scale``."""
    add_app_argument(parser)
    parser.add_argument("counts", nargs="*", metavar="PROCESS=N", help="web=3, worker+1, clock-1 …")
    parser.add_argument(
        "-o", "--output", choices=("text", "json"), default="text", help="listing: output format"
    )
    add_change_arguments(parser)


def parse_options(args: argparse.Namespace, common: CommonOptions) -> ScaleOptions:
    """Validate the counts."""
    from kubectl_trace.release.scaleargs import parse_scale

    return options_from(
        ScaleOptions, args, common, requests=tuple(parse_scale(args.counts)), change=change_settings(args)
    )


def run(options: ScaleOptions, env: Environment) -> int:
    """List the counts, or plan, confirm, apply and follow."""
    from kubectl_trace.cli.release_context import connect
    from kubectl_trace.release.app import load_app, process_name
    from kubectl_trace.release.flow import execute
    from kubectl_trace.release.plans import plan_scale
    from kubectl_trace.release.scaleargs import resolve_scale

    ctx = connect(options.common, env)
    app = load_app(ctx.kube, options.app, namespace=ctx.namespace, config=ctx.config)
    by_process = {process_name(d, ctx.config): d for d in app.deployments}
    if not options.requests:
        return _list(env, app.name, ctx.namespace, by_process, options.output)
    current = {p: int((d.get("spec") or {}).get("replicas", 1)) for p, d in by_process.items()}
    wanted = resolve_scale(options.requests, current)
    names = {p: str(d["metadata"]["name"]) for p, d in by_process.items()}
    plan = plan_scale(
        app.deployments,
        {names[p]: n for p, n in wanted.items()},
        {names[r.process]: r.op != "=" for r in options.requests},
    )
    text = " ".join(f"{p}={n}" for p, n in wanted.items())
    return execute(
        ctx,
        heading=f"scale app {app.name} in namespace {ctx.namespace}: {text}",
        verb=f"scale {text}",
        plan=plan,
        settings=options.change,
        question=f"Scale {app.name} in {ctx.namespace} to {text}?",
    )


def _list(env: Environment, app: str, namespace: str, by_process: dict[str, Any], output: str) -> int:
    rows = []
    for process, d in by_process.items():
        spec, status = d.get("spec") or {}, d.get("status") or {}
        rows.append(
            {
                "process": process,
                "deployment": d["metadata"]["name"],
                "desired": int(spec.get("replicas", 1)),
                "ready": int(status.get("readyReplicas") or 0),
                "available": int(status.get("availableReplicas") or 0),
            }
        )
    if output == "json":
        for r in rows:
            env.stdout.write(json.dumps({"namespace": namespace, **r}) + "\n")
        return 0
    from kubectl_trace.textsafe import visible  # a process name may come from env PROCESS_TYPE

    table = [("PROCESS", "DEPLOYMENT", "DESIRED", "READY", "AVAILABLE")]
    table += [
        (visible(r["process"]), r["deployment"], str(r["desired"]), str(r["ready"]), str(r["available"]))
        for r in rows
    ]
    widths = [max(len(row[c]) for row in table) for c in range(5)]
    env.stdout.write(
        f"=== {app} in {namespace}: "
        + " ".join(f"{visible(r['process'])}={r['desired']}" for r in rows)
        + "\n"
    )
    for row in table:
        env.stdout.write("  ".join(cell.ljust(widths[c]) for c, cell in enumerate(row)).rstrip() + "\n")
    return 0
