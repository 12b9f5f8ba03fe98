"""The dashboard's sections as pure functions: ``Frame`` (+ UI state, clock, width) → title and lines.

Each function returns a ``Section`` — a title and a list of one-line ``Text``s that fit
the given width — and leaves boxes and heights to ``views``. Pod health is derived only
for the pod rows that are shown.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from rich.text import Text

from kubectl_trace.dashboard.derive import Frame, PodRow
from kubectl_trace.dashboard.state import LogLine, Usage
from kubectl_trace.dashboard.ui import UiState
from kubectl_trace.dashboard.usage import usage_cells, usage_note
from kubectl_trace.dashboard.widgets import Cell, Column, bar, cell, fit_columns, join_cells, shorten_left
from kubectl_trace.health import EventRecord, PodHealth, ProbeHealth, ReplicaSetInfo, RolloutState
from kubectl_trace.health._common import span_text
from kubectl_trace.timeparse import format_age

__all__ = [
    "STATE_LABEL",
    "Section",
    "ViewContext",
    "deployments_section",
    "events_section",
    "logs_section",
    "pods_section",
    "rollout_section",
    "visible_pod_rows",
]

STATE_LABEL = {"complete": "Complete", "progressing": "Progressing", "stalled": "Stalled", "paused": "Paused"}
STATE_STYLE = {"complete": "green", "progressing": "yellow", "stalled": "bold red", "paused": "magenta"}
VERDICT_STYLE = {
    "healthy": "green",
    "starting": "yellow",
    "unhealthy": "bold red",
    "terminating": "grey62",
    "completed": "grey62",
}
PROBE_STYLE = {"ok": "green", "failing": "bold red", "unknown": "yellow", "none": "grey50"}
LEVEL_STYLE = {
    "trace": "grey50",
    "debug": "grey62",
    "info": "green",
    "warn": "yellow",
    "error": "bold red",
    "fatal": "bold white on red",
}
SELECTED = "reverse"
DIM = "grey62"


@dataclass(frozen=True)
class ViewContext:
    """What a view needs besides the data: the clock, the size and the cluster's name.

    ``height`` None renders at natural height (``--once``); ``compact`` (below 30 lines)
    draws each section under a title rule instead of in a box, to give the rows room.
    ``localtime`` turns epoch seconds into wall-clock time (tests pass ``time.gmtime``).
    """

    now: float
    width: int
    height: int | None = None
    context: str = ""
    localtime: Callable[[float], time.struct_time] = time.localtime
    narration: str = ""
    log_lines: int = 10  # log lines shown by --once

    @property
    def compact(self) -> bool:
        """Sections without side borders (small terminals)."""
        return self.height is not None and self.height < 30

    def inner(self, width: int) -> int:
        """The content width of a section drawn ``width`` cells wide."""
        return width - (2 if self.compact else 4)

    def clock(self, at: float) -> str:
        """``12:04:31``."""
        return time.strftime("%H:%M:%S", self.localtime(at))


@dataclass
class Section:
    """A titled block of one-line texts (``empty`` is shown when there are none)."""

    title: Text
    lines: list[Text] = field(default_factory=list)
    focus: bool = False
    empty: str = ""


def _age(at: float | None, now: float) -> str:
    return format_age(max(0.0, now - at)) if at is not None else "?"


def title(text: str, frame: Frame, extra: str = "") -> Text:
    """``Pods · 4 (3 ready)`` (+ ``· stale`` while the data is not current)."""
    out = Text(text, style="bold")
    if extra:
        out.append(f" · {extra}", style="not bold")
    if not frame.snapshot.live and frame.snapshot.synced:
        out.append(" · stale", style="bold red")
    return out


def _loading(frame: Frame, otherwise: str) -> str:
    return "loading…" if not frame.snapshot.synced else otherwise


# -- deployments ---------------------------------------------------------------------------------

_DEPLOY_COLUMNS = (
    Column("", 1, 1),
    Column("NAME", 8, 40),
    Column("TAG", 7, 17, priority=2),
    Column("REV", 3, 7, priority=4),
    Column("UPDATED", 7, 19, priority=3),
    Column("READY", 7, 17, priority=1),
    Column("AVAIL", 5, 12, priority=5),
    Column("STATE", 8, 11),
    Column("PROGRESS", 9, 26, priority=2, squeeze=2),
)


def _deploy_cells(rollout: RolloutState, selected: bool, bar_width: int, narrow: bool) -> list[Cell]:
    state = rollout.state
    progress = Text("")
    if state != "complete" and bar_width > 0:
        progress = bar(rollout.progress, bar_width, done=STATE_STYLE[state])
        progress.append(f" {round(rollout.progress * 100):>3}%")
    counts = f"{rollout.updated}/{rollout.desired}"
    return [
        Text("▶" if selected else " ", style="bold cyan"),
        Text(rollout.name, style="bold" if selected else ""),
        ",".join(rollout.tags),
        f"rev {rollout.revision}" if rollout.revision is not None else "rev ?",
        f"upd {counts}" if narrow else f"updated {counts}",
        Text(
            f"ready {rollout.ready}/{rollout.desired}",
            style="green" if rollout.ready >= rollout.desired else "yellow",
        ),
        f"avail {rollout.available}",
        Text(STATE_LABEL.get(state, state), style=STATE_STYLE.get(state, "")),
        progress,
    ]


def deployments_section(frame: Frame, ui: UiState, ctx: ViewContext, rows: int | None) -> Section:
    """The namespace's Deployments: tag, revision, counts, state and a progress bar."""
    inner = ctx.inner(ctx.width)
    narrow = inner < 100
    gap = 1 if narrow else 2
    rollouts = frame.rollouts
    visible = rollouts
    if rows is not None and len(rollouts) > rows:
        sel = frame.deployment_index or 0
        start = min(max(0, sel - rows + 1), len(rollouts) - rows)
        visible = rollouts[start : start + rows]
    widths = fit_columns(_DEPLOY_COLUMNS, [_deploy_cells(r, False, 20, narrow) for r in visible], inner, gap)
    bar_width = max(4, widths[-1] - 5) if widths[-1] else 0
    selected = frame.selected.name if frame.selected is not None else None
    lines = []
    for r in visible:
        chosen = r.name == selected
        line = join_cells(_DEPLOY_COLUMNS, widths, _deploy_cells(r, chosen, bar_width, narrow), gap)
        if chosen and ui.focus == "deployments":
            line.stylize(SELECTED)
        lines.append(line)
    return Section(
        title("Deployments", frame, str(len(rollouts)) if rollouts else ""),
        lines,
        focus=ui.focus == "deployments",
        empty=_loading(frame, "no deployments in this namespace"),
    )


