"""Table columns of ``kubectl get jobs,cronjobs`` (``printJob`` / ``printCronJob``; pure)."""

from __future__ import annotations

from typing import Any

from kubectl_trace.kube.selectors import format_label_selector
from kubectl_trace.timeparse import format_age, parse_rfc3339

__all__ = ["CRONJOB_COLUMNS", "JOB_COLUMNS", "cronjob_cells", "job_cells"]

Obj = dict[str, Any]
Column = tuple[str, str, int]

_WIDE: list[Column] = [("Containers", "string", 1), ("Images", "string", 1), ("Selector", "string", 1)]

JOB_COLUMNS: list[Column] = [
    ("Name", "string", 0),
    ("Status", "string", 0),
    ("Completions", "string", 0),
    ("Duration", "string", 0),
    ("Age", "string", 0),
    *_WIDE,
]

CRONJOB_COLUMNS: list[Column] = [
    ("Name", "string", 0),
    ("Schedule", "string", 0),
    ("Timezone", "string", 0),
    ("Suspend", "boolean", 0),
    ("Active", "integer", 0),
    ("Last Schedule", "string", 0),
    ("Age", "string", 0),
    *_WIDE,
]


def _since(stamp: str | None, now: float) -> str:
    if not stamp:
        return "<unknown>"
    try:
        seconds = now - parse_rfc3339(stamp)
    except ValueError:
        return "<unknown>"
    return "<invalid>" if seconds < -1 else format_age(seconds)


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


def _template_cells(template_spec: Obj, selector: Obj | None) -> list[str]:
    containers = template_spec.get("containers") or []
    return [
        ",".join(str(c.get("name", "")) for c in containers),
        ",".join(str(c.get("image", "")) for c in containers),
        format_label_selector(selector) if selector else "<none>",
    ]


def job_cells(job: Obj, now: float) -> list[Any]:
    """One row of ``kubectl get jobs``."""
    spec, status = job.get("spec") or {}, job.get("status") or {}
    succeeded = int(status.get("succeeded") or 0)
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{spec['completions']}"
    elif int(spec.get("parallelism") or 0) > 1:
        completions = f"{succeeded}/1 of {spec['parallelism']}"
    else:
        completions = f"{succeeded}/1"
    duration = ""
    if status.get("startTime"):
        start = parse_rfc3339(status["startTime"])
        end = parse_rfc3339(status["completionTime"]) if status.get("completionTime") else now
        duration = format_age(end - start)
    return [
        (job.get("metadata") or {}).get("name", ""),
        job_status(job),
        completions,
        duration,
        _since((job.get("metadata") or {}).get("creationTimestamp"), now),
        *_template_cells(((spec.get("template") or {}).get("spec")) or {}, spec.get("selector")),
    ]


def cronjob_cells(cronjob: Obj, now: float) -> list[Any]:
    """One row of ``kubectl get cronjobs``."""
    spec, status = cronjob.get("spec") or {}, cronjob.get("status") or {}
    job_spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    last = status.get("lastScheduleTime")
    return [
        (cronjob.get("metadata") or {}).get("name", ""),
        spec.get("schedule", ""),
        spec.get("timeZone") or "<none>",
        bool(spec.get("suspend")),
        len(status.get("active") or []),
        _since(last, now) if last else "<none>",
        _since((cronjob.get("metadata") or {}).get("creationTimestamp"), now),
        *_template_cells(((job_spec.get("template") or {}).get("spec")) or {}, job_spec.get("selector")),
    ]
