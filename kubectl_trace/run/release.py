"""The release phase of ``deploy``: the release command runs as a Job with the new tag first.

Heroku's release phase, on Kubernetes: before any Deployment is patched, the release
command (``--release-command``, or ``release_command`` under ``[apps.APP]`` in the config
file) runs once as a Job built from the app's web process (else its first process) with the
image tag being deployed. If it fails, or its pod cannot start, nothing is deployed: its
last log lines are shown and ``ReleasePhaseFailed`` ends the deploy (exit 1). The Job is
deleted afterwards either way.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kubectl_trace.errors import NodeappError, UsageError

if TYPE_CHECKING:
    from kubectl_trace.environment import Environment
    from kubectl_trace.kube.calls import KubeClient
    from kubectl_trace.userconfig import UserConfig

__all__ = ["ReleasePhaseFailed", "parse_release_command", "run_release_phase"]

_SHOWN_LINES = 20


class ReleasePhaseFailed(NodeappError):
    """The release command failed: nothing was deployed."""


def parse_release_command(text: str) -> tuple[str, ...]:
    """The argv of a release command given as one string (shell quoting rules)."""
    try:
        argv = tuple(shlex.split(text))
    except ValueError as exc:
        raise UsageError(f"invalid release command {text!r}: {exc}") from None
    if not argv:
        raise UsageError("the release command is empty")
    return argv


def _visible(line: str) -> str:
    """A log line with control characters shown, not obeyed (they come from the cluster)."""
    return "".join(ch if ch == "\t" or ch.isprintable() else repr(ch)[1:-1] for ch in line)


def _web_first(deployments: Sequence[Any], config: UserConfig) -> Any:
    from kubectl_trace.release.app import process_name

    for deployment in deployments:
        if process_name(deployment, config) == "web":
            return deployment
    return deployments[0]


def run_release_phase(
    kube: KubeClient,
    config: UserConfig,
    env: Environment,
    *,
    app: str,
    deployments: Sequence[Any],
    repository: str,
    tag: str,
    command: str,
    user: str,
) -> None:
    """Run the release command with ``tag``; return when it exited 0, else raise ReleasePhaseFailed."""
    from kubectl_trace.release.flow import rfc3339_seconds
    from kubectl_trace.run.job import RunSpec, build_run_job, run_job_name
    from kubectl_trace.run.session import CannotStart, JobRun, delete_job, run_job

    argv = parse_release_command(command)
    deployment = _web_first(deployments, config)
    name = run_job_name(app, "release")
    spec = RunSpec(
        app=app,
        command=argv,
        name=name,
        user=user,
        at=rfc3339_seconds(env.clock()),
        tag=tag,
        repository=repository,
        kind="release",
        process_label=config.process_label,
        process_env=config.process_env,
        app_label=config.app_label,
    )
    job = build_run_job(deployment, spec)
    lines: list[str] = []
    run = JobRun(kube, kube.namespace, job, lines.append, clock=env.clock)
    env.stderr.write(f"release phase: running `{shlex.join(argv)}` with {tag} as job {name}…\n")
    env.stderr.flush()
    started = env.clock()
    try:
        result = run_job(run)
    except CannotStart as exc:
        raise ReleasePhaseFailed(
            f"release phase failed, nothing was deployed: {exc.message}", hint=exc.hint
        ) from None
    finally:
        if run.created is not None:
            delete_job(kube, kube.namespace, name)
    if result.exit_code == 0:
        env.stderr.write(f"release phase: ✓ `{shlex.join(argv)}` exited 0 in {env.clock() - started:.0f}s\n")
        env.stderr.flush()
        return
    shown = lines[-_SHOWN_LINES:]
    if shown:
        env.stderr.write(f"last {len(shown)} log line{'s' if len(shown) != 1 else ''} of job {name}:\n")
        for line in shown:
            env.stderr.write(f"  {_visible(line)}\n")
        env.stderr.flush()
    raise ReleasePhaseFailed(
        f"release phase failed: `{shlex.join(argv)}` exited {result.exit_code}; nothing was deployed",
        hint="fix the release command (or the code it runs) and deploy again",
    )
