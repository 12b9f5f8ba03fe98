"""End to end: the real kubectl against a sandbox running the simulated cluster.

The session sandbox (demo fixture) is only read; rollouts run in a private empty sandbox,
faults in a private demo sandbox.
"""

from __future__ import annotations

import base64
import http.client
import re
import ssl
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.sandbox.harness import streaming

IMAGE = "registry.sandbox.local/trace/trace-api"


def _rows(text: str) -> list[list[str]]:
    return [re.split(r"\s{2,}", line.strip()) for line in text.strip().splitlines()]


def test_demo_cluster_through_kubectl_get(kubectl: Any, eventually: Any) -> None:
    def all_running() -> str | None:
        out = kubectl("get", "pods", "-n", "production", check=True).stdout
        rows = _rows(out)[1:]
        return out if rows and all(r[1] == "1/1" and r[2] == "Running" for r in rows) else None

    eventually(all_running, timeout=60, message="demo pods running")
    result = kubectl("get", "ns,deploy,rs,pods", "-A", check=True)
    sections = [_rows(s) for s in result.stdout.strip().split("\n\n")]
    by_header = {tuple(s[0]): s[1:] for s in sections}
    deployments = by_header[("NAMESPACE", "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE")]
    names = {(r[0], r[1]) for r in deployments}
    assert ("production", "deployment.apps/trace-api-web") in names
    assert ("staging", "deployment.apps/trace-api-clock") in names
    assert ("production", "deployment.apps/trace-ui") in names
    assert ("NAMESPACE", "NAME", "DESIRED", "CURRENT", "READY", "AGE") in by_header
    pods = by_header[("NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE")]
    assert sum(1 for r in pods if r[0] == "production" and r[1].startswith("pod/trace-api-web-")) == 3
    wide = _rows(kubectl("get", "pods", "-n", "staging", "-o", "wide", check=True).stdout)
    assert wide[0][5:7] == ["IP", "NODE"]
    assert all(
        r[6].startswith("sandbox-node-") and re.fullmatch(r"10\.244\.\d+\.\d+", r[5]) for r in wide[1:]
    )


def test_demo_pod_describe_logs_and_exec(kubectl: Any) -> None:
    name = kubectl(
        "get", "pods", "-n", "staging", "-l", "process=web", "-o", "name", check=True
    ).stdout.split()[0]
    described = kubectl("describe", "-n", "staging", name, check=True).stdout
    assert re.search(r"^Conditions:\n\s+Type\s+Status", described, re.M)
    assert re.search(r"Normal\s+Started\s+\S+\s+kubelet", described)
    logs = kubectl(
        "logs", "-n", "staging", name, "--tail", "2", "--timestamps", check=True
    ).stdout.splitlines()
    assert len(logs) == 2 and all(re.match(r"\d{4}-\d\d-\d\dT[\d:]+\.\d{9}Z ", line) for line in logs)
    result = kubectl("exec", "-n", "staging", name, "--", "sh", "-c", 'echo "$PROCESS_TYPE"; exit 5')
    assert (result.returncode, result.stdout) == (5, "web\n")


