"""The rollout dashboard end to end: the real screen in tmux against a private sandbox.

The dashboard runs in a terminal (tmux) on production while the real kubectl changes the
cluster from outside; what the screen shows is read with capture-pane. Rollbacks are
checked through the API, the terminal state with ``stty -g`` before and after.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import wait_until

IMAGE = "registry.sandbox.local/trace/trace-api"
# Slow enough that a three-pod rollout stays on screen for a few frames; the 120 s progress
# deadline of trace-api then passes in 24 s.
TIME_SCALE = 0.2


def start_dashboard(
    tmux: Any, handle: Any, tmp_path: Path, *args: str, width: int = 120, height: int = 40
) -> Path:
    """Open ``kubectl nodeapp rollout`` in tmux; returns the directory with the stty snapshots."""
    argv = [
        sys.executable,
        "-m",
        "kubectl_trace",
        "rollout",
        "--kubeconfig",
        handle.kubeconfig,
        "-n",
        "production",
        *args,
    ]
    script = (
        f"stty -g > {tmp_path}/stty-before; {shlex.join(argv)}; echo $? > {tmp_path}/exit-code; "
        f"stty -g > {tmp_path}/stty-after"
    )
    tmux.start(
        ["bash", "--norc", "--noprofile", "-c", script],
        width=width,
        height=height,
        env={"HOME": str(tmp_path)},
    )
    return tmp_path


def quit_and_check(tmux: Any, tmp_path: Path, eventually: Callable[..., Any]) -> None:
    """Press q; the command exits 0 and the terminal settings are as they were before."""
    tmux.send("q")
    after = tmp_path / "stty-after"
    # The shell writes stty-after last, after exit-code; a whole line means it is done.
    eventually(
        lambda: after.exists() and after.read_text().endswith("\n"),
        timeout=30,
        interval=0.05,
        message="the dashboard to quit",
    )
    assert (tmp_path / "exit-code").read_text().strip() == "0"
    before = (tmp_path / "stty-before").read_text()
    assert before.strip() and after.read_text() == before


def screens_until(tmux: Any, done: Callable[[str], bool], timeout: float) -> list[str]:
    """Every distinct screen until ``done(screen)``; fails the test on timeout."""
    seen: list[str] = []

    def arrived() -> bool:
        screen = tmux.capture()
        if not seen or seen[-1] != screen:
            seen.append(screen)
        return done(screen)

    last = "the screen to get there; the last one:\n"
    wait_until(arrived, timeout=timeout, interval=0.05, message=lambda: last + (seen[-1] if seen else ""))
    return seen


def deployment_row(screen: str, name: str) -> str:
    for line in screen.splitlines():
        if f" {name} " in line and "rev " in line:
            return line
    return ""


def web_complete_with(screen: str, tag: str) -> bool:
    """The trace-api-web row shows ``tag`` and a complete rollout."""
    row = deployment_row(screen, "trace-api-web")
    return tag in row and "Complete" in row


def web_tag(kube: Any) -> str:
    dep = kube.get("deployments", "trace-api-web", "production")
    return str(dep["spec"]["template"]["spec"]["containers"][0]["image"]).rsplit(":", 1)[-1]


def test_rollout_stall_and_undo_on_screen(sandbox_factory, kubectl_for, kube_for, tmux, tmp_path, eventually):
    handle = sandbox_factory(fixture="demo", time_scale=TIME_SCALE)
    kubectl = kubectl_for(handle)
    kube = kube_for(handle)
    start_dashboard(tmux, handle, tmp_path, "trace-api-web")
    screen = tmux.wait_for("● live", timeout=60)
    tmux.wait_for("3/3  ready 3/3", timeout=60)
    assert "trace-api-web" in deployment_row(screen, "trace-api-web")

    # a good release: the new ReplicaSet appears, progresses, completes
    kubectl("set", "image", "deploy/trace-api-web", f"web={IMAGE}:a41c9e7", "-n", "production", check=True)
    seen = screens_until(tmux, lambda s: web_complete_with(s, "a41c9e7"), timeout=90)
    assert any("new rev" in s and "a41c9e7" in s and "old rev" in s for s in seen), (
        "the new ReplicaSet never showed"
    )
    assert any("3f9c2a1 → a41c9e7" in s for s in seen)
    assert any(
        "Progressing" in deployment_row(s, "trace-api-web") and "%" in deployment_row(s, "trace-api-web")
        for s in seen
    )
    final = seen[-1]
    assert "✓ Complete" in final

    # a bad release: readiness fails with 503, the rollout stalls at its deadline
    kubectl("set", "image", "deploy/trace-api-web", f"web={IMAGE}:badc0de", "-n", "production", check=True)
    screen = tmux.wait_for("Stalled", timeout=120)
    screen = tmux.wait_for("HTTP probe failed with statuscode: 503", timeout=30)
    assert "a41c9e7 → badc0de" in screen
    assert "✗ Stalled: ProgressDeadlineExceeded" in screen
    assert "failing ×" in screen  # the pod's READINESS column
    assert "⚠ Unhealthy" in screen and "Readiness probe failed" in screen  # the Warning events

    # U, then y: this Deployment undone (client-side, as kubectl rollout undo), checked through the API
    tmux.send("U")
    screen = tmux.wait_for("Undo trace-api-web only (kubectl rollout undo)?", timeout=30)
    assert "(a41c9e7)" in screen and "(badc0de)" in screen
    tmux.send("y")
    tmux.wait_for("rolled back trace-api-web to revision", timeout=30)
    assert web_tag(kube) == "a41c9e7"
    seen = screens_until(tmux, lambda s: web_complete_with(s, "a41c9e7"), timeout=90)
    assert "badc0de" not in deployment_row(seen[-1], "trace-api-web")

    # q restores the terminal
    quit_and_check(tmux, tmp_path, eventually)


def test_reconnecting_banner_then_the_view_catches_up(
    sandbox_factory, kubectl_for, kube_for, tmux, tmp_path, eventually
):
    handle = sandbox_factory(fixture="demo", time_scale=TIME_SCALE)
    kubectl = kubectl_for(handle)
    kube = kube_for(handle)
    start_dashboard(tmux, handle, tmp_path, "trace-api-web", width=100, height=30)
    tmux.wait_for("● live", timeout=60)
    tmux.wait_for("3/3 ready 3/3", timeout=60)
    pods = sorted(
        p["metadata"]["name"] for p in kube.list("pods", "production", label_selector="process=web").items
    )
    victim = pods[0]

    # every API request fails for a while and every open stream is cut: the watches cannot resume
    handle.admin("POST", "faults/api-errors", {"rate": 1.0, "seconds": 8})
    handle.admin("POST", "faults/drop-streams")
    screen = tmux.wait_for("⟳ reconnecting", timeout=30)
    assert "◌ reconnecting" in screen and "stale" in screen
    # meanwhile the cluster changes (the kubelet does not need the API): a container is killed
    handle.admin("POST", "faults/kill", {"namespace": "production", "pod": victim})
    screen = tmux.capture()
    assert "stale" in screen  # still no news: nothing shown as current

    # the API comes back: the banner goes, the restart that happened meanwhile is there
    def caught_up(s: str) -> bool:
        row = next((line for line in s.splitlines() if victim[-5:] in line and " 1 (" in line), "")
        return "● live" in s and "reconnecting" not in s and bool(row)

    screens_until(tmux, caught_up, timeout=90)

    # a cut without errors resumes at once: a release made right after it is followed to the end
    handle.admin("POST", "faults/drop-streams")
    kubectl("set", "image", "deploy/trace-api-web", f"web={IMAGE}:a41c9e7", "-n", "production", check=True)
    screens_until(
        tmux,
        lambda s: (
            "a41c9e7" in deployment_row(s, "trace-api-web")
            and "Complete" in deployment_row(s, "trace-api-web")
        ),
        timeout=90,
    )
    quit_and_check(tmux, tmp_path, eventually)


def test_small_terminal_stays_legible(private_sandbox, tmux, tmp_path, eventually):
    start_dashboard(tmux, private_sandbox, tmp_path, width=80, height=24)
    screen = tmux.wait_for("● live", timeout=60)
    screen = tmux.wait_for("POD", timeout=30)
    lines = screen.rstrip("\n").split("\n")
    assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)
    assert lines[0].startswith(" nodeapp rollout · nodeapp-sandbox · production")
    assert "─ Deployments · 4 " in screen and "─ Pods · " in screen and "─ Events " in screen
    assert lines[-1].startswith(" ↑↓ ⏎  l logs  s shell  u rollback")
    tmux.send("?")
    tmux.wait_for("any key closes this help", timeout=30)
    tmux.send("x")

    # l: the screen gives way to `kubectl nodeapp logs POD`; Ctrl-C comes back
    tmux.send("l")
    pod = tmux.wait_for("seq=", timeout=60)  # the logs command prints the lines' fields
    assert "nodeapp rollout ·" not in pod
    tmux.key("C-c")
    tmux.wait_for("● live", timeout=30)
    # s: a shell in the pod; exit comes back
    tmux.send("s")

    def prompt() -> bool:
        lines = [line for line in tmux.capture().splitlines() if line.strip()]
        return bool(lines) and lines[-1].rstrip().endswith(("$", "#"))

    eventually(prompt, timeout=60, message="a shell prompt in the pod")
    tmux.send("echo answer=$((6*7))", enter=True)
    tmux.wait_for("answer=42", timeout=30)
    tmux.send("exit", enter=True)
    tmux.wait_for("● live", timeout=30)
    quit_and_check(tmux, tmp_path, eventually)
