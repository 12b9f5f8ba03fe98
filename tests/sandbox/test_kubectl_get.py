"""``kubectl get`` / ``get -w`` / ``describe`` against the API server (real kubectl)."""

from __future__ import annotations

import re
import time
from typing import Any

from tests.factories import controller_ref
from tests.sandbox.harness import InProcessServer, make_deployment, streaming


def _columns(header: str) -> list[str]:
    return re.split(r"\s{2,}", header.strip())


def _workload(server: InProcessServer) -> None:
    server.create("namespaces", {"metadata": {"name": "prod"}})
    dep = server.create("deployments", make_deployment("web", "prod", image="reg/app:1", replicas=2))

    def status(draft: dict[str, Any]) -> None:
        draft["status"] = {
            "replicas": 2,
            "readyReplicas": 2,
            "updatedReplicas": 2,
            "availableReplicas": 2,
            "observedGeneration": 1,
        }

    server.call(lambda: server.store.mutate("deployments", "prod", "web", status))
    rs = make_deployment("web-5d4f9c", "prod", image="reg/app:1", replicas=2, labels={"app": "web"})
    rs["kind"] = "ReplicaSet"
    rs["metadata"]["ownerReferences"] = controller_ref("Deployment", "web", dep["metadata"]["uid"])
    server.create("replicasets", rs)
    for i in range(2):
        server.add_pod(f"web-5d4f9c-{i}", namespace="prod", labels={"app": "web"})


def test_get_all_namespaces_shows_real_columns(server: InProcessServer, skubectl: Any) -> None:
    _workload(server)
    result = skubectl("get", "ns,deploy,rs,pods", "-A", check=True)
    sections = [s for s in result.stdout.strip().split("\n\n") if s.strip()]
    headers = {tuple(_columns(s.splitlines()[0])) for s in sections}
    assert ("NAMESPACE", "NAME", "STATUS", "AGE") not in headers  # namespaces are cluster-scoped
    assert ("NAME", "STATUS", "AGE") in headers
    assert ("NAMESPACE", "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE") in headers
    assert ("NAMESPACE", "NAME", "DESIRED", "CURRENT", "READY", "AGE") in headers
    assert ("NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE") in headers
    rows = {tuple(_columns(line)[:-1]) for s in sections for line in s.splitlines()[1:]}
    assert ("namespace/prod", "Active") in rows
    assert ("prod", "deployment.apps/web", "2/2", "2", "2") in rows
    assert ("prod", "replicaset.apps/web-5d4f9c", "2", "0", "0") in rows
    assert ("prod", "pod/web-5d4f9c-0", "1/1", "Running", "0") in rows


def test_get_pods_wide_shows_ip_and_node(server: InProcessServer, skubectl: Any) -> None:
    server.add_pod("api-1")
    result = skubectl("get", "pods", "-o", "wide", check=True)
    header, row = result.stdout.splitlines()
    assert _columns(header) == [
        "NAME",
        "READY",
        "STATUS",
        "RESTARTS",
        "AGE",
        "IP",
        "NODE",
        "NOMINATED NODE",
        "READINESS GATES",
    ]
    cells = _columns(row)
    assert cells[0] == "api-1" and cells[5] == "10.244.0.10" and cells[6] == "sandbox-node-1"


def test_get_pods_watch_streams_changes_from_another_client(
    server: InProcessServer, skubectl: Any, skube: Any
) -> None:
    server.add_pod("first")
    with streaming([*skubectl.argv_prefix, "get", "pods", "-w"]) as (proc, out):
        out.wait_for(lambda line: line.startswith("first "))
        skube.create(
            "pods",
            {"metadata": {"name": "second"}, "spec": {"containers": [{"name": "c", "image": "reg/c:1"}]}},
            namespace="default",
        )
        line = out.wait_for(lambda line: line.startswith("second "))
        assert _columns(line)[1:3] == ["0/1", "Pending"]
        skube.delete("pods", "first", namespace="default")  # not bound to a node: removed at once
        assert proc.poll() is None  # kubectl keeps watching
        headers = [line for line in out.lines if line.startswith("NAME")]
        assert len(headers) == 1


def test_describe_pod_shows_conditions_containers_and_events(server: InProcessServer, skubectl: Any) -> None:
    pod = server.add_pod("web-1", containers=("app", "side"))
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for reason, message, kind in (
        ("Scheduled", "Successfully assigned default/web-1 to sandbox-node-1", "Normal"),
        ("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", "Warning"),
    ):
        server.create(
            "events",
            {
                "metadata": {"name": f"web-1.{reason.lower()}", "namespace": "default"},
                "involvedObject": {
                    "kind": "Pod",
                    "namespace": "default",
                    "name": "web-1",
                    "uid": pod["metadata"]["uid"],
                    "apiVersion": "v1",
                },
                "reason": reason,
                "message": message,
                "type": kind,
                "count": 1,
                "firstTimestamp": now,
                "lastTimestamp": now,
                "source": {"component": "kubelet", "host": "sandbox-node-1"},
                "reportingComponent": "kubelet",
                "reportingInstance": "sandbox-node-1",
            },
        )
    result = skubectl("describe", "pod", "web-1", check=True)
    text = result.stdout
    assert re.search(r"^Conditions:\n\s+Type\s+Status\n\s+PodScheduled\s+True", text, re.M)
    assert re.search(r"^\s+Ready\s+True\s*$", text, re.M)
    assert re.search(r"^Containers:\n\s+app:\n", text, re.M) and re.search(r"^\s+side:\n", text, re.M)
    assert re.search(r"^Events:\n\s+Type\s+Reason\s+Age\s+From\s+Message", text, re.M)
    assert re.search(r"Normal\s+Scheduled\s+\S+\s+kubelet\s+Successfully assigned default/web-1", text)
    assert re.search(r"Warning\s+Unhealthy\s+\S+\s+kubelet\s+Readiness probe failed", text)


def test_get_missing_object_is_a_notfound_status(server: InProcessServer, skubectl: Any) -> None:
    result = skubectl("get", "deploy", "nope")
    assert result.returncode == 1
    assert result.stderr.strip() == 'Error from server (NotFound): deployments.apps "nope" not found'
    result = skubectl("get", "pods", "-n", "nowhere")
    assert result.returncode == 0 and "No resources found in nowhere namespace." in result.stderr
