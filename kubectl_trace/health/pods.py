"""Pod health: readiness, liveness, restarts, waiting reasons and scheduling, from a pod and its events.

``pod_health(pod, events, now)`` reads only the pod dict (as on the wire), the pod's
events (an ``EventIndex`` or any iterable of event dicts/records) and ``now`` (epoch
seconds). It does no I/O and allocates a handful of small frozen objects per pod.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubectl_trace.health._common import ago, as_int, child, children, span_text, timestamp
from kubectl_trace.health.events import EventRecord, EventSource, events_for
from kubectl_trace.health.images import image_tag
from kubectl_trace.health.probes import ProbeSpec, parse_probe_message, probe_spec, short_failure
from kubectl_trace.kube.podstatus import pod_status_column

__all__ = [
    "ERROR_WAITING_REASONS",
    "RECENT_RESTART_SECONDS",
    "START_FAILURE_REASONS",
    "ContainerHealth",
    "PodHealth",
    "ProbeHealth",
    "Problem",
    "Termination",
    "pod_health",
]

_PULL_REASONS = frozenset({"ImagePullBackOff", "ErrImagePull", "ErrImageNeverPull", "InvalidImageName"})
# Waiting reasons of a container that cannot start: no image, or no way to create or run it.
START_FAILURE_REASONS = _PULL_REASONS | {
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
}
# Waiting reasons that mean "this will not fix itself" (kubelet / kuberuntime wording).
ERROR_WAITING_REASONS = START_FAILURE_REASONS | {
    "CrashLoopBackOff",
    "PreStartHookError",
    "PostStartHookError",
}
# A restart this recent is worth a warning even when the pod is ready again.
RECENT_RESTART_SECONDS = 600.0
# Slack on top of a probe's own period when deciding whether a liveness failure is current.
_LIVENESS_SLACK = 15.0
# Events the health derivation already explains (not repeated as generic warnings).
_EXPLAINED_REASONS = frozenset({"Unhealthy", "BackOff", "Failed", "Killing", "FailedScheduling"})


@dataclass(frozen=True)
class Problem:
    """Something wrong, in one line. ``error`` makes the pod unhealthy; ``warning`` does not."""

    code: str  # CrashLoopBackOff, ImagePullBackOff, ReadinessProbeFailing, Unschedulable, …
    severity: str  # error, warning
    message: str
    container: str | None = None


@dataclass(frozen=True)
class Termination:
    """How a container instance ended (``state.terminated`` or ``lastState.terminated``)."""

    reason: str
    exit_code: int | None
    signal: int | None
    message: str
    started_at: float | None
    finished_at: float | None

    def short(self, now: float, cause: str | None = None) -> str:
        """``OOMKilled 2h``, ``Error exit 1 12s``, ``liveness 6s``: for a RESTARTS column."""
        reason = self.reason if cause is None else cause
        what = reason or "exit"
        if self.exit_code is not None and reason not in ("OOMKilled", "liveness"):
            what = f"{what} exit {self.exit_code}" if reason else f"exit {self.exit_code}"
        when = ago(self.finished_at, now)
        return f"{what} {when}".strip()

    def describe(self, now: float) -> str:
        """``exited 1 (Error) 12s ago``: for a sentence."""
        code = f"exited {self.exit_code}" if self.exit_code is not None else "ended"
        reason = f" ({self.reason})" if self.reason else ""
        when = f" {ago(self.finished_at, now)} ago" if self.finished_at is not None else ""
        return f"{code}{reason}{when}"


@dataclass(frozen=True)
class ProbeHealth:
    """The state of one probe of one container.

    ``state``: ``ok``; ``failing`` (``failures`` recorded occurrences, the last failure's
    message and when the failures began/last happened); ``unknown`` (not running, or not
    passed yet — ``detail`` says which); ``none`` (no such probe declared).
    """

    kind: str
    state: str
    description: str = ""
    failures: int = 0
    last_failure: str = ""
    first_failure_at: float | None = None
    last_failure_at: float | None = None
    detail: str = ""
    threshold: int = 0  # the probe's failureThreshold (0: no probe)

    @property
    def sustained(self) -> bool:
        """Failing at least ``failureThreshold`` times: beyond a start-up blip, the kubelet acts on it."""
        return self.state == "failing" and self.failures >= max(1, self.threshold)

    @property
    def short(self) -> str:
        """``ok``, ``failing ×3 (503)``, ``unknown``, ``none``: for a column."""
        if self.state == "failing":
            return f"failing ×{max(1, self.failures)} ({short_failure(self.last_failure)})"
        return self.state

    def sentence(self, now: float) -> str:
        """``readiness probe failing ×12 over 3m (since 3m): HTTP probe failed with statuscode: 503``."""
        if self.state == "none":
            return f"no {self.kind} probe"
        if self.state != "failing":
            extra = f" ({self.detail})" if self.detail else ""
            return f"{self.kind} probe {self.state}{extra}"
        span = span_text(self.failures, self.first_failure_at, self.last_failure_at) or "×1"
        last = f", last {ago(self.last_failure_at, now)} ago" if self.last_failure_at is not None else ""
        message = f": {self.last_failure}" if self.last_failure else ""
        return f"{self.kind} probe failing {span}{last}{message}"


@dataclass(frozen=True)
class ContainerHealth:
    """One container (or init container) of a pod."""

    name: str
    image: str
    tag: str | None
    init: bool
    ready: bool
    state: str  # running, waiting, terminated, unknown
    reason: str  # the waiting or terminated reason ("" when running)
    message: str
    started_at: float | None  # when the current instance started running
    restarts: int
    termination: Termination | None  # how the current instance ended (state terminated)
    last_termination: Termination | None  # how the previous instance ended (lastState)
    readiness: ProbeHealth
    liveness: ProbeHealth
    startup: ProbeHealth
    liveness_kills: int = 0  # "Container X failed liveness probe, will be restarted"
    liveness_killed_at: float | None = None  # the last such kill

    def restart_cause(self, termination: Termination) -> str:
        """``liveness`` if the kubelet killed that instance (failed liveness probe), else its reason."""
        killed, finished = self.liveness_killed_at, termination.finished_at
        # the instance ends within a grace period after the kill
        if killed is not None and finished is not None and -5 <= finished - killed <= 120:
            return "liveness"
        return termination.reason

    @property
    def latest_termination(self) -> Termination | None:
        """The most recent end: the current instance's, else the previous one's."""
        return self.termination or self.last_termination

    @property
    def crash_looping(self) -> bool:
        """Waiting in CrashLoopBackOff, or just exited with an error after earlier restarts."""
        if self.state == "waiting" and self.reason == "CrashLoopBackOff":
            return True
        return self.state == "terminated" and self.restarts > 0 and self.reason != "Completed"


@dataclass(frozen=True)
class PodHealth:
    """Everything ``status`` and the dashboard show about one pod.

    ``verdict``: ``healthy`` (ready), ``starting`` (not ready, nothing wrong yet),
    ``unhealthy`` (an error problem), ``terminating``, ``completed``.
    """

    namespace: str
    name: str
    uid: str
    phase: str
    status: str  # kubectl's STATUS column: Running, CrashLoopBackOff, Init:0/1, Terminating…
    verdict: str
    ready: bool
    ready_containers: int
    total_containers: int
    restarts: int
    last_termination: Termination | None
    last_termination_container: str | None
    last_restart_cause: str  # "liveness" (killed for failing the probe) or the termination reason
    node: str
    template_hash: str
    owner: str  # the controlling ReplicaSet (or other owner) name, "" for a bare pod
    created_at: float | None
    deleted_at: float | None
    containers: tuple[ContainerHealth, ...]
    init_containers: tuple[ContainerHealth, ...]
    scheduling: str  # why the pod cannot be scheduled ("" when it can)
    problems: tuple[Problem, ...]
    summary: str

    @property
    def ok(self) -> bool:
        """No error problem (a starting or terminating pod is not unhealthy)."""
        return self.verdict != "unhealthy"

    @property
    def ready_text(self) -> str:
        """``1/1``."""
        return f"{self.ready_containers}/{self.total_containers}"

    def restarts_text(self, now: float) -> str:
        """``0``, ``3 (OOMKilled 2h)``: for a RESTARTS column."""
        if not self.restarts or self.last_termination is None:
            return str(self.restarts)
        return f"{self.restarts} ({self.last_termination.short(now, self.last_restart_cause)})"

    def probe(self, kind: str) -> ProbeHealth:
        """The pod-level view of one probe: the worst container's (failing > unknown > ok > none)."""
        rank = {"failing": 3, "unknown": 2, "ok": 1, "none": 0}
        worst = ProbeHealth(kind, "none")
        for container in self.containers:
            health: ProbeHealth = getattr(container, kind)
            if rank[health.state] > rank[worst.state]:
                worst = health
        return worst


