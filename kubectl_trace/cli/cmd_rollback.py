"""``kubectl nodeapp rollback APP [--to-revision N]``: kubectl's rollout undo for every process, followed."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from kubectl_trace.cli.environment import Environment
from kubectl_trace.cli.options import CommonOptions
from kubectl_trace.release.settings import ChangeSettings, add_change_arguments, change_settings

DESCRIPTION = (
    "Roll every process Deployment of APP back to its previous revision (or --to-revision N),\n"
    "exactly as `kubectl rollout undo` does it — the revision's pod template without its\n"
    "pod-template-hash label, its change cause restored — then follow the rollouts. Revisions\n"
    "are the ones `kubectl nodeapp history APP` and `kubectl rollout history` show."
)
EXAMPLES = """\
  kubectl nodeapp rollback trace-api -n production
  kubectl nodeapp rollback trace-api -n production --to-revision 1 --yes
  kubectl nodeapp rollback trace-api -n staging --process web
  kubectl nodeapp rollback trace-api -n production --dry-run"""


@dataclass(frozen=True)
class RollbackOptions:
    """Options of ``rollback``."""

    common: CommonOptions
    app: str
    process: str | None
    to_revision: int
    change: ChangeSettings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``rollback``."""
    parser.add_argument("app", metavar="APP", help="the app: its Deployments are APP-* or labelled app=APP")
    parser.add_argument(
        "--to-revision",
        metavar="N",
        default="0",
        help="the revision to roll back to (default: the previous one)",
    )
    parser.add_argument("--process", metavar="P", help="only this process type (web, worker, clock)")
    add_change_arguments(parser)


def parse_options(args: argparse.Namespace, common: CommonOptions) -> RollbackOptions:
    """Validate the flags."""
    from kubectl_trace.errors import UsageError

    try:
        revision = int(args.to_revision)
    except ValueError:
        revision = -1
    if revision < 0:
        raise UsageError(
            f"--to-revision must be a revision number (0 = the previous one), not {args.to_revision!r}"
        )
    return RollbackOptions(
        common=common, app=args.app, process=args.process, to_revision=revision, change=change_settings(args)
    )


def run(options: RollbackOptions, env: Environment) -> int:
    """Plan the undo of each Deployment, confirm, apply, follow."""
    from kubectl_trace.errors import NodeappError
    from kubectl_trace.release.app import infer_repository, load_app
    from kubectl_trace.release.flow import connect, execute
    from kubectl_trace.release.plans import plan_rollback

    ctx = connect(options.common, env)
    app = load_app(ctx.kube, options.app, namespace=ctx.namespace, process=options.process, config=ctx.config)
    try:
        repository: str | None = infer_repository(app.name, app.deployments, ctx.config.image_repository)
    except NodeappError:
        repository = None
    replicasets = ctx.kube.list("replicasets", ctx.namespace).items
    plan = plan_rollback(app.deployments, replicasets, options.to_revision, repository)
    target = f"revision {options.to_revision}" if options.to_revision else "the previous revision"
    return execute(
        ctx,
        heading=f"roll back app {app.name} in namespace {ctx.namespace} to {target}:",
        verb="rollback",
        plan=plan,
        settings=options.change,
        question=f"Roll back {len(plan.planned)} Deployment(s) of {app.name} in {ctx.namespace}?",
    )
