"""``kubectl nodeapp deploy APP [--tag TAG]``: the current git commit to every process, followed."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubectl_trace.cli.options import AppOptions, CommonOptions, add_app_argument, options_from
from kubectl_trace.environment import Environment
from kubectl_trace.release.settings import ChangeSettings, add_change_arguments, change_settings

DESCRIPTION = (
    "Set the image tag of every Deployment of APP that runs the app's image (web, worker, clock…)\n"
    "in one step as one new release of the app (recorded in the ConfigMap nodeapp-releases-APP:\n"
    "number, tag of every process, author, time; see `kubectl nodeapp history APP`), and follow\n"
    "every process's rollout to its end whatever its strategy. TAG defaults to `git rev-parse\n"
    "--short HEAD` of the current directory. A progress deadline, a crash loop or an image pull\n"
    "error in any process is a failure: a final line says per process what happened, then why —\n"
    "probe failures, Warning events, the failing pod's last log lines — and it exits 1 with a\n"
    "pasteable rollback command; --auto-rollback puts every Deployment back on what it ran before.\n"
    "In a production namespace it asks for confirmation on a terminal, and needs --yes otherwise.\n"
    "With --release-command (or release_command under [apps.APP] in the config file) that command\n"
    "first runs once as a Job with the new tag (the release phase: migrations); if it fails,\n"
    "nothing is deployed, its last log lines are shown and deploy exits 1."
)
EXAMPLES = """\
  kubectl nodeapp deploy trace-api -n staging
  kubectl nodeapp deploy trace-api -n production --tag a41c9e7 --yes
  kubectl nodeapp deploy trace-api -n production --auto-rollback --timeout 5m
  kubectl nodeapp deploy trace-api -n staging --dry-run
  kubectl nodeapp deploy trace-api -n staging --tag d4e5f6a --release-command 'npm run migrate'"""


@dataclass(frozen=True)
class DeployOptions(AppOptions):
    """Options of ``deploy``."""

    tag: str | None
    change: ChangeSettings
    release_command: str | None = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``deploy``."""
    add_app_argument(parser)
    parser.add_argument("--tag", help="the image tag to deploy (default: git rev-parse --short HEAD)")
    add_change_arguments(parser, auto_rollback=True)
    parser.add_argument(
        "--release-command",
        metavar="CMD",
        help='run CMD as a Job with the new tag before deploying ("npm run migrate"); failure: no deploy',
    )


def parse_options(args: argparse.Namespace, common: CommonOptions) -> DeployOptions:
    """Validate the flags."""
    from kubectl_trace.release.tags import validate_tag

    tag = validate_tag(args.tag) if args.tag is not None else None
    release = args.release_command
    if release is not None:
        from kubectl_trace.run.release import parse_release_command

        parse_release_command(release)  # bad quoting is a usage error before anything happens
    return options_from(DeployOptions, args, common, tag=tag, change=change_settings(args))


def run(options: DeployOptions, env: Environment) -> int:
    """Plan, confirm, apply, follow."""
    import os

    from kubectl_trace.cli.release_context import connect
    from kubectl_trace.release.app import infer_repository, load_app
    from kubectl_trace.release.flow import execute, recorder_for, rfc3339_seconds, user_name
    from kubectl_trace.release.patches import change_cause
    from kubectl_trace.release.plans import plan_deploy
    from kubectl_trace.release.tags import git_has_uncommitted_changes, git_short_head

    ctx = connect(options.common, env)
    tag = options.tag
    if tag is None:
        tag = git_short_head(os.getcwd())
        if git_has_uncommitted_changes(os.getcwd()):
            ctx.note(f"warning: the working tree has uncommitted changes; they are not part of {tag}")
    app = load_app(ctx.kube, options.app, namespace=ctx.namespace, config=ctx.config)
    repository = infer_repository(app.name, app.deployments, ctx.config.image_repository)
    release_command = options.release_command or ctx.config.release_command(app.name)
    action = f"deploy {tag}" + (f" after release phase `{release_command}`" if release_command else "")
    cause = change_cause(action, user_name(env.environ), rfc3339_seconds(ctx.now()))
    plan = plan_deploy(app.deployments, repository, tag, cause)
    notes, run_phase = _release_phase(ctx, options, app, repository, tag)
    return execute(
        ctx,
        heading=f"deploy {tag} ({repository}) to app {app.name} in namespace {ctx.namespace}:",
        verb=f"deploy {tag}",
        plan=plan,
        settings=options.change,
        notes=notes,
        before_apply=run_phase,
        question=f"Deploy {tag} to {len(plan.planned)} Deployment(s) of {app.name} in {ctx.namespace}?",
        rollback_hint=f"roll back with: kubectl nodeapp rollback {app.name} {ctx.flags}",
        recorder=recorder_for(
            ctx, app.name, repository, "deploy", _release_argument(tag, release_command, plan)
        ),
    )


def _release_argument(tag: str, release_command: str | None, plan: Any) -> str:
    """What the release record says was deployed: the tag, and the release phase when one ran."""
    if release_command and plan.planned:
        return f"{tag} (release phase `{release_command}` ran)"
    return tag


def _release_phase(
    ctx: Any, options: DeployOptions, app: Any, repository: str, tag: str
) -> tuple[list[str], Callable[[], None] | None]:
    """The release phase: notes for the plan, and the hook that runs it once confirmed.

    ``execute`` prints the plan (with the note), asks in a production namespace, then calls the
    hook before the first patch: a release command that fails raises, and nothing is deployed.
    """
    command = options.release_command or ctx.config.release_command(app.name)
    if not command:
        return [], None
    if options.change.dry_run:
        return [f"dry run: the release command `{command}` would run first, as a Job with {tag}"], None
    note = f"release phase: `{command}` runs first as a Job with {tag}; if it fails nothing is deployed"

    def run_phase() -> None:
        from kubectl_trace.release.flow import user_name
        from kubectl_trace.run.release import run_release_phase

        run_release_phase(
            ctx.kube,
            ctx.config,
            ctx.env,
            app=app.name,
            deployments=app.deployments,
            repository=repository,
            tag=tag,
            command=command,
            user=user_name(ctx.env.environ),
        )

    return [note], run_phase
