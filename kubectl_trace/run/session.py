"""Run one Job to its end: create it, wait for its pod, stream the output, pass the exit on.

``run_job`` is what ``run`` and the release phase of ``deploy`` share. The pod is watched
by polling its Job's pods (``batch.kubernetes.io/job-name``); a pod that cannot start
(image pull, configuration error, unschedulable for a minute) is explained with the same
derivation ``status`` uses (``health.pods``) and ends the run with exit 1. Output is the
pod's log, followed until the container ends; the container's exit code is the result.
Unless told to keep it, the Job is deleted afterwards (background propagation: its pod
goes with it).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from kubectl_trace.errors import NodeappError
from kubectl_trace.health.pods import START_FAILURE_REASONS
from kubectl_trace.run.job import job_condition

if TYPE_CHECKING:
    from kubectl_trace.kube.calls import KubeClient

__all__ = [
    "CannotStart",
    "JobRun",
    "RunResult",
    "delete_job",
    "explain_pod",
    "run_job",
    "run_job_attached",
    "write_line",
]

Obj = Mapping[str, Any]

_POLL = 0.2
_UNSCHEDULABLE_GRACE = 60.0


class CannotStart(NodeappError):
    """The Job's pod cannot start (the message explains why)."""


@dataclass
class RunResult:
    """How a run ended."""

    exit_code: int
    job: str
    pod: str | None
    reason: str = ""  # Completed, Error, DeadlineExceeded, …
    last_lines: deque[str] = field(default_factory=lambda: deque(maxlen=20))


@dataclass
class JobRun:
    """A Job being run: the client, where, and how to report."""

    kube: KubeClient
    namespace: str
    job: dict[str, Any]
    out: Callable[[str], None]  # one line of the process's output
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    start_timeout: float = 600.0
    created: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        """The Job's name."""
        return str(self.job["metadata"]["name"])

    def create(self) -> dict[str, Any]:
        """Create the Job."""
        self.created = self.kube.create("jobs", self.job, self.namespace)
        return self.created

    def pods(self) -> list[dict[str, Any]]:
        """The Job's pods, newest first."""
        items = self.kube.list(
            "pods", self.namespace, label_selector=f"batch.kubernetes.io/job-name={self.name}"
        ).items
        return sorted(items, key=_created, reverse=True)

    def wait_for_pod(self) -> dict[str, Any]:
        """The pod once it runs or has ended; CannotStart when it cannot start."""
        deadline = self.clock() + self.start_timeout
        unschedulable_since: float | None = None
        while True:
            job = self.kube.get("jobs", self.name, self.namespace)
            pods = self.pods()
            pod = pods[0] if pods else None
            if pod is not None:
                state = _main_state(pod)
                if "running" in state or "terminated" in state:
                    return pod
                reason = str((state.get("waiting") or {}).get("reason") or "")
                if reason in START_FAILURE_REASONS:
                    raise CannotStart(*explain_pod(self.kube, pod, self.clock()))
                if _unschedulable(pod):
                    now = self.clock()
                    unschedulable_since = unschedulable_since or now
                    if now - unschedulable_since >= _UNSCHEDULABLE_GRACE:
                        raise CannotStart(*explain_pod(self.kube, pod, now))
            failed = job_condition(job, "Failed")
            if failed is not None and pod is None:
                why = failed.get("message") or failed.get("reason")
                raise CannotStart(f"job {self.name} failed: {why}")
            if self.clock() >= deadline:
                raise CannotStart(
                    f"the pod of job {self.name} did not start within {int(self.start_timeout)}s",
                    hint=f"look at it with: kubectl describe job {self.name} -n {self.namespace}",
                )
            self.sleep(_POLL)

    def stream(self, pod: Obj, result: RunResult) -> None:
        """Follow the pod's log until the container ends."""
        from kubectl_trace.kube.queries import LogQuery

        name = str(pod["metadata"]["name"])
        container = _main_container_name(pod)
        stream = self.kube.pod_log(self.namespace, name, LogQuery(container, follow=True))
        try:
            for raw in stream.lines():
                line = raw.decode("utf-8", "replace")
                result.last_lines.append(line)
                self.out(line)
        finally:
            stream.close()

    def wait_for_exit(self, pod_name: str) -> tuple[int, str]:
        """The main container's exit code and reason once it has terminated."""
        from kubectl_trace.kube.errors import ApiError

        while True:
            try:
                pod = self.kube.get("pods", pod_name, self.namespace)
            except ApiError as exc:
                if exc.status == 404:  # deleted (the Job's deadline, or someone) before we saw it end
                    return 1, "Deleted"
                raise
            terminated = _main_state(pod).get("terminated")
            if terminated is not None:
                return int(terminated.get("exitCode") or 0), str(terminated.get("reason") or "")
            if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                return (0 if pod["status"]["phase"] == "Succeeded" else 1), str(pod["status"]["phase"])
            self.sleep(_POLL)


def _created(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("creationTimestamp") or "")


def _main_container_name(pod: Obj) -> str:
    containers = (pod.get("spec") or {}).get("containers") or [{}]
    return str(containers[0].get("name") or "")


def _main_state(pod: Obj) -> dict[str, Any]:
    name = _main_container_name(pod)
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == name:
            return dict(status.get("state") or {})
    return {}


def _unschedulable(pod: Obj) -> bool:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "PodScheduled":
            return bool(cond.get("status") == "False" and cond.get("reason") == "Unschedulable")
    return False


def explain_pod(kube: KubeClient, pod: Obj, now: float) -> tuple[str, str | None]:
    """Why a pod cannot start, as ``status`` says it: (message, hint)."""
    from kubectl_trace.health.pods import pod_health

    meta = pod.get("metadata") or {}
    name, namespace = str(meta.get("name") or ""), str(meta.get("namespace") or "")
    try:
        events = kube.list(
            "events", namespace, field_selector=f"involvedObject.name={name},involvedObject.kind=Pod"
        ).items
    except Exception:  # events are a help, not a requirement (RBAC may hide them)
        events = []
    health = pod_health(pod, events, now)
    problems = [p for p in health.problems if p.severity == "error"] or list(health.problems)
    detail = "; ".join(p.message for p in problems) if problems else (health.summary or health.status)
    return (
        f"pod {name} cannot start: {detail}",
        f"look at it with: kubectl describe pod {name} -n {namespace}",
    )


def delete_job(kube: KubeClient, namespace: str, name: str) -> None:
    """Delete a Job and (in the background) its pods."""
    from kubectl_trace.kube.errors import ApiError
    from kubectl_trace.kube.resources import lookup

    try:
        kube.request(
            "DELETE",
            lookup("jobs").path(namespace, name),
            body={"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"},
            namespace=namespace,
        )
    except ApiError as exc:
        if exc.status != 404:
            raise


def _start(run: JobRun, on_started: Callable[[Obj], None] | None) -> tuple[Obj, RunResult]:
    """Create the Job and wait for its pod (``on_started`` sees it): the pod, and its result to fill in."""
    run.create()
    pod = run.wait_for_pod()
    if on_started is not None:
        on_started(pod)
    return pod, RunResult(exit_code=1, job=run.name, pod=str(pod["metadata"]["name"]))


def run_job(
    run: JobRun,
    *,
    on_started: Callable[[Obj], None] | None = None,
) -> RunResult:
    """Create the Job, wait for its pod, stream its output; the result (the Job is left as is)."""
    pod, result = _start(run, on_started)
    name = str(pod["metadata"]["name"])
    run.stream(pod, result)
    result.exit_code, result.reason = run.wait_for_exit(name)
    if result.exit_code != 0:
        job = run.kube.get("jobs", run.name, run.namespace)
        target = job_condition(job, "FailureTarget") or job_condition(job, "Failed")
        if target is not None and target.get("reason") == "DeadlineExceeded":
            result.reason = "DeadlineExceeded"
    return result


def run_job_attached(
    run: JobRun,
    env: Any,
    *,
    on_started: Callable[[Obj], None] | None = None,
) -> RunResult:
    """As ``run_job``, attached to the pod's terminal (a TTY Job on an interactive terminal).

    What the process printed before the attach is not replayed (as with ``kubectl run
    -it``); a process that ended before the attach has its log shown instead.
    """
    from kubectl_trace.kube.errors import ApiError
    from kubectl_trace.kube.exec import open_attach
    from kubectl_trace.shell.attach import attach_tty

    pod, result = _start(run, on_started)
    name = str(pod["metadata"]["name"])
    if "running" in _main_state(pod):
        env.stderr.write("If you don't see a command prompt, try pressing enter.\n")
        env.stderr.flush()
        try:
            session = open_attach(run.kube, run.namespace, name, container=_main_container_name(pod))
        except ApiError as exc:
            if exc.status != 400:  # 400: it ended meanwhile; show its log below
                raise
        else:
            with session:
                attach_tty(session, env)
            result.exit_code, result.reason = run.wait_for_exit(name)
            return result
    run.stream(pod, result)
    result.exit_code, result.reason = run.wait_for_exit(name)
    return result


def write_line(stream: IO[str]) -> Callable[[str], None]:
    """A line writer that flushes (the output of a one-off process is watched live)."""

    def out(line: str) -> None:
        stream.write(line + "\n")
        stream.flush()

    return out
