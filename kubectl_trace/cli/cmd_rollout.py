"""``kubectl nodeapp rollout [DEPLOYMENT]``: the live rollout and probe-health dashboard."""

from __future__ import annotations

import argparse
import os
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kubectl_trace.cli.options import CommonOptions, options_from
from kubectl_trace.environment import Environment
from kubectl_trace.errors import NodeappError, UsageError

if TYPE_CHECKING:
    from kubectl_trace.kube.calls import KubeClient

DESCRIPTION = (
    "A full-screen dashboard of the namespace's rollouts, fed by watches (no polling): each\n"
    "Deployment's tag, revision and progress; the selected rollout's old and new ReplicaSets\n"
    "against maxSurge/maxUnavailable; every pod's readiness and liveness with the last probe\n"
    "failure, restarts and last exit; recent events (Warnings stand out) and a live log tail.\n"
    "Keys: arrows/Enter select, l logs, s shell, u roll the whole app back to its last healthy\n"
    "release, U undo this Deployment only (both ask first), p pause/resume, r restart,\n"
    "/ filter, ? help, q quit. While the API server is unreachable a banner says\n"
    "so and the data is marked stale. --once prints one frame; --until-complete follows one\n"
    "Deployment and exits 0 when its rollout completes, 1 when it stalls (for CI)."
)
EXAMPLES = """\
  kubectl nodeapp rollout -n production
  kubectl nodeapp rollout trace-api-web -n production --once | less -R
  kubectl nodeapp rollout -n staging --once --color always --width 100
  kubectl nodeapp rollout trace-api-web -n production --until-complete --timeout 10m"""


@dataclass(frozen=True)
class RolloutOptions:
    """Options of ``rollout``."""

    common: CommonOptions
    deployment: str | None
    once: bool
    until_complete: bool
    timeout: float | None
    width: int | None
    log_lines: int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``rollout``."""
    parser.add_argument(
        "deployment",
        nargs="?",
        metavar="DEPLOYMENT",
        help="the Deployment to select first (NAME or deploy/NAME); default: the first one",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="print one frame to stdout and exit")
    mode.add_argument(
        "--until-complete",
        action="store_true",
        help="follow DEPLOYMENT: exit 0 when its rollout completes, 1 when it stalls or times out",
    )
    parser.add_argument(
        "--timeout", metavar="D", help="with --until-complete: give up (exit 1) after D (e.g. 10m)"
    )
    parser.add_argument(
        "--width",
        type=int,
        metavar="N",
        help="with --once: the frame's width (default: the terminal's, else 120)",
    )
    parser.add_argument(
        "--log-lines",
        type=int,
        default=10,
        metavar="N",
        help="with --once: log lines of the selected pod (default 10; 0 for none)",
    )


def parse_options(args: argparse.Namespace, common: CommonOptions) -> RolloutOptions:
    """Validate the flags."""
    from kubectl_trace.timeparse import parse_duration

    deployment = args.deployment
    if deployment is not None:
        for prefix in ("deploy/", "deployment/", "deployments/", "deployment.apps/"):
            if deployment.startswith(prefix):
                deployment = deployment[len(prefix) :]
                break
        if not deployment or "/" in deployment:
            raise UsageError(f"invalid DEPLOYMENT {args.deployment!r}: expected NAME or deploy/NAME")
    if args.until_complete and deployment is None:
        raise UsageError("--until-complete needs a DEPLOYMENT to follow")
    timeout = None
    if args.timeout is not None:
        if not args.until_complete:
            raise UsageError("--timeout only applies to --until-complete")
        timeout = parse_duration(args.timeout, flag="--timeout") or None
    if args.width is not None and not 40 <= args.width <= 1000:
        raise UsageError(f"invalid --width {args.width}: expected 40 to 1000 columns")
    if args.log_lines < 0:
        raise UsageError("--log-lines must be 0 or more")
    return options_from(RolloutOptions, args, common, deployment=deployment, timeout=timeout)


def _global_args(common: CommonOptions) -> list[str]:
    """The connection flags a child ``kubectl nodeapp logs|shell`` needs to see the same cluster."""
    out: list[str] = []
    if common.kube.kubeconfig:
        out += ["--kubeconfig", os.path.abspath(os.path.expanduser(common.kube.kubeconfig))]
    if common.kube.context:
        out += ["--context", common.kube.context]
    return out


def run(options: RolloutOptions, env: Environment) -> int:
    """Open the dashboard (or print one frame, or follow one rollout)."""
    from kubectl_trace.cli.client import connected

    # the lean client: first frame ~1 s sooner
    with connected(options.common, env) as kube:
        namespace = kube.namespace
        kube.require_namespace(namespace)
        if options.deployment is not None:
            kube.get("deployments", options.deployment, namespace)  # NotFound → one clear line
        if options.until_complete:
            return _until_complete(kube, namespace, options, env)
        if options.once or not env.interactive:
            if not options.once:
                raise NodeappError(
                    "the dashboard needs a terminal",
                    hint="use --once to print one frame, or --until-complete DEPLOYMENT to follow a rollout",
                )
            return _once(kube, namespace, options, env)
        from kubectl_trace.dashboard import run_dashboard

        return run_dashboard(
            kube,
            namespace,
            deployment=options.deployment,
            env=env,
            global_args=_global_args(options.common),
        )


def _once(kube: KubeClient, namespace: str, options: RolloutOptions, env: Environment) -> int:
    from kubectl_trace.dashboard.headless import once

    width = options.width or env.width
    if width is None:
        width = shutil.get_terminal_size((120, 40)).columns if env.stdout_isatty else 120
    console = env.console(width=width)
    once(
        kube,
        namespace,
        console,
        deployment=options.deployment,
        context=kube.conn.context,
        now=env.clock(),
        log_lines=options.log_lines,
    )
    return 0


def _until_complete(kube: KubeClient, namespace: str, options: RolloutOptions, env: Environment) -> int:
    from kubectl_trace.dashboard.headless import until_complete

    assert options.deployment is not None
    outcome = until_complete(
        kube,
        namespace,
        options.deployment,
        env.stdout,
        timeout=options.timeout,
        clock=env.clock,
    )
    from kubectl_trace.textsafe import safe_text  # details quote pod messages and image names

    stream = env.stdout if outcome.status == 0 else env.stderr
    mark = "✓" if outcome.status == 0 else "✗"
    stream.write(f"{mark} {safe_text(outcome.message)}\n")
    for line in outcome.details:
        stream.write(f"  {safe_text(line)}\n")
    stream.flush()
    return outcome.status
