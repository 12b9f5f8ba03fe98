"""The Jobs section: the selected app's recent Jobs and its CronJobs, one line each (pure).

A Job line: its state mark, name, process (``run``, ``release``, ``cron`` …), state
(``running``, ``succeeded``, ``failed (BackoffLimitExceeded)``), age, how long it ran
(or has been running) and who ran what (the ``run`` annotation, less the time the age
gives). A CronJob line: its schedule, ``suspended``, when it last fired and how many
Jobs it runs now. Cluster text
(names, reasons, annotations) is made visible (``textsafe``) before it is drawn.
"""

from __future__ import annotations

import re

from kubectl_trace.dashboard.derive import Frame
from kubectl_trace.dashboard.panels import Section, ViewContext, title
from kubectl_trace.dashboard.widgets import Cell, Column, fit_columns, join_cells
from kubectl_trace.textsafe import visible
from kubectl_trace.timeparse import format_age

__all__ = ["jobs_section", "who_what"]

_MARK = {"succeeded": ("✓", "green"), "failed": ("✗", "bold red"), "running": ("●", "yellow")}

_COLUMNS = (
    Column("", 1, 1),
    Column("NAME", 10, 40, left_trim=True, squeeze=2),
    Column("PROCESS", 3, 7, priority=2),
    Column("STATE", 7, 34, squeeze=1),
    Column("AGE", 3, 5, justify="right", priority=1),
    Column("TOOK", 3, 12, priority=3),
    Column("WHAT", 10, 300, fill=True, squeeze=3, priority=4),
)


# ``run by alice at 2026-03-01T12:00:00Z: npm run migrate`` (run.job): the kind is the
# PROCESS column and the time the AGE column, so the line says ``alice: npm run migrate``.
_ANNOTATION = re.compile(r"^\w+ by (?P<who>.+?) at \S+: (?P<what>.*)$", re.DOTALL)


def who_what(text: str) -> str:
    """The ``run`` annotation as ``who: what`` (any other text as it is)."""
    match = _ANNOTATION.match(text)
    return f"{match['who']}: {match['what']}" if match else text


def _age(seconds: float) -> str:
    return format_age(max(0.0, seconds))


def _rows(frame: Frame) -> list[list[Cell]]:
    now = frame.now
    rows: list[list[Cell]] = []
    for row in frame.batch.jobs:
        job = row.job
        mark, style = _MARK.get(job.state, ("?", "grey50"))
        state = job.state + (f" ({visible(job.reason)})" if job.reason else "")
        age = _age(now - job.started_at) if job.started_at is not None else "?"
        if job.started_at is None:
            took = ""
        elif job.finished_at is not None:
            took = f"took {_age(job.finished_at - job.started_at)}"
        else:
            took = f"for {_age(now - job.started_at)}"
        rows.append(
            [
                (mark, style),
                visible(job.name),
                (visible(row.process), "cyan"),
                (state, style),
                age,
                (took, "grey62"),
                (visible(who_what(job.what)), "grey62"),
            ]
        )
    for cron in frame.batch.cronjobs:
        last = f"last {_age(now - cron.last_schedule)} ago" if cron.last_schedule is not None else "never ran"
        state = f"{visible(cron.schedule)}" + (" suspended" if cron.suspended else "")
        rows.append(
            [
                ("⏲", "cyan"),
                visible(cron.name),
                ("cron", "cyan"),
                (state, "yellow" if cron.suspended else "bold"),
                "",
                (last, "grey62"),
                (f"{cron.active} active" if cron.active else "", "grey62"),
            ]
        )
    return rows


def jobs_section(frame: Frame, ctx: ViewContext, width: int, rows: int | None) -> Section:
    """The selected app's Jobs (newest first), then its CronJobs; ``rows`` caps the lines."""
    cells = _rows(frame)
    batch = frame.batch
    extra = f"{visible(batch.app)} · {len(batch.jobs)} recent"
    if batch.cronjobs:
        extra += f", {len(batch.cronjobs)} cron"
    if rows is not None and len(cells) > rows:
        # keep the newest Jobs and every CronJob that fits
        crons = cells[len(batch.jobs) :]
        keep_crons = crons[: max(0, rows - 1)] if batch.jobs else crons[:rows]
        cells = cells[: rows - len(keep_crons)] + keep_crons
    widths = fit_columns(_COLUMNS, cells, ctx.inner(width))
    lines = [join_cells(_COLUMNS, widths, row) for row in cells]
    return Section(title("Jobs", frame, extra), lines, empty="no jobs")
