"""The TTL-after-finished controller (after ``pkg/controller/ttlafterfinished``).

A finished Job (``Complete`` or ``Failed``) with ``spec.ttlSecondsAfterFinished`` is
deleted that many simulated seconds after it finished, in the foreground as the real
controller asks: ``deletionTimestamp`` plus the ``foregroundDeletion`` finalizer, so the
garbage collector removes its pods first and then the Job.
"""

from __future__ import annotations

import contextlib
from typing import Any

from kubectl_trace.sandbox.controllers import Context
from kubectl_trace.sandbox.controllers.job import job_condition, job_finished
from kubectl_trace.sandbox.store import StoreError, rfc3339
from kubectl_trace.sandbox.timescale import Timer
from kubectl_trace.timeparse import parse_rfc3339

__all__ = ["TTLController"]

Obj = dict[str, Any]
Key = tuple[str, str]


def finish_time(job: Obj) -> float | None:
    """When the Job finished (its Complete/Failed condition's transition time)."""
    kind = job_finished(job)
    if kind is None:
        return None
    cond = job_condition(job, kind) or {}
    stamp = cond.get("lastTransitionTime") or (job.get("status") or {}).get("completionTime")
    try:
        return parse_rfc3339(stamp) if stamp else None
    except ValueError:
        return None


class TTLController:
    """Deletes finished Jobs whose TTL has passed; queue ``ttl`` with keys ``(namespace, name)``."""

    QUEUE = "ttl"

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._timers: dict[Key, Timer] = {}

    def sync(self, key: Key) -> None:
        """Check one Job."""
        ns, name = key
        old = self._timers.pop(key, None)
        if old is not None:
            old.cancel()
        job = self.ctx.store.try_get("jobs", ns, name)
        if job is None or job["metadata"].get("deletionTimestamp"):
            return
        ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
        finished = finish_time(job)
        if ttl is None or finished is None:
            return
        due = finished + self.ctx.scale.real(float(ttl))
        now = self.ctx.clock()
        if now < due:
            self._timers[key] = self.ctx.timers.after_real(
                due - now + 0.001, lambda: self.ctx.queue.enqueue(self.QUEUE, key)
            )
            return
        uid = job["metadata"]["uid"]

        def foreground(draft: Obj) -> None:
            meta = draft["metadata"]
            if meta.get("uid") != uid or meta.get("deletionTimestamp"):
                return
            meta["deletionTimestamp"] = rfc3339(now)
            meta["deletionGracePeriodSeconds"] = 0
            finalizers = list(meta.get("finalizers") or [])
            if "foregroundDeletion" not in finalizers:
                finalizers.append("foregroundDeletion")
            meta["finalizers"] = finalizers

        with contextlib.suppress(StoreError):
            self.ctx.store.mutate("jobs", ns, name, foreground)

    def forget(self, key: Key) -> None:
        """A Job is gone: cancel its timer."""
        old = self._timers.pop(key, None)
        if old is not None:
            old.cancel()
