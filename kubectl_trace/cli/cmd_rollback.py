"""``kubectl nodeapp rollback APP [--to vN | --to-tag TAG]``: the whole app back to a release, followed."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from kubectl_trace.cli.options import AppOptions, CommonOptions, add_app_argument, options_from
from kubectl_trace.environment import Environment
from kubectl_trace.release.settings import ChangeSettings, add_change_arguments, change_settings

DESCRIPTION = (
    "Put every process of APP back on the pod template it ran in an earlier release — never a\n"
    "mix of tags — and follow the rollouts. The target is --to vN, --to-tag TAG (the newest\n"
    "release on that tag), or by default the last release whose rollout completed healthy (not\n"
    "merely the previous number); the plan names it and lists each process `tag → tag`.\n"
    "A process whose ReplicaSet for that release is gone is rebuilt from the template recorded\n"
    'with the release. The rollback is itself a new release ("rollback to vN") in\n'
    "`kubectl nodeapp history APP`."
)
EXAMPLES = """\
  kubectl nodeapp rollback trace-api -n production
  kubectl nodeapp rollback trace-api -n production --to v3 --yes
  kubectl nodeapp rollback trace-api -n staging --to-tag a41c9e7
  kubectl nodeapp rollback trace-api -n production --dry-run"""


@dataclass(frozen=True)
class RollbackOptions(AppOptions):
    """Options of ``rollback``."""

    to: int | None
    to_tag: str | None
    force: bool
    change: ChangeSettings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``rollback``."""
    add_app_argument(parser)
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--to", metavar="vN", help="the release to go back to (see: kubectl nodeapp history APP)"
    )
    target.add_argument("--to-tag", metavar="TAG", help="the newest release that ran TAG on every process")
    parser.add_argument("--to-revision", help=argparse.SUPPRESS)
    parser.add_argument("--process", help=argparse.SUPPRESS)
    parser.add_argument(
        "--force", action="store_true", help="restore a release even though its processes ran different tags"
    )
    add_change_arguments(parser)


def parse_options(args: argparse.Namespace, common: CommonOptions) -> RollbackOptions:
    """Validate the flags."""
    from kubectl_trace.errors import UsageError
    from kubectl_trace.release.records import parse_release_number
    from kubectl_trace.release.tags import validate_tag

    if args.to_revision is not None:
        raise UsageError(
            "--to-revision is gone: a rollback returns the whole app to a release; "
            "use --to vN (the releases: kubectl nodeapp history APP)"
        )
    if args.process is not None:
        raise UsageError(
            "rollback returns every process to one release (never a mix); --process is not allowed"
        )
    return options_from(
        RollbackOptions,
        args,
        common,
        to=parse_release_number(args.to) if args.to is not None else None,
        to_tag=validate_tag(args.to_tag, flag="--to-tag") if args.to_tag is not None else None,
        change=change_settings(args),
    )


def run(options: RollbackOptions, env: Environment) -> int:
    """Choose the release, plan every process, confirm, apply, record, follow."""
    from kubectl_trace.cli.release_context import connect
    from kubectl_trace.release.app_rollback import plan_app_rollback
    from kubectl_trace.release.flow import execute, recorder_for, rfc3339_seconds, user_name
    from kubectl_trace.release.patches import change_cause
    from kubectl_trace.release.records import Release

    ctx = connect(options.common, env)
    at = rfc3339_seconds(ctx.now())

    def cause_for(target: Release) -> str:
        return change_cause(f"rollback to v{target.number}", user_name(env.environ), at)

    rollback = plan_app_rollback(
        ctx.kube,
        options.app,
        ctx.namespace,
        ctx.config,
        cause_for,
        to=options.to,
        to_tag=options.to_tag,
        force=options.force,
    )
    target = rollback.target
    return execute(
        ctx,
        heading=(
            f"roll back app {rollback.app} in namespace {ctx.namespace} from {rollback.current} to "
            f"v{target.number} ({target.description}; {rollback.why}):"
        ),
        verb=f"rollback to v{target.number}",
        plan=rollback.plan,
        settings=options.change,
        question=f"Roll back {rollback.app} in {ctx.namespace} to v{target.number}?",
        recorder=recorder_for(ctx, rollback.app, rollback.repository, "rollback", f"to v{target.number}"),
    )
