"""``kubectl nodeapp run APP [--process P] [--tag TAG] [--keep] [--timeout D] -- CMD …``."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from kubectl_trace.cli.options import CommonOptions, add_command_arguments, options_from
from kubectl_trace.environment import Environment
from kubectl_trace.errors import UsageError

if TYPE_CHECKING:
    from kubectl_trace.run.oneoff import OneOff

DESCRIPTION = (
    "Run a one-off process of an app — a migration, a console, a script — as a Kubernetes Job\n"
    "built from the app's current release: the image and tag of process P (default web) and the\n"
    "same env, envFrom, volumes, service account and resources, without probes, ports or\n"
    "sidecars, never restarted (restartPolicy Never, backoffLimit 0). Its pods are labelled\n"
    "process=run (no Service sends them traffic) and PROCESS_TYPE is run unless you set it.\n"
    "On a terminal the Job's container gets a TTY and you are attached to it (run APP -- sh, a\n"
    "console); otherwise its output is streamed from the log. The command's exit status becomes\n"
    "this command's.\n"
    "The Job is deleted afterwards unless --keep (ttlSecondsAfterFinished removes it anyway an\n"
    "hour later). Ctrl-C asks whether to stop the Job (in a TTY session it goes to the process,\n"
    "as any key does). A pod that cannot start (image pull, config error, unschedulable) is\n"
    "explained and the command exits 1."
)
EXAMPLES = """\
  kubectl nodeapp run trace-api -n staging -- npm run migrate
  kubectl nodeapp run trace-api -n staging --keep -- sh -c 'echo migrated; exit 3'
  kubectl nodeapp run trace-api --process worker --tag d4e5f6a -- node scripts/backfill.js
  kubectl nodeapp run trace-api -e DEBUG=1 --timeout 10m -- printenv PROCESS_TYPE NODE_ENV"""

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class RunOptions:
    """Options of ``run``: the request, whose TTY is decided when it runs (on a terminal, unless --no-tty)."""

    common: CommonOptions
    request: OneOff
    no_tty: bool = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``run``."""
    parser.add_argument("app", metavar="APP", help="the app: its Deployments are APP-* or labelled app=APP")
    parser.add_argument("--process", default="web", metavar="P", help="whose release and config to use (web)")
    parser.add_argument("--tag", help="another tag of the app's image (default: the one process P runs)")
    keep = parser.add_mutually_exclusive_group()
    keep.add_argument("--keep", action="store_true", help="keep the Job afterwards (kubectl logs job/…)")
    keep.add_argument("--rm", dest="keep", action="store_false", help="delete the Job afterwards (default)")
    parser.add_argument(
        "--timeout", metavar="D", help="stop the Job after this long (5m, 1h): activeDeadlineSeconds"
    )
    parser.add_argument(
        "-e", "--env", action="append", default=[], metavar="NAME=VALUE", help="set a variable (repeatable)"
    )
    add_command_arguments(
        parser,
        usage="kubectl nodeapp run APP [flags] -- COMMAND [ARGS…]",
        no_tty_help="no TTY even on a terminal (output streamed from the log)",
    )


def parse_options(args: argparse.Namespace, common: CommonOptions) -> RunOptions:
    """Validate the flags."""
    from kubectl_trace.release.tags import validate_tag
    from kubectl_trace.run.oneoff import OneOff
    from kubectl_trace.timeparse import parse_duration

    command = getattr(args, "command", None)
    if not command:
        raise UsageError("no command to run", hint="give it after --, e.g. -- npm run migrate")
    timeout = None
    if args.timeout is not None:
        timeout = max(1, round(parse_duration(args.timeout, flag="--timeout")))
    env: list[tuple[str, str]] = []
    for item in args.env:
        name, sep, value = item.partition("=")
        if not sep or not _ENV_NAME.fullmatch(name):
            raise UsageError(f"invalid --env {item!r}: expected NAME=VALUE")
        env.append((name, value))
    request = options_from(
        OneOff,
        args,
        tag=validate_tag(args.tag) if args.tag is not None else None,
        timeout_seconds=timeout,
        env=tuple(env),
        command=tuple(command),
    )
    return RunOptions(common, request, no_tty=args.no_tty)


def run(options: RunOptions, env: Environment) -> int:
    """Build the Job, run it, pass its exit status through."""
    from kubectl_trace.cli.release_context import connect
    from kubectl_trace.release.flow import user_name
    from kubectl_trace.run.oneoff import run_oneoff

    ctx = connect(options.common, env)
    try:
        request = replace(options.request, tty=env.interactive and not options.no_tty)
        return run_oneoff(ctx.kube, ctx.config, env, request, user=user_name(env.environ))
    finally:
        ctx.kube.close()
