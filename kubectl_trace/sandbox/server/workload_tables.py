"""Table columns of the workloads: ``kubectl get deployments,replicasets,jobs,cronjobs`` (pure).

As the API server's ``printDeployment``, ``printReplicaSet``, ``printJob`` and ``printCronJob``.
"""

from __future__ import annotations

from typing import Any

from kubectl_trace.sandbox.server.table_columns import Cell, Column, Field, age, named_printer, workload_wide
from kubectl_trace.timeparse import format_age, parse_rfc3339

__all__ = ["CRONJOBS", "DEPLOYMENTS", "JOBS", "REPLICASETS", "job_status"]

Obj = dict[str, Any]


def _has(status: Obj, type_: str) -> bool:
    return any(c.get("type") == type_ and c.get("status") == "True" for c in status.get("conditions") or [])


def job_status(job: Obj) -> str:
    """The STATUS column: Complete, Failed, Terminating, Suspended, FailureTarget, … Running."""
    status = job.get("status") or {}
    for type_ in ("Complete", "Failed"):
        if _has(status, type_):
            return type_
    if (job.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    for type_ in ("Suspended", "FailureTarget", "SuccessCriteriaMet"):
        if _has(status, type_):
            return type_
    return "Running"


def _completions(job: Obj, now: float) -> str:
    spec, status = job.get("spec") or {}, job.get("status") or {}
    succeeded = int(status.get("succeeded") or 0)
    if spec.get("completions") is not None:
        return f"{succeeded}/{spec['completions']}"
    if int(spec.get("parallelism") or 0) > 1:
        return f"{succeeded}/1 of {spec['parallelism']}"
    return f"{succeeded}/1"


def _duration(job: Obj, now: float) -> str:
    status = job.get("status") or {}
    if not status.get("startTime"):
        return ""
    start = parse_rfc3339(status["startTime"])
    end = parse_rfc3339(status["completionTime"]) if status.get("completionTime") else now
    return format_age(end - start)


def _last_schedule(cronjob: Obj, now: float) -> str:
    last = (cronjob.get("status") or {}).get("lastScheduleTime")
    return age(last, now) if last else "<none>"


def _spec(obj: Obj) -> Obj:
    return obj.get("spec") or {}


def _count(section: str, key: str) -> Cell:
    """A number in the object's ``spec`` or ``status`` (0 when unset)."""
    return lambda obj, now: int((obj.get(section) or {}).get(key) or 0)


def _deployment_ready(obj: Obj, now: float) -> str:
    return f"{_count('status', 'readyReplicas')(obj, now)}/{_count('spec', 'replicas')(obj, now)}"


DEPLOYMENTS = named_printer(
    Field(Column("Ready"), _deployment_ready),
    Field(Column("Up-to-date"), _count("status", "updatedReplicas")),
    Field(Column("Available"), _count("status", "availableReplicas")),
    wide=workload_wide(("spec",), no_selector=""),
)

REPLICASETS = named_printer(
    Field(Column("Desired", "integer"), _count("spec", "replicas")),
    Field(Column("Current", "integer"), _count("status", "replicas")),
    Field(Column("Ready", "integer"), _count("status", "readyReplicas")),
    wide=workload_wide(("spec",), no_selector=""),
)


JOBS = named_printer(
    Field(Column("Status"), lambda o, now: job_status(o)),
    Field(Column("Completions"), _completions),
    Field(Column("Duration"), _duration),
    wide=workload_wide(("spec",), no_selector="<none>"),
)

CRONJOBS = named_printer(
    Field(Column("Schedule"), lambda o, now: _spec(o).get("schedule", "")),
    Field(Column("Timezone"), lambda o, now: _spec(o).get("timeZone") or "<none>"),
    Field(Column("Suspend", "boolean"), lambda o, now: bool(_spec(o).get("suspend"))),
    Field(Column("Active", "integer"), lambda o, now: len((o.get("status") or {}).get("active") or [])),
    Field(Column("Last Schedule"), _last_schedule),
    wide=workload_wide(("spec", "jobTemplate", "spec"), no_selector="<none>"),
)