def test_rollout_commands_end_to_end(sandbox_factory: Any, kubectl_for: Any, eventually: Any) -> None:
    handle = sandbox_factory(fixture="empty")
    k = kubectl_for(handle)
    k("create", "deployment", "shop", f"--image={IMAGE}:aaaa111", "--replicas=2", check=True)
    k("rollout", "status", "deployment/shop", "--timeout=90s", check=True, timeout=120)
    k("annotate", "deployment/shop", "kubernetes.io/change-cause=release bbbb222", check=True)
    k("set", "image", "deployment/shop", f"trace-api={IMAGE}:bbbb222", check=True)
    done = k("rollout", "status", "deployment/shop", "--timeout=90s", check=True, timeout=120)
    assert 'deployment "shop" successfully rolled out' in done.stdout
    history = _rows(k("rollout", "history", "deployment/shop", check=True).stdout)
    assert [r[0] for r in history[2:]] == ["1", "2"]
    k("rollout", "undo", "deployment/shop", check=True)
    k("rollout", "status", "deployment/shop", "--timeout=90s", check=True, timeout=120)
    image = k(
        "get", "deployment/shop", "-o", "jsonpath={.spec.template.spec.containers[0].image}", check=True
    )
    assert image.stdout == f"{IMAGE}:aaaa111"
    k("scale", "deployment/shop", "--replicas=3", check=True)
    k("rollout", "status", "deployment/shop", "--timeout=90s", check=True, timeout=120)
    assert k("get", "deployment/shop", "-o", "jsonpath={.status.readyReplicas}", check=True).stdout == "3"
    k("rollout", "pause", "deployment/shop", check=True)
    assert "paused" in k("rollout", "undo", "deployment/shop").stderr
    k("rollout", "resume", "deployment/shop", check=True)
    k("rollout", "restart", "deployment/shop", check=True)
    k("rollout", "status", "deployment/shop", "--timeout=90s", check=True, timeout=120)

    def settled() -> list[list[str]] | None:
        pods = _rows(k("get", "pods", "-l", "app=shop", check=True).stdout)[1:]
        return pods if len(pods) == 3 and all(r[2] == "Running" for r in pods) else None

    eventually(settled, timeout=60, message="three running pods, the old ones gone")


def _raw(handle: Any, path: str) -> tuple[int, dict[str, str]]:
    config = yaml.safe_load(Path(handle.kubeconfig).read_text())
    ca = base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"]).decode()
    conn = http.client.HTTPSConnection(
        "127.0.0.1", handle.port, context=ssl.create_default_context(cadata=ca)
    )
    conn.request("GET", path, headers={"Authorization": f"Bearer {config['users'][0]['user']['token']}"})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, dict(response.getheaders())


def _nodeapp(handle: Any, *args: str) -> subprocess.CompletedProcess[str]:
    import sys

    exe = str(Path(sys.executable).with_name("kubectl-nodeapp"))
    return subprocess.run(
        [exe, "sandbox", *args, "--kubeconfig", handle.kubeconfig], capture_output=True, text=True, timeout=60
    )


def test_faults_drop_streams(private_sandbox: Any, kubectl_for: Any, eventually: Any) -> None:
    k = kubectl_for(private_sandbox)
    pod = k("get", "pods", "-n", "staging", "-l", "process=worker", "-o", "name", check=True).stdout.split()[
        0
    ]
    with (
        streaming([*k.argv_prefix, "logs", "-f", "-n", "staging", pod]) as (follow, follow_out),
        streaming([*k.argv_prefix, "get", "pods", "-w", "-n", "staging"]) as (watch, watch_out),
    ):
        follow_out.wait_for(lambda line: bool(line))
        watch_out.wait_for(lambda line: line.startswith("NAME"))
        eventually(lambda: private_sandbox.status()["streams"].get("total", 0) >= 2, timeout=20)
        result = _nodeapp(private_sandbox, "fault", "drop-streams")
        assert result.returncode == 0 and re.match(r"dropped [2-9]\d* open stream", result.stderr)
        # Both end when their stream is cut (a hang fails here), each the way kubectl ends it:
        # a log stream cut mid-body is an error, a watch that ends is a normal end.
        assert follow.wait(20) == 1
        assert follow.stderr is not None and "unexpected EOF" in follow.stderr.read()
        assert watch.wait(20) == 0


