"""Deployment, ReplicaSet and pod dicts shaped as the API server sends them (apps/v1, core/v1)."""

from __future__ import annotations

import copy
from typing import Any

from tests.factories import IMAGE as REPO
from tests.factories import NOW as NOW  # re-exported: the tests import it from here
from tests.factories import ts


def template(
    process: str, tag: str, *, env: list[dict[str, Any]] | None = None, extra: list | None = None
) -> dict:
    containers = [
        {
            "name": process,
            "image": f"{REPO}:{tag}",
            "env": env if env is not None else [{"name": "PROCESS_TYPE", "value": process}],
            "resources": {},
            "readinessProbe": {
                "httpGet": {"path": "/healthz", "port": 3000, "scheme": "HTTP"},
                "periodSeconds": 5,
                "failureThreshold": 3,
                "successThreshold": 1,
                "timeoutSeconds": 1,
            },
        }
    ]
    containers += extra or []
    return {
        "metadata": {"labels": {"app": "trace-api", "process": process}},
        "spec": {"containers": containers, "restartPolicy": "Always", "terminationGracePeriodSeconds": 30},
    }


def deployment(
    process: str = "web",
    tag: str = "3f9c2a1",
    *,
    namespace: str = "production",
    replicas: int = 3,
    revision: int = 2,
    generation: int = 4,
    rv: str = "1000",
    cause: str | None = "deploy 3f9c2a1",
    env: list[dict[str, Any]] | None = None,
    extra: list | None = None,
    status: dict[str, Any] | None = None,
    paused: bool = False,
) -> dict[str, Any]:
    annotations = {"deployment.kubernetes.io/revision": str(revision)}
    if cause is not None:
        annotations["kubernetes.io/change-cause"] = cause
    d: dict[str, Any] = {
        "kind": "Deployment",
        "apiVersion": "apps/v1",
        "metadata": {
            "name": f"trace-api-{process}",
            "namespace": namespace,
            "uid": f"uid-{namespace}-{process}",
            "resourceVersion": rv,
            "generation": generation,
            "labels": {"app": "trace-api", "process": process},
            "annotations": annotations,
            "creationTimestamp": ts(-86400 * 20),
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "trace-api", "process": process}},
            "template": template(process, tag, env=env, extra=extra),
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
            },
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
        },
        "status": status
        if status is not None
        else {
            "observedGeneration": generation,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
            ],
        },
    }
    if paused:
        d["spec"]["paused"] = True
    return d


def replicaset(
    deploy: dict[str, Any],
    tag: str,
    revision: int,
    *,
    hash_: str,
    replicas: int = 0,
    ready: int | None = None,
    cause: str | None = None,
    age: float = 86400,
    env: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    process = deploy["metadata"]["labels"]["process"]
    tpl = template(process, tag, env=env)
    tpl["metadata"]["labels"]["pod-template-hash"] = hash_
    annotations = {
        "deployment.kubernetes.io/revision": str(revision),
        "deployment.kubernetes.io/desired-replicas": str(deploy["spec"]["replicas"]),
        "deployment.kubernetes.io/max-replicas": str(deploy["spec"]["replicas"] + 1),
    }
    if cause is not None:
        annotations["kubernetes.io/change-cause"] = cause
    ready = replicas if ready is None else ready
    return {
        "kind": "ReplicaSet",
        "apiVersion": "apps/v1",
        "metadata": {
            "name": f"{deploy['metadata']['name']}-{hash_}",
            "namespace": deploy["metadata"]["namespace"],
            "uid": f"rs-{hash_}",
            "labels": {"app": "trace-api", "process": process, "pod-template-hash": hash_},
            "annotations": annotations,
            "creationTimestamp": ts(-age),
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": deploy["metadata"]["name"],
                    "uid": deploy["metadata"]["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "trace-api", "process": process, "pod-template-hash": hash_}},
            "template": tpl,
        },
        "status": {"replicas": replicas, "readyReplicas": ready, "availableReplicas": ready},
    }


def pod(
    rs: dict[str, Any],
    suffix: str,
    *,
    ready: bool = True,
    waiting: str | None = None,
    restarts: int = 0,
    last_exit: int | None = None,
) -> dict[str, Any]:
    labels = dict(rs["spec"]["template"]["metadata"]["labels"])
    container = rs["spec"]["template"]["spec"]["containers"][0]
    state: dict[str, Any] = (
        {"waiting": {"reason": waiting, "message": f"{waiting} for test"}}
        if waiting
        else {"running": {"startedAt": ts(-60)}}
    )
    status: dict[str, Any] = {
        "name": container["name"],
        "image": container["image"],
        "imageID": "",
        "ready": ready,
        "restartCount": restarts,
        "started": waiting is None,
        "state": state,
    }
    if last_exit is not None:
        status["lastState"] = {
            "terminated": {
                "exitCode": last_exit,
                "reason": "Error",
                "startedAt": ts(-30),
                "finishedAt": ts(-20),
            }
        }
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "name": f"{rs['metadata']['name']}-{suffix}",
            "namespace": rs["metadata"]["namespace"],
            "uid": f"pod-{suffix}",
            "labels": labels,
            "creationTimestamp": ts(-120),
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": rs["metadata"]["name"],
                    "uid": rs["metadata"]["uid"],
                    "controller": True,
                }
            ],
        },
        "spec": copy.deepcopy(rs["spec"]["template"]["spec"]) | {"nodeName": "node-1"},
        "status": {
            "phase": "Pending" if waiting == "ContainerCreating" else "Running",
            "conditions": [
                {"type": "PodScheduled", "status": "True"},
                {"type": "Ready", "status": "True" if ready else "False"},
            ],
            "containerStatuses": [status],
            "startTime": ts(-120),
        },
    }


def event(
    obj: dict[str, Any], reason: str, message: str, *, type_: str = "Warning", count: int = 1, at: float = -5
) -> dict:
    return {
        "kind": "Event",
        "apiVersion": "v1",
        "metadata": {
            "name": f"{obj['metadata']['name']}.{reason}",
            "namespace": obj["metadata"]["namespace"],
            "uid": f"ev-{reason}-{obj['metadata']['name']}",
        },
        "involvedObject": {
            "kind": obj["kind"],
            "name": obj["metadata"]["name"],
            "namespace": obj["metadata"]["namespace"],
            "uid": obj["metadata"].get("uid", ""),
            "fieldPath": f"spec.containers{{{obj['spec'].get('containers', [{}])[0].get('name', '')}}}"
            if obj["kind"] == "Pod"
            else "",
        },
        "type": type_,
        "reason": reason,
        "message": message,
        "count": count,
        "firstTimestamp": ts(at - 10 * (count - 1)),
        "lastTimestamp": ts(at),
        "source": {"component": "kubelet"},
    }
