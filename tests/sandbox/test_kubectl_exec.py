"""``kubectl exec`` over WebSocket v5: streams, exit codes, stdin, TTY in tmux (real kubectl)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.harness import InProcessServer, LineReader


@pytest.fixture
def pod(server: InProcessServer) -> str:
    server.add_pod("web-1", containers=("app", "side"))
    return "web-1"


def test_both_streams_and_exit_code(pod: str, skubectl: Any) -> None:
    result = skubectl("exec", pod, "-c", "app", "--", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert result.returncode == 3
    assert result.stdout == "out\n"
    assert result.stderr == "err\ncommand terminated with exit code 3\n"


def test_success_runs_in_the_pod_directory_with_its_environment(
    server: InProcessServer, pod: str, skubectl: Any
) -> None:
    result = skubectl(
        "exec", pod, "-c", "side", "--", "sh", "-c", 'pwd; echo "$GREETING/$POD_CONTAINER"', check=True
    )
    cwd, env_line = result.stdout.splitlines()
    assert cwd == os.path.join(server.runtime.scratch, "default", pod)
    assert env_line == "hello from the pod/side"


def test_stdin_is_forwarded_and_closed(pod: str, skubectl: Any) -> None:
    result = skubectl("exec", "-i", pod, "-c", "app", "--", "cat", input="hello\n")
    assert (result.returncode, result.stdout) == (0, "hello\n")
    lines = "".join(f"{i}\n" for i in range(5000))
    counted = skubectl("exec", "-i", pod, "-c", "app", "--", "wc", "-l", input=lines, check=True)
    assert counted.stdout.strip() == "5000"


def test_program_missing_from_the_image_path(server: InProcessServer, pod: str, skubectl: Any) -> None:
    server.runtime.path = "/nonexistent/bin"
    result = skubectl("exec", pod, "-c", "app", "--", "bash", "-c", "echo hi")
    assert result.returncode == 1
    assert re.fullmatch(
        r"error: Internal error occurred: error executing command in container: failed to exec in container: "
        r'failed to start exec "[0-9a-f]+": OCI runtime exec failed: exec failed: unable to start container '
        r'process: exec: "bash": executable file not found in \$PATH: unknown\n',
        result.stderr,
    )


def test_validation_errors(server: InProcessServer, pod: str, skubectl: Any) -> None:
    missing = skubectl("exec", "nope", "--", "true")
    assert missing.returncode == 1 and 'pods "nope" not found' in missing.stderr
    server.add_pod("done-1", phase="Succeeded")
    done = skubectl("exec", "done-1", "--", "true")
    assert done.returncode == 1
    assert "cannot exec into a container in a completed pod; current phase is Succeeded" in done.stderr


def test_spdy_fallback_gets_a_clear_status(pod: str, skubectl: Any) -> None:
    result = skubectl(
        "exec", pod, "-c", "app", "--", "true", env={"KUBECTL_REMOTE_COMMAND_WEBSOCKETS": "false"}
    )
    assert result.returncode == 1
    assert "unable to upgrade connection" in result.stderr
    assert "exec over WebSocket only" in result.stderr


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_processes_are_killed_when_the_client_goes_away(
    server: InProcessServer, pod: str, skubectl: Any, eventually: Any
) -> None:
    directory = Path(server.runtime.scratch, "default", pod)
    # a background job in a process group of its own, as a job-control shell makes them
    job_cmd = "import os, time; os.setpgid(0, 0); time.sleep(300)"
    script = f"python3 -c '{job_cmd}' & echo $! > job; echo $$ > shell; sleep 0.5; echo started; wait"
    proc = subprocess.Popen(
        [*skubectl.argv_prefix, "exec", pod, "-c", "app", "--", "sh", "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out = LineReader(proc.stdout)
    out.wait_for(lambda line: line == "started")
    shell, job = int((directory / "shell").read_text()), int((directory / "job").read_text())
    assert os.getpgid(job) != os.getpgid(shell)
    proc.kill()
    proc.wait(10)
    eventually(lambda: _gone(shell), timeout=15, message=f"exec process {shell} to end with its client")
    eventually(lambda: _gone(job), timeout=15, message=f"background job {job} to end with its client")
    eventually(
        lambda: server.call(lambda: len(server.api.exec_sessions)) == 0,
        timeout=15,
        message="no exec sessions",
    )


@pytest.mark.tmux
def test_interactive_tty_in_tmux(pod: str, skubectl: Any, tmux: Any) -> None:
    tmux.start([*skubectl.argv_prefix, "exec", "-it", pod, "-c", "app", "--", "sh"], width=100, height=30)
    tmux.wait_for("pod$")
    tmux.send("stty size; tty", enter=True)
    tmux.wait_for("30 100")
    screen = tmux.wait_for("/dev/pts/")
    assert re.search(r"^/dev/pts/\d+", screen, re.M)
    assert "job control" not in screen
    tmux.resize(120, 40)
    tmux.send("clear; stty size", enter=True)
    tmux.wait_for("40 120")
    tmux.send("echo $TERM-$((6*7))", enter=True)
    tmux.wait_for("xterm-42")
    tmux.send("exit 4", enter=True)
    tmux.wait_for("command terminated with exit code 4")


def _ws_connect(server: InProcessServer, query: str, protocol: str) -> Any:
    import base64
    import ssl

    import websocket
    import yaml

    config = yaml.safe_load(Path(server.kubeconfig).read_text())
    ca = base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"]).decode()
    context = ssl.create_default_context(cadata=ca)
    return websocket.create_connection(
        f"wss://127.0.0.1:{server.port}/api/v1/namespaces/default/pods/web-1/exec?{query}",
        header=[f"Authorization: Bearer {server.token}"],
        subprotocols=[protocol],
        sslopt={"context": context},
        timeout=20,
    )


def _frames(ws: Any) -> dict[int, bytes]:
    import websocket

    received: dict[int, bytes] = {}
    while True:
        try:
            opcode, data = ws.recv_data(control_frame=True)
        except websocket.WebSocketConnectionClosedException:
            break
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            break
        if opcode == websocket.ABNF.OPCODE_TEXT:
            raise AssertionError("the server sent a text frame")
        if opcode == websocket.ABNF.OPCODE_BINARY and data:
            received[data[0]] = received.get(data[0], b"") + data[1:]
    return received


def test_v4_channel_protocol_and_ping(pod: str, server: InProcessServer) -> None:
    import json

    import websocket

    ws = _ws_connect(
        server,
        "container=app&command=sh&command=-c&command=read+x%3B+echo+got+%24x%3B+exit+7&stdin=true&stdout=true",
        "v4.channel.k8s.io",
    )
    assert ws.subprotocol == "v4.channel.k8s.io"
    ws.ping(b"hi")
    opcode, data = ws.recv_data(control_frame=True)
    assert (opcode, data) == (websocket.ABNF.OPCODE_PONG, b"hi")
    ws.send("\x00line\n")  # a text frame from the client (the Python client sends these)
    frames = _frames(ws)
    assert frames[1] == b"got line\n"
    status = json.loads(frames[3])
    assert status["reason"] == "NonZeroExitCode"
    assert status["details"]["causes"][0] == {"reason": "ExitCode", "message": "7"}


def test_unknown_subprotocol_is_refused(pod: str, server: InProcessServer) -> None:
    import websocket

    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        _ws_connect(server, "container=app&command=true&stdout=true", "base64.channel.k8s.io")
    assert refused.value.status_code == 400
