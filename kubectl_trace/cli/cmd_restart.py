"""``kubectl nodeapp restart APP``: a rolling restart of every process, followed."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from kubectl_trace.cli.options import AppOptions, CommonOptions, add_app_argument, options_from
from kubectl_trace.environment import Environment
from kubectl_trace.release.settings import ChangeSettings, add_change_arguments, change_settings

DESCRIPTION = (
    "Restart every pod of every process Deployment of APP (or the one --process names) the way\n"
    "`kubectl rollout restart` does — a new kubectl.kubernetes.io/restartedAt on the pod\n"
    "template, so the rolling update keeps the app available — and follow it to completion.\n"
    "A restart runs the same release again: it makes no new release in `history`."
)
EXAMPLES = """\
  kubectl nodeapp restart trace-api -n staging
  kubectl nodeapp restart trace-api --process worker -n production --yes
  kubectl nodeapp restart trace-api -n staging --dry-run"""


@dataclass(frozen=True)
class RestartOptions(AppOptions):
    """Options of ``restart``."""

    process: str | None
    change: ChangeSettings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``restart``."""
    add_app_argument(parser)
    parser.add_argument("--process", metavar="P", help="only this process type (web, worker, clock)")
    add_change_arguments(parser)


def parse_options(args: argparse.Namespace, common: CommonOptions) -> RestartOptions:
    """Validate the flags."""
    return options_from(RestartOptions, args, common, change=change_settings(args))


def run(options: RestartOptions, env: Environment) -> int:
    """Plan, confirm, apply, follow."""
    from kubectl_trace.cli.release_context import connect
    from kubectl_trace.release.app import load_app
    from kubectl_trace.release.flow import execute, rfc3339_seconds, user_name
    from kubectl_trace.release.patches import change_cause
    from kubectl_trace.release.plans import plan_restart

    ctx = connect(options.common, env)
    app = load_app(ctx.kube, options.app, namespace=ctx.namespace, process=options.process, config=ctx.config)
    at = rfc3339_seconds(ctx.now())
    plan = plan_restart(app.deployments, at, change_cause("restart", user_name(env.environ), at))
    scope = f" ({options.process})" if options.process else ""
    return execute(
        ctx,
        heading=f"rolling restart of app {app.name}{scope} in namespace {ctx.namespace}:",
        verb="restart",
        plan=plan,
        settings=options.change,
        question=f"Restart {len(plan.planned)} Deployment(s) of {app.name} in {ctx.namespace}?",
    )