# -- the selected rollout ------------------------------------------------------------------------


def _rs_line(label: str, rs: ReplicaSetInfo, desired: int, width: int, style: str, note: str) -> Text:
    new = label == "new"
    head = Text(f"{label:<3} " if label else "", style="bold" if new else DIM)
    head.append(f"rev {rs.revision if rs.revision is not None else '?':<3} ")
    head.append_text(cell(",".join(rs.tags), 8, style="bold" if new else ""))
    head.append(" ")
    counts = f" {rs.ready}/{desired} ready"
    if rs.available != rs.ready:
        counts += f", {rs.available} available"
    tail = Text(counts)
    if note:
        tail.append(f"  {note}", style=DIM)
    bar_width = max(6, min(30, width - head.cell_len - tail.cell_len))
    fraction = rs.ready / desired if desired > 0 else 0.0
    return head + bar(fraction, bar_width, done=style) + tail


def problem_text(health: PodHealth) -> tuple[str, str]:
    """The most telling problem of a pod in a few words, and its severity ("" when none).

    A failing probe reads ``readiness probe failing ×3 over 25s: HTTP probe failed with
    statuscode: 503`` (the kubelet's message last, where it matters).
    """
    problems = [p for p in health.problems if p.severity == "error"] or list(health.problems)
    if not problems:
        return health.summary, ""
    # A container that cannot run explains the most; then readiness (why the pod is not
    # ready), then liveness and startup.
    order = {"ReadinessProbeFailing": 1, "LivenessProbeFailing": 2, "StartupProbeFailing": 3}
    problem = min(problems, key=lambda p: order.get(p.code, 0))
    if problem.code.endswith("ProbeFailing"):
        kind = problem.code[: -len("ProbeFailing")].lower()
        probe = health.probe(kind)
        if probe.state == "failing":
            span = span_text(probe.failures, probe.first_failure_at, probe.last_failure_at) or "×1"
            message = f": {probe.last_failure}" if probe.last_failure else ""
            return f"{kind} probe failing {span}{message}", problem.severity
    return problem.message, problem.severity


