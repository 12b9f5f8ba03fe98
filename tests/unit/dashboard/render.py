"""Render helpers for view tests: fixed width, colour off, UTC clock, exact text."""

from __future__ import annotations

import io
import time

from rich.console import Console

from kubectl_trace.dashboard.derive import derive
from kubectl_trace.dashboard.reducer import reduce_all
from kubectl_trace.dashboard.state import LogInput, LogLine, Snapshot, WatchInput, empty_snapshot
from kubectl_trace.dashboard.ui import UiState
from kubectl_trace.dashboard.views import ViewContext, once_renderable, screen_lines
from kubectl_trace.dashboard.widgets import lines_text
from tests.factories.rollout import NOW, NS, stalled_story

FAILING = "trace-api-web-6f7c9d8b4-p9w2m"


def console(width: int) -> Console:
    return Console(width=width, file=io.StringIO(), color_system=None, legacy_windows=False, _environ={})


def story_snapshot(story=None) -> Snapshot:
    story = story or stalled_story()
    return reduce_all(
        empty_snapshot(NS), [WatchInput(k, "RESET", NOW, items=tuple(v)) for k, v in story.items()]
    )


def with_logs(s: Snapshot, pod: str = FAILING) -> Snapshot:
    lines = (
        LogLine(NOW - 6, "", "info", "listening on :3000"),
        LogLine(NOW - 4, "", "error", "db not connected"),
        LogLine(NOW - 2, "", "info", "GET /healthz 503 2ms"),
        LogLine(None, "", None, "plain line without a timestamp"),
    )
    return reduce_all(
        s,
        [
            LogInput(1, "open", NOW, pod=pod, container="web"),
            LogInput(1, "lines", NOW, lines=lines),
        ],
    )


def render_screen(s: Snapshot, ui: UiState, width: int, height: int, **ctx: object) -> str:
    frame = derive(s, ui, NOW)
    view = ViewContext(NOW, width, height, context="nodeapp-sandbox", localtime=time.gmtime, **ctx)  # type: ignore[arg-type]
    lines, _ = screen_lines(console(width), frame, ui, view)
    return "\n".join(line.rstrip() for line in lines_text(lines).split("\n"))


def render_once(s: Snapshot, ui: UiState, width: int) -> str:
    frame = derive(s, ui, NOW)
    out = console(width)
    out.print(
        once_renderable(
            frame, ui, ViewContext(NOW, width, None, context="nodeapp-sandbox", localtime=time.gmtime)
        )
    )
    return "\n".join(line.rstrip() for line in out.file.getvalue().split("\n"))  # type: ignore[attr-defined]