def _termination(state: Mapping[str, Any]) -> Termination | None:
    terminated = child(state, "terminated")
    if not terminated:
        return None
    exit_code = terminated.get("exitCode")
    signal = terminated.get("signal")
    return Termination(
        reason=str(terminated.get("reason") or ""),
        exit_code=as_int(exit_code) if exit_code is not None else None,
        signal=as_int(signal) if signal is not None else None,
        message=str(terminated.get("message") or "").strip(),
        started_at=timestamp(terminated.get("startedAt")),
        finished_at=timestamp(terminated.get("finishedAt")),
    )


@dataclass
class _ContainerEvents:
    probe: dict[str, list[tuple[EventRecord, str]]]
    pull_failure: EventRecord | None = None
    liveness_kills: int = 0
    liveness_killed_at: float | None = None


def _sort_events(
    records: tuple[EventRecord, ...], containers: list[str]
) -> tuple[dict[str, _ContainerEvents], list[EventRecord]]:
    """Attribute a pod's events to its containers; return the rest too."""
    by_container: dict[str, _ContainerEvents] = {}
    rest: list[EventRecord] = []
    only = containers[0] if len(containers) == 1 else None
    for record in records:
        name = record.container or only
        if record.reason == "Unhealthy":
            parsed = parse_probe_message(record.message)
            if parsed and name:
                ce = by_container.setdefault(name, _ContainerEvents({}))
                ce.probe.setdefault(parsed[0], []).append((record, parsed[1]))
                continue
        elif record.reason == "Failed" and name and record.message.startswith("Failed to pull"):
            # the kubelet's detailed pull error (a separate "Error: ErrImagePull" says less)
            ce = by_container.setdefault(name, _ContainerEvents({}))
            if ce.pull_failure is None or record.at >= ce.pull_failure.at:
                ce.pull_failure = record
            continue
        elif record.reason == "Killing" and "liveness" in record.message.lower() and name:
            ce = by_container.setdefault(name, _ContainerEvents({}))
            ce.liveness_kills += record.count
            if record.last_at is not None and (ce.liveness_killed_at or 0) < record.last_at:
                ce.liveness_killed_at = record.last_at
            continue
        rest.append(record)
    return by_container, rest


