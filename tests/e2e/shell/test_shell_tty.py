"""``kubectl nodeapp shell`` on a real terminal (tmux): size, resize, keys, exit status, restore."""

from __future__ import annotations

import os
import shlex
import signal
from pathlib import Path

import pytest

from tests.conftest import KUBECTL

pytestmark = pytest.mark.tmux

BIN = Path(__file__).resolve().parents[3] / "bin"
NS = "production"


def plugin_env() -> dict[str, str]:
    """kubectl finds kubectl-nodeapp-shell on PATH, as after install.sh."""
    return {"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "HOME": os.environ.get("HOME", "/tmp")}


def wrapped(directory: Path, args: str) -> str:
    """A bash that saves the terminal state, runs the shell, reports its exit status, saves again."""
    d = shlex.quote(str(directory))
    script = (
        f"stty -g > {d}/before; echo $$ > {d}/pid; "
        f"{shlex.quote(KUBECTL)} nodeapp shell {args}; "
        f"echo EXIT=$?; stty -g > {d}/after; exec sleep 600"
    )
    return f"bash --norc --noprofile -c {shlex.quote(script)}"


def start_shell(tmux, directory: Path, kubeconfig: str, target: str = "", **size: int) -> None:
    """``kubectl nodeapp shell --kubeconfig … [TARGET] -n production`` in tmux, wrapped as above."""
    args = " ".join(filter(None, [f"--kubeconfig {shlex.quote(kubeconfig)}", target, f"-n {NS}"]))
    tmux.start(wrapped(directory, args), env=plugin_env(), **size)


def typed(tmux, line: str, answer: str) -> str:
    """Type ``line`` and Enter; the screen once ``answer`` shows."""
    tmux.send(line, enter=True)
    return tmux.wait_for(answer, timeout=30)


def wait_ready(tmux, tag: str = "READY") -> None:
    """The remote shell answers (whatever its prompt looks like)."""
    typed(tmux, f"echo {tag}-$((6*7))", f"{tag}-42")


def same_terminal_state(directory: Path, eventually) -> None:
    after = eventually(
        lambda: (directory / "after").exists() and (directory / "after").read_text(), timeout=15
    )
    assert after.strip() == (directory / "before").read_text().strip()


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def test_tty_size_resize_exit_status_and_restore(sandbox, tmux, tmp_path, eventually):
    start_shell(tmux, tmp_path, sandbox.kubeconfig, "deploy/trace-api-web", width=120, height=40)
    wait_ready(tmux)
    typed(tmux, "stty size", "40 120")
    tmux.resize(100, 30)
    typed(tmux, "clear; stty size", "30 100")
    typed(tmux, "exit 3", "EXIT=3")
    same_terminal_state(tmp_path, eventually)


def test_ctrl_c_and_ctrl_d_go_to_the_remote(sandbox, tmux, tmp_path, eventually):
    start_shell(tmux, tmp_path, sandbox.kubeconfig, "deploy/trace-api-web")
    wait_ready(tmux)
    typed(tmux, "sleep 300; echo SLEPT", "sleep 300; echo SLEPT")
    tmux.key("C-c")  # interrupts the remote sleep (and the list), not this program
    wait_ready(tmux, "AFTER")
    assert "SLEPT" not in tmux.capture().replace("echo SLEPT", "")
    tmux.key("C-d")  # EOF to the remote shell: it exits 0
    tmux.wait_for("EXIT=0")
    same_terminal_state(tmp_path, eventually)


def test_dropped_stream_restores_the_terminal_and_exits_1(private_sandbox, tmux, tmp_path, eventually):
    start_shell(tmux, tmp_path, private_sandbox.kubeconfig, "deploy/trace-api-web")
    wait_ready(tmux)
    assert private_sandbox.admin("POST", "faults/drop-streams")["dropped"] >= 1
    screen = tmux.wait_for("EXIT=1")
    assert "error: connection to the pod lost" in screen
    same_terminal_state(tmp_path, eventually)


def test_sigterm_restores_the_terminal(sandbox, tmux, tmp_path, eventually):
    start_shell(tmux, tmp_path, sandbox.kubeconfig, "deploy/trace-api-web")
    wait_ready(tmux)
    bash = int((tmp_path / "pid").read_text())
    (shell,) = eventually(lambda: children(bash), timeout=10)
    os.kill(shell, signal.SIGTERM)
    screen = tmux.wait_for(f"EXIT={128 + signal.SIGTERM}")
    assert "error: terminated by SIGTERM" in screen
    same_terminal_state(tmp_path, eventually)


def test_picker_on_a_terminal(sandbox, tmux, tmp_path, eventually):
    start_shell(tmux, tmp_path, sandbox.kubeconfig)
    screen = tmux.wait_for("Pick a pod in production")
    for column in ("POD", "PROCESS", "READY", "RESTARTS", "AGE", "IMAGE"):
        assert column in screen
    assert "3f9c2a1" in screen
    tmux.send("worker")
    tmux.wait_for("> trace-api-worker-")
    tmux.key("Enter")
    tmux.wait_for(":/app#")  # the pod's shell is up: what is typed before may be flushed with the picker
    typed(tmux, "echo $PROCESS_TYPE-$((1+1))", "worker-2")
    typed(tmux, "exit", "EXIT=0")
    same_terminal_state(tmp_path, eventually)


def test_picker_cancelled_with_escape_exits_130(sandbox, tmux, tmp_path, eventually):
    start_shell(tmux, tmp_path, sandbox.kubeconfig, "trace-api")
    tmux.wait_for("Pick a pod of app trace-api")
    tmux.key("Escape")
    tmux.wait_for("EXIT=130")
    same_terminal_state(tmp_path, eventually)
