"""Why a rollout failed, in a few lines.

The failing pod's problems (probe messages, crash loops, pull errors), the Warning events
since the change, and the last log lines of the failing container.

``explain`` is pure (it takes the log lines already read); ``failing_container`` says which
log to read, and ``read_log_tail`` reads it (the crashed instance with ``previous=True``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from kubectl_trace.health import EventRecord, PodHealth, group_events
from kubectl_trace.release.follow import DeploymentProgress, Snapshot

if TYPE_CHECKING:
    from kubectl_trace.kube.calls import KubeClient

__all__ = [
    "LogTail",
    "compact_log_line",
    "explain",
    "failing_container",
    "read_log_tail",
    "select_log_lines",
    "timed_out_reason",
]

MAX_EVENTS = 8
LOG_LINES = 15  # shown when no error block is found
ERROR_LINES = 25  # shown from the start of the last error block (a Node.js crash)
READ_LINES = 60
_ERROR_START = re.compile(r"^\s*(?:Uncaught\s+)?[A-Z]?[A-Za-z]*Error(?:\s*\[[A-Z_]+\])?:\s")


@dataclass(frozen=True)
class LogTail:
    """The last lines of one container of one pod (``previous``: the instance that ended)."""

    pod: str
    container: str
    previous: bool
    lines: tuple[str, ...]
    error: str = ""


def _worst(pods: Sequence[PodHealth]) -> PodHealth | None:
    rank = {"unhealthy": 0, "starting": 1, "healthy": 3, "terminating": 4, "completed": 5}
    candidates = [p for p in pods if p.verdict in ("unhealthy", "starting")]
    if not candidates:
        return None
    return min(candidates, key=lambda p: (rank.get(p.verdict, 9), -len(p.problems), p.name))


def failing_container(item: DeploymentProgress) -> tuple[str, str, bool] | None:
    """``(pod, container, previous)`` whose log explains the failure best, or None.

    A container that restarted gives its previous (crashed) instance's log; one that never
    started gives none.
    """
    pod = _worst(item.pods)
    if pod is None:
        return None
    for c in pod.containers:
        if c.state == "terminated":  # the instance that just ended: its own log
            return pod.name, c.name, False
        if c.crash_looping or (c.restarts > 0 and not c.ready):
            return pod.name, c.name, c.state != "running" or c.restarts > 0
    for c in pod.containers:
        if c.state == "running" and not c.ready:
            return pod.name, c.name, False
    for c in pod.containers:
        if c.state == "running":
            return pod.name, c.name, False
    return None


def select_log_lines(lines: Sequence[str]) -> tuple[str, ...]:
    """The lines worth showing: from the start of the last error block, else the last few.

    An error block starts with ``Error: Cannot find module …``, ``TypeError: …`` (how Node.js
    prints an uncaught exception); without one the last ``LOG_LINES`` are shown.
    """
    for index in range(len(lines) - 1, -1, -1):
        if _ERROR_START.match(lines[index]):
            return tuple(lines[index : index + ERROR_LINES])
    return tuple(lines[-LOG_LINES:])


def read_log_tail(kube: KubeClient, namespace: str, pod: str, container: str, previous: bool) -> LogTail:
    """Read the end of a container's log (``select_log_lines``); falls back to the current instance."""
    from kubectl_trace.kube.errors import KubeError
    from kubectl_trace.kube.queries import LogQuery

    def read(prev: bool) -> tuple[str, ...]:
        stream = kube.pod_log(namespace, pod, LogQuery(container, previous=prev, tail_lines=READ_LINES))
        try:
            return tuple(line.decode("utf-8", errors="replace") for line in stream.lines())
        finally:
            stream.close()

    attempts = [previous, False] if previous else [False]
    error = ""
    for prev in attempts:
        try:
            lines = read(prev)
        except KubeError as exc:
            error = str(exc)
            continue
        if not prev and not has_error_block(lines):
            # The instance seen ending may already have been restarted (the kubelet restarts a
            # crashed container within moments): its last words are then the previous log.
            try:
                before = read(True)
            except KubeError:
                before = ()
            if has_error_block(before):
                return LogTail(pod, container, True, select_log_lines(before))
        return LogTail(pod, container, prev, select_log_lines(lines))
    return LogTail(pod, container, previous, (), error)


