"""``kubectl nodeapp sandbox up/down/status``, the process API, and the sandbox's security."""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import ssl
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_trace.sandbox.interfaces import SandboxOptions
from kubectl_trace.sandbox.process import find_sandbox, start_sandbox, state_dir_for
from tests.conftest import KUBECTL

NODEAPP = str(Path(sys.executable).with_name("kubectl-nodeapp"))


def _cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    child_env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    child_env.update(env or {})
    return subprocess.run([NODEAPP, *args], capture_output=True, text=True, timeout=timeout, env=child_env)


def _raw_get(kubeconfig: str, path: str, token: str | None) -> tuple[int, dict[str, Any]]:
    config = yaml.safe_load(Path(kubeconfig).read_text())
    cluster = config["clusters"][0]["cluster"]
    ca = base64.b64decode(cluster["certificate-authority-data"]).decode()
    host, port = cluster["server"].removeprefix("https://").rsplit(":", 1)
    conn = http.client.HTTPSConnection(
        host, int(port), context=ssl.create_default_context(cadata=ca), timeout=10
    )
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = json.loads(response.read() or b"{}")
    conn.close()
    return response.status, body


def test_up_status_down_round_trip(tmp_path: Path) -> None:
    kubeconfig = str(tmp_path / "sandbox.kubeconfig")
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home)}
    up = _cli(
        "sandbox",
        "up",
        "--kubeconfig",
        kubeconfig,
        "--time-scale",
        "0.1",
        "--fixture",
        "empty",
        "--exit-with-parent",
        str(os.getpid()),
        env=env,
    )
    try:
        assert up.returncode == 0, up.stderr
        assert up.stdout == f"export KUBECONFIG={kubeconfig}\n"
        assert "sandbox running at https://127.0.0.1:" in up.stderr
        assert stat.S_IMODE(os.stat(kubeconfig).st_mode) == 0o600
        config = yaml.safe_load(Path(kubeconfig).read_text())
        assert config["current-context"] == "nodeapp-sandbox"
        context = config["contexts"][0]["context"]
        assert context["namespace"] == "default"
        assert config["clusters"][0]["cluster"]["server"].startswith("https://127.0.0.1:")
        assert not (home / ".kube").exists()  # never touches ~/.kube/config
        again = _cli("sandbox", "up", "--kubeconfig", kubeconfig, env=env)
        assert again.returncode == 1 and "a sandbox already runs for" in again.stderr
        status = _cli("sandbox", "status", env={**env, "KUBECONFIG": kubeconfig})
        assert status.returncode == 0 and "server:     https://127.0.0.1:" in status.stdout
        data = json.loads(_cli("sandbox", "status", "-o", "json", "--kubeconfig", kubeconfig, env=env).stdout)
        assert data["objects"]["namespaces"] >= 1 and data["options"]["fixture"] == "empty"
        get = subprocess.run(
            [KUBECTL, "--kubeconfig", kubeconfig, "--cache-dir", str(tmp_path / "c"), "get", "ns"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert get.returncode == 0 and "default" in get.stdout
    finally:
        down = _cli("sandbox", "down", "--kubeconfig", kubeconfig, env=env)
    assert down.returncode == 0, down.stderr
    assert not os.path.exists(kubeconfig) and not os.path.exists(state_dir_for(kubeconfig))
    after = _cli("sandbox", "status", "--kubeconfig", kubeconfig, env=env)
    assert after.returncode == 1 and "no sandbox is running for" in after.stderr


def test_two_sandboxes_at_once(sandbox_factory: Any, kubectl_for: Any) -> None:
    first, second = sandbox_factory(), sandbox_factory()
    assert first.port != second.port
    kubectl_for(first)("create", "namespace", "only-in-first", check=True)
    assert "only-in-first" in kubectl_for(first)("get", "ns", check=True).stdout
    assert "only-in-first" not in kubectl_for(second)("get", "ns", check=True).stdout
    assert find_sandbox(first.kubeconfig) is not None and find_sandbox(second.kubeconfig) is not None


def test_exits_with_its_parent(tmp_path: Path, eventually: Any) -> None:
    kubeconfig = str(tmp_path / "kc")
    parent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        handle = start_sandbox(
            kubeconfig, SandboxOptions(fixture="empty", time_scale=0.1), exit_with_parent=parent.pid
        )
        assert handle.answers()
        parent.kill()
        parent.wait(10)
        eventually(lambda: not handle.alive(), timeout=20, message="the sandbox to exit with its parent")
        assert not os.path.exists(kubeconfig)  # it cleaned up after itself
    finally:
        parent.kill()
        handle_dir = state_dir_for(kubeconfig)
        if find_sandbox(kubeconfig) is not None:
            find_sandbox(kubeconfig).stop()  # type: ignore[union-attr]
        assert not os.path.exists(os.path.join(handle_dir, "state.json"))


def test_foreground_runs_until_interrupted(tmp_path: Path) -> None:
    kubeconfig = str(tmp_path / "kc")
    proc = subprocess.Popen(
        [
            NODEAPP,
            "sandbox",
            "up",
            "--foreground",
            "--fixture",
            "empty",
            "--kubeconfig",
            kubeconfig,
            "--exit-with-parent",
            str(os.getpid()),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == f"export KUBECONFIG={kubeconfig}\n"
        handle = find_sandbox(kubeconfig)
        assert handle is not None and handle.answers()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0
        assert not os.path.exists(kubeconfig)
    finally:
        proc.kill()
        proc.wait(10)


def _kubectl_with(config: dict[str, Any], path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real kubectl ARGS… with ``config`` written to ``path`` as its kubeconfig."""
    path.write_text(yaml.safe_dump(config))
    cache = path.parent / "c"
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(path), "--cache-dir", str(cache), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_request_without_token_gets_401(sandbox: Any, tmp_path: Path) -> None:
    status, body = _raw_get(sandbox.kubeconfig, "/api/v1/namespaces", None)
    assert status == 401
    assert body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Unauthorized",
        "reason": "Unauthorized",
        "code": 401,
    }
    assert _raw_get(sandbox.kubeconfig, "/version", "wrong-token")[0] == 401
    assert _raw_get(sandbox.kubeconfig, "/sandbox/v1/status", "x")[0] == 401
    config = yaml.safe_load(Path(sandbox.kubeconfig).read_text())
    token = config["users"][0]["user"]["token"]
    assert _raw_get(sandbox.kubeconfig, "/version", token)[0] == 200
    wrong = dict(config)
    wrong["users"] = [{"name": "nodeapp-sandbox", "user": {"token": "not-the-token"}}]
    result = _kubectl_with(wrong, tmp_path / "wrong-token.kubeconfig", "get", "pods")
    assert result.returncode == 1
    assert "You must be logged in to the server" in result.stderr


def test_server_certificate_is_verified(sandbox: Any, tmp_path: Path) -> None:
    config = yaml.safe_load(Path(sandbox.kubeconfig).read_text())
    config["clusters"][0]["cluster"].pop("certificate-authority-data")
    result = _kubectl_with(config, tmp_path / "no-ca.kubeconfig", "get", "ns")
    assert result.returncode == 1 and "certificate" in result.stderr


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "example.com"])
def test_refuses_to_bind_anything_but_loopback(tmp_path: Path, host: str) -> None:
    from kubectl_trace.errors import NodeappError

    kubeconfig = str(tmp_path / "kc")
    result = subprocess.run(
        [sys.executable, "-m", "kubectl_trace.sandbox", "--kubeconfig", kubeconfig, "--host", host],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "the sandbox listens on loopback only" in result.stderr
    assert not os.path.exists(kubeconfig)
    with pytest.raises(NodeappError, match="loopback only"):
        start_sandbox(kubeconfig, SandboxOptions(host=host))


@pytest.mark.parametrize("where", [[], ["--foreground"]], ids=["background", "foreground"])
def test_refuses_to_overwrite_a_foreign_kubeconfig(tmp_path: Path, where: list[str]) -> None:
    precious = tmp_path / "config"
    text = "apiVersion: v1\nkind: Config\ncontexts:\n- name: prod\n  context: {cluster: prod}\n"
    precious.write_text(text)
    result = _cli("sandbox", "up", *where, "--kubeconfig", str(precious))
    assert result.returncode == 1
    assert "is not a sandbox kubeconfig; refusing to overwrite it" in result.stderr
    assert precious.read_text() == text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sandbox", "up"], "sandbox up needs --kubeconfig FILE"),
        (["sandbox", "launch", "--kubeconfig", "x"], "unknown sandbox action 'launch'"),
        (
            ["sandbox", "fault", "api-errors", "--kubeconfig", "x", "--rate", "2", "--seconds", "1"],
            "--rate R between 0 and 1",
        ),
        (["sandbox", "image", "mark", "abc", "--kubeconfig", "x"], "needs --fault"),
        (["sandbox", "fault", "kill", "--kubeconfig", "x"], "needs exactly one POD"),
        (["sandbox", "up", "--kubeconfig", "x", "--time-scale", "0"], "--time-scale must be greater than 0"),
    ],
)
def test_usage_errors(args: list[str], message: str, invoke: Any) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.stderr and result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr
