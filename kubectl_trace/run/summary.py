"""Recent Jobs and CronJobs of an app, as ``status`` lists them (pure).

A Job is ``running``, ``succeeded`` or ``failed`` (with the reason of its Failed condition,
``BackoffLimitExceeded`` or ``DeadlineExceeded``, and how its container ended); the
``run`` annotation says who ran what. A CronJob shows its schedule, whether it is
suspended, how many Jobs it runs now and when it last fired.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubectl_trace.run.job import RUN_ANNOTATION, job_condition
from kubectl_trace.timeparse import parse_rfc3339

__all__ = ["CronJobSummary", "JobSummary", "cronjob_summaries", "job_summaries", "template_pod"]

Obj = Mapping[str, Any]


@dataclass(frozen=True)
class JobSummary:
    """One Job."""

    name: str
    state: str  # running, succeeded, failed
    reason: str  # why it failed ("" otherwise)
    started_at: float | None
    finished_at: float | None
    what: str  # the run annotation (who ran what), else the command
    owner: str  # the CronJob that started it ("" for none)


@dataclass(frozen=True)
class CronJobSummary:
    """One CronJob."""

    name: str
    schedule: str
    suspended: bool
    active: int
    last_schedule: float | None
    last_success: float | None


def _time(text: Any) -> float | None:
    try:
        return parse_rfc3339(str(text)) if text else None
    except ValueError:
        return None


def template_pod(obj: Obj) -> dict[str, Any]:
    """A pod-shaped view of a Job's (or CronJob's) pod template, for target matching."""
    spec = obj.get("spec") or {}
    if "jobTemplate" in spec:
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    template = spec.get("template") or {}
    meta = obj.get("metadata") or {}
    return {
        "metadata": {
            "name": meta.get("name", ""),
            "namespace": meta.get("namespace"),
            "labels": {
                **(meta.get("labels") or {}),
                **((template.get("metadata") or {}).get("labels") or {}),
            },
        },
        "spec": template.get("spec") or {},
    }


def _what(job: Obj) -> str:
    annotation = ((job.get("metadata") or {}).get("annotations") or {}).get(RUN_ANNOTATION)
    if annotation:
        return str(annotation)
    containers = ((((job.get("spec") or {}).get("template") or {}).get("spec")) or {}).get("containers") or []
    if containers:
        argv = [*(containers[0].get("command") or []), *(containers[0].get("args") or [])]
        return " ".join(str(a) for a in argv)
    return ""


def job_summaries(jobs: Iterable[Obj], limit: int = 10) -> list[JobSummary]:
    """The ``limit`` most recent Jobs, newest first."""
    out = []
    for job in jobs:
        meta, status = job.get("metadata") or {}, job.get("status") or {}
        failed = job_condition(job, "Failed") or job_condition(job, "FailureTarget")
        if job_condition(job, "Complete") or job_condition(job, "SuccessCriteriaMet"):
            state, reason = "succeeded", ""
        elif failed is not None:
            state, reason = "failed", str(failed.get("reason") or "Failed")
        else:
            state, reason = "running", ""
        finished = _time(status.get("completionTime")) or (
            _time(failed.get("lastTransitionTime")) if failed else None
        )
        owner = next(
            (str(r.get("name")) for r in meta.get("ownerReferences") or [] if r.get("kind") == "CronJob"), ""
        )
        out.append(
            JobSummary(
                name=str(meta.get("name") or ""),
                state=state,
                reason=reason,
                started_at=_time(status.get("startTime")) or _time(meta.get("creationTimestamp")),
                finished_at=finished if state != "running" else None,
                what=_what(job),
                owner=owner,
            )
        )
    out.sort(key=lambda s: s.started_at or 0.0, reverse=True)
    return out[:limit]


def cronjob_summaries(cronjobs: Iterable[Obj]) -> list[CronJobSummary]:
    """Every CronJob, by name."""
    out = []
    for cronjob in cronjobs:
        meta, spec, status = (
            cronjob.get("metadata") or {},
            cronjob.get("spec") or {},
            cronjob.get("status") or {},
        )
        out.append(
            CronJobSummary(
                name=str(meta.get("name") or ""),
                schedule=str(spec.get("schedule") or ""),
                suspended=bool(spec.get("suspend")),
                active=len(status.get("active") or []),
                last_schedule=_time(status.get("lastScheduleTime")),
                last_success=_time(status.get("lastSuccessfulTime")),
            )
        )
    return sorted(out, key=lambda s: s.name)
