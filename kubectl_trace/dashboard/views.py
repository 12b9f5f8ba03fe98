"""The screen: header, banner, the sections in boxes (or under rules), footer, overlays.

``screen_lines`` renders the full-screen layout to exactly
``height`` lines of ``width`` cells; ``once_renderable`` is the same content at its
natural height for ``--once``. Pure: a ``Frame``, the ``UiState`` and a ``ViewContext``
in, rich renderables out. Tests render with ``color_system=None`` and compare text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from kubectl_trace.dashboard.derive import Frame
from kubectl_trace.dashboard.jobs_panel import jobs_section
from kubectl_trace.dashboard.panels import (
    Section,
    ViewContext,
    deployments_section,
    events_section,
    logs_section,
    pods_section,
    rollout_lines,
    rollout_section,
)
from kubectl_trace.dashboard.ui import UiState
from kubectl_trace.dashboard.widgets import cell, overlay

__all__ = [
    "NOTICE_SECONDS",
    "Heights",
    "RenderCache",
    "ViewContext",
    "allocate",
    "once_renderable",
    "screen_lines",
]

NOTICE_SECONDS = 10.0
BORDER = "grey50"
BORDER_FOCUS = "cyan"
BORDER_STALE = "red"

KEYS_WIDE = "↑↓ select  ⏎ focus  l logs  s shell  u rollback  p pause  r restart  / filter  ? help  q quit"
KEYS_NARROW = "↑↓ ⏎  l logs  s shell  u rollback  p pause  r restart  / filter  ? help  q quit"

HELP = (
    ("↑ ↓  j k", "select a deployment, or a pod when the pods have the focus"),
    ("⏎  tab", "focus the pods (⏎ on a pod pins the log tail); esc goes back"),
    ("PgUp PgDn", "scroll the pods"),
    ("l", "all logs of the selected pod (nodeapp logs); Ctrl-C comes back"),
    ("s", "a shell in the selected pod (nodeapp shell); exit comes back"),
    ("u", "roll the whole app back to its last healthy release (asks first)"),
    ("U", "undo this Deployment only, as kubectl rollout undo (asks first)"),
    ("p", "pause or resume the rollout"),
    ("r", "restart every pod of the deployment, one by one"),
    ("/", 'filter the pods by name, phase, waiting reason or "ready"'),
    ("q", "quit"),
)


# -- header, banner, footer ----------------------------------------------------------------------


def header(frame: Frame, ctx: ViewContext) -> Text:
    """`` nodeapp rollout · context X · namespace Y            ● live 12:04:31``."""
    snapshot = frame.snapshot
    left = Text(" nodeapp rollout", style="bold")
    if ctx.context:
        left.append(f" · context {ctx.context}")
    left.append(f" · namespace {snapshot.namespace}")
    if left.cell_len + 18 > ctx.width:
        left = Text(" nodeapp rollout", style="bold")
        left.append(f" · {ctx.context} · {snapshot.namespace}" if ctx.context else f" · {snapshot.namespace}")
    if snapshot.live:
        right = Text("● live ", style="green")
    elif snapshot.down:
        right = Text("◌ reconnecting ", style="bold red")
    else:
        right = Text("◌ connecting ", style="yellow")
    right.append(ctx.clock(ctx.now), style="bold")
    right.append(" ")
    space = ctx.width - left.cell_len - right.cell_len
    if space < 1:
        left = cell(left, max(0, ctx.width - right.cell_len - 1))
        space = ctx.width - left.cell_len - right.cell_len
    return left + Text(" " * max(0, space)) + right


def banner(frame: Frame, ctx: ViewContext) -> Text | None:
    """The "reconnecting" line while a watch is down: which, why, and since when data is stale."""
    snapshot = frame.snapshot
    down = snapshot.down
    if not down:
        return None
    kinds = ", ".join(k for k, _ in down)
    errors = sorted({link.error for _, link in down if link.error})
    error = errors[0] if errors else "connection lost"
    since = snapshot.stale_since
    stale = f" · data as of {ctx.clock(since)}" if since is not None and snapshot.synced else ""
    if any(link.state == "failed" for _, link in down):
        text = f" ✗ stopped watching {kinds}{stale} · {error}"
    else:
        text = f" ⟳ reconnecting ({kinds}){stale} · {error}"
        retry = min(link.retry_in for _, link in down)
        if retry >= 1:
            text += f" · retry in {retry:.0f}s"
    return cell(Text(text, style="bold white on red"), ctx.width)


def _notice(frame: Frame, ui: UiState, now: float) -> tuple[str, str] | None:
    candidates = []
    if ui.notice is not None:
        candidates.append((ui.notice.at, ui.notice.text, ui.notice.level))
    if frame.snapshot.notice is not None:
        n = frame.snapshot.notice
        candidates.append((n.at, n.text, n.level))
    if not candidates:
        return None
    at, text, level = max(candidates)
    return (text, level) if now - at <= NOTICE_SECONDS else None


def footer(frame: Frame, ui: UiState, ctx: ViewContext) -> Text:
    """Key hints; the filter being typed; or the last action's outcome for a few seconds."""
    if ui.editing_filter:
        text = Text(" filter: ", style="bold")
        text.append(ui.filter)
        text.append("▏")
        text.append("   ⏎ keep  esc clear", style="grey50")
        return cell(text, ctx.width)
    notice = _notice(frame, ui, ctx.now)
    if notice is not None:
        message, level = notice
        mark, style = ("✗", "bold red") if level == "error" else ("✓", "bold green")
        return cell(Text(f" {mark} {message}", style=style), ctx.width)
    if ctx.narration:
        return cell(Text(f" ▸ {ctx.narration}", style="bold cyan"), ctx.width)
    keys = KEYS_WIDE if ctx.width >= len(KEYS_WIDE) + 2 else KEYS_NARROW
    return cell(Text(f" {keys}", style="grey62"), ctx.width)


