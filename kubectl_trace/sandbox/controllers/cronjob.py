"""The CronJob controller (after ``pkg/controller/cronjob/cronjob_controllerv2.go``).

Schedules run on the simulated clock: with ``--time-scale 0.1`` a job every minute starts
every six real seconds. The simulated clock starts with the controller and runs
``1/factor`` times as fast as the wall clock; objects carry the wall-clock time a schedule
fired (``status.lastScheduleTime``), Job names the scheduled simulated minute
(``<cronjob>-<minutes since the epoch>``), as the real controller names them.

Each sync: track ``status.active`` and ``lastSuccessfulTime`` from the owned Jobs, delete
finished Jobs beyond ``successfulJobsHistoryLimit`` / ``failedJobsHistoryLimit`` (oldest
first), then start the most recent missed schedule honouring ``suspend``,
``startingDeadlineSeconds`` and ``concurrencyPolicy`` (Allow, Forbid, Replace).
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any

from kubectl_trace.sandbox.controllers import Context
from kubectl_trace.sandbox.controllers.job import job_finished
from kubectl_trace.sandbox.controllers.util import controller_of, owned_object
from kubectl_trace.sandbox.cron import CronError, CronSchedule, parse_schedule
from kubectl_trace.sandbox.recorder import EventSource
from kubectl_trace.sandbox.store import StoreError, rfc3339
from kubectl_trace.sandbox.timescale import Timer
from kubectl_trace.timeparse import parse_rfc3339

__all__ = ["CronJobController", "owning_cronjob"]

Obj = dict[str, Any]
Key = tuple[str, str]
_SOURCE = EventSource("cronjob-controller")
_SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"


def owning_cronjob(job: Obj) -> Key | None:
    """The (namespace, name) of the CronJob controlling a Job."""
    ref = controller_of(job)
    if ref and ref.get("kind") == "CronJob":
        return job["metadata"].get("namespace", ""), ref.get("name", "")
    return None


def _stamp(obj: Obj, key: str) -> float:
    text = (obj.get("metadata") or {}).get(key) or ""
    try:
        return parse_rfc3339(text) if text else 0.0
    except ValueError:
        return 0.0


def _reference(job: Obj) -> Obj:
    meta = job["metadata"]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "name": meta["name"],
        "namespace": meta["namespace"],
        "resourceVersion": meta["resourceVersion"],
        "uid": meta["uid"],
    }


class CronJobController:
    """Reconciles CronJobs; queue ``cronjobs`` with keys ``(namespace, name)``."""

    QUEUE = "cronjobs"

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.anchor = ctx.clock()
        self._last: dict[str, float] = {}  # cronjob uid → simulated time of the last schedule
        self._timers: dict[Key, Timer] = {}
        self._schedules: dict[str, CronSchedule | None] = {}

    # -- the simulated clock ------------------------------------------------------------------

    def simulated(self, wall: float) -> float:
        """The simulated time at wall-clock time ``wall``."""
        return self.anchor + self.ctx.scale.simulated(wall - self.anchor)

    def wall(self, simulated: float) -> float:
        """The wall-clock time at simulated time ``simulated``."""
        return self.anchor + self.ctx.scale.real(simulated - self.anchor)

    # -- syncing --------------------------------------------------------------------------

    def forget(self, key: Key) -> None:
        """A CronJob is gone: cancel its timer."""
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()

    def sync(self, key: Key) -> None:
        """Reconcile one CronJob."""
        ns, name = key
        self.forget(key)
        cronjob = self.ctx.store.try_get("cronjobs", ns, name)
        if cronjob is None or cronjob["metadata"].get("deletionTimestamp"):
            return
        jobs = self._jobs_of(cronjob)
        status = copy.deepcopy(cronjob.get("status") or {})
        self._track(cronjob, jobs, status)
        self._clean_history(cronjob, jobs)
        self._schedule(cronjob, status)
        for field in ("active",):
            if not status.get(field):
                status.pop(field, None)
        if status != (cronjob.get("status") or {}):
            with contextlib.suppress(StoreError):
                self.ctx.store.set_status("cronjobs", ns, name, status)

    def _jobs_of(self, cronjob: Obj) -> list[Obj]:
        return self.ctx.controlled(cronjob, "jobs")

    def _track(self, cronjob: Obj, jobs: list[Obj], status: Obj) -> None:
        previously = {ref.get("uid"): ref for ref in status.get("active") or []}
        active: list[Obj] = []
        for job in sorted(jobs, key=lambda j: _stamp(j, "creationTimestamp")):
            meta = job["metadata"]
            finished = job_finished(job)
            if finished is None:
                # the reference keeps the resourceVersion the Job had when it was first seen
                active.append(previously.get(meta["uid"]) or _reference(job))
                continue
            if meta["uid"] in previously:
                self.ctx.recorder.record(
                    cronjob,
                    "Normal",
                    "SawCompletedJob",
                    f"Saw completed job: {meta['name']}, condition: {finished}",
                    _SOURCE,
                )
            done = (job.get("status") or {}).get("completionTime")
            if finished == "Complete" and done:
                last = status.get("lastSuccessfulTime")
                if not last or parse_rfc3339(done) > parse_rfc3339(last):
                    status["lastSuccessfulTime"] = done
        status["active"] = active

    def _clean_history(self, cronjob: Obj, jobs: list[Obj]) -> None:
        spec = cronjob.get("spec") or {}
        for kind, field, default in (
            ("Complete", "successfulJobsHistoryLimit", 3),
            ("Failed", "failedJobsHistoryLimit", 1),
        ):
            limit = spec.get(field)
            limit = default if limit is None else int(limit)
            finished = [
                j for j in jobs if job_finished(j) == kind and not j["metadata"].get("deletionTimestamp")
            ]
            finished.sort(key=lambda j: _stamp(j, "creationTimestamp"))
            for job in finished[: max(0, len(finished) - limit)]:
                self._delete_job(cronjob, job)

    def _delete_job(self, cronjob: Obj, job: Obj) -> None:
        meta = job["metadata"]
        with contextlib.suppress(StoreError):
            self.ctx.store.remove("jobs", meta["namespace"], meta["name"], uid=meta["uid"])
            self.ctx.recorder.record(
                cronjob, "Normal", "SuccessfulDelete", f"Deleted job {meta['name']}", _SOURCE
            )

    def _parsed(self, cronjob: Obj) -> CronSchedule | None:
        text = str((cronjob.get("spec") or {}).get("schedule") or "")
        if text not in self._schedules:
            try:
                self._schedules[text] = parse_schedule(text)
            except CronError as err:
                self._schedules[text] = None
                self.ctx.recorder.record(
                    cronjob,
                    "Warning",
                    "UnparseableSchedule",
                    f"unparseable schedule: {text!r} : {err}",
                    _SOURCE,
                )
        return self._schedules[text]

    def _schedule(self, cronjob: Obj, status: Obj) -> None:
        spec = cronjob.get("spec") or {}
        meta = cronjob["metadata"]
        if spec.get("suspend"):
            return
        schedule = self._parsed(cronjob)
        if schedule is None:
            return
        uid = meta["uid"]
        now = self.ctx.clock()
        now_sim = self.simulated(now)
        since = self._last.get(uid)
        if since is None:
            since = self.simulated(max(self.anchor, _stamp(cronjob, "creationTimestamp")))
        due: float | None = None
        upcoming = schedule.next_after(since)
        for _ in range(100):
            if upcoming is None or upcoming > now_sim:
                break
            due = upcoming
            upcoming = schedule.next_after(upcoming)
        if upcoming is not None:
            key = (meta["namespace"], meta["name"])
            delay = max(0.0, self.wall(upcoming) - now) + 0.001
            self._timers[key] = self.ctx.timers.after_real(
                delay, lambda: self.ctx.queue.enqueue(self.QUEUE, key)
            )
        if due is None:
            return
        self._last[uid] = due
        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None and now_sim - due > float(deadline):
            self.ctx.recorder.record(
                cronjob,
                "Warning",
                "MissSchedule",
                f"Missed scheduled time to start a job: {rfc3339(self.wall(due))}",
                _SOURCE,
            )
            return
        policy = spec.get("concurrencyPolicy") or "Allow"
        active = status.get("active") or []
        if active and policy == "Forbid":
            self.ctx.recorder.record(
                cronjob,
                "Normal",
                "JobAlreadyActive",
                "Not starting job because prior execution is running and concurrency policy is Forbid",
                _SOURCE,
            )
            return
        if active and policy == "Replace":
            for ref in active:
                job = self.ctx.store.try_get("jobs", ref.get("namespace"), ref.get("name", ""))
                if job is not None:
                    self._delete_job(cronjob, job)
            active = []
        job = self._create_job(cronjob, due)
        if job is None:
            return
        status["active"] = [*active, _reference(job)]
        status["lastScheduleTime"] = rfc3339(self.wall(due))

    def _create_job(self, cronjob: Obj, scheduled: float) -> Obj | None:
        from kubectl_trace.sandbox.defaults import default_job_spec

        template = copy.deepcopy((cronjob.get("spec") or {}).get("jobTemplate") or {})
        tmeta = template.get("metadata") or {}
        name = f"{cronjob['metadata']['name']}-{int(scheduled // 60)}"
        annotations = dict(tmeta.get("annotations") or {})
        annotations[_SCHEDULED_ANNOTATION] = rfc3339(self.wall(scheduled))
        job = owned_object(cronjob, "batch/v1", "Job", name, dict(tmeta.get("labels") or {}), annotations)
        job["spec"] = default_job_spec(template.get("spec") or {})
        try:
            created = self.ctx.store.create("jobs", job)
        except StoreError as err:
            if err.code == 409:
                return None  # already started for this schedule
            self.ctx.recorder.record(
                cronjob, "Warning", "FailedCreate", f"Error creating job: {err.message}", _SOURCE
            )
            return None
        self.ctx.recorder.record(cronjob, "Normal", "SuccessfulCreate", f"Created job {name}", _SOURCE)
        return created
