"""Deployments, ReplicaSets, pods and events of one namespace, shaped as the API server sends them.

Field names follow apps/v1 and core/v1 (DeploymentStatus, ReplicaSetStatus, PodStatus,
ContainerStatus, Event); messages are the controllers' and the kubelet's wording.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

from tests.factories import IMAGE, ts
from tests.factories import NOW as NOW  # re-exported: the tests import it from here

NS = "production"
READINESS_503 = "Readiness probe failed: HTTP probe failed with statuscode: 503"

_seq = itertools.count(1)


def probe(path: str = "/healthz") -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": 8080, "scheme": "HTTP"},
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
    }


def deployment(
    name: str = "trace-api-web",
    *,
    tag: str = "3f9c2a1",
    replicas: int = 3,
    revision: int = 4,
    generation: int = 4,
    observed: int | None = None,
    updated: int | None = None,
    ready: int | None = None,
    available: int | None = None,
    current: int | None = None,
    progressing: tuple[str, str, str] | None = None,
    progress_at: float = -30,
    paused: bool = False,
    max_surge: Any = 1,
    max_unavailable: Any = 0,
    process: str = "web",
    app: str = "trace-api",
) -> dict[str, Any]:
    available_n = replicas if available is None else available
    prog = progressing or (
        "True",
        "NewReplicaSetAvailable",
        f'ReplicaSet "{name}-hash" has successfully progressed.',
    )
    spec: dict[str, Any] = {
        "replicas": replicas,
        "selector": {"matchLabels": {"app": app, "process": process}},
        "template": {
            "metadata": {"labels": {"app": app, "process": process}},
            "spec": {
                "containers": [
                    {
                        "name": process,
                        "image": f"{IMAGE}:{tag}",
                        "env": [{"name": "PROCESS_TYPE", "value": process}],
                        "readinessProbe": probe(),
                        "livenessProbe": probe(),
                    }
                ]
            },
        },
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": max_surge, "maxUnavailable": max_unavailable},
        },
        "revisionHistoryLimit": 10,
        "progressDeadlineSeconds": 600,
    }
    if paused:
        spec["paused"] = True
    return {
        "kind": "Deployment",
        "apiVersion": "apps/v1",
        "metadata": {
            "name": name,
            "namespace": NS,
            "uid": f"uid-{name}",
            "generation": generation,
            "resourceVersion": str(next(_seq) + 1000),
            "creationTimestamp": ts(-86400),
            "labels": {"app": app, "process": process},
            "annotations": {"deployment.kubernetes.io/revision": str(revision)},
        },
        "spec": spec,
        "status": {
            "observedGeneration": generation if observed is None else observed,
            "replicas": replicas if current is None else current,
            "updatedReplicas": replicas if updated is None else updated,
            "readyReplicas": replicas if ready is None else ready,
            "availableReplicas": available_n,
            "unavailableReplicas": max(0, replicas - available_n),
            "conditions": [
                {
                    "type": "Available",
                    "status": "True" if available_n >= replicas - (max_unavailable or 0) else "False",
                    "reason": "MinimumReplicasAvailable",
                    "message": "Deployment has minimum availability.",
                    "lastUpdateTime": ts(-3600),
                    "lastTransitionTime": ts(-3600),
                },
                {
                    "type": "Progressing",
                    "status": prog[0],
                    "reason": prog[1],
                    "message": prog[2],
                    "lastUpdateTime": ts(progress_at),
                    "lastTransitionTime": ts(progress_at),
                },
            ],
        },
    }


def replicaset(
    deploy: dict[str, Any],
    template_hash: str,
    *,
    revision: int,
    tag: str,
    replicas: int,
    ready: int | None = None,
    available: int | None = None,
    current: int | None = None,
    created: float = -3600,
) -> dict[str, Any]:
    template = copy.deepcopy(deploy["spec"]["template"])
    template["metadata"]["labels"]["pod-template-hash"] = template_hash
    for c in template["spec"]["containers"]:
        c["image"] = f"{IMAGE}:{tag}"
    name = f"{deploy['metadata']['name']}-{template_hash}"
    return {
        "kind": "ReplicaSet",
        "apiVersion": "apps/v1",
        "metadata": {
            "name": name,
            "namespace": NS,
            "uid": f"uid-{name}",
            "resourceVersion": str(next(_seq) + 1000),
            "creationTimestamp": ts(created),
            "labels": dict(template["metadata"]["labels"]),
            "annotations": {"deployment.kubernetes.io/revision": str(revision)},
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
            "selector": {"matchLabels": dict(template["metadata"]["labels"])},
            "template": template,
        },
        "status": {
            "replicas": replicas if current is None else current,
            "readyReplicas": replicas if ready is None else ready,
            "availableReplicas": (replicas if ready is None else ready) if available is None else available,
        },
    }


def pod(
    rs: dict[str, Any],
    suffix: str,
    *,
    ready: bool = True,
    created: float = -600,
    restarts: int = 0,
    last_termination: tuple[str, int, float] | None = None,
    waiting: str | None = None,
    deleted: float | None = None,
) -> dict[str, Any]:
    rs_name = rs["metadata"]["name"]
    name = f"{rs_name}-{suffix}"
    labels = dict(rs["spec"]["template"]["metadata"]["labels"])
    container = rs["spec"]["template"]["spec"]["containers"][0]
    state: dict[str, Any] = (
        {"waiting": {"reason": waiting}} if waiting else {"running": {"startedAt": ts(created + 2)}}
    )
    last: dict[str, Any] = {}
    if last_termination is not None:
        reason, code, finished = last_termination
        last = {
            "terminated": {
                "exitCode": code,
                "reason": reason,
                "startedAt": ts(finished - 100),
                "finishedAt": ts(finished),
            }
        }
    ready_s = "True" if ready else "False"
    meta: dict[str, Any] = {
        "name": name,
        "namespace": NS,
        "uid": f"uid-{name}",
        "resourceVersion": str(next(_seq) + 1000),
        "creationTimestamp": ts(created),
        "labels": labels,
        "ownerReferences": [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": rs_name,
                "uid": rs["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ],
    }
    if deleted is not None:
        meta["deletionTimestamp"] = ts(deleted)
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": meta,
        "spec": {"containers": [copy.deepcopy(container)], "nodeName": "sandbox-node-1"},
        "status": {
            "phase": "Pending" if waiting == "ContainerCreating" else "Running",
            "conditions": [
                {"type": "Ready", "status": ready_s, "lastTransitionTime": ts(created + 5)},
                {"type": "ContainersReady", "status": ready_s, "lastTransitionTime": ts(created + 5)},
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": ts(created)},
            ],
            "containerStatuses": [
                {
                    "name": container["name"],
                    "image": container["image"],
                    "imageID": "",
                    "ready": ready,
                    "started": not waiting,
                    "restartCount": restarts,
                    "state": state,
                    "lastState": last,
                }
            ],
        },
    }


def event(
    reason: str,
    message: str,
    *,
    kind: str = "Pod",
    name: str,
    type: str = "Normal",
    count: int = 1,
    first: float = -60,
    last: float | None = None,
    container: str | None = "web",
    uid: str | None = None,
) -> dict[str, Any]:
    n = next(_seq)
    involved: dict[str, Any] = {"kind": kind, "namespace": NS, "name": name, "uid": f"uid-{name}"}
    if container is not None and kind == "Pod":
        involved["fieldPath"] = f"spec.containers{{{container}}}"
    return {
        "kind": "Event",
        "apiVersion": "v1",
        "metadata": {
            "name": f"{name}.{n:016x}",
            "namespace": NS,
            "uid": uid or f"ev-{n}",
            "resourceVersion": str(5000 + n),
            "creationTimestamp": ts(first),
        },
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "source": {"component": "kubelet" if kind == "Pod" else "deployment-controller"},
        "firstTimestamp": ts(first),
        "lastTimestamp": ts(first if last is None else last),
        "count": count,
        "type": type,
    }


def stalled_story() -> dict[str, list[dict[str, Any]]]:
    """production mid-rollout of the bad image badc0de: one new pod failing readiness with 503."""
    web = deployment(
        tag="badc0de",
        revision=5,
        generation=5,
        updated=1,
        ready=3,
        available=3,
        current=4,
        progressing=("True", "ReplicaSetUpdated", 'ReplicaSet "trace-api-web-6f7c9d8b4" is progressing.'),
        progress_at=-40,
    )
    old = replicaset(web, "5c6b1d9f7", revision=4, tag="3f9c2a1", replicas=3)
    older = replicaset(web, "8d2e4a6c1", revision=3, tag="8b1d0e4", replicas=0, created=-7200)
    new = replicaset(web, "6f7c9d8b4", revision=5, tag="badc0de", replicas=1, ready=0, created=-40)
    worker = deployment("trace-api-worker", process="worker", replicas=2, revision=3, generation=3)
    worker_rs = replicaset(worker, "77f5c8d9b", revision=3, tag="3f9c2a1", replicas=2)
    ui = deployment("trace-ui", app="trace-ui", tag="9e1f00a", replicas=2, revision=2, generation=2)
    ui_rs = replicaset(ui, "5b8c7d6e2", revision=2, tag="9e1f00a", replicas=2)
    failing = pod(new, "p9w2m", ready=False, created=-38)
    pods = [
        pod(old, "aa1bc", created=-7000, restarts=1, last_termination=("OOMKilled", 137, -7200)),
        pod(old, "k3j9d", created=-6900),
        pod(old, "zz8qx", created=-6800),
        failing,
        pod(worker_rs, "w1x2y", created=-5000),
        pod(worker_rs, "w3z4a", created=-5000),
        pod(ui_rs, "u1v2w", created=-9000),
        pod(ui_rs, "u3v4w", created=-9000),
    ]
    fname = failing["metadata"]["name"]
    events = [
        event(
            "ScalingReplicaSet",
            "Scaled up replica set trace-api-web-6f7c9d8b4 from 0 to 1",
            kind="Deployment",
            name="trace-api-web",
            first=-40,
        ),
        event(
            "Scheduled",
            f"Successfully assigned production/{fname} to sandbox-node-1",
            name=fname,
            first=-39,
            container=None,
        ),
        event(
            "Pulled", f'Container image "{IMAGE}:badc0de" already present on machine', name=fname, first=-37
        ),
        event("Created", "Created container: web", name=fname, first=-37),
        event("Started", "Started container web", name=fname, first=-36),
        event("Unhealthy", READINESS_503, name=fname, type="Warning", count=3, first=-30, last=-5),
        event(
            "Started",
            "Started container worker",
            name="trace-api-worker-77f5c8d9b-w1x2y",
            first=-4990,
            container="worker",
        ),
    ]
    return {
        "deployments": [web, worker, ui],
        "replicasets": [old, older, new, worker_rs, ui_rs],
        "pods": pods,
        "events": events,
    }
