"""The non-interactive faces of the dashboard: ``--once`` and ``--until-complete``.

``once`` lists the six kinds once (in parallel), folds the lists into a snapshot with the same reducer
the live dashboard uses, reads the selected pod's last log lines and prints one frame.
``until_complete`` follows one Deployment through the same watches and reducer, prints a
line whenever its rollout moves, and returns 0 when it completes, 1 when it stalls,
exceeds its progress deadline or ``--timeout``, or the Deployment goes away.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from kubectl_trace.dashboard.derive import Frame, derive
from kubectl_trace.dashboard.feed import Inbox, WatchFeed, parse_log_line
from kubectl_trace.dashboard.reducer import reduce_all
from kubectl_trace.dashboard.state import (
    BATCH_KINDS,
    KINDS,
    WATCHED,
    LogInput,
    Snapshot,
    WatchInput,
    empty_snapshot,
)
from kubectl_trace.dashboard.ui import UiState
from kubectl_trace.errors import ExitStatus, NodeappError

if TYPE_CHECKING:
    from rich.console import Console

    from kubectl_trace.health import RolloutState
    from kubectl_trace.kube.calls import KubeClient

__all__ = ["Outcome", "judge", "once", "progress_line", "until_complete"]


def _listed(kube: KubeClient, kind: str, namespace: str, now: float) -> WatchInput:
    from kubectl_trace.kube.errors import ApiError

    try:
        items = tuple(kube.list(kind, namespace).items)
    except ApiError as exc:
        if kind in BATCH_KINDS and exc.status in (403, 404):  # no batch/v1 here: no Jobs to show
            return WatchInput(kind, "RESET", now)
        raise
    return WatchInput(kind, "RESET", now, items=items)


def listed_snapshot(
    kube: KubeClient, namespace: str, now: float, kinds: tuple[str, ...] = WATCHED
) -> Snapshot:
    """One list of each kind (all at once), folded into a snapshot."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(kinds), thread_name_prefix="list") as pool:
        futures = [pool.submit(_listed, kube, kind, namespace, now) for kind in kinds]
        inputs = [future.result() for future in futures]
    return reduce_all(empty_snapshot(namespace), inputs)


def once(
    kube: KubeClient,
    namespace: str,
    console: Console,
    *,
    deployment: str | None,
    context: str,
    now: float,
    log_lines: int = 10,
) -> Frame:
    """Print one frame at its natural height; returns the frame printed."""
    from concurrent.futures import ThreadPoolExecutor

    from kubectl_trace.dashboard.derive import default_container
    from kubectl_trace.dashboard.usage import metrics_input
    from kubectl_trace.dashboard.views import ViewContext, once_renderable
    from kubectl_trace.kube.errors import KubeError
    from kubectl_trace.kube.queries import LogQuery

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="metrics") as pool:
        usage = pool.submit(metrics_input, kube, namespace, now)  # beside the lists, not after them
        snapshot = listed_snapshot(kube, namespace, now)
        snapshot = reduce_all(snapshot, [usage.result()])
    ui = UiState(deployment=deployment)
    frame = derive(snapshot, ui, now)
    if frame.log_pod is not None and log_lines > 0:
        container = default_container(frame.pod)
        inputs = [LogInput(1, "open", now, pod=frame.log_pod, container=container or "")]
        try:
            query = LogQuery(container, timestamps=True, tail_lines=log_lines)
            stream = kube.pod_log(namespace, frame.log_pod, query)
            try:
                lines = tuple(parse_log_line(raw)[1] for raw in stream.lines())
            finally:
                stream.close()
            inputs.append(LogInput(1, "lines", now, lines=lines))
            inputs.append(LogInput(1, "status", now, status="streaming"))
        except KubeError as exc:
            inputs.append(LogInput(1, "status", now, status="waiting", detail=exc.message))
        frame = derive(reduce_all(snapshot, inputs), ui, now)
    width = console.width
    ctx = ViewContext(now, width, None, context=context, log_lines=log_lines)
    console.print(once_renderable(frame, ui, ctx))
    return frame


# -- --until-complete ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """The end of a followed rollout: exit status and why."""

    status: int
    message: str
    details: tuple[str, ...] = ()


def progress_line(rollout: RolloutState) -> str:
    """``trace-api-web: rolling out 3f9c2a1 → a41c9e7: 2/3 updated, 1 available``."""
    return f"{rollout.name}: {rollout.summary}"


def judge(frame: Frame, name: str, *, deadline_at: float | None = None) -> Outcome | None:
    """Whether the followed rollout is over: complete (0), stalled or past a deadline (1)."""
    from kubectl_trace.dashboard.panels import problem_text

    rollout = next((r for r in frame.rollouts if r.name == name), None)
    if rollout is None:
        if frame.snapshot.links["deployments"].synced_at is not None:
            return Outcome(ExitStatus.FAILURE, f"deployment {name} was deleted")
        return None
    tags = ",".join(rollout.tags)
    if rollout.state == "complete" and rollout.observed:
        return Outcome(0, f"deployment {name} successfully rolled out {tags} (revision {rollout.revision})")
    details: list[str] = []
    if rollout.state == "stalled" or (rollout.deadline_left is not None and rollout.deadline_left <= 0):
        reason = rollout.message or f"progress deadline of {rollout.progress_deadline_seconds}s exceeded"
        headline = f"deployment {name} stalled rolling out {tags}: {reason}"
    elif deadline_at is not None and frame.now >= deadline_at:
        headline = f"deployment {name} did not finish rolling out {tags} in time: {rollout.summary}"
    else:
        return None
    for row in frame.pods:
        if row.newest and not row.ready:
            from kubectl_trace.health import pod_health

            health = pod_health(row.pod, frame.snapshot.pod_events(row.name), frame.now)
            text, severity = problem_text(health)
            if severity:
                details.append(f"pod {row.name}: {text}")
            if len(details) >= 3:
                break
    warnings = [e for e in frame.events() if e.warning][:3]
    for event in warnings:
        span = f" ({event.span})" if event.span else ""
        details.append(f"Warning {event.reason} {event.object_ref}: {event.message}{span}")
    return Outcome(ExitStatus.FAILURE, headline, tuple(details))


def until_complete(
    kube: KubeClient,
    namespace: str,
    name: str,
    out: IO[str],
    *,
    timeout: float | None = None,
    clock: Callable[[], float] = time.time,
    tick: float = 1.0,
) -> Outcome:
    """Follow ``name`` until its rollout is over; print a line whenever it moves."""
    inbox = Inbox()
    feed = WatchFeed(kube, namespace, inbox, kinds=KINDS, clock=clock)
    snapshot = empty_snapshot(namespace)
    ui = UiState(deployment=name)
    started = clock()
    deadline_at = started + timeout if timeout else None
    last_line = ""
    last_banner = ""
    feed.start()
    try:
        while True:
            inbox.wait(tick)
            items = inbox.drain()
            if items:
                snapshot = reduce_all(snapshot, items)
            if not snapshot.synced:
                failed = [(k, link) for k, link in snapshot.down if link.state == "failed"]
                if failed:
                    raise NodeappError(f"cannot watch {failed[0][0]}: {failed[0][1].error}")
                continue
            frame = derive(snapshot, ui, clock())
            down = snapshot.down
            banner = f"reconnecting: {down[0][1].error}" if down else ""
            if banner != last_banner:
                if banner or last_banner:
                    _write(out, banner or "reconnected")
                last_banner = banner
            if down and any(link.state == "failed" for _, link in down):
                kind, link = next((k, v) for k, v in down if v.state == "failed")
                raise NodeappError(f"stopped watching {kind}: {link.error}")
            rollout = next((r for r in frame.rollouts if r.name == name), None)
            if rollout is not None:
                line = progress_line(rollout)
                if line != last_line:
                    _write(out, line)
                    last_line = line
            if not down:
                outcome = judge(frame, name, deadline_at=deadline_at)
                if outcome is not None:
                    return outcome
            elif deadline_at is not None and clock() >= deadline_at:
                return Outcome(
                    ExitStatus.FAILURE, f"gave up waiting for {name}: the API server is unreachable"
                )
    finally:
        feed.stop()


def _write(out: IO[str], line: str) -> None:
    from kubectl_trace.textsafe import safe_text  # lines quote pod messages and image names

    out.write(time.strftime("%H:%M:%S ") + safe_text(line) + "\n")
    out.flush()
