"""Pods (in every state) and Deployments to choose from, for the pure tests of ``shell``'s pod choice."""

from __future__ import annotations

from typing import Any

from tests.factories import IMAGE, controller_ref, deployment_manifest

NOW = 1_790_000_000.0  # 2026-09-21T…Z
T0 = "2026-09-21T10:00:00Z"


def process_env(process: str) -> list[dict[str, str]]:
    """The env that names a process (as the buildpack sets it)."""
    return [{"name": "PROCESS_TYPE", "value": process}]


def pod(
    name: str,
    *,
    deployment: str | None = "trace-api-web",
    process: str | None = "web",
    namespace: str = "production",
    tag: str = "3f9c2a1",
    ready: bool = True,
    state: str = "running",  # running | crashloop | pull | creating | terminated | pending
    restarts: int = 0,
    created: str = T0,
    ready_since: str = T0,
    terminating: bool = False,
    containers: tuple[str, ...] = ("app",),
) -> dict[str, Any]:
    template_hash = "5d4f8b9c7"
    labels: dict[str, str] = {"app": "trace-api", "pod-template-hash": template_hash}
    if process:
        labels["process"] = process
    meta: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "labels": labels,
        "creationTimestamp": created,
        "uid": f"uid-{name}",
    }
    if deployment:
        meta["ownerReferences"] = controller_ref("ReplicaSet", f"{deployment}-{template_hash}", "rs-uid")
    if terminating:
        meta["deletionTimestamp"] = "2026-09-21T11:00:00Z"
    image = f"{IMAGE}:{tag}"
    specs = [{"name": c, "image": image, "env": process_env(process or "")} for c in containers]
    phase = "Running"
    container_state: dict[str, Any] = {"running": {"startedAt": created}}
    last: dict[str, Any] = {}
    if state == "crashloop":
        container_state = {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}}
        last = {"terminated": {"exitCode": 1, "reason": "Error"}}
    elif state == "pull":
        phase = "Pending"
        container_state = {"waiting": {"reason": "ImagePullBackOff", "message": f'image "{image}" not found'}}
    elif state == "creating":
        phase = "Pending"
        container_state = {"waiting": {"reason": "ContainerCreating"}}
    elif state == "terminated":
        phase = "Failed"
        container_state = {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}
    elif state == "pending":
        phase = "Pending"
        container_state = {}
    statuses = [
        {
            "name": c,
            "ready": ready and state == "running",
            "restartCount": restarts,
            "image": image,
            "imageID": "",
            "state": container_state,
            "lastState": last,
        }
        for c in containers
    ]
    conditions = [
        {
            "type": "Ready",
            "status": "True" if ready and state == "running" else "False",
            "lastTransitionTime": ready_since,
        }
    ]
    status: dict[str, Any] = {"phase": phase, "conditions": conditions}
    if state != "pending":
        status["containerStatuses"] = statuses
    spec: dict[str, Any] = {"containers": specs}
    if state != "pending":
        spec["nodeName"] = "sandbox-node"
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


def deployment(name: str, process: str, namespace: str = "production") -> dict[str, Any]:
    """Deployment NAME of app trace-api and ``process`` (container ``app``)."""
    labels = {"app": "trace-api", "process": process}
    return deployment_manifest(name, namespace, labels, [{"name": "app", "env": process_env(process)}])
