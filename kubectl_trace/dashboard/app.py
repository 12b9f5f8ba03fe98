"""The full-screen prompt_toolkit application: feed → reducer → views → screen, keys → actions.

One control fills the screen. Ten times a second at most, a pump in the event loop drains
the inbox (everything the watch and log threads delivered since), folds it into the
snapshot, derives the frame and renders it with rich straight into prompt_toolkit
fragments — and asks prompt_toolkit to redraw only when those differ from what is on
screen: a burst of events costs one frame, and changes to pods out of view (or to fields
not shown) cost no redraw at all. The pump also runs when the second changes (ages, the
clock). Keys go to the pure ``keys.handle_key``; the actions it returns run here: API
calls in a worker thread (their outcome comes back through the inbox as a notice),
``logs`` and ``shell`` as a subprocess of our own executable with the screen suspended.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from prompt_toolkit.application import Application, run_in_terminal
from prompt_toolkit.data_structures import Size
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.keys import Keys
from prompt_toolkit.layout import Layout, Window
from prompt_toolkit.layout.controls import FormattedTextControl
from prompt_toolkit.output import ColorDepth
from rich.console import Console

from kubectl_trace.dashboard import actions
from kubectl_trace.dashboard.derive import Frame, FrameCache, default_container, derive
from kubectl_trace.dashboard.feed import Inbox, LogFollower, WatchFeed
from kubectl_trace.dashboard.keys import handle_key
from kubectl_trace.dashboard.ptk import fragments
from kubectl_trace.dashboard.reducer import reduce_all
from kubectl_trace.dashboard.state import KINDS, NoticeInput, Snapshot, empty_snapshot
from kubectl_trace.dashboard.ui import Action, UiNotice, UiState
from kubectl_trace.dashboard.views import Heights, RenderCache, ViewContext, screen_lines
from kubectl_trace.errors import NodeappError

if TYPE_CHECKING:
    from prompt_toolkit.input import Input
    from prompt_toolkit.output import Output

    from kubectl_trace.kube.calls import KubeClient

__all__ = ["Dashboard", "DashboardHandle", "DashboardSettings", "default_container", "own_command"]

# The shortest time between two frames: at most ten a second, however many events arrive.
FRAME_INTERVAL = 0.1
# At start, how long the pump waits for every kind's first list before drawing what it has.
SYNC_GRACE = 1.0

_KEY_NAMES = {
    Keys.Enter: "enter",
    Keys.ControlJ: "enter",
    Keys.Tab: "tab",
    Keys.BackTab: "s-tab",
    Keys.Backspace: "backspace",
    Keys.Escape: "escape",
    Keys.Up: "up",
    Keys.Down: "down",
    Keys.PageUp: "pageup",
    Keys.PageDown: "pagedown",
    Keys.Home: "home",
    Keys.End: "end",
    Keys.ControlC: "c-c",
    Keys.ControlU: "c-u",
}


def own_command() -> tuple[str, ...]:
    """Our own program as an argument list: this interpreter, with these sources first.

    (Not ``python -m kubectl_trace`` alone: a wrapper that put its own sources on
    ``sys.path`` would run another copy, or none.)
    """
    import kubectl_trace

    root = os.path.dirname(os.path.dirname(os.path.abspath(kubectl_trace.__file__)))
    code = "import sys; sys.path.insert(0, sys.argv.pop(1)); from kubectl_trace.cli.main import main; main()"
    return (sys.executable, "-c", code, root)


@dataclass(frozen=True)
class DashboardSettings:
    """What the dashboard shows and how it runs commands.

    ``command`` is our own executable as an argument list (``logs`` and ``shell`` run it);
    ``global_args`` are the kubeconfig/context flags passed on to it.
    """

    namespace: str
    context: str = ""
    deployment: str | None = None
    color: bool = True
    command: tuple[str, ...] = field(default_factory=lambda: own_command())
    global_args: tuple[str, ...] = ()
    user: str = ""
    log_tail_lines: int = 100


class Dashboard:
    """The rollout dashboard of one namespace.

    ``kube`` None runs without a feed (tests put inputs in ``inbox`` themselves); a
    ``feed`` (and its ``inbox``) may be started by the caller before the app is built;
    ``perform`` carries out deployment actions and ``run_command`` runs ``logs``/``shell``
    (both injectable for key-binding tests). ``manage_gc``: the caller turned the cyclic
    garbage collector off for the first lists; the first whole frame freezes what was
    loaded and turns it back on.
    """

    def __init__(
        self,
        kube: KubeClient | None,
        settings: DashboardSettings,
        *,
        clock: Callable[[], float] = time.time,
        input: Input | None = None,
        output: Output | None = None,
        perform: Callable[[Action], str] | None = None,
        run_command: Callable[[list[str]], int] | None = None,
        on_ready: Callable[[DashboardHandle], None] | None = None,
        inbox: Inbox | None = None,
        feed: WatchFeed | None = None,
        manage_gc: bool = False,
    ) -> None:
        self.kube = kube
        self._manage_gc = manage_gc
        self.settings = settings
        self.clock = clock
        self.inbox = inbox if inbox is not None else Inbox()
        self.snapshot: Snapshot = empty_snapshot(settings.namespace)
        focus = "pods" if settings.deployment else "deployments"
        self.ui = UiState(deployment=settings.deployment, focus=focus)
        self.cache = FrameCache()
        self.render_cache = RenderCache()
        self.frame: Frame | None = None
        self.heights: Heights | None = None
        self.narration = ""
        self.frames = 0
        self.keys = 0
        self._pending: tuple[Size, UiState, str, StyleAndTextTuples] | None = None
        self._shown: StyleAndTextTuples = []
        if feed is None and kube is not None:
            from kubectl_trace.dashboard.usage import METRICS_EVERY

            feed = WatchFeed(kube, settings.namespace, self.inbox, clock=clock, metrics_every=METRICS_EVERY)
        self.feed = feed
        self.logs = (
            LogFollower(kube, settings.namespace, self.inbox, tail_lines=settings.log_tail_lines, clock=clock)
            if kube is not None
            else None
        )
        self._perform = perform or self._perform_with_kube
        self._run_command = run_command or _run_in_terminal
        self._on_ready = on_ready
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dashboard-action")
        self._console = Console(
            file=io.StringIO(), width=120, color_system="truecolor", force_terminal=True, legacy_windows=False
        )
        self.app: Application[int] = Application(
            layout=Layout(Window(FormattedTextControl(self._fragments, show_cursor=False), wrap_lines=False)),
            key_bindings=self._bindings(),
            full_screen=True,
            min_redraw_interval=FRAME_INTERVAL,
            input=input,
            output=output,
            color_depth=None if settings.color else ColorDepth.DEPTH_1_BIT,
        )
        self.app.ttimeoutlen = 0.05  # a lone Escape is a key, not the start of a sequence

    # -- the frame -------------------------------------------------------------------------------

    def refresh(self) -> Frame:
        """Fold what arrived into the snapshot and derive the frame (also used by tests)."""
        items = self.inbox.drain()
        if items:
            self.snapshot = reduce_all(self.snapshot, items)
        now = self.clock()
        frame = derive(self.snapshot, self.ui, now, self.cache)
        ui = self.ui
        if frame.selected is not None and ui.deployment != frame.selected.name:
            ui = replace(ui, deployment=frame.selected.name)
        if ui.pod_auto and frame.log_pod != ui.pod:
            ui = ui.select_pod(frame.log_pod, auto=True)
        self.ui = ui
        if self.logs is not None:
            self.logs.follow(frame.log_pod, default_container(frame.pod))
        self.frame = frame
        return frame

    def _fragments(self) -> StyleAndTextTuples:
        """What prompt_toolkit draws: the pump's latest frame when it still holds, else a fresh one."""
        pending, self._pending = self._pending, None
        size = self.app.output.get_size()
        if (
            pending is not None
            and pending[0] == size
            and pending[1] is self.ui
            and pending[2] == self.narration
        ):
            shown = pending[3]
        else:
            shown = self._render(size)
        self._shown = shown
        return shown

    async def _pump(self) -> None:
        """Fold what arrived and redraw only when the screen would change (≤ 10 times a second).

        It sleeps until a feed thread puts news in the inbox or the clock on screen turns
        to the next second, then draws — at once after a quiet spell, otherwise no sooner
        than ``FRAME_INTERVAL`` after the last frame.
        """
        loop = asyncio.get_running_loop()
        news = asyncio.Event()

        def poke() -> None:  # any thread; the item is in the inbox already
            if not news.is_set():
                with contextlib.suppress(RuntimeError):  # the loop closed: the dashboard is gone
                    loop.call_soon_threadsafe(news.set)

        self.inbox.on_put = poke
        last_second = -1
        last_draw = 0.0
        started = time.monotonic()
        try:
            while True:
                # the next second turning counts as news (the clock on screen); no wait_for:
                # on Python 3.11 it can swallow the cancellation that ends the app
                tick = loop.call_later(1.0 - self.clock() % 1.0 + 0.001, news.set)
                try:
                    await news.wait()
                finally:
                    tick.cancel()
                since = time.monotonic() - last_draw
                if since < FRAME_INTERVAL:
                    await asyncio.sleep(FRAME_INTERVAL - since)  # what comes meanwhile joins this frame
                news.clear()  # before draining: a put after this pokes again
                second = int(self.clock())
                if not self.inbox.pending and second == last_second:
                    continue
                if time.monotonic() - started < SYNC_GRACE and not self.inbox.heard.issuperset(self._kinds):
                    continue  # the first lists are still arriving: one whole frame beats three partial ones
                if getattr(self.app, "_running_in_terminal", False):  # logs/shell own the terminal
                    continue
                last_second = second
                last_draw = time.monotonic()
                size = self.app.output.get_size()
                narration = self.narration
                frame = self._render(size)  # may settle the UI state (auto-selected pod): keep the result's
                if frame != self._shown:
                    self._pending = (size, self.ui, narration, frame)
                    self.app.invalidate()
                if self._manage_gc:
                    self._settle_memory()
        finally:
            self.inbox.on_put = None

    def _settle_memory(self) -> None:
        """Freeze the objects loaded so far and turn the cyclic collector back on.

        Called after the first whole frame; frozen objects are not scanned again.
        """
        self._manage_gc = False
        gc.freeze()
        gc.enable()

    @property
    def _kinds(self) -> tuple[str, ...]:
        return self.feed.kinds if self.feed is not None else KINDS

    def _render(self, size: Size) -> StyleAndTextTuples:
        frame = self.refresh()
        ctx = ViewContext(
            frame.now,
            max(20, size.columns),
            max(10, size.rows),
            context=self.settings.context,
            narration=self.narration,
        )
        lines, self.heights = screen_lines(self._console, frame, self.ui, ctx, self.render_cache)
        self.frames += 1
        return fragments(lines)

    # -- keys ------------------------------------------------------------------------------------

    def _bindings(self) -> KeyBindings:
        kb = KeyBindings()

        @kb.add(Keys.Any)
        def _(event: KeyPressEvent) -> None:
            key = event.key_sequence[0].key
            name = _KEY_NAMES.get(key) if isinstance(key, Keys) else (key if len(key) == 1 else None)
            if name:
                self.press(name)

        return kb

    def press(self, key: str) -> None:
        """Handle one key (by name) as if typed."""
        frame = self.refresh()  # the selection as it is now, even if no frame was drawn since the last key
        page = self.heights.pod_rows if self.heights is not None else 10
        self.ui, action = handle_key(self.ui, frame, key, page=max(1, page), now=self.clock())
        self.keys += 1
        if action is not None:
            self.dispatch(action)

    def dispatch(self, action: Action) -> None:
        """Carry out an action a key asked for."""
        if action.kind == "quit":
            if self.app.is_running:
                self.app.exit(result=0)
            return
        if action.kind in ("logs", "shell"):
            command = actions.pod_command(
                list(self.settings.command), list(self.settings.global_args), action
            )
            if self.app.is_running:
                run_in_terminal(lambda: self._run_command(command), in_executor=True)
            else:
                self._run_command(command)
            return
        verb = {
            "app-rollback": "rolling back the app of",
            "undo": "undoing",
            "pause": "pausing",
            "resume": "resuming",
            "restart": "restarting",
        }
        self.ui = replace(
            self.ui,
            notice=UiNotice(
                f"{verb.get(action.kind, action.kind)} {action.deployment}…", "info", self.clock()
            ),
        )
        self._executor.submit(self._perform_and_report, action)

    def _perform_and_report(self, action: Action) -> None:
        try:
            text = self._perform(action)
            self.inbox.put(NoticeInput(text, "info", self.clock()))
        except NodeappError as exc:
            self.inbox.put(NoticeInput(exc.message, "error", self.clock()))
        except Exception as exc:  # an action must never take the dashboard down
            self.inbox.put(
                NoticeInput(f"{action.kind} failed: {type(exc).__name__}: {exc}", "error", self.clock())
            )
        self.app.invalidate()

    def _perform_with_kube(self, action: Action) -> str:
        if self.kube is None:
            raise NodeappError("not connected")
        return actions.perform(self.kube, action, user=self.settings.user, now=self.clock())

    # -- running ---------------------------------------------------------------------------------

    def run(self) -> int:
        """Show the dashboard until ``q``; the terminal is restored on the way out."""
        if self.feed is not None and not self.feed.started:
            self.feed.start()

        def ready() -> None:
            self.app.create_background_task(self._pump())
            if self._on_ready is not None:
                handle = DashboardHandle(self)
                threading.Thread(
                    target=self._on_ready, args=(handle,), name="dashboard-ready", daemon=True
                ).start()

        try:
            result = self.app.run(pre_run=ready)
        finally:
            self.close()
        return int(result or 0)

    def close(self) -> None:
        """Stop the feed and the log tail; let an action already asked for finish."""
        if self.feed is not None:
            self.feed.stop()
        if self.logs is not None:
            self.logs.stop()
        self._executor.shutdown(wait=True)  # an undo confirmed just before q still happens


