"""The Job controller (after ``pkg/controller/job/job_controller.go``, Kubernetes 1.37).

Runs ``parallelism`` pods at a time until ``completions`` of them succeeded (NonIndexed
completion mode). Pods are named ``<job>-xxxxx`` and carry the selector labels the API
server generated (``batch.kubernetes.io/controller-uid``, ``batch.kubernetes.io/job-name``
and their legacy twins). A failed pod is replaced after the pod-failure back-off (10 s,
20 s, 40 s … up to 6 min) until more than ``backoffLimit`` pods failed.

Terminal states go in two steps, as in 1.37: ``SuccessCriteriaMet`` (or ``FailureTarget``)
first, while remaining pods are being stopped; then ``Complete`` (or ``Failed``) once no
pod is left running. ``activeDeadlineSeconds`` counts on the simulated clock from
``status.startTime``. Counting a pod is remembered by uid, so a counted pod that goes away
(deleted, or garbage-collected) does not change ``succeeded``/``failed``.
"""

from __future__ import annotations

import copy
from typing import Any

from kubectl_trace.sandbox.controllers import Context
from kubectl_trace.sandbox.controllers.pods import create_pod, delete_pod
from kubectl_trace.sandbox.controllers.util import (
    controller_of,
    is_pod_ready,
)
from kubectl_trace.sandbox.recorder import EventSource
from kubectl_trace.sandbox.store import StoreError, rfc3339
from kubectl_trace.timeparse import parse_rfc3339

__all__ = [
    "JOB_LABELS",
    "JobController",
    "job_condition",
    "job_finished",
    "owning_job",
    "prepare_job",
]

Obj = dict[str, Any]
Key = tuple[str, str]

JOB_LABELS = (
    "batch.kubernetes.io/controller-uid",
    "batch.kubernetes.io/job-name",
    "controller-uid",
    "job-name",
)
_SOURCE = EventSource("job-controller")
_BACKOFF_BASE = 10.0
_BACKOFF_MAX = 360.0
_SUCCESS = ("CompletionsReached", "Reached expected number of succeeded pods")
_BACKOFF = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
_DEADLINE = ("DeadlineExceeded", "Job was active longer than specified deadline")


def prepare_job(job: Obj) -> None:
    """The API server's create strategy for a Job (``generateSelector``), given its uid.

    Without ``manualSelector`` the selector is ``batch.kubernetes.io/controller-uid`` and
    the template gets the four job labels; a Job without labels takes the template's.
    Raises ``StoreError`` 422 for a template whose ``restartPolicy`` is not Never/OnFailure.
    """
    from kubectl_trace.kube.resources import RESOURCES

    meta = job["metadata"]
    spec = job.setdefault("spec", {})
    template = spec.setdefault("template", {})
    pod_spec = template.setdefault("spec", {})
    if pod_spec.get("restartPolicy") not in ("Never", "OnFailure"):
        raise StoreError.invalid(
            RESOURCES["jobs"],
            meta.get("name", ""),
            [
                {
                    "reason": "FieldValueNotSupported",
                    "message": 'Required value: valid values: "OnFailure", "Never"',
                    "field": "spec.template.spec.restartPolicy",
                }
            ],
        )
    if not spec.get("manualSelector"):
        uid, name = meta["uid"], meta["name"]
        labels = (template.setdefault("metadata", {}).get("labels")) or {}
        labels.update(
            {
                "batch.kubernetes.io/controller-uid": uid,
                "batch.kubernetes.io/job-name": name,
                "controller-uid": uid,
                "job-name": name,
            }
        )
        template["metadata"]["labels"] = labels
        spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    if not meta.get("labels"):
        meta["labels"] = dict((template.get("metadata") or {}).get("labels") or {})
    job.setdefault("status", {})


def job_condition(job: Obj, type_: str) -> Obj | None:
    """The Job's condition of ``type_`` when its status is True."""
    cond: Obj
    for cond in (job.get("status") or {}).get("conditions") or []:
        if cond.get("type") == type_ and cond.get("status") == "True":
            return cond
    return None


def job_finished(job: Obj) -> str | None:
    """``Complete`` or ``Failed`` when the Job has finished, else None."""
    for type_ in ("Complete", "Failed"):
        if job_condition(job, type_) is not None:
            return type_
    return None


def owning_job(pod: Obj) -> Key | None:
    """The (namespace, name) of the Job controlling a pod."""
    ref = controller_of(pod)
    if ref and ref.get("kind") == "Job":
        return pod["metadata"].get("namespace", ""), ref.get("name", "")
    return None


def _condition(type_: str, reason: str, message: str, now: float) -> Obj:
    stamp = rfc3339(now)
    return {
        "type": type_,
        "status": "True",
        "lastProbeTime": stamp,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": message,
    }


def _finished_at(pod: Obj) -> float | None:
    latest: float | None = None
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        stamp = ((status.get("state") or {}).get("terminated") or {}).get("finishedAt")
        if stamp:
            try:
                when = parse_rfc3339(stamp)
            except ValueError:
                continue
            latest = when if latest is None else max(latest, when)
    return latest


class JobController:
    """Reconciles Jobs; queue ``jobs`` with keys ``(namespace, name)``."""

    QUEUE = "jobs"

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._counted: dict[str, dict[str, str]] = {}  # job uid → pod uid → Succeeded/Failed
        self._last_failure: dict[str, float] = {}  # job uid → wall time the last pod failed
        self._timers: dict[Key, Any] = {}

    def forget(self, job: Obj) -> None:
        """A Job is gone: drop what was remembered about it."""
        uid = job["metadata"].get("uid", "")
        self._counted.pop(uid, None)
        self._last_failure.pop(uid, None)

    # -- reading --------------------------------------------------------------------------

    def pods_of(self, job: Obj) -> list[Obj]:
        """Pods this Job controls."""
        return self.ctx.controlled(job, "pods")

    # -- syncing --------------------------------------------------------------------------

    def sync(self, key: Key) -> None:
        """Reconcile one Job."""
        ns, name = key
        job = self.ctx.store.try_get("jobs", ns, name)
        if job is None:
            return
        spec = job.get("spec") or {}
        now = self.ctx.clock()
        pods = self.pods_of(job)
        counted = self._count_finished(job, pods, now)
        status: Obj = copy.deepcopy(job.get("status") or {})
        phases = list(counted.values())
        succeeded = max(int(status.get("succeeded") or 0), phases.count("Succeeded"))
        failed = max(int(status.get("failed") or 0), phases.count("Failed"))
        running = [
            p
            for p in pods
            if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
            and p["metadata"]["uid"] not in counted
        ]
        active = [p for p in running if not p["metadata"].get("deletionTimestamp")]
        terminating = [p for p in running if p["metadata"].get("deletionTimestamp")]
        conditions: list[Obj] = list(status.get("conditions") or [])
        types = {c.get("type") for c in conditions if c.get("status") == "True"}
        if not types & {"Complete", "Failed"}:  # not finished yet
            suspended = bool(spec.get("suspend"))
            conditions = self._suspension(job, conditions, suspended, status, now)
            if not suspended and not status.get("startTime"):
                status["startTime"] = rfc3339(now)
            pods_run = not types & {"SuccessCriteriaMet", "FailureTarget"}
            if pods_run:
                target = self._target(job, status, succeeded, failed, active, now)
                if target is not None:
                    conditions.append(_condition(target[0], target[1], target[2], now))
                    types.add(target[0])
                    if target[0] == "FailureTarget":
                        self.ctx.recorder.record(job, "Warning", target[1], target[2], _SOURCE)
                    pods_run = False
                elif suspended:
                    pods_run = False
                else:
                    active += self._manage(job, spec, succeeded, failed, active, now)
            if not pods_run:  # a target was reached, or the Job is suspended: its pods stop
                for pod in active:
                    delete_pod(self.ctx, job, pod, _SOURCE)
                terminating += active
                active = []
            if not terminating and not active:
                self._finish(job, conditions, types, status, now)
        if conditions:
            status["conditions"] = conditions
        status["active"] = len(active)
        status["ready"] = sum(1 for p in active if is_pod_ready(p))
        status["terminating"] = len(terminating)
        status["uncountedTerminatedPods"] = {}
        status["succeeded"] = succeeded
        status["failed"] = failed
        for field in ("active", "succeeded", "failed"):  # omitempty in batch/v1
            if not status[field]:
                del status[field]
        if status != (job.get("status") or {}):
            self.ctx.store.set_status("jobs", ns, name, status)

    def _count_finished(self, job: Obj, pods: list[Obj], now: float) -> dict[str, str]:
        """Pod uid -> Succeeded/Failed of every pod of the Job that has finished (remembered)."""
        uid = job["metadata"]["uid"]
        counted = self._counted.setdefault(uid, {})
        for pod in pods:
            phase = (pod.get("status") or {}).get("phase")
            pod_uid = pod["metadata"]["uid"]
            if phase in ("Succeeded", "Failed") and pod_uid not in counted:
                counted[pod_uid] = phase
                if phase == "Failed":
                    self._last_failure[uid] = max(self._last_failure.get(uid, 0.0), _finished_at(pod) or now)
        return counted

    def _finish(self, job: Obj, conditions: list[Obj], types: set[Any], status: Obj, now: float) -> None:
        """Once no pod runs: a reached target becomes ``Complete`` or ``Failed``."""
        for target, final in (("SuccessCriteriaMet", "Complete"), ("FailureTarget", "Failed")):
            if target not in types:
                continue
            reason, message = next(
                (c.get("reason", ""), c.get("message", "")) for c in conditions if c.get("type") == target
            )
            conditions.append(_condition(final, reason, message, now))
            if final == "Complete":
                status["completionTime"] = rfc3339(now)
                self.ctx.recorder.record(job, "Normal", "Completed", "Job completed", _SOURCE)
            return

    def _suspension(
        self, job: Obj, conditions: list[Obj], suspended: bool, status: Obj, now: float
    ) -> list[Obj]:
        """The ``Suspended`` condition: True while suspended; False (JobResumed) once resumed."""
        current = next((c for c in conditions if c.get("type") == "Suspended"), None)
        if suspended and (current is None or current.get("status") != "True"):
            cond = _condition("Suspended", "JobSuspended", "Job suspended", now)
            self.ctx.recorder.record(job, "Normal", "Suspended", "Job suspended", _SOURCE)
            status.pop("startTime", None)
        elif not suspended and current is not None and current.get("status") == "True":
            cond = {**_condition("Suspended", "JobResumed", "Job resumed", now), "status": "False"}
            self.ctx.recorder.record(job, "Normal", "Resumed", "Job resumed", _SOURCE)
            status.pop("startTime", None)
        else:
            return conditions
        return [c for c in conditions if c.get("type") != "Suspended"] + [cond]

    def _target(
        self, job: Obj, status: Obj, succeeded: int, failed: int, active: list[Obj], now: float
    ) -> tuple[str, str, str] | None:
        spec = job.get("spec") or {}
        completions = spec.get("completions")
        if completions is not None and succeeded >= int(completions):
            return ("SuccessCriteriaMet", *_SUCCESS)
        if completions is None and succeeded > 0 and not active:
            return ("SuccessCriteriaMet", *_SUCCESS)
        limit = spec.get("backoffLimit")
        backoff_limit = 6 if limit is None else int(limit)
        if failed > backoff_limit:
            return ("FailureTarget", *_BACKOFF)
        deadline = spec.get("activeDeadlineSeconds")
        if deadline is not None and status.get("startTime") and not spec.get("suspend"):
            started = parse_rfc3339(status["startTime"])
            due = started + self.ctx.scale.real(float(deadline))
            if now >= due:
                return ("FailureTarget", *_DEADLINE)
            self._wake_at(job, due)
        return None

    def _manage(
        self, job: Obj, spec: Obj, succeeded: int, failed: int, active: list[Obj], now: float
    ) -> list[Obj]:
        given = spec.get("parallelism")
        parallelism = 1 if given is None else int(given)
        completions = spec.get("completions")
        want = parallelism
        if completions is not None:
            want = min(parallelism, int(completions) - succeeded)
        elif succeeded > 0:
            want = 0  # a work queue: once one pod succeeded, no new ones
        missing = want - len(active)
        if missing <= 0:
            return []
        if failed:
            delay = min(_BACKOFF_BASE * 2 ** (failed - 1), _BACKOFF_MAX)
            due = self._last_failure.get(job["metadata"]["uid"], now) + self.ctx.scale.real(delay)
            if now < due:
                self._wake_at(job, due)
                return []
        created = []
        for _ in range(missing):
            pod = create_pod(self.ctx, job, (job.get("spec") or {}).get("template") or {}, _SOURCE)
            if pod is not None:
                created.append(pod)
        return created

    def _wake_at(self, job: Obj, when: float) -> None:
        key = (job["metadata"]["namespace"], job["metadata"]["name"])
        old = self._timers.pop(key, None)
        if old is not None:
            old.cancel()
        delay = max(0.0, when - self.ctx.clock()) + 0.001
        self._timers[key] = self.ctx.timers.after_real(delay, lambda: self.ctx.queue.enqueue(self.QUEUE, key))
