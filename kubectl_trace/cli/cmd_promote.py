"""``kubectl nodeapp promote APP --from staging --to production``: copy the image tags, followed."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from kubectl_trace.cli.environment import Environment
from kubectl_trace.cli.options import CommonOptions
from kubectl_trace.release.settings import ChangeSettings, add_change_arguments, change_settings

DESCRIPTION = (
    "Give each process Deployment of APP in the --to namespace the image tag its counterpart\n"
    "(same process) runs in the --from namespace: code piping from staging to production. Shows\n"
    "old → new per Deployment and asks for confirmation on a terminal (--yes otherwise), refuses\n"
    "when the source itself is not healthy (unless --force), then follows the rollouts like deploy."
)
EXAMPLES = """\
  kubectl nodeapp promote trace-api --from staging --to production
  kubectl nodeapp promote trace-api --from staging --to production --yes --auto-rollback
  kubectl nodeapp promote trace-api --from staging --to production --dry-run"""


@dataclass(frozen=True)
class PromoteOptions:
    """Options of ``promote``."""

    common: CommonOptions
    app: str
    source: str
    target: str
    force: bool
    change: ChangeSettings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``promote``."""
    parser.add_argument("app", metavar="APP", help="the app: its Deployments are APP-* or labelled app=APP")
    parser.add_argument(
        "--from", dest="source", metavar="NS", required=True, help="the namespace to copy from"
    )
    parser.add_argument("--to", dest="target", metavar="NS", required=True, help="the namespace to change")
    parser.add_argument("--force", action="store_true", help="promote even when the source is not healthy")
    add_change_arguments(parser, auto_rollback=True)


def parse_options(args: argparse.Namespace, common: CommonOptions) -> PromoteOptions:
    """Validate the flags."""
    from kubectl_trace.errors import UsageError

    if args.source == args.target:
        raise UsageError(f"--from and --to are the same namespace ({args.source})")
    return PromoteOptions(
        common=common,
        app=args.app,
        source=args.source,
        target=args.target,
        force=bool(args.force),
        change=change_settings(args),
    )


def run(options: PromoteOptions, env: Environment) -> int:
    """Check the source, plan, confirm, apply, follow."""
    from dataclasses import replace

    from kubectl_trace.release.app import infer_repository, load_app, process_name
    from kubectl_trace.release.flow import connect, execute, rfc3339_seconds, user_name
    from kubectl_trace.release.gate import source_problems
    from kubectl_trace.release.patches import change_cause
    from kubectl_trace.release.plans import plan_promote

    common = replace(options.common, kube=replace(options.common.kube, namespace=options.target))
    ctx = connect(common, env)
    source = load_app(ctx.kube, options.app, namespace=options.source, config=ctx.config)
    target = load_app(ctx.kube, options.app, namespace=options.target, config=ctx.config)
    repository = infer_repository(target.name, target.deployments, ctx.config.image_repository)
    problems = source_problems(ctx.kube, source, ctx.now())
    if problems:
        listing = "; ".join(problems)
        if not options.force:
            from kubectl_trace.errors import NodeappError

            raise NodeappError(
                f"{options.source} is not healthy, so it is not promoted: {listing}",
                hint=f"look with: kubectl nodeapp status {options.app} -n {options.source}; "
                "promote anyway with --force",
            )
        ctx.note(f"warning: promoting although {options.source} is not healthy (--force): {listing}")
    at = rfc3339_seconds(ctx.now())
    user = user_name(env.environ)
    plan = plan_promote(
        source.deployments,
        target.deployments,
        repository,
        lambda tag: change_cause(f"promote {tag} from {options.source}", user, at),
        lambda d: process_name(d, ctx.config),
    )
    return execute(
        ctx,
        heading=f"promote app {target.name}: {options.source} → {options.target}:",
        verb=f"promote {options.source} → {options.target}",
        plan=plan,
        settings=options.change,
        question=f"Promote {len(plan.planned)} Deployment(s) of {target.name} from {options.source} "
        f"to {options.target}?",
        always_confirm=True,
        rollback_hint=f"roll back with: kubectl nodeapp rollback {target.name} -n {options.target}",
    )