@pytest.mark.slow
def test_faults_api_errors_latency_kill_and_images(
    private_sandbox: Any, kubectl_for: Any, eventually: Any
) -> None:
    handle = private_sandbox
    k = kubectl_for(handle)
    assert _nodeapp(handle, "fault", "api-errors", "--rate", "1", "--seconds", "3").returncode == 0
    codes = [_raw(handle, "/api/v1/namespaces")[0] for _ in range(4)]
    assert sorted(set(codes)) == [429, 503]
    status, headers = _raw(handle, "/api/v1/pods")
    assert status in (429, 503) and headers["Retry-After"] == "1"
    started = time.monotonic()
    k("get", "ns", check=True, timeout=90)  # kubectl honours Retry-After and succeeds once the fault ends
    assert time.monotonic() - started >= 1.0
    assert _raw(handle, "/api/v1/namespaces")[0] == 200

    assert _nodeapp(handle, "fault", "latency", "--ms", "400", "--seconds", "30").returncode == 0
    started = time.monotonic()
    assert _raw(handle, "/api/v1/namespaces")[0] == 200
    assert time.monotonic() - started >= 0.4
    assert "latency 400ms" in _nodeapp(handle, "status").stdout
    assert _nodeapp(handle, "fault", "latency", "--ms", "0", "--seconds", "0").returncode == 0

    pod = k(
        "get", "pods", "-n", "production", "-l", "process=clock", "-o", "name", check=True
    ).stdout.split()[0]
    assert _nodeapp(handle, "fault", "kill", pod.split("/")[1], "-n", "production").returncode == 0

    def killed() -> str:
        out = k(
            "get",
            "-n",
            "production",
            pod,
            "-o",
            "jsonpath={.status.containerStatuses[0].restartCount}/{.status.containerStatuses[0].lastState.terminated.exitCode}",
            check=True,
        ).stdout
        return out if out.startswith("1/") else ""

    assert eventually(killed, timeout=60) == "1/137"

    listed = _nodeapp(handle, "image", "list").stdout
    assert re.search(r"^badc0de\s+unready$", listed, re.M) and re.search(r"^c0ffee1\s+crash$", listed, re.M)
    assert _nodeapp(handle, "image", "mark", "9d8e7f6", "--fault", "missing").returncode == 0
    assert re.search(r"^9d8e7f6\s+missing$", _nodeapp(handle, "image", "list").stdout, re.M)
    assert _nodeapp(handle, "image", "unmark", "9d8e7f6").returncode == 0
    assert "9d8e7f6" not in _nodeapp(handle, "image", "list").stdout
    counts = handle.status()["requests"]
    assert counts["byCode"].get("503", 0) >= 1 and counts["byCode"].get("429", 0) >= 1
    assert counts["byVerb"]["list"] >= 3


@pytest.mark.tmux
def test_exec_tty_into_a_demo_pod(kubectl: Any, tmux: Any) -> None:
    name = kubectl(
        "get", "pods", "-n", "staging", "-l", "process=web", "-o", "name", check=True
    ).stdout.split()[0]
    tmux.start([*kubectl.argv_prefix, "exec", "-it", "-n", "staging", name, "--", "sh"], width=90, height=25)
    tmux.send("stty size", enter=True)
    tmux.wait_for("25 90")
    tmux.resize(100, 30)
    tmux.send("stty size", enter=True)
    tmux.wait_for("30 100")
    tmux.send("exit", enter=True)


def test_pod_proxy_answers_the_probe_path(kubectl: Any) -> None:
    name = kubectl(
        "get", "pods", "-n", "staging", "-l", "process=web", "-o", "name", check=True
    ).stdout.split()[0]
    pod = name.split("/")[1]
    port = kubectl(
        "get",
        "-n",
        "staging",
        name,
        "-o",
        "jsonpath={.spec.containers[0].readinessProbe.httpGet.port}",
        check=True,
    ).stdout
    answer = kubectl(
        "get", "--raw", f"/api/v1/namespaces/staging/pods/{pod}:{port}/proxy/healthz", check=True
    )
    assert answer.stdout.strip()


def test_every_object_of_the_demo_cluster_validates_against_the_client_models(
    kube: Any, eventually: Any
) -> None:
    from kubectl_trace.kube.resources import RESOURCES
    from tests.sandbox.modelcheck import validate

    eventually(lambda: kube.list("events", all_namespaces=True).items, timeout=60, message="events recorded")
    checked: dict[str, int] = {}
    for resource in RESOURCES.values():
        listing = kube.request("GET", resource.path())
        validate(listing)
        for item in listing["items"]:
            validate(item)
        checked[resource.plural] = len(listing["items"])
    assert checked["pods"] >= 11 and checked["deployments"] >= 7 and checked["nodes"] >= 1
    assert checked["replicasets"] >= 7 and checked["events"] >= 1 and checked["secrets"] >= 1
    deployment = kube.list("deployments", "production").items[0]["metadata"]["name"]
    validate(kube.request("GET", f"/apis/apps/v1/namespaces/production/deployments/{deployment}/scale"))