def _why_not_ready(frame: Frame, limit: int = 20) -> tuple[int, PodHealth] | None:
    """How many new pods are not ready, and the health of the first one with a problem."""
    candidates = [r for r in frame.pods if r.newest and not r.ready]
    if not candidates:
        return None
    first: PodHealth | None = None
    for row in candidates[:limit]:
        health = frame.health(row)
        first = first or health
        if health.problems:
            return len(candidates), health
    assert first is not None
    return len(candidates), first


def _status_line(rollout: RolloutState) -> Text:
    style = STATE_STYLE.get(rollout.state, "")
    mark = {"complete": "✓", "stalled": "✗", "paused": "‖"}.get(rollout.state, "»")
    line = Text(f"{mark} {STATE_LABEL.get(rollout.state, rollout.state)}", style=style)
    if rollout.state == "stalled":
        line.append(f": {rollout.reason or 'ProgressDeadlineExceeded'}", style=style)
    line.append("  surge ")
    line.append(f"{rollout.surge}/{rollout.max_surge}", style="bold red" if rollout.over_surge else "")
    line.append("  unavailable ")
    line.append(
        f"{rollout.unavailable}/{rollout.max_unavailable}",
        style="bold red" if rollout.over_unavailable else "",
    )
    if rollout.message and rollout.state != "complete":
        line.append(f"  {rollout.message}", style=DIM)
    return line


def rollout_lines(frame: Frame, width: int) -> list[tuple[int, Text]]:
    """The selected rollout's lines with their importance (0 = keep longest), in display order."""
    rollout = frame.selected
    if rollout is None:
        return []
    out: list[tuple[int, Text]] = []
    desired = rollout.desired
    if rollout.new is not None:
        new = rollout.new
        note = "scaling up" if rollout.state != "complete" and new.desired > new.current else ""
        label = "new" if rollout.old else ""
        out.append((0, _rs_line(label, new, desired, width, STATE_STYLE.get(rollout.state, ""), note)))
    for i, rs in enumerate(rollout.old[:3]):
        note = "scaling down" if rs.desired < rs.current or rs.desired == 0 else ""
        out.append((3 + i, _rs_line("old", rs, desired, width, DIM, note)))
    if len(rollout.old) > 3:
        out.append((6, Text(f"    … {len(rollout.old) - 3} more old replica sets", style=DIM)))
    out.append((1, _status_line(rollout)))
    if rollout.state in ("progressing", "stalled"):
        why = _why_not_ready(frame)
        if why is not None:
            count, health = why
            what = "new pod" + ("s" if count != 1 else "") if width >= 100 else ""
            line = Text(f"{count} {what} not ready".replace("  ", " "), style="yellow")
            text, severity = problem_text(health)
            if text:
                line.append(f": {text}", style="bold red" if severity == "error" else "")
            out.append((2, line))
    return out


