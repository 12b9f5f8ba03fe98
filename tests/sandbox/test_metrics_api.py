"""metrics.k8s.io/v1beta1 in the sandbox: the real ``kubectl top`` and our client read it."""

from __future__ import annotations

from typing import Any

import pytest

from kubectl_trace.health.quantity import parse_cpu, parse_memory


def test_kubectl_top_pods_lists_running_pods(kubectl: Any, eventually: Any) -> None:
    def top() -> str | None:
        result = kubectl("top", "pods", "-n", "production")
        return result.stdout if result.returncode == 0 and "trace-api-web" in result.stdout else None

    out = eventually(top, timeout=30, message="kubectl top pods never listed the demo pods")
    header, *rows = out.strip().splitlines()
    assert header.split() == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    pods = kubectl("get", "pods", "-n", "production", "-o", "name", check=True).stdout.split()
    assert {row.split()[0] for row in rows} <= {p.split("/", 1)[1] for p in pods}
    for row in rows:
        _name, cpu, memory = row.split()
        assert cpu.endswith("m") and 0 < int(cpu[:-1]) < 2000
        assert memory.endswith("Mi") and 16 < int(memory[:-2]) < 2048


def test_kubectl_top_containers_and_nodes(kubectl: Any) -> None:
    out = kubectl("top", "pods", "-n", "production", "--containers", check=True).stdout
    header, *rows = out.strip().splitlines()
    assert header.split() == ["POD", "NAME", "CPU(cores)", "MEMORY(bytes)"]
    assert any(row.split()[1] == "worker" for row in rows)
    nodes = kubectl("top", "nodes", check=True).stdout
    assert "sandbox-node-1" in nodes and "CPU(%)" in nodes


def test_pod_metrics_through_the_client(kube: Any) -> None:
    pods = kube.list("pods", namespace="production").items
    running = [p for p in pods if (p.get("status") or {}).get("phase") == "Running"]
    name = running[0]["metadata"]["name"]
    one = kube.request("GET", f"/apis/metrics.k8s.io/v1beta1/namespaces/production/pods/{name}")
    assert one["kind"] == "PodMetrics" and one["metadata"]["name"] == name
    spec = {c["name"]: c for c in running[0]["spec"]["containers"]}
    for container in one["containers"]:
        limits = (spec[container["name"]].get("resources") or {}).get("limits") or {}
        cpu = parse_cpu(container["usage"]["cpu"])
        memory = parse_memory(container["usage"]["memory"])
        assert cpu is not None and cpu > 0 and memory is not None and memory > 0
        if limits.get("memory"):
            assert memory <= (parse_memory(limits["memory"]) or 0)
    selected = kube.request(
        "GET", "/apis/metrics.k8s.io/v1beta1/pods", query={"labelSelector": "app=trace-ui"}
    )
    assert selected["kind"] == "PodMetricsList"
    assert selected["items"] and all(i["metadata"]["name"].startswith("trace-ui") for i in selected["items"])
    groups = kube.request("GET", "/apis")["groups"]
    assert "metrics.k8s.io" in [g["name"] for g in groups]


def test_missing_pod_metrics_is_a_not_found_status(kube: Any) -> None:
    from kubectl_trace.kube.errors import KubeError

    with pytest.raises(KubeError, match="not found"):
        kube.request("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/production/pods/nope")


def test_a_leaking_image_grows_towards_its_memory_limit(sandbox: Any, kube: Any, eventually: Any) -> None:
    import uuid

    namespace = f"leak-{uuid.uuid4().hex[:6]}"
    tag = uuid.uuid4().hex[:7]
    kube.create("namespaces", {"metadata": {"name": namespace}})
    sandbox.admin("POST", "images/mark", {"tag": tag, "fault": "leak"})
    labels = {"app": "leaky"}
    spec = {
        "name": "web",
        "image": f"registry.sandbox.local/trace/trace-api:{tag}",
        "resources": {"requests": {"memory": "128Mi"}, "limits": {"memory": "256Mi"}},
    }
    deployment = {
        "metadata": {"name": "leaky"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [spec]}},
        },
    }
    try:
        kube.create("deployments", deployment, namespace)
        path = f"/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods"

        def memory() -> int | None:
            items = kube.request("GET", path)["items"]
            return parse_memory(items[0]["containers"][0]["usage"]["memory"]) if items else None

        first = eventually(memory, timeout=30, message="no metrics for the leaking pod")
        limit = 256 * 2**20
        grown = eventually(
            lambda: (m := memory()) is not None and m > 0.5 * limit and m, timeout=40, message="no growth"
        )
        assert first < grown <= limit
    finally:
        sandbox.admin("POST", "images/unmark", {"tag": tag})
        kube.delete("namespaces", namespace)


def test_metrics_paths_route_to_the_metrics_module() -> None:
    from kubectl_trace.sandbox.server.routes import parse_path

    for path in (
        "/apis/metrics.k8s.io",
        "/apis/metrics.k8s.io/v1beta1",
        "/apis/metrics.k8s.io/v1beta1/nodes/n1",
    ):
        assert parse_path(path).kind == "metrics"
    assert parse_path("/apis/metrics.k8s.io.evil/v1/pods").kind == "unknown"
    assert parse_path("/apis/apps/v1/deployments").kind == "resource"


def test_kubectl_get_podmetrics_prints_the_metrics_server_columns(kubectl: Any) -> None:
    out = kubectl("get", "podmetrics", "-n", "production", check=True).stdout
    header, *rows = out.strip().splitlines()
    assert header.split() == ["NAME", "CPU", "MEMORY", "WINDOW"]
    name, cpu, memory, window = rows[0].split()
    assert name.startswith("trace-")
    assert cpu.endswith("n") and memory.endswith("Ki") and window == "15s"
    nodes = kubectl("get", "nodes.metrics.k8s.io", check=True).stdout
    assert nodes.split()[:4] == ["NAME", "CPU", "MEMORY", "WINDOW"] and "sandbox-node-1" in nodes