_NO_PROBE = {k: ProbeHealth(k, "none") for k in ("readiness", "liveness", "startup")}


def _probe_health(
    kind: str,
    spec: ProbeSpec | None,
    failures: list[tuple[EventRecord, str]],
    *,
    running: bool,
    ready: bool,
    started: bool | None,
    started_at: float | None,
    state_reason: str,
    now: float,
) -> ProbeHealth:
    if spec is None:
        return _NO_PROBE[kind]
    count = 0
    last_record: EventRecord | None = None
    last_detail = ""
    first: float | None = None
    for record, detail in failures:
        count += record.count
        if last_record is None or record.at >= last_record.at:
            last_record, last_detail = record, detail
        if record.first_at is not None and (first is None or record.first_at < first):
            first = record.first_at
    last = last_record.last_at if last_record is not None else None
    # Failures recorded during the current instance (event times have second precision).
    current = last is not None and (started_at is None or last >= started_at - 1)
    detail = ""
    if not running:
        state, detail = "unknown", f"container {state_reason or 'not running'}"
    elif kind == "startup":
        if started:
            state = "ok"
        elif current:
            state = "failing"
        else:
            state, detail = "unknown", "starting"
    elif started is False:
        state, detail = "unknown", "waiting for the startup probe"
    elif kind == "readiness":
        if ready:
            state = "ok"
        elif current:
            state = "failing"
        else:
            state, detail = "unknown", "not passed yet"
    else:  # liveness: no "passed" flag on the wire; failing while failures keep coming
        window = spec.period_seconds * (spec.failure_threshold + 1) + spec.timeout_seconds + _LIVENESS_SLACK
        if current and last is not None and now - last <= window:
            state = "failing"
        else:
            state, detail = "ok", ("recovered" if current else "")
    return ProbeHealth(
        kind, state, spec.description, count, last_detail, first, last, detail, spec.failure_threshold
    )