def _rollout_title(frame: Frame, width: int) -> Text:
    rollout = frame.selected
    if rollout is None:
        return title("Rollout", frame)
    tags = ",".join(rollout.tags)
    old = ",".join(rollout.old_tags)
    move = f"{old} → {tags}" if old and rollout.state != "complete" else tags
    deadline = ""
    if rollout.progress_deadline_seconds is not None:
        deadline = f"deadline {rollout.progress_deadline_seconds}s"
        if rollout.deadline_left is not None:
            deadline += f" ({rollout.deadline_left:.0f}s left)"
    if rollout.strategy == "Recreate":
        strategies = ["Recreate", "Recreate"]
    else:
        strategies = [
            f"RollingUpdate maxSurge {rollout.max_surge_spec} maxUnavailable {rollout.max_unavailable_spec}",
            f"maxSurge {rollout.max_surge_spec} maxUnavailable {rollout.max_unavailable_spec}",
        ]
    short_deadline = f"{rollout.deadline_left:.0f}s left" if rollout.deadline_left is not None else ""
    for parts in (
        [move, strategies[0], deadline],
        [move, strategies[1], deadline],
        [move, strategies[1], short_deadline],
        [move, short_deadline],
    ):
        candidate = title(rollout.name, frame, " · ".join(p for p in parts if p))
        if candidate.cell_len <= width:
            return candidate
    return candidate


def rollout_section(
    frame: Frame, ctx: ViewContext, rows: int | None, ranked: list[tuple[int, Text]] | None = None
) -> Section:
    """The selected Deployment's rollout: new and old ReplicaSets, the budget, why it is stuck.

    ``ranked`` is ``rollout_lines`` when the caller already has them.
    """
    inner = ctx.inner(ctx.width)
    lines = ranked if ranked is not None else rollout_lines(frame, inner)
    if rows is not None and len(lines) > rows:
        keep = sorted(range(len(lines)), key=lambda i: lines[i][0])[: max(1, rows)]
        lines = [lines[i] for i in sorted(keep)]
    return Section(
        _rollout_title(frame, ctx.width - 6),
        [line for _, line in lines],
        empty=_loading(frame, "no deployment selected"),
    )


# -- pods ----------------------------------------------------------------------------------------

_POD_COLUMNS = (
    Column("", 1, 1),
    Column("POD", 12, 63, left_trim=True, squeeze=2),
    Column("REV", 3, 4, priority=3),
    Column("STATUS", 7, 26, squeeze=1),
    Column("READY", 5, 5, priority=2),
    Column("READINESS", 8, 30, squeeze=1),
    Column("LIVENESS", 8, 30, priority=1, squeeze=1),
    Column("RESTARTS", 8, 24, priority=1, squeeze=2),
    Column("CPU", 3, 11, priority=2, justify="right"),
    Column("MEMORY", 6, 13, priority=2, justify="right"),
    Column("AGE", 3, 5, priority=2, justify="right"),
)
_USAGE_COLUMNS = tuple(
    i for i, c in enumerate(_POD_COLUMNS) if c.header in ("CPU", "MEMORY")
)  # shown once asked
_POD_COLUMNS_BEFORE_USAGE = tuple(c for i, c in enumerate(_POD_COLUMNS) if i not in _USAGE_COLUMNS)


def _probe_cell(probe: ProbeHealth) -> tuple[str, str]:
    if probe.state == "unknown":
        if probe.detail.startswith("container"):
            return "-", "grey50"
        return "pending", PROBE_STYLE["unknown"]
    return probe.short, PROBE_STYLE[probe.state]


def _pod_cells(row: PodRow, health: PodHealth, now: float, selected: bool, usage: Usage) -> list[Cell]:
    cpu, memory = usage_cells(row.pod, usage)
    cells: list[Cell] = [
        ("▶" if selected else " ", "bold cyan"),
        row.name,
        str(row.revision) if row.revision is not None else "?",
        (health.status, VERDICT_STYLE.get(health.verdict, "")),
        (health.ready_text, "green" if health.ready else "yellow"),
        _probe_cell(health.probe("readiness")),
        _probe_cell(health.probe("liveness")),
        (health.restarts_text(now), "yellow" if health.restarts else ""),
        cpu,
        memory,
        _age(health.created_at, now),
    ]
    if usage.at is None:
        return [c for i, c in enumerate(cells) if i not in _USAGE_COLUMNS]
    return cells