class DashboardHandle:
    """What a caller of ``run_dashboard`` (the demo) may do while the dashboard runs; thread-safe."""

    def __init__(self, dashboard: Dashboard) -> None:
        self._dashboard = dashboard

    def narrate(self, text: str) -> None:
        """Show ``text`` in the footer (until the next narration; "" clears it)."""
        self._dashboard.narration = text
        self._dashboard.app.invalidate()

    def select(self, deployment: str) -> None:
        """Select a Deployment, as the arrows would."""
        dashboard = self._dashboard

        def apply() -> None:
            dashboard.ui = dashboard.ui.select_deployment(deployment)
            dashboard.app.invalidate()

        self._call(apply)

    def exit(self) -> None:
        """Close the dashboard (as ``q`` would)."""
        self._call(lambda: self._dashboard.dispatch(Action("quit")))

    @property
    def snapshot(self) -> Snapshot:
        """The latest snapshot (read-only)."""
        return self._dashboard.snapshot

    def _call(self, fn: Callable[[], Any]) -> None:
        loop = self._dashboard.app.loop
        if loop is not None and self._dashboard.app.is_running:
            loop.call_soon_threadsafe(fn)
        else:
            fn()


def _run_in_terminal(command: Sequence[str]) -> int:
    """Run our own executable in the terminal; on a failure wait for Enter so its error stays visible."""
    try:
        code = subprocess.call(list(command))
    except OSError as exc:
        print(f"error: cannot run {command[0]}: {exc}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        code = 130
    if code not in (0, 130):
        with contextlib.suppress(EOFError, KeyboardInterrupt):
            input(f"\n[exit {code}] press Enter to go back to the dashboard ")
    return code