def _container_health(
    spec: Mapping[str, Any],
    status: Mapping[str, Any],
    events: _ContainerEvents | None,
    *,
    init: bool,
    now: float,
) -> ContainerHealth:
    state = child(status, "state")
    name = str(spec.get("name") or status.get("name") or "")
    image = str(spec.get("image") or status.get("image") or "")
    if running := child(state, "running"):
        kind, reason, message = "running", "", ""
        started_at = timestamp(running.get("startedAt"))
    elif waiting := child(state, "waiting"):
        kind, reason = "waiting", str(waiting.get("reason") or "Waiting")
        message, started_at = str(waiting.get("message") or "").strip(), None
    elif terminated := child(state, "terminated"):
        kind, reason = "terminated", str(terminated.get("reason") or "")
        message, started_at = str(terminated.get("message") or "").strip(), None
    else:
        kind, reason, message, started_at = "unknown", "", "", None
    ready = bool(status.get("ready"))
    started = status.get("started")
    started_flag = bool(started) if isinstance(started, bool) else None
    failures = events.probe if events is not None else {}
    probes = {
        k: _probe_health(
            k,
            None if init else probe_spec(spec, k),
            failures.get(k, []),
            running=kind == "running",
            ready=ready,
            started=started_flag,
            started_at=started_at,
            state_reason=reason or kind,
            now=now,
        )
        for k in ("readiness", "liveness", "startup")
    }
    return ContainerHealth(
        name=name,
        image=image,
        tag=image_tag(image) if image else None,
        init=init,
        ready=ready,
        state=kind,
        reason=reason,
        message=message,
        started_at=started_at,
        restarts=as_int(status.get("restartCount")),
        termination=_termination(state),
        last_termination=_termination(child(status, "lastState")),
        readiness=probes["readiness"],
        liveness=probes["liveness"],
        startup=probes["startup"],
        liveness_kills=events.liveness_kills if events is not None else 0,
        liveness_killed_at=events.liveness_killed_at if events is not None else None,
    )


