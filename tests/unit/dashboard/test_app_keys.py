"""The prompt_toolkit application driven by real key presses (pipe input, DummyOutput).

No cluster: the test puts watch inputs in the dashboard's inbox itself and records the
actions the keys ask for (API calls and subprocesses are the e2e tests' business).
"""

import threading

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from kubectl_trace.dashboard.app import Dashboard, DashboardSettings
from kubectl_trace.dashboard.state import WatchInput
from kubectl_trace.dashboard.ui import Action
from tests.factories.rollout import NOW, NS, stalled_story

FAILING = "trace-api-web-6f7c9d8b4-p9w2m"
UP, DOWN, ENTER, ESC = "\x1b[A", "\x1b[B", "\r", "\x1b"


class Recorder:
    def __init__(self) -> None:
        self.actions: list[Action] = []
        self.commands: list[list[str]] = []
        self.done = threading.Event()

    def perform(self, action: Action) -> str:
        self.actions.append(action)
        self.done.set()
        return f"did {action.kind}"

    def run_command(self, argv: list[str]) -> int:
        self.commands.append(argv)
        return 0


def run(
    keys: list[str], recorder: Recorder, deployment: str | None = None, timeout: float = 20.0
) -> tuple[int, Dashboard]:
    """Start the app, type ``keys`` (each chunk after the previous one was handled), return its result."""
    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        settings = DashboardSettings(
            namespace=NS,
            context="nodeapp-sandbox",
            deployment=deployment,
            color=False,
            command=("kubectl-nodeapp",),
            global_args=("--kubeconfig", "/tmp/kc"),
        )
        dashboard = Dashboard(
            None,
            settings,
            clock=lambda: NOW,
            input=pipe,
            output=DummyOutput(),
            perform=recorder.perform,
            run_command=recorder.run_command,
        )
        for kind, items in stalled_story().items():
            dashboard.inbox.put(WatchInput(kind, "RESET", NOW, items=tuple(items)))
        result: dict[str, int] = {}
        errors: list[BaseException] = []

        def main() -> None:
            try:
                result["code"] = dashboard.run()
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        thread = threading.Thread(target=main, daemon=True)
        thread.start()
        pause = threading.Event()
        for chunk in keys:
            before = dashboard.keys
            pipe.send_text(chunk)
            for _ in range(int(timeout / 0.02)):  # one key at a time: Escape must not merge with the next
                if not thread.is_alive() or dashboard.keys > before:
                    break
                pause.wait(0.02)
        thread.join(timeout)
        assert not thread.is_alive(), "the dashboard did not quit"
        if errors:
            raise errors[0]
        return result["code"], dashboard


def test_q_quits_with_status_0():
    code, dashboard = run(["q"], Recorder())
    assert code == 0
    assert dashboard.ui.deployment == "trace-api-web" and dashboard.ui.pod == FAILING


def test_arrows_enter_and_escape_move_the_selection():
    code, dashboard = run([DOWN, DOWN, UP, ENTER, DOWN, DOWN, ESC, "q"], Recorder())
    assert code == 0
    assert dashboard.ui.deployment == "trace-api-worker"
    assert dashboard.ui.focus == "deployments"
    assert dashboard.ui.pod == "trace-api-worker-77f5c8d9b-w3z4a" and not dashboard.ui.pod_auto


def test_u_then_y_asks_for_the_rollback():
    recorder = Recorder()
    code, dashboard = run(["U", "y", "q"], recorder)
    assert code == 0  # q right after y: the rollback still happens before the dashboard closes
    assert recorder.actions == [Action("undo", NS, "trace-api-web", revision=4)]
    # the outcome comes back as a notice through the inbox, shown in the footer
    dashboard.refresh()
    assert dashboard.snapshot.notice is not None and dashboard.snapshot.notice.text == "did undo"


