"""``run APP -- CMD``: a one-off process of an app's current release, as a Job.

The Job is built from process P's Deployment (``job.build_run_job``) and run to its end
(``session.run_job``); the command's exit status becomes ours. Ctrl-C asks whether to stop
the Job (on a terminal; without one it is stopped). Unless ``keep``, the Job is deleted
afterwards, whatever happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubectl_trace.errors import ExitStatus, NodeappError

if TYPE_CHECKING:
    from kubectl_trace.environment import Environment
    from kubectl_trace.kube.calls import KubeClient
    from kubectl_trace.userconfig import UserConfig

__all__ = ["OneOff", "run_oneoff"]


@dataclass(frozen=True)
class OneOff:
    """What ``run`` was asked to do."""

    app: str
    command: tuple[str, ...]
    process: str = "web"
    tag: str | None = None
    keep: bool = False
    timeout_seconds: int | None = None
    env: tuple[tuple[str, str], ...] = ()
    tty: bool = False


def _deployment(kube: KubeClient, request: OneOff, namespace: str, config: UserConfig) -> tuple[Any, str]:
    from kubectl_trace.release.app import infer_repository, load_app, process_name

    app = load_app(kube, request.app, namespace=namespace, config=config)
    repository = infer_repository(app.name, app.deployments, config.image_repository)
    for deployment in app.deployments:
        if process_name(deployment, config) == request.process:
            return deployment, repository
    known = ", ".join(sorted(process_name(d, config) for d in app.deployments))
    raise NodeappError(
        f'app "{request.app}" has no process "{request.process}" in namespace "{namespace}"',
        hint=f"choose one of its processes with --process: {known}",
    )


def _ask_stop(env: Environment, job: str) -> bool:
    """On Ctrl-C: stop the Job? (yes without a terminal, or on a second Ctrl-C)."""
    if not env.interactive:
        return True
    env.stderr.write(f"\nStop job {job}? [Y/n] ")
    env.stderr.flush()
    try:
        answer = env.stdin.readline()
    except KeyboardInterrupt:
        return True
    return answer.strip().lower() not in ("n", "no")


def run_oneoff(kube: KubeClient, config: UserConfig, env: Environment, request: OneOff, *, user: str) -> int:
    """Run the one-off process; its exit status."""
    from kubectl_trace.release.flow import rfc3339_seconds
    from kubectl_trace.run.job import RunSpec, build_run_job, run_job_name
    from kubectl_trace.run.session import JobRun, delete_job, run_job, run_job_attached, write_line

    namespace = kube.namespace
    deployment, repository = _deployment(kube, request, namespace, config)
    spec = RunSpec(
        app=request.app,
        command=request.command,
        name=run_job_name(request.app),
        user=user,
        at=rfc3339_seconds(env.clock()),
        tag=request.tag,
        repository=repository,
        tty=request.tty,
        env=request.env,
        timeout_seconds=request.timeout_seconds,
        process_label=config.process_label,
        process_env=config.process_env,
        app_label=config.app_label,
    )
    job = build_run_job(deployment, spec)
    image = job["spec"]["template"]["spec"]["containers"][0]["image"]
    run = JobRun(kube, namespace, job, write_line(env.stdout), clock=env.clock)
    note = env.stderr
    keep = request.keep

    def started(pod: Any) -> None:
        note.write(f"Running as job {run.name} ({image}, with the config of process {request.process})…\n")
        note.flush()

    try:
        try:
            if request.tty:
                result = run_job_attached(run, env, on_started=started)
            else:
                result = run_job(run, on_started=started)
        except KeyboardInterrupt:
            if run.created is None:
                raise
            if _ask_stop(env, run.name):
                delete_job(kube, namespace, run.name)
                note.write(f"stopped job {run.name}\n")
                keep = True  # gone already
            else:
                note.write(
                    f"job {run.name} keeps running; follow it with: "
                    f"kubectl logs -f job/{run.name} -n {namespace}\n"
                )
                keep = True
            note.flush()
            return ExitStatus.INTERRUPTED
    finally:
        if run.created is not None and not keep:
            delete_job(kube, namespace, run.name)
    if request.keep:
        note.write(f"kept job {run.name}: kubectl logs job/{run.name} -n {namespace}\n")
        note.flush()
    if result.reason == "DeadlineExceeded":
        raise NodeappError(
            f"job {run.name} ran longer than --timeout ({request.timeout_seconds}s) and was stopped",
        )
    return result.exit_code