def visible_pod_rows(frame: Frame, ui: UiState, rows: int) -> tuple[int, int]:
    """The slice of pod rows shown (start, end), keeping the selected pod in view."""
    total = len(frame.pods)
    if rows <= 0 or total == 0:
        return 0, 0
    start = max(0, min(ui.pod_offset, total - rows))
    sel = frame.pod_index
    if sel is not None:
        if sel < start:
            start = sel
        elif sel >= start + rows:
            start = sel - rows + 1
    return start, min(total, start + rows)


def _pod_detail(row: PodRow, health: PodHealth, wide: bool) -> Text:
    text = Text("▸ ", style="bold cyan")
    if wide:
        text.append(row.name + " ", style="bold")
        tags = sorted({c.tag for c in health.containers if c.tag})
        if tags:
            text.append(",".join(tags) + ": ", style=DIM)
    message, severity = problem_text(health)
    style = {"error": "bold red", "warning": "yellow"}.get(severity, VERDICT_STYLE.get(health.verdict, ""))
    text.append(message, style=style)
    if not severity and health.node:
        text.append(f" · node {health.node}", style=DIM)
    return text


def pods_section(frame: Frame, ui: UiState, ctx: ViewContext, rows: int | None) -> Section:
    """The selected Deployment's pods (a header, the visible rows, then the selected pod's detail).

    ``rows`` is how many pod rows fit (None: all of them).
    """
    inner = ctx.inner(ctx.width)
    fit = rows if rows is not None else len(frame.pods)
    start, end = visible_pod_rows(frame, ui, fit)
    now = frame.now
    selected = frame.pod.name if frame.pod is not None else None
    shown = [(row, frame.health(row)) for row in frame.pods[start:end]]
    usage = frame.snapshot.usage
    cells = [_pod_cells(row, health, now, row.name == selected, usage) for row, health in shown]
    columns = _POD_COLUMNS if usage.at is not None else _POD_COLUMNS_BEFORE_USAGE
    widths = fit_columns(columns, cells, inner)
    lines = []
    if shown:
        lines.append(join_cells(columns, widths, [Text(c.header, style="bold grey62") for c in columns]))
    detail: Text | None = None
    for (row, health), values in zip(shown, cells, strict=True):
        line = join_cells(columns, widths, values)
        if row.name == selected:
            if ui.focus == "pods":
                line.stylize(SELECTED)
            detail = _pod_detail(row, health, inner >= 100)
        lines.append(line)
    if not shown:
        lines.append(
            Text("no pods match the filter" if ui.filter else _loading(frame, "no pods"), style="grey50")
        )
    if rows is not None:
        lines.extend(Text("") for _ in range(rows + 1 - len(lines)))
    if detail is None and frame.pod is not None:
        row = frame.pod
        detail = _pod_detail(row, frame.health(row), inner >= 100)
    if detail is not None or rows is not None:
        lines.append(detail if detail is not None else Text(""))
    extra = [f"{frame.pods_total} ({frame.pods_ready} ready)"] if frame.selected is not None else []
    if ui.filter or ui.editing_filter:
        extra.append(f"filter “{ui.filter}”: {len(frame.pods)} match")
    if rows is not None and len(frame.pods) > fit > 0:
        extra.append(f"{start + 1}-{end} of {len(frame.pods)}")
    note = usage_note(usage)
    if note and frame.selected is not None:
        extra.append(note)
    return Section(title("Pods", frame, " · ".join(extra)), lines, focus=ui.focus == "pods")


# -- events and logs -----------------------------------------------------------------------------