def test_u_then_n_does_nothing():
    recorder = Recorder()
    code, dashboard = run(["U", "n", "q"], recorder)
    assert code == 0 and recorder.actions == []
    assert dashboard.ui.notice is not None and dashboard.ui.notice.text == "cancelled"


def test_l_and_s_run_our_own_executable_with_an_argument_list():
    recorder = Recorder()
    code, _ = run(["l", "s", "q"], recorder)
    assert code == 0
    assert recorder.commands == [
        ["kubectl-nodeapp", "logs", FAILING, "-n", NS, "--kubeconfig", "/tmp/kc"],
        ["kubectl-nodeapp", "shell", FAILING, "-n", NS, "--kubeconfig", "/tmp/kc"],
    ]


def test_filter_help_and_restart_confirmation():
    recorder = Recorder()
    code, dashboard = run(
        ["/", "k", "3", "j", ENTER, "?", "x", "r", "y", "q"], recorder, deployment="trace-api-web"
    )
    assert code == 0
    assert dashboard.ui.filter == "k3j" and not dashboard.ui.help
    assert recorder.actions == [Action("restart", NS, "trace-api-web")]


@pytest.mark.parametrize("key", ["\x03", "q"])  # Ctrl-C quits as q does
def test_ctrl_c_quits(key):
    code, _ = run([key], Recorder())
    assert code == 0


def test_run_dashboard_handle_narrates_selects_and_exits():
    """What ``kubectl nodeapp demo`` uses: on_ready gets a handle that drives the open dashboard."""
    seen: dict[str, object] = {}

    def on_ready(handle) -> None:
        handle.select("trace-ui")
        handle.narrate("a bad release: readiness fails, the rollout stalls")
        deadline = threading.Event()
        for _ in range(200):  # until a frame with the narration was drawn
            if dashboard.frames >= 2 and dashboard.narration:
                break
            deadline.wait(0.02)
        seen["synced"] = handle.snapshot.synced
        handle.exit()

    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        dashboard = Dashboard(
            None,
            DashboardSettings(namespace=NS, color=False),
            clock=lambda: NOW,
            input=pipe,
            output=DummyOutput(),
            on_ready=on_ready,
        )
        for kind, items in stalled_story().items():
            dashboard.inbox.put(WatchInput(kind, "RESET", NOW, items=tuple(items)))
        code = dashboard.run()
        text = "".join(fragment[1] for fragment in dashboard._fragments())
    assert code == 0 and seen["synced"] is True
    assert dashboard.ui.deployment == "trace-ui"
    assert text.rstrip().endswith("▸ a bad release: readiness fails, the rollout stalls")


@pytest.mark.timeout(30)
@pytest.mark.parametrize("attempt", range(5))
def test_exit_while_news_keeps_arriving(attempt):
    """The pump is cancelled when the app ends, even while feed threads keep waking it.

    (``asyncio.wait_for`` on Python 3.11 can swallow that cancellation when the awaited
    event is set at the same moment — cpython#86296 — and the dashboard then never exits.)
    """
    import time

    stop = threading.Event()

    def on_ready(handle) -> None:
        time.sleep(0.3)  # a few frames with news arriving all the time
        handle.exit()

    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        dashboard = Dashboard(
            None,
            DashboardSettings(namespace=NS, color=False),
            clock=time.time,
            input=pipe,
            output=DummyOutput(),
            on_ready=on_ready,
        )
        for kind, items in stalled_story().items():
            dashboard.inbox.put(WatchInput(kind, "RESET", NOW, items=tuple(items)))

        def chatter() -> None:  # a busy watch: puts as fast as it can
            while not stop.is_set():
                dashboard.inbox.put(WatchInput("events", "BOOKMARK", NOW))
                time.sleep(0.0005)

        noise = threading.Thread(target=chatter, daemon=True)
        noise.start()
        try:
            assert dashboard.run() == 0  # a swallowed cancellation hangs here (the timeout fails it)
        finally:
            stop.set()
            noise.join(timeout=2)
