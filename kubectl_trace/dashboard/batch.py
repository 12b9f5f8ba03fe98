"""The selected app's Jobs and CronJobs, as the dashboard lists them (pure, memoised).

The app of a Deployment is the value of its pods' ``app`` label (else
``app.kubernetes.io/name``); a Job or CronJob belongs to it when its pod template carries
the same label (a Job also when one of the app's CronJobs started it). Each Job is
summarised like ``status`` does (``run.summary``) and tagged with its process: ``cron``
when a CronJob started it, else its template's ``process`` label (``run`` for one-off
processes, ``release`` for a release phase).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubectl_trace.dashboard.pmap import PMap
    from kubectl_trace.run.summary import CronJobSummary, JobSummary

__all__ = ["APP_LABELS", "JOB_LIMIT", "BatchRows", "JobRow", "app_of", "batch_rows"]

APP_LABELS = ("app", "app.kubernetes.io/name")
# How many of the newest Jobs the dashboard keeps for the selected app.
JOB_LIMIT = 10

Obj = Mapping[str, Any]


@dataclass(frozen=True)
class JobRow:
    """One Job of the app and its process (run, release, cron …)."""

    job: JobSummary
    process: str


@dataclass(frozen=True)
class BatchRows:
    """The app's newest Jobs (newest first) and its CronJobs (by name)."""

    app: str = ""
    jobs: tuple[JobRow, ...] = ()
    cronjobs: tuple[CronJobSummary, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.jobs or self.cronjobs)

    @property
    def size(self) -> int:
        """Lines the rows take."""
        return len(self.jobs) + len(self.cronjobs)


def app_of(deployment: Obj | None) -> tuple[str, str] | None:
    """``(label, value)`` naming the Deployment's app, from its pod template (else its own labels)."""
    if not deployment:
        return None
    template = ((deployment.get("spec") or {}).get("template") or {}).get("metadata") or {}
    for labels in (template.get("labels") or {}, (deployment.get("metadata") or {}).get("labels") or {}):
        for key in APP_LABELS:
            if labels.get(key):
                return key, str(labels[key])
    return None


def _process(job: Obj, owner: str) -> str:
    if owner:
        return "cron"
    spec = job.get("spec") or {}
    labels = {
        **((job.get("metadata") or {}).get("labels") or {}),
        **(((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}),
    }
    return str(labels.get("process") or "job")


def batch_rows(
    jobs: PMap[str, dict[str, Any]], cronjobs: PMap[str, dict[str, Any]], app: tuple[str, str]
) -> BatchRows:
    """The Jobs and CronJobs of ``app`` among ``jobs`` and ``cronjobs``."""
    from kubectl_trace.run.summary import cronjob_summaries, job_summaries, template_pod

    key, value = app

    def mine(obj: Obj) -> bool:
        labels = (template_pod(obj).get("metadata") or {}).get("labels") or {}
        return labels.get(key) == value

    own_crons = [c for c in cronjobs.values() if mine(c)]
    cron_names = {str((c.get("metadata") or {}).get("name") or "") for c in own_crons}

    def of_app(job: Obj) -> bool:  # its own labels, or started by one of the app's CronJobs
        if mine(job):
            return True
        refs = (job.get("metadata") or {}).get("ownerReferences") or ()
        return any(r.get("kind") == "CronJob" and r.get("name") in cron_names for r in refs)

    own_jobs = {str((j.get("metadata") or {}).get("name") or ""): j for j in jobs.values() if of_app(j)}
    summaries = job_summaries(own_jobs.values(), limit=JOB_LIMIT)
    rows = tuple(JobRow(s, _process(own_jobs.get(s.name) or {}, s.owner)) for s in summaries)
    return BatchRows(value, rows, tuple(cronjob_summaries(own_crons)))