def _condition(status: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    for condition in children(status, "conditions"):
        if condition.get("type") == kind:
            return condition
    return {}


def _owner(meta: Mapping[str, Any]) -> str:
    refs = children(meta, "ownerReferences")
    for ref in refs:
        if ref.get("controller"):
            return str(ref.get("name") or "")
    return str(refs[0].get("name") or "") if refs else ""


def _container_problems(
    c: ContainerHealth, pull: EventRecord | None, pod_ready: bool, now: float
) -> list[Problem]:
    who = "init container " + c.name if c.init else c.name
    out: list[Problem] = []
    if c.state == "waiting" and c.reason in ERROR_WAITING_REASONS:
        if c.reason == "CrashLoopBackOff":
            t = c.last_termination
            last = t.describe(now) if t else "exited"
            if t is not None and c.restart_cause(t) == "liveness":
                failure = f" ({c.liveness.last_failure})" if c.liveness.last_failure else ""
                last = f"killed for failing its liveness probe{failure}, {last}"
            message = f"CrashLoopBackOff: {who} {last}; {c.restarts} restarts"
        elif c.reason in _PULL_REASONS:
            detail = pull.message if pull is not None else c.message
            message = f"{c.reason}: cannot pull {c.image}" + (f": {detail}" if detail else "")
        else:
            message = f"{c.reason}: {who}" + (f": {c.message}" if c.message else "")
        out.append(Problem(c.reason, "error", message, c.name))
    elif c.state == "terminated" and c.termination is not None and c.reason != "Completed":
        t = c.termination
        if (t.exit_code or 0) != 0 or t.signal:
            code = "CrashLoopBackOff" if c.restarts > 0 else (t.reason or "Error")
            out.append(
                Problem(code, "error", f"{code}: {who} {t.describe(now)}; {c.restarts} restarts", c.name)
            )
    for probe in (c.startup, c.liveness, c.readiness):
        if probe.state != "failing":
            continue
        if probe.kind == "readiness" and pod_ready:
            continue
        code = f"{probe.kind.capitalize()}ProbeFailing"
        # fewer failures than the threshold: a start-up blip so far, not yet a verdict
        severity = "error" if probe.sustained else "warning"
        out.append(Problem(code, severity, f"{who}: {probe.sentence(now)}", c.name))
    if not out and c.latest_termination is not None and c.restarts > 0:
        t = c.latest_termination
        if t.finished_at is not None and now - t.finished_at <= RECENT_RESTART_SECONDS:
            cause = "liveness probe failures" if c.restart_cause(t) == "liveness" else (t.reason or "exit")
            out.append(
                Problem(
                    "OOMKilled" if t.reason == "OOMKilled" else "Restarted",
                    "warning",
                    f"{who} restarted {ago(t.finished_at, now)} ago ({cause}, exit {t.exit_code}); "
                    f"{c.restarts} restarts",
                    c.name,
                )
            )
    return out


def _containers(
    spec: Mapping[str, Any],
    status: Mapping[str, Any],
    by_container: Mapping[str, _ContainerEvents],
    now: float,
    *,
    init: bool,
) -> tuple[ContainerHealth, ...]:
    """The app containers (or the init containers) in spec order, each with its status and events."""
    field, status_field = (
        ("initContainers", "initContainerStatuses") if init else ("containers", "containerStatuses")
    )
    statuses = {str(s.get("name")): s for s in children(status, status_field)}
    return tuple(
        _container_health(
            c, statuses.get(str(c.get("name")), {}), by_container.get(str(c.get("name"))), init=init, now=now
        )
        for c in children(spec, field)
    )


def _last_restart(containers: Sequence[ContainerHealth]) -> tuple[Termination | None, str | None, str]:
    """The most recent termination of a restarted container (the RESTARTS column): it, whose, why."""
    last: Termination | None = None
    last_container: str | None = None
    last_cause = ""
    for c in containers:
        t = c.latest_termination
        if c.restarts and t is not None and (last is None or (t.finished_at or 0) > (last.finished_at or 0)):
            last, last_container, last_cause = t, c.name, c.restart_cause(t)
    return last, last_container, last_cause


def _unscheduled(
    spec: Mapping[str, Any], status: Mapping[str, Any], other_events: Sequence[EventRecord]
) -> str:
    """Why the pod waits for a node ("" once it has one): the scheduler's latest word."""
    scheduled = _condition(status, "PodScheduled")
    if scheduled.get("status") != "False" or spec.get("nodeName"):
        return ""
    scheduling = str(scheduled.get("message") or scheduled.get("reason") or "")
    failed = [r for r in other_events if r.reason == "FailedScheduling"]
    if failed:
        scheduling = max(failed, key=lambda r: r.at).message or scheduling
    return scheduling or "waiting to be scheduled"


def _failed_pod(status: Mapping[str, Any]) -> Problem:
    """A pod in phase Failed (evicted, deadline exceeded …): one problem for the whole pod."""
    reason = str(status.get("reason") or "Failed")
    message = str(status.get("message") or "").strip()
    severity = "warning" if reason == "Evicted" else "error"
    return Problem(reason, severity, f"{reason}: {message}" if message else f"pod {reason.lower()}")


def _stuck_terminating(
    meta: Mapping[str, Any], spec: Mapping[str, Any], deleted_at: float, now: float
) -> Problem | None:
    """A pod still there a minute after its grace period ended."""
    grace = as_int(
        meta.get("deletionGracePeriodSeconds"), as_int(spec.get("terminationGracePeriodSeconds"), 30)
    )
    if now - deleted_at <= grace + 60:
        return None
    return Problem("StuckTerminating", "warning", f"terminating for {ago(deleted_at, now)} (grace {grace}s)")


def _not_ready(
    spec: Mapping[str, Any],
    containers: Sequence[ContainerHealth],
    created_at: float | None,
    now: float,
) -> Problem | None:
    """Running but not ready, and no probe failure explains it: past the probes' grace, a problem."""
    if not containers or any(c.state != "running" for c in containers):
        return None
    since = max((c.started_at for c in containers if c.started_at is not None), default=created_at)
    spec_containers = children(spec, "containers")
    grace = max((c_spec.grace_seconds for c_spec in _readiness_specs(spec_containers)), default=0) + 30
    if since is None or now - since <= grace:
        return None
    return Problem("NotReady", "error", f"running but not ready for {ago(since, now)}")


def _latest_warning(other_events: Sequence[EventRecord]) -> Problem | None:
    """The newest warning event about the pod that no container problem already explains."""
    warnings = [r for r in other_events if r.warning and r.reason not in _EXPLAINED_REASONS]
    if not warnings:
        return None
    latest = max(warnings, key=lambda r: r.at)
    return Problem(latest.reason, "warning", f"{latest.reason}: {latest.message}")


def _verdict(terminating: bool, phase: str, problems: Sequence[Problem], ready: bool) -> str:
    if terminating:
        return "terminating"
    if phase == "Succeeded":
        return "completed"
    if any(p.severity == "error" for p in problems):
        return "unhealthy"
    return "healthy" if ready else "starting"


def pod_health(pod: Mapping[str, Any], events: EventSource = None, now: float = 0.0) -> PodHealth:
    """Derive the health of one pod from the pod, its events and the current time.

    ``events`` may be an ``EventIndex`` (fast: one dict lookup) or any iterable of event
    dicts/``EventRecord`` (filtered to this pod). ``now`` is epoch seconds.
    """
    meta = child(pod, "metadata")
    spec = child(pod, "spec")
    status = child(pod, "status")
    namespace = str(meta.get("namespace") or "")
    name = str(meta.get("name") or "")
    uid = str(meta.get("uid") or "")
    phase = str(status.get("phase") or "Pending")
    created_at = timestamp(meta.get("creationTimestamp"))
    deleted_at = timestamp(meta.get("deletionTimestamp"))
    records = events_for(events, "Pod", namespace, name, uid)
    every = children(spec, "containers") + children(spec, "initContainers")
    by_container, other_events = _sort_events(records, [str(c.get("name") or "") for c in every])
    containers = _containers(spec, status, by_container, now, init=False)
    inits = _containers(spec, status, by_container, now, init=True)
    ready = _condition(status, "Ready").get("status") == "True"
    last, last_container, last_cause = _last_restart(containers)

    problems: list[Problem] = []
    terminating = deleted_at is not None
    scheduling = _unscheduled(spec, status, other_events)
    if scheduling:
        problems.append(Problem("Unschedulable", "error", f"cannot be scheduled: {scheduling}"))
    if phase == "Failed" and not terminating:
        problems.append(_failed_pod(status))
    elif phase != "Succeeded" and not terminating:
        for c in inits + containers:
            ce = by_container.get(c.name)
            problems.extend(_container_problems(c, ce.pull_failure if ce else None, ready, now))
    if deleted_at is not None and (stuck := _stuck_terminating(meta, spec, deleted_at, now)):
        problems.append(stuck)
    if not ready and not terminating and not any(p.severity == "error" for p in problems):
        unready = _not_ready(spec, containers, created_at, now) if phase == "Running" else None
        if unready is None and phase not in ("Succeeded", "Failed"):
            unready = _latest_warning(other_events)
        if unready is not None:
            problems.append(unready)

    verdict = _verdict(terminating, phase, problems, ready)
    display = pod_status_column(pod, phase, ready)
    labels = child(meta, "labels")
    return PodHealth(
        namespace=namespace,
        name=name,
        uid=uid,
        phase=phase,
        status=display,
        verdict=verdict,
        ready=ready,
        ready_containers=sum(1 for c in containers if c.ready),
        total_containers=len(containers),
        restarts=sum(c.restarts for c in containers),
        last_termination=last,
        last_termination_container=last_container,
        last_restart_cause=last_cause,
        node=str(spec.get("nodeName") or ""),
        template_hash=str(labels.get("pod-template-hash") or ""),
        owner=_owner(meta),
        created_at=created_at,
        deleted_at=deleted_at,
        containers=containers,
        init_containers=inits,
        scheduling=scheduling,
        problems=tuple(problems),
        summary=_summary(verdict, display, problems),
    )


def _readiness_specs(containers: list[Mapping[str, Any]]) -> list[ProbeSpec]:
    return [s for s in (probe_spec(c, "readiness") for c in containers) if s is not None]


def _summary(verdict: str, status: str, problems: list[Problem]) -> str:
    ordered = sorted(problems, key=lambda p: p.severity != "error")
    if ordered:
        more = f" (+{len(ordered) - 1} more)" if len(ordered) > 1 else ""
        return ordered[0].message + more
    if verdict == "healthy":
        return "ready"
    if verdict == "starting":
        return f"starting ({status})"
    return verdict