# -- sections in boxes ---------------------------------------------------------------------------


def _stale(frame: Frame) -> bool:
    return not frame.snapshot.live and frame.snapshot.synced


def _body(section: Section, rows: int | None, inner: int) -> list[Text]:
    lines = list(section.lines) or [Text(section.empty, style="grey50")]
    if rows is not None:
        lines = lines[:rows]
        lines.extend(Text("") for _ in range(rows - len(lines)))
    return [cell(line, inner) for line in lines]


def draw(section: Section, frame: Frame, ctx: ViewContext, width: int, height: int | None) -> list[Text]:
    """A section as lines of exactly ``width`` cells: in a box, or under a title rule when compact.

    ``height`` counts every line (frame included); None is the section's natural height.
    Drawn by hand (not with rich's Panel) because a frame is drawn up to ten times a second.
    """
    stale = _stale(frame)
    border = BORDER_STALE if stale else (BORDER_FOCUS if section.focus else BORDER)
    title = section.title.copy()
    if ctx.compact:
        rows = None if height is None else max(0, height - 1)
        top = Text("─ ", style=border)
        top.append_text(cell(title, max(1, min(title.cell_len, width - 4))))
        top.append(" " + "─" * max(0, width - top.cell_len - 1), style=border)
        body = _body(section, rows, width - 2)
        out = [top]
        for line in body:
            if stale:
                line.stylize("dim")
            out.append(line + Text("  "))
        return out
    rows = None if height is None else max(0, height - 2)
    inner = width - 4
    top = Text("┌─", style=border)
    if width > 4:
        label = Text(" ") + title + Text(" ")
        if label.cell_len > width - 4:
            label.truncate(width - 4)
        top.append_text(label)
        top.append("─" * max(0, width - 1 - top.cell_len), style=border)
    top.append("┐" if width > 4 else "", style=border)
    left, right = Text("│ ", style=border), Text(" │", style=border)
    out = [top]
    for line in _body(section, rows, inner):
        if stale:
            line.stylize("dim")
        out.append(left + line + right)
    out.append(Text("└" + "─" * max(0, width - 2) + "┘", style=border))
    return out


# -- overlays ------------------------------------------------------------------------------------


def help_box(width: int) -> Panel:
    """The key help."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for keys, what in HELP:
        table.add_row(keys, what)
    return _dialog(
        Group(table, Text(""), Text("any key closes this help", style="grey50")), "Keys", "cyan", 1, width
    )


def confirm_box(ui: UiState, width: int) -> Panel | None:
    """The confirmation dialog of a pending action."""
    if ui.confirm is None:
        return None
    body = [Text(ui.confirm.title, style="bold")]
    body.extend(Text(line) for line in ui.confirm.lines)
    answer = Text("y", style="bold green")
    answer.append(" yes    ")
    answer.append("n", style="bold red")
    answer.append(" no (default)")
    body.extend([Text(""), answer])
    return _dialog(Group(*body), "Confirm", "yellow", 2, width)


def _dialog(body: Group, title: str, border_style: str, side_padding: int, width: int) -> Panel:
    """A box drawn over the dashboard: a double border with its title on the left."""
    return Panel(
        body,
        title=f" {title} ",
        title_align="left",
        box=box.DOUBLE,
        border_style=border_style,
        padding=(0, side_padding),
        width=width,
    )


# -- composition ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Heights:
    """How the screen's height is shared out (lines per part, frames included)."""

    banner: int
    deployments: int
    rollout: int
    pods: int
    bottom: int
    frame: int  # lines a section's frame takes: 2 for a box, 1 for a title rule
    jobs: int = 0  # the Jobs section (only when the app has Jobs or CronJobs)

    @property
    def pod_rows(self) -> int:
        """Pod rows that fit (the header, the detail line and the frame excluded)."""
        return max(0, self.pods - self.frame - 2)


