"""Table cells as kubectl's server-side printers compute them; field selectors; faults (pure)."""

from __future__ import annotations

import pytest

from kubectl_trace.sandbox.server.fields import compile_field_selector
from kubectl_trace.sandbox.server.state import Faults
from kubectl_trace.sandbox.server.tables import table
from kubectl_trace.sandbox.store import StoreError
from kubectl_trace.timeparse import parse_rfc3339

NOW = parse_rfc3339("2026-03-01T12:00:00Z")


def _pod(**status: object) -> dict:
    return {
        "metadata": {"name": "web-1", "namespace": "prod", "creationTimestamp": "2026-03-01T11:55:00Z"},
        "spec": {"nodeName": "sandbox-node-1", "containers": [{"name": "app"}, {"name": "side"}]},
        "status": status,
    }


def _cells(obj: dict, resource: str = "pods") -> list:
    return table(resource, [obj], now=NOW)["rows"][0]["cells"]


def test_pod_running_ready_with_restart_age() -> None:
    pod = _pod(
        phase="Running",
        podIPs=[{"ip": "10.244.0.7"}],
        conditions=[{"type": "Ready", "status": "True"}],
        containerStatuses=[
            {
                "name": "app",
                "ready": True,
                "restartCount": 2,
                "state": {"running": {}},
                "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2026-03-01T11:58:00Z"}},
            },
            {"name": "side", "ready": True, "restartCount": 0, "state": {"running": {}}},
        ],
    )
    assert _cells(pod) == [
        "web-1",
        "2/2",
        "Running",
        "2 (2m ago)",
        "5m",
        "10.244.0.7",
        "sandbox-node-1",
        "<none>",
        "<none>",
    ]


@pytest.mark.parametrize(
    ("statuses", "extra", "expected"),
    [
        (
            [
                {
                    "name": "app",
                    "ready": False,
                    "restartCount": 4,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                }
            ],
            {},
            "CrashLoopBackOff",
        ),
        (
            [
                {
                    "name": "app",
                    "ready": False,
                    "restartCount": 0,
                    "state": {"waiting": {"reason": "ErrImagePull"}},
                }
            ],
            {},
            "ErrImagePull",
        ),
        (
            [
                {
                    "name": "app",
                    "ready": False,
                    "restartCount": 0,
                    "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}},
                }
            ],
            {},
            "OOMKilled",
        ),
        (
            [{"name": "app", "ready": False, "restartCount": 0, "state": {"terminated": {"exitCode": 2}}}],
            {},
            "ExitCode:2",
        ),
        (
            [{"name": "app", "ready": True, "restartCount": 0, "state": {"running": {}}}],
            {"deletionTimestamp": "2026-03-01T12:00:30Z"},
            "Terminating",
        ),
        ([], {}, "Pending"),
    ],
)
def test_pod_status_column(statuses: list, extra: dict, expected: str) -> None:
    pod = _pod(phase="Pending" if not statuses else "Running", containerStatuses=statuses)
    pod["metadata"].update(extra)
    assert _cells(pod)[2] == expected