def has_error_block(lines: Sequence[str]) -> bool:
    """Whether ``lines`` hold the start of a Node.js error block (see ``select_log_lines``)."""
    return any(_ERROR_START.match(line) for line in lines)


def timed_out_reason(item: DeploymentProgress, timeout: float) -> str:
    """Why a rollout that was still running at ``--timeout`` did not finish."""
    r = item.rollout
    counts = f"{r.updated}/{r.desired} updated, {r.available} available" if r is not None else "no status yet"
    unhealthy = [p for p in item.pods if p.verdict == "unhealthy"]
    why = f": {unhealthy[0].summary}" if unhealthy else ""
    return f"not complete after --timeout {timeout:g}s ({counts}){why}"


def _clock(at: float | None) -> str:
    if at is None:
        return "--:--:--"
    return datetime.fromtimestamp(at, tz=UTC).astimezone().strftime("%H:%M:%S")


def _event_line(record: EventRecord) -> str:
    span = f"  ({record.span})" if record.span else ""
    return f"{_clock(record.at)}  {record.object_ref}  {record.reason}: {record.message}{span}"


def explain(
    item: DeploymentProgress,
    snapshot: Snapshot,
    log: LogTail | None,
    now: float,
    *,
    reason: str = "",
    brief: bool = False,
) -> list[str]:
    """The lines that explain one failed (or timed-out) rollout.

    ``brief`` (for the second and later of several failures): the first line and the worst
    pod only, without events and log.
    """
    lines = [f"✗ {item.name}" + (f" ({item.label})" if item.label else "") + f": {reason or item.reason}"]
    bad = [p for p in item.pods if p.verdict == "unhealthy"] or [
        p for p in item.pods if p.verdict == "starting"
    ]
    for pod in bad[: 1 if brief else 3]:
        problems = [p.message for p in pod.problems if p.severity == "error"] or [pod.summary]
        lines.append(f"  pod {pod.name} ({pod.status}, {pod.ready_text} ready): {problems[0]}")
        lines.extend(f"      {m}" for m in problems[1:3])
        for c in pod.containers:
            if c.readiness.state == "failing" and not any(
                c.readiness.last_failure in m for m in problems[:3]
            ):
                lines.append(f"      {c.name}: {c.readiness.sentence(now)}")
    if brief:
        return lines
    if len(bad) > 3:
        lines.append(f"  … and {len(bad) - 3} more pods like these")
    warnings = [r for r in group_events(snapshot.warnings) if _about(r, item)]
    if warnings:
        lines.append("  Warning events:")
        shown = warnings[-MAX_EVENTS:]
        if len(warnings) > len(shown):
            lines.append(f"    … {len(warnings) - len(shown)} earlier")
        lines.extend(f"    {_event_line(r)}" for r in shown)
    if log is not None:
        which = "the instance before its last restart" if log.previous else "current instance"
        if log.lines:
            lines.append(f"  last log lines of {log.pod} ({log.container}, {which}):")
            for line in log.lines:
                lines.extend(f"    {part}" for part in compact_log_line(line))
        elif log.error:
            lines.append(f"  no log of {log.pod} ({log.container}): {log.error}")
        else:
            lines.append(f"  {log.pod} ({log.container}) has not logged anything")
    return lines


def compact_log_line(text: str, width: int = 160) -> list[str]:
    """A log line made short: ``ERROR db not connected`` for JSON lines, plus its error line and a frame.

    The stack's first line is the error itself (``Error: connect ECONNREFUSED 10.0.0.7:5432``):
    it is kept unless the message already says it.
    """
    from kubectl_trace.logs.parse import parse_text

    parsed = parse_text(text)
    if not parsed.structured:
        return [text if len(text) <= width else text[: width - 1] + "…"]
    head = f"{(parsed.level or '-').upper():5} {parsed.message}"
    out = [head if len(head) <= width else head[: width - 1] + "…"]
    if parsed.stack:
        stack = [s.strip() for s in parsed.stack.splitlines() if s.strip()]
        frames = [s for s in stack if s.startswith("at ")][:2]
        errors = [s for s in stack if not s.startswith("at ") and s not in parsed.message][:1]
        out.extend(f"      {s if len(s) <= width else s[: width - 1] + '…'}" for s in errors + frames)
    return out


def _about(record: EventRecord, item: DeploymentProgress) -> bool:
    name = record.object_name
    return name == item.name or name.startswith(f"{item.name}-")
