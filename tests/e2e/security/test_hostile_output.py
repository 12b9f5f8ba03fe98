"""Hostile cluster content never reaches a terminal raw, through every human output.

One namespace holds an app whose container prints the hostile corpus (the sandbox's
``SANDBOX_LOG_ECHO``: the real log path), whose env values, change-cause annotation and
an Event on it carry the same strings; each command then writes to a (pretend) terminal
with colour on, and its output must hold no control character but ours.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC
from typing import Any

import pytest

from tests.e2e.status.helpers import REPO, own_namespace
from tests.factories import deployment_manifest, process_container
from tests.hostile import (
    CORPUS,
    INVALID_UTF8,
    assert_marks_shown,
    assert_terminal_safe,
    hostile_lines,
    run_on_tty,
)

APP = "hostile"
DEPLOYMENT = f"{APP}-web"
CLIP = CORPUS["osc52-clipboard"]
# A structured line: an escape decoded from JSON in the message, a field value and a key.
JSON_LINE = json.dumps(
    {"severity": "ERROR", "message": f"json {CLIP} msg", "path": "/\x1b[2J\u009b", "k\x1bey": 1}
)


LONG_LINE = "long " + "z" * 10_240
# a process type that only env PROCESS_TYPE names (no process label): shown by history and scale
PROCESS_TYPES = {"extra": f"extra{CORPUS['osc0-title']}"}


def _deployment(
    namespace: str, process: str = "web", image: str = f"{REPO}:3f9c2a1", echo: list[str] | None = None
) -> dict[str, Any]:
    labels = {"app": APP, "process": process} if process in ("web", "worker", "clock") else {"app": APP}
    echoed = "\n".join([*hostile_lines(), JSON_LINE, LONG_LINE] if echo is None else echo)
    container = process_container(
        process,
        image=image,
        env=[
            {"name": "PROCESS_TYPE", "value": PROCESS_TYPES.get(process, process)},
            {"name": "GREETING", "value": f"hi {CLIP} {CORPUS['c1-csi']}"},
            {"name": "SANDBOX_LOG_ECHO", "value": echoed},
            {"name": "SANDBOX_LOG_ECHO_B64", "value": base64.b64encode(INVALID_UTF8).decode()},
        ],
    )
    change_cause = f"deploy {CLIP} {CORPUS['csi-clear']}"
    return deployment_manifest(
        f"{APP}-{process}",
        namespace,
        labels,
        [container],
        annotations={"kubernetes.io/change-cause": change_cause},
    )


def _event(namespace: str, message: str) -> dict[str, Any]:
    from datetime import datetime

    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "metadata": {"name": f"{DEPLOYMENT}.hostile", "namespace": namespace},
        "involvedObject": {"kind": "Deployment", "namespace": namespace, "name": DEPLOYMENT},
        "reason": "Hostile\x1b]0;title\x07",
        "message": message,
        "type": "Warning",
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
        "source": {"component": "e2e-test"},
    }


@pytest.fixture(scope="module")
def hostile_ns(sandbox: Any) -> Any:
    """The namespace of the hostile app and its Event (created once for the module)."""
    from kubectl_trace.kube.client import connect
    from kubectl_trace.kube.settings import KubeSettings

    kube = connect(KubeSettings(kubeconfig=sandbox.kubeconfig))
    namespace = own_namespace(kube, "hostile")
    kube.create("deployments", _deployment(namespace), namespace)
    # a crash loop whose excerpt is hostile, and an image name that is
    last_words = [f"Error: {CLIP}", CORPUS["csi-clear"], CORPUS["c1-csi"], "    at main (/app/x.js:1:1)"]
    kube.create("deployments", _deployment(namespace, "worker", f"{REPO}:c0ffee1", last_words), namespace)
    kube.create("deployments", _deployment(namespace, "clock", f"{REPO}:{CLIP}"), namespace)
    kube.create("deployments", _deployment(namespace, "extra"), namespace)
    message = "\n".join(hostile_lines()) + "\nlong " + "y" * 10_240
    kube.create("events", _event(namespace, message), namespace)
    yield namespace
    kube.delete("namespaces", namespace)
    kube.close()


def _printed(kube: Any, namespace: str) -> bool:
    from kubectl_trace.kube.errors import ApiError
    from kubectl_trace.kube.queries import LogQuery

    pods = kube.list("pods", namespace).items
    for pod in pods:
        try:
            stream = kube.pod_log(namespace, pod["metadata"]["name"], LogQuery("web"))
        except ApiError:  # not started yet
            continue
        try:
            if b"bad-bytes" in b"".join(stream.chunks()):
                return True
        finally:
            stream.close()
    return False


@pytest.fixture
def hostile(hostile_ns: str, kube: Any, eventually: Any) -> str:
    """The namespace, once the hostile pod has printed the corpus."""
    eventually(lambda: _printed(kube, hostile_ns), timeout=60, message="the hostile pod printed its lines")
    return hostile_ns


def _logs(sandbox: Any, namespace: str, *args: str, tty: bool = True) -> Any:
    return run_on_tty(
        "logs",
        f"deploy/{DEPLOYMENT}",
        "-n",
        namespace,
        "--no-follow",
        *args,
        kubeconfig=sandbox.kubeconfig,
        tty=tty,
    )


def test_logs_pretty_on_a_terminal_shows_every_hostile_line_visibly(sandbox, hostile):
    run = _logs(sandbox, hostile)
    assert run.exit_code == 0, run.stderr
    assert_terminal_safe(run.stdout, colors=True)
    assert_marks_shown(run.stdout)
    assert "\ufffd" in run.stdout  # invalid UTF-8
    assert "json ^[]52;c;" in run.stdout and "k^[ey" in run.stdout  # decoded from JSON, shown
    assert "…[line cut: 10245 bytes]" in run.stdout  # the 10 KB line, cut for the terminal
    assert max(len(line) for line in run.stdout.splitlines()) < 4096 + 200
    assert "\x1b[" in run.stdout  # our colours are still there


def test_logs_raw_is_safe_on_a_terminal_and_byte_exact_into_a_pipe(sandbox, hostile):
    shown = _logs(sandbox, hostile, "-o", "raw")
    assert shown.exit_code == 0, shown.stderr
    assert_terminal_safe(shown.stdout)
    assert_marks_shown(shown.stdout)
    for args, tty in ((("-o", "raw"), False), (("-o", "raw", "--raw-bytes"), True)):
        exact = _logs(sandbox, hostile, *args, tty=tty)
        assert exact.exit_code == 0, exact.stderr
        assert CLIP.encode() in exact.raw and INVALID_UTF8 in exact.raw, args
        assert "\x9b2J after-c1".encode() in exact.raw


def test_logs_json_escapes_every_control_and_keeps_values_whole(sandbox, hostile):
    run = _logs(sandbox, hostile, "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert_terminal_safe(run.stdout)
    records = [json.loads(line) for line in run.stdout.splitlines()]
    raws = {r["raw"] for r in records}
    for line in hostile_lines():
        assert line in raws, line
    assert LONG_LINE in raws  # whole in JSON
    structured = next(r for r in records if r["raw"] == JSON_LINE)
    assert structured["message"] == f"json {CLIP} msg"
    assert structured["fields"]["k\x1bey"] == 1


def test_events_show_a_hostile_message_visibly_and_cut_a_long_one(sandbox, hostile):
    run = run_on_tty("events", f"deploy/{DEPLOYMENT}", "-n", hostile, kubeconfig=sandbox.kubeconfig)
    assert run.exit_code == 0, run.stderr
    assert_terminal_safe(run.stdout, colors=True)
    assert_marks_shown(run.stdout)
    assert "line cut: 10245 bytes" in run.stdout
    whole = run_on_tty(
        "events", f"deploy/{DEPLOYMENT}", "-n", hostile, "-o", "json", kubeconfig=sandbox.kubeconfig
    )
    assert_terminal_safe(whole.stdout)
    assert any("y" * 10_240 in json.loads(line)["message"] for line in whole.stdout.splitlines())


CLIP_SHOWN = "^[]52;c;ZXZlbnQtY2xpcA=="


def test_status_shows_a_hostile_crash_excerpt_and_image_name_visibly(sandbox, hostile, eventually):
    def shown():
        run = run_on_tty("status", APP, "-n", hostile, kubeconfig=sandbox.kubeconfig)
        assert_terminal_safe(run.stdout, colors=True)
        assert_terminal_safe(run.stderr, colors=True)
        text = run.stdout + run.stderr
        return text if text.count(CLIP_SHOWN) >= 2 and "^[[2J" in text else None

    text = eventually(shown, timeout=60, message="status shows the crash excerpt and the image name")
    assert "<9b>2J" in text


def test_history_env_and_rollout_once_show_hostile_text_visibly(sandbox, hostile):
    for argv in (
        ("history", APP, "-n", hostile),
        ("env", APP, "-n", hostile),
        ("rollout", DEPLOYMENT, "-n", hostile, "--once"),
        ("scale", APP, "-n", hostile),
    ):
        run = run_on_tty(*argv, kubeconfig=sandbox.kubeconfig)
        assert_terminal_safe(run.stdout, colors=True)
        assert_terminal_safe(run.stderr, colors=True)
        shown = run.stdout + run.stderr
        assert CLIP_SHOWN in shown or "extra^[]0;pwned-title^G" in shown, (argv, run.stdout, run.stderr)
        if argv[0] in ("history", "scale"):
            assert "extra^[]0;pwned-title^G" in shown, shown


def test_in_a_real_terminal_nothing_reaches_the_clipboard_or_the_title(sandbox, hostile, tmux, tmp_path):
    """tmux with clipboard passing on: logs, events, the dashboard and the shell picker."""
    import shlex
    import sys

    base = [sys.executable, "-m", "kubectl_trace"]
    where = ["--kubeconfig", sandbox.kubeconfig, "-n", hostile]
    batch = " ; ".join(
        shlex.join([*base, *argv, *where])
        for argv in (
            ["logs", f"deploy/{DEPLOYMENT}", "--no-follow"],
            ["logs", f"deploy/{DEPLOYMENT}", "--no-follow", "-o", "raw"],
            ["events", f"deploy/{DEPLOYMENT}"],
        )
    )
    tmux.start("cat", width=80, height=10)  # an idle session: the server, to set options on
    tmux._tmux("set-option", "-g", "set-clipboard", "on")
    tmux._tmux("set-option", "-g", "allow-rename", "on")
    tmux.start(["bash", "--norc", "--noprofile", "-c", f"{batch}; echo BATCH-DONE"], width=200, height=60)
    tmux.wait_for("BATCH-DONE", timeout=60)
    # the dashboard, then the picker (three pods in every state: the clock's tag is hostile)
    tmux.start(shlex.join([*base, "rollout", *where]), width=200, height=50)
    screen = tmux.wait_for(CLIP_SHOWN, timeout=60)
    assert "hostile-clock" in screen
    tmux.send("q")
    tmux.start(shlex.join([*base, "shell", APP, "--any", *where]), width=200, height=30)
    screen = tmux.wait_for(CLIP_SHOWN, timeout=60)
    assert "hostile-clock" in screen
    tmux.key("Escape")
    buffers = tmux._tmux("list-buffers", check=False).stdout
    assert buffers.strip() == "", f"the clipboard was written: {buffers}"
    titles = tmux._tmux("list-panes", "-a", "-F", "#{pane_title}").stdout
    assert "pwned" not in titles, titles


def test_rollout_until_complete_shows_a_hostile_image_visibly(sandbox, hostile):
    run = run_on_tty(
        "rollout",
        "--until-complete",
        f"{APP}-clock",
        "--timeout",
        "3s",
        "-n",
        hostile,
        kubeconfig=sandbox.kubeconfig,
    )
    assert run.exit_code == 1  # the image cannot be pulled: the rollout does not complete
    assert_terminal_safe(run.stdout)
    assert_terminal_safe(run.stderr)
    assert CLIP_SHOWN in run.stdout + run.stderr