def test_deployment_replicaset_and_columns() -> None:
    deployment = {
        "metadata": {"name": "web", "creationTimestamp": "2026-03-01T09:00:00Z"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web", "process": "web"}},
            "template": {"spec": {"containers": [{"name": "app", "image": "reg/app:1"}]}},
        },
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }
    t = table("deployments", [deployment], now=NOW, resource_version="42")
    assert [c["name"] for c in t["columnDefinitions"]] == [
        "Name",
        "Ready",
        "Up-to-date",
        "Available",
        "Age",
        "Containers",
        "Images",
        "Selector",
    ]
    assert [c["priority"] for c in t["columnDefinitions"]] == [0, 0, 0, 0, 0, 1, 1, 1]
    assert t["rows"][0]["cells"] == ["web", "2/3", 3, 2, "3h", "app", "reg/app:1", "app=web,process=web"]
    assert t["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    assert t["metadata"] == {"resourceVersion": "42"}
    rs = {
        **deployment,
        "metadata": {"name": "web-5d4f", "creationTimestamp": "2026-03-01T11:59:30Z"},
        "status": {"replicas": 3, "readyReplicas": 1},
    }
    assert _cells(rs, "replicasets")[:5] == ["web-5d4f", 3, 3, 1, "30s"]


def test_event_node_secret_configmap_service_namespace_cells() -> None:
    event = {
        "metadata": {"name": "web-1.17a"},
        "involvedObject": {"kind": "Pod", "name": "web-1", "fieldPath": "spec.containers{app}"},
        "reason": "BackOff",
        "type": "Warning",
        "message": "Back-off restarting failed container ",
        "firstTimestamp": "2026-03-01T11:50:00Z",
        "lastTimestamp": "2026-03-01T11:59:00Z",
        "count": 7,
        "source": {"component": "kubelet", "host": "sandbox-node-1"},
    }
    assert _cells(event, "events") == [
        "60s",
        "Warning",
        "BackOff",
        "pod/web-1",
        "spec.containers{app}",
        "kubelet, sandbox-node-1",
        "Back-off restarting failed container",
        "10m",
        7,
        "web-1.17a",
    ]
    node = {
        "metadata": {
            "name": "sandbox-node-1",
            "creationTimestamp": "2026-02-28T12:00:00Z",
            "labels": {"node-role.kubernetes.io/control-plane": ""},
        },
        "status": {
            "conditions": [{"type": "Ready", "status": "True"}],
            "nodeInfo": {"kubeletVersion": "v1.37.1"},
            "addresses": [{"type": "InternalIP", "address": "10.0.0.2"}],
        },
    }
    assert _cells(node, "nodes")[:6] == [
        "sandbox-node-1",
        "Ready",
        "control-plane",
        "24h",
        "v1.37.1",
        "10.0.0.2",
    ]
    secret = {
        "metadata": {"name": "db", "creationTimestamp": "2026-03-01T12:00:00Z"},
        "type": "Opaque",
        "data": {"a": "", "b": ""},
    }
    assert _cells(secret, "secrets") == ["db", "Opaque", 2, "0s"]
    cm = {"metadata": {"name": "cfg", "creationTimestamp": "2026-03-01T12:00:00Z"}, "data": {"a": "1"}}
    assert _cells(cm, "configmaps") == ["cfg", 1, "0s"]
    svc = {
        "metadata": {"name": "web", "creationTimestamp": "2026-03-01T12:00:00Z"},
        "spec": {
            "type": "ClusterIP",
            "clusterIPs": ["10.96.1.2"],
            "ports": [{"port": 80, "protocol": "TCP"}],
            "selector": {"app": "web"},
        },
    }
    assert _cells(svc, "services") == ["web", "ClusterIP", "10.96.1.2", "<none>", "80/TCP", "0s", "app=web"]
    ns = {
        "metadata": {"name": "prod", "creationTimestamp": "2026-03-01T11:00:00Z"},
        "status": {"phase": "Active"},
    }
    assert _cells(ns, "namespaces") == ["prod", "Active", "60m"]


def test_field_selectors() -> None:
    pod = _pod(phase="Running", podIP="10.0.0.1")
    match = compile_field_selector(
        "pods", "status.phase=Running,spec.nodeName!=other,metadata.namespace==prod"
    )
    assert match is not None and match(pod)
    miss = compile_field_selector("pods", "status.phase=Pending")
    assert miss is not None and not miss(pod)
    assert compile_field_selector("pods", "") is None
    event = {
        "metadata": {"name": "e", "namespace": "prod"},
        "involvedObject": {"name": "web-1", "uid": "u1", "kind": "Pod"},
    }
    select = compile_field_selector("events", "involvedObject.name=web-1,involvedObject.uid=u1")
    assert select is not None and select(event)
    with pytest.raises(StoreError) as error:
        compile_field_selector("pods", "spec.containers=foo")
    assert error.value.code == 400 and error.value.message == "field label not supported: spec.containers"
    with pytest.raises(StoreError):
        compile_field_selector("deployments", "status.phase=Running")


def test_api_error_fault_fails_exactly_the_rate_and_expires() -> None:
    faults = Faults()
    faults.set_api_errors(0.25, 10, now=100.0)
    codes = [faults.next_error(101.0) for _ in range(40)]
    failed = [c for c in codes if c is not None]
    assert len(failed) == 10
    assert set(failed) == {503, 429}
    assert faults.next_error(111.0) is None
    faults.set_latency(250, 5, now=100.0)
    assert faults.delay(101.0) == 0.25 and faults.delay(106.0) == 0.0
