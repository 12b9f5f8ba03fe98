"""``forward`` and ``inspect`` against a sandbox whose containers run real Node.js (the Done-when).

One sandbox for the module: the demo fixture with ``containers="node"`` (PID 1 of every pod
is the shipped Node.js app), driven by the real commands as processes; the rollout by the
real kubectl.
"""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubectl_trace.kube.errors import KubeError
from kubectl_trace.kube.forwarder import Forwarder
from kubectl_trace.kube.portforward import PortRefused
from kubectl_trace.sandbox.nodejs import find_node
from kubectl_trace.sandbox.process import SandboxHandle
from tests.conftest import _kubectl_runner, _start
from tests.e2e.debug.tools import Running
from tests.e2e.pods import live_pods

pytestmark = pytest.mark.skipif(find_node() is None, reason="no Node.js >= 18 (install the dev extra)")
NS = "production"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxHandle, Any]]:
    handle = _start(tmp_path_factory.mktemp("node-sandbox"), fixture="demo", containers="node")
    try:
        run = _kubectl_runner(handle, tmp_path_factory.mktemp("kubectl-cache"))
        run(
            "wait",
            "-n",
            NS,
            "--for=condition=Ready",
            "pod",
            "-l",
            "app=trace-api,process=web",
            "--timeout=90s",
            check=True,
        )
        yield handle, run
    finally:
        handle.stop()


def inspect(invoke: Any, handle: SandboxHandle, *args: str) -> Any:
    """``kubectl nodeapp inspect trace-api ARGS… -n production`` in process, against ``handle``."""
    return invoke("inspect", "trace-api", *args, "-n", NS, kubeconfig=handle.kubeconfig)


def _get(port: int, path: str) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request("GET", path)
        answer = conn.getresponse()
        return answer.status, json.loads(answer.read())
    finally:
        conn.close()


def _answers(port: int, path: str) -> bool:
    try:
        return _get(port, path)[0] == 200
    except (OSError, http.client.HTTPException, ValueError):
        return False


def test_forward_reaches_the_real_app_and_survives_a_rollout(cluster: Any, eventually: Any) -> None:
    handle, run = cluster
    running = Running(["forward", "trace-api", "0:3000", "-n", NS, "--kubeconfig", handle.kubeconfig])
    try:
        found = running.line("out", r"Forwarding http://127\.0\.0\.1:(\d+) -> (trace-api-web-\S+):3000")
        port, first = int(found.group(1)), found.group(2)
        status, health = _get(port, "/healthz")
        assert status == 200 and health["runtime"] == "node" and health["pid"] == 1
        run("rollout", "restart", "deployment/trace-api-web", "-n", NS, check=True)
        moved = running.line(
            "err", rf"pod {re.escape(first)} is \w[\w ]*; forwarding to (trace-api-web-\S+) now", timeout=90
        )
        assert moved.group(1) != first
        eventually(
            lambda: _answers(port, "/healthz"), timeout=30, message="the forward answers from the new pod"
        )
    finally:
        code = running.interrupt()
    assert code == 0


def _inspector_closed(kube: Any, pod: str) -> bool:
    refused: list[KubeError] = []
    with Forwarder(kube, NS, 9229, pod=pod, on_error=lambda _p, e: refused.append(e)) as forwarder:
        port = forwarder.start()
        if _answers(port, "/json/list"):
            return False
    return any(isinstance(e, PortRefused) for e in refused)


def test_inspect_prints_a_devtools_url_and_closes_the_inspector_on_ctrl_c(
    cluster: Any, kube_for: Any, eventually: Any
) -> None:
    handle, _run = cluster
    running = Running(
        ["inspect", "trace-api", "--process", "web", "-n", NS, "--kubeconfig", handle.kubeconfig]
    )
    try:
        found = running.line(
            "out",
            r"Node\.js inspector of (trace-api-web-\S+) \(PID 1\) forwarded to 127\.0\.0\.1:(\d+)",
        )
        pod, port = found.group(1), int(found.group(2))
        running.line("out", r"^  process: node .*dist/server\.js")
        url = running.line(
            "out", r"DevTools: (devtools://devtools/bundled/js_app\.html\?\S*ws=127\.0\.0\.1:(\d+)/(\S+))"
        )
        assert int(url.group(2)) == port
        running.line("out", rf"chrome://inspect, Configure… → add 127\.0\.0\.1:{port}")
        status, targets = _get(port, "/json/list")
        assert status == 200 and targets[0]["type"] == "node" and targets[0]["id"] == url.group(3)
    finally:
        code = running.interrupt()
    assert code == 0
    running.line("err", rf"closed the inspector of node \(PID 1\) in {re.escape(pod)}")
    kube = kube_for(handle)
    eventually(lambda: _inspector_closed(kube, pod), timeout=20, message="the inspector closed again")


def test_cpu_profile_and_heap_snapshot_files(cluster: Any, invoke: Any, tmp_path: Path) -> None:
    handle, _run = cluster
    profile_path = tmp_path / "api.cpuprofile"
    result = inspect(invoke, handle, "--process", "web", "--cpu-profile", "2s", "-o", str(profile_path))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"wrote {profile_path} (")
    profile = json.loads(profile_path.read_text())
    assert profile["nodes"] and profile["samples"] and len(profile["timeDeltas"]) == len(profile["samples"])
    assert profile_path.stat().st_mode & 0o077 == 0

    snapshot_path = tmp_path / "api.heapsnapshot"
    result = inspect(invoke, handle, "--heap-snapshot", "-o", str(snapshot_path))
    assert result.exit_code == 0, result.stderr
    assert "secrets included: keep it private" in result.stdout
    snapshot = json.loads(snapshot_path.read_text())
    meta = snapshot["snapshot"]["meta"]
    assert "node_fields" in meta and "edge_fields" in meta and snapshot["strings"]
    assert snapshot["snapshot"]["node_count"] * len(meta["node_fields"]) == len(snapshot["nodes"])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "api.cpuprofile",
        "api.heapsnapshot",
    ]  # no .part left


def test_an_inspector_already_open_is_used_and_left_open(
    cluster: Any, kube_for: Any, invoke: Any, tmp_path: Path, eventually: Any
) -> None:
    from kubectl_trace.debug.cdp import CdpSession, close_inspector, list_targets, local_urls

    handle, run = cluster
    kube = kube_for(handle)
    pod = live_pods(kube, NS, "app=trace-api,process=web")[0]["metadata"]["name"]
    run("exec", "-n", NS, pod, "--", "kill", "-USR1", "1", check=True)  # someone opened it before us
    eventually(lambda: not _inspector_closed(kube, pod), timeout=20, message="the inspector open")
    out = tmp_path / "p.cpuprofile"
    result = inspect(invoke, handle, "--pod", pod, "--cpu-profile", "1s", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert f"the inspector of node (PID 1) in {pod} was already open: it stays open" in result.stderr
    assert "closed the inspector" not in result.stderr and json.loads(out.read_text())["samples"]
    assert not _inspector_closed(kube, pod)
    with Forwarder(kube, NS, 9229, pod=pod) as forwarder:  # leave the pod as it was found
        port = forwarder.start()
        with CdpSession(local_urls(list_targets(port)[0], port).websocket) as session:
            close_inspector(session)
    eventually(lambda: _inspector_closed(kube, pod), timeout=20, message="the inspector closed again")