_EVENT_COLUMNS = (
    Column("AGE", 2, 4, justify="right"),
    Column("", 1, 1),
    Column("REASON", 6, 18, priority=1),
    Column("OBJECT", 6, 14, priority=2, left_trim=True, squeeze=2),
    Column("MESSAGE", 28, 500, fill=True, squeeze=3),
)


def _short_object(record: EventRecord, deployment: str | None) -> str:
    """``po/x2k4q`` (a pod's own suffix), ``rs/7d9f8c6b5``, ``deploy``: enough to tell them apart."""
    kind = {"Pod": "po", "ReplicaSet": "rs", "Deployment": "deploy"}.get(record.kind, record.kind.lower())
    name = record.object_name
    if deployment and record.kind == "Deployment" and name == deployment:
        return "deploy"
    if deployment and name.startswith(deployment + "-"):
        name = name[len(deployment) + 1 :]
        if record.kind == "Pod":
            name = name.rsplit("-", 1)[-1]
    return f"{kind}/{name}"


def events_section(frame: Frame, ctx: ViewContext, width: int, rows: int | None) -> Section:
    """The selected Deployment's recent events, newest first; Warnings stand out."""
    deployment = frame.selected.name if frame.selected is not None else None
    records = frame.events()[: rows if rows is not None else 12]
    cells: list[list[Cell]] = []
    for r in records:
        message = r.message + (f" ({r.span})" if r.span else "")
        cells.append(
            [
                _age(r.at, frame.now),
                ("⚠" if r.warning else " ", "bold yellow"),
                (r.reason, "bold yellow" if r.warning else "cyan"),
                _short_object(r, deployment),
                (message, "yellow" if r.warning else ""),
            ]
        )
    widths = fit_columns(_EVENT_COLUMNS, cells, ctx.inner(width))
    lines = [join_cells(_EVENT_COLUMNS, widths, row) for row in cells]
    return Section(title("Events", frame), lines, empty=_loading(frame, "no events"))


def _log_line(line: LogLine, ctx: ViewContext) -> Text:
    text = Text(ctx.clock(line.ts) if line.ts is not None else "--:--:--", style="grey50")
    text.append(" ")
    if line.level:
        text.append(f"{line.level.upper():<5}", style=LEVEL_STYLE.get(line.level, ""))
        text.append(" ")
    text.append(line.text)
    return text


def logs_section(frame: Frame, ctx: ViewContext, width: int, rows: int | None) -> Section:
    """The live log tail of the selected pod, and what keeps it from streaming."""
    log = frame.snapshot.log
    limit = rows if rows is not None else ctx.log_lines
    name = frame.log_pod or ""
    showing = bool(name) and log.pod == name
    lines: list[Text] = []
    if showing and limit > 0:
        lines = [_log_line(line, ctx) for line in log.lines[-limit:]]
        note: Text | None = None
        if log.status == "connecting" and not log.lines:
            note = Text("connecting…", style="grey50")
        elif log.status == "waiting":
            note = Text(f"waiting: {log.detail}", style="yellow")
        elif log.status == "error":
            note = Text(f"cannot read the log: {log.detail}", style="red")
        elif log.status == "ended":
            note = Text(f"— {log.detail or 'the container stopped'} —", style="grey50")
        elif log.status == "streaming" and not log.lines:
            note = Text("no log lines yet", style="grey50")
        if note is not None:
            lines = [*lines[-(limit - 1) :], note] if limit > 1 else [note]
    pod = frame.pod
    if (
        showing
        and log.container
        and pod is not None
        and len((pod.pod.get("spec") or {}).get("containers") or ()) > 1
    ):
        name += f"/{log.container}"
    head = title("Logs", frame)
    room = width - 6 - head.cell_len - 3
    if name and room > 4:
        head = title("Logs", frame, shorten_left(name, room))
    return Section(
        head, lines, empty=_loading(frame, "no pod selected" if not frame.log_pod else "connecting…")
    )