def allocate(frame: Frame, ctx: ViewContext, rollout_wanted: int | None = None) -> Heights:
    """Share the height between the parts: the fixed parts first, then the pods get the rest.

    ``rollout_wanted`` is how many lines the rollout section has (computed when None).
    """
    assert ctx.height is not None
    height = ctx.height
    chrome = 1 if ctx.compact else 2
    banner_h = 1 if frame.snapshot.down else 0
    free = height - 2 - banner_h  # header and footer
    deployments = min(max(1, len(frame.rollouts)), max(1, height // 6)) + chrome
    if rollout_wanted is None:
        rollout_wanted = len(rollout_lines(frame, ctx.inner(ctx.width)))
    wanted = max(1, rollout_wanted)
    rollout = min(wanted, 4 if height >= 30 else 3) + chrome
    bottom = max(3 + chrome, min(14, (height - 10) // 3))
    pods = free - deployments - rollout - bottom
    minimum = 3 + chrome + 1  # header, detail and a row or two
    if pods < minimum:
        take = min(minimum - pods, bottom - (2 + chrome))
        bottom, pods = bottom - take, pods + take
    if pods < minimum:
        take = min(minimum - pods, rollout - (1 + chrome))
        rollout, pods = rollout - take, pods + take
    jobs = 0
    if frame.batch:  # a few lines for the app's Jobs, taken from the pods while they keep a row or two
        jobs = min(frame.batch.size, 4 if height >= 40 else 2) + chrome
        if pods - jobs < minimum:
            jobs = 1 + chrome if pods - (1 + chrome) >= minimum else 0
        pods -= jobs
    needed = max(minimum, len(frame.pods) + 2 + chrome)
    if jobs and pods > needed:  # room to spare: more of the Jobs first, up to six lines
        more = min(pods - needed, min(frame.batch.size, 6) + chrome - jobs)
        if more > 0:
            pods, jobs = pods - more, jobs + more
    if pods > needed:  # room to spare: the events and the log get it, up to about half the screen
        give = min(pods - needed, max(0, height // 2 - bottom))
        pods, bottom = pods - give, bottom + give
    return Heights(banner_h, deployments, rollout, max(chrome + 2, pods), bottom, chrome, jobs)


def _bottom(frame: Frame, ctx: ViewContext, height: int | None) -> list[Text]:
    left = (ctx.width * 29) // 50 if ctx.width >= 100 else (ctx.width * 11) // 20
    right = ctx.width - left
    rows = None if height is None else height - (1 if ctx.compact else 2)
    events = draw(events_section(frame, ctx, left, rows), frame, ctx, left, height)
    logs = draw(logs_section(frame, ctx, right, rows), frame, ctx, right, height)
    return [a + b for a, b in zip(events, logs, strict=True)]


class RenderCache:
    """Rendered blocks of the last frames, reused while what they show is the same objects.

    The Deployments block depends on the Deployments and ReplicaSets only, the Events and
    Logs block on the events, the log tail and the second (ages): while pods churn they
    are not drawn again. Pure memoisation — the output is what drawing would give.
    """

    def __init__(self) -> None:
        self.blocks: dict[str, tuple[tuple[object, ...], list[list[Segment]]]] = {}

    def get(
        self, name: str, key: tuple[object, ...], make: Callable[[], list[list[Segment]]]
    ) -> list[list[Segment]]:
        """The block ``name`` for ``key``: objects compare by identity, plain values by value."""
        hit = self.blocks.get(name)
        if hit is not None and len(hit[0]) == len(key) and all(map(_same, hit[0], key)):
            return hit[1]
        lines = make()
        self.blocks[name] = (key, lines)
        return lines


def _same(a: object, b: object) -> bool:
    return a is b or (isinstance(a, (str, int, float, bool)) and type(a) is type(b) and a == b)


def _segments(console: Console, texts: list[Text]) -> list[list[Segment]]:
    return [list(text.render(console, end="")) for text in texts]


def _blocks(
    frame: Frame, ui: UiState, ctx: ViewContext, console: Console | None, cache: RenderCache | None
) -> tuple[list[list[Text] | list[list[Segment]]], Heights]:
    """The screen's blocks, top to bottom: lists of Texts, or of rendered lines when cached."""
    assert ctx.height is not None
    ranked = rollout_lines(frame, ctx.inner(ctx.width))
    h = allocate(frame, ctx, len(ranked))
    rows = (h.deployments - h.frame, h.rollout - h.frame, h.pod_rows)
    width = ctx.width
    snapshot = frame.snapshot
    stale = _stale(frame)
    selected = frame.selected.name if frame.selected is not None else None

    def deployments() -> list[Text]:
        return draw(deployments_section(frame, ui, ctx, rows[0]), frame, ctx, width, h.deployments)

    def bottom() -> list[Text]:
        return _bottom(frame, ctx, h.bottom)

    blocks: list[list[Text] | list[list[Segment]]] = [[cell(header(frame, ctx), width)]]
    line = banner(frame, ctx)
    if line is not None:
        blocks.append([line])
    if cache is not None and console is not None:
        key_d = (snapshot.deployments, snapshot.replicasets, selected, ui.focus, width, h.deployments, stale)
        blocks.append(cache.get("deployments", key_d, lambda: _segments(console, deployments())))
    else:
        blocks.append(deployments())
    blocks.append(draw(rollout_section(frame, ctx, rows[1], ranked), frame, ctx, width, h.rollout))
    blocks.append(draw(pods_section(frame, ui, ctx, rows[2]), frame, ctx, width, h.pods))
    if h.jobs:
        blocks.append(draw(jobs_section(frame, ctx, width, h.jobs - h.frame), frame, ctx, width, h.jobs))
    if cache is not None and console is not None:
        containers = len((frame.pod.pod.get("spec") or {}).get("containers") or ()) if frame.pod else 0
        key_b = (
            snapshot.events,
            snapshot.log,
            selected,
            frame.log_pod,
            containers,
            width,
            h.bottom,
            int(ctx.now),
        )
        blocks.append(cache.get("bottom", (*key_b, stale, ctx.compact), lambda: _segments(console, bottom())))
    else:
        blocks.append(bottom())
    blocks.append([footer(frame, ui, ctx)])
    return blocks, h


def screen_lines(
    console: Console, frame: Frame, ui: UiState, ctx: ViewContext, cache: RenderCache | None = None
) -> tuple[list[list[Segment]], Heights]:
    """Render the screen to exactly ``ctx.height`` lines of ``ctx.width`` cells, overlays included.

    ``cache`` (one per dashboard) skips drawing the blocks whose data did not change.
    """
    assert ctx.height is not None
    blocks, heights = _blocks(frame, ui, ctx, console, cache)
    lines: list[list[Segment]] = []
    for block in blocks:
        for item in block:
            lines.append(list(item.render(console, end="")) if isinstance(item, Text) else item)
    lines = lines[: ctx.height]
    lines.extend([Segment(" " * ctx.width)] for _ in range(ctx.height - len(lines)))
    dialog: Panel | None = None
    width = min(ctx.width - 4, 84)
    if ui.confirm is not None:
        width = min(ctx.width - 4, 64)
        dialog = confirm_box(ui, width)
    elif ui.help:
        dialog = help_box(width)
    if dialog is not None and width > 10:
        box_lines = console.render_lines(dialog, console.options.update(width=width), pad=True)
        top = max(1, (ctx.height - len(box_lines)) // 2)
        lines = overlay(lines, box_lines[: ctx.height - top], top, max(0, (ctx.width - width) // 2))
    return lines, heights


def once_renderable(frame: Frame, ui: UiState, ctx: ViewContext) -> RenderableType:
    """One frame at its natural height (``--once``): every pod, the Jobs, the recent events, the log tail."""
    width = ctx.width
    lines = [cell(header(frame, ctx), width)]
    line = banner(frame, ctx)
    if line is not None:
        lines.append(line)
    lines += draw(deployments_section(frame, ui, ctx, None), frame, ctx, width, None)
    if frame.selected is not None:
        lines += draw(rollout_section(frame, ctx, None), frame, ctx, width, None)
        lines += draw(pods_section(frame, ui, ctx, None), frame, ctx, width, None)
        if frame.batch:
            lines += draw(jobs_section(frame, ctx, width, None), frame, ctx, width, None)
        lines += draw(events_section(frame, ctx, width, None), frame, ctx, width, None)
        if frame.log_pod is not None:
            lines += draw(logs_section(frame, ctx, width, None), frame, ctx, width, None)
    for text in lines:
        text.no_wrap = True
        text.overflow = "crop"
    return Group(*lines)
