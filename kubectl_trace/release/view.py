"""The live progress view of followed rollouts (rich), and the choice between it and plain lines.

``progress_table`` is a pure function of a Snapshot; ``LiveView`` redraws it in place on a
terminal; on a pipe ``follow.PlainPrinter`` prints a line per change instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kubectl_trace.release.follow import DeploymentProgress, PlainPrinter, Snapshot, waiting_text

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from kubectl_trace.environment import Environment

__all__ = ["LiveView", "make_view", "progress_table"]

_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def _mark(item: DeploymentProgress, tick: int) -> tuple[str, str]:
    if item.outcome == "complete":
        return "✓", "green"
    if item.outcome == "failed":
        return "✗", "bold red"
    return _SPINNER[tick % len(_SPINNER)], "cyan"


def _state(item: DeploymentProgress) -> tuple[str, str]:
    r = item.rollout
    if item.outcome == "complete":
        return ("rolled out", "green")
    if item.outcome == "failed":
        return (item.reason, "red")
    if item.reason:
        return (item.reason, "dim")
    unhealthy = [p for p in item.pods if p.verdict == "unhealthy"]
    if unhealthy:
        return (f"{unhealthy[0].name}: {unhealthy[0].summary}", "yellow")
    if r is not None and r.old:
        old = sum(rs.current for rs in r.old)
        return (f"{old} old pod{'s' if old != 1 else ''} to replace", "")
    return ("starting pods", "")


def progress_table(snap: Snapshot, title: str = "", tick: int = 0) -> RenderableType:
    """One row per Deployment: change, progress bar, updated/ready/available, state."""
    from rich.progress_bar import ProgressBar
    from rich.table import Table
    from rich.text import Text

    heading = f"{title} · {snap.elapsed:.0f}s" if title else f"{snap.elapsed:.0f}s"
    if snap.connection:
        heading += f" · {snap.connection}"
    caption = waiting_text(snap.waiting) if snap.waiting is not None else None
    table = Table(
        title=heading,
        title_justify="left",
        caption=caption,
        caption_justify="left",
        box=None,
        pad_edge=False,
        expand=False,
    )
    table.add_column("", width=1, no_wrap=True)
    table.add_column("DEPLOYMENT", no_wrap=True)
    table.add_column("CHANGE", no_wrap=True)
    table.add_column("PROGRESS", width=20, no_wrap=True)
    table.add_column("UPDATED", justify="right", no_wrap=True)
    table.add_column("READY", justify="right", no_wrap=True)
    table.add_column("AVAIL", justify="right", no_wrap=True)
    table.add_column("STATE", overflow="fold")
    for item in snap.items:
        mark, mark_style = _mark(item, tick)
        r = item.rollout
        desired = r.desired if r is not None else 0
        done = 1.0 if item.outcome == "complete" else (r.progress if r is not None else 0.0)
        bar = ProgressBar(
            total=100,
            completed=round(done * 100),
            width=20,
            complete_style="red" if item.outcome == "failed" else "green",
            finished_style="green",
        )
        state, style = _state(item)
        table.add_row(
            Text(mark, style=mark_style),
            item.name,
            item.label,
            bar,
            f"{r.updated}/{desired}" if r is not None else "-",
            f"{r.ready}/{desired}" if r is not None else "-",
            f"{r.available}/{desired}" if r is not None else "-",
            Text(state, style=style),
        )
    return table


class LiveView:
    """Redraws ``progress_table`` in place (rich Live) until closed; the last frame stays."""

    def __init__(self, console: Console, title: str) -> None:
        from rich.live import Live

        self.title = title
        self.tick = 0
        self._live = Live(console=console, auto_refresh=False, transient=False)
        self._live.start()

    def __call__(self, snap: Snapshot) -> None:
        """Draw one snapshot."""
        self.tick += 1
        self._live.update(progress_table(snap, self.title, self.tick), refresh=True)

    def close(self) -> None:
        """Stop redrawing (leaves the final frame on screen)."""
        self._live.stop()


class _Plain:
    def __init__(self, env: Environment) -> None:
        def write(text: str) -> None:
            env.stdout.write(text)
            env.stdout.flush()

        self._printer = PlainPrinter(write)

    def __call__(self, snap: Snapshot) -> None:
        self._printer(snap)

    def close(self) -> None:
        pass


def make_view(env: Environment, title: str) -> Any:
    """A callable view for ``Follower.run`` with ``close()``: live on a terminal, plain lines otherwise."""
    if env.stdout_isatty:
        return LiveView(env.console(), title)
    env.stdout.write(f"{title}\n")
    env.stdout.flush()
    return _Plain(env)


View = Callable[[Snapshot], None]
