"""The tests' Kubernetes objects: pods, events, Deployments, ReplicaSets shaped as a real cluster
reports them; manifests to create in the sandbox; the sandbox's log sequence numbers.

Field names and nesting follow the core/v1 and apps/v1 API reference (PodStatus,
ContainerStatus, ContainerState*, Event, DeploymentStatus, DeploymentCondition); the
messages are the kubelet's and the controllers' wording.

The submodules build whole worlds from these: ``rollout`` (a namespace mid-rollout, for the
dashboard), ``release`` (Deployments with their revision history, for deploy and rollback) and
``picker`` (pods to choose from, for shell).
"""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from typing import Any

NOW = 1_772_366_400.0  # 2026-03-01T12:00:00Z
IMAGE = "registry.sandbox.local/trace/trace-api"
READINESS_503 = "Readiness probe failed: HTTP probe failed with statuscode: 503"


def controller_ref(kind: str, name: str, uid: str) -> list[dict[str, Any]]:
    """``ownerReferences`` naming the controlling owner (as the Deployment controller writes them)."""
    return [
        {
            "apiVersion": "apps/v1",
            "kind": kind,
            "name": name,
            "uid": uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]


def ts(offset: float) -> str:
    """RFC 3339 for NOW + offset seconds (as the API server writes: seconds precision)."""
    return datetime.fromtimestamp(int(NOW + offset), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def probe(path: str = "/healthz", port: Any = 8080, **timing: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": port, "scheme": "HTTP"},
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
        **{k: v for k, v in timing.items()},
    }


def container(
    name: str = "web",
    tag: str | None = "3f9c2a1",
    *,
    readiness: dict[str, Any] | None = None,
    liveness: dict[str, Any] | None = None,
    env: list[dict[str, Any]] | None = None,
    requests: dict[str, str] | None = None,
    prestop: bool = True,
    ports: bool = True,
) -> dict[str, Any]:
    c: dict[str, Any] = {
        "name": name,
        "image": f"{IMAGE}:{tag}" if tag else IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "env": env if env is not None else [{"name": "PROCESS_TYPE", "value": "web"}],
        "resources": {"requests": requests} if requests is not None else {},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }
    if ports:
        c["ports"] = [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    if readiness is not None:
        c["readinessProbe"] = readiness
    if liveness is not None:
        c["livenessProbe"] = liveness
    if prestop:
        c["lifecycle"] = {"preStop": {"exec": {"command": ["sleep", "5"]}}}
    return c


def running(
    name: str = "web",
    tag: str = "3f9c2a1",
    *,
    ready: bool = True,
    started: float = -300,
    restarts: int = 0,
    last: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "name": name,
        "image": f"{IMAGE}:{tag}",
        "imageID": f"{IMAGE}@sha256:{'ab' * 32}",
        "containerID": "containerd://" + "1f" * 32,
        "ready": ready,
        "started": True,
        "restartCount": restarts,
        "state": {"running": {"startedAt": ts(started)}},
        "lastState": last or {},
    }


def waiting(
    name: str = "web",
    tag: str = "3f9c2a1",
    *,
    reason: str,
    message: str = "",
    restarts: int = 0,
    last: dict[str, Any] | None = None,
) -> dict[str, Any]:
    state: dict[str, Any] = {"reason": reason}
    if message:
        state["message"] = message
    return {
        "name": name,
        "image": f"{IMAGE}:{tag}",
        "imageID": "",
        "ready": False,
        "started": False,
        "restartCount": restarts,
        "state": {"waiting": state},
        "lastState": last or {},
    }


def terminated(
    exit_code: int, reason: str, *, started: float, finished: float, signal: int | None = None
) -> dict:
    t: dict[str, Any] = {
        "exitCode": exit_code,
        "reason": reason,
        "startedAt": ts(started),
        "finishedAt": ts(finished),
        "containerID": "containerd://" + "2e" * 32,
    }
    if signal is not None:
        t["signal"] = signal
    return {"terminated": t}


def conditions(*, ready: bool, scheduled: bool = True, at: float = -300) -> list[dict[str, Any]]:
    ready_s = "True" if ready else "False"
    out: list[dict[str, Any]] = [
        {"type": "PodReadyToStartContainers", "status": "True", "lastTransitionTime": ts(at)},
        {"type": "Initialized", "status": "True", "lastTransitionTime": ts(at)},
        {"type": "Ready", "status": ready_s, "lastTransitionTime": ts(at)},
        {"type": "ContainersReady", "status": ready_s, "lastTransitionTime": ts(at)},
        {"type": "PodScheduled", "status": "True" if scheduled else "False", "lastTransitionTime": ts(at)},
    ]
    if not ready:
        out[2]["reason"] = out[3]["reason"] = "ContainersNotReady"
        out[2]["message"] = out[3]["message"] = "containers with unready status: [web]"
    return out


def pod(
    name: str = "trace-api-web-7d9f8c6b5-x2k4q",
    *,
    namespace: str = "production",
    uid: str = "0c6f8a52-5d1e-4d1a-9d5e-000000000001",
    phase: str = "Running",
    containers: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    init_containers: list[dict[str, Any]] | None = None,
    init_statuses: list[dict[str, Any]] | None = None,
    ready: bool = True,
    created: float = -600,
    deleted: float | None = None,
    status_extra: dict[str, Any] | None = None,
    cond: list[dict[str, Any]] | None = None,
    node: str | None = "sandbox-node-1",
    template_hash: str = "7d9f8c6b5",
    labels: dict[str, str] | None = None,
    owner_uid: str | None = None,
    resource_version: str = "4242",
) -> dict[str, Any]:
    """A pod of ReplicaSet NAME-minus-its-suffix (uid ``owner_uid``, default ``rs-uid-HASH``)."""
    specs = containers if containers is not None else [container(readiness=probe(), liveness=probe())]
    owner = name.rsplit("-", 1)[0]
    meta: dict[str, Any] = {
        "name": name,
        "generateName": owner + "-",
        "namespace": namespace,
        "uid": uid,
        "resourceVersion": resource_version,
        "creationTimestamp": ts(created),
        "labels": labels
        if labels is not None
        else {"app": "trace-api", "process": "web", "pod-template-hash": template_hash},
        "ownerReferences": controller_ref("ReplicaSet", owner, owner_uid or "rs-uid-" + template_hash),
    }
    if deleted is not None:
        meta["deletionTimestamp"] = ts(deleted)
        meta["deletionGracePeriodSeconds"] = 30
    spec: dict[str, Any] = {
        "containers": specs,
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "serviceAccountName": "default",
        "schedulerName": "default-scheduler",
    }
    if node:
        spec["nodeName"] = node
    if init_containers:
        spec["initContainers"] = init_containers
    status: dict[str, Any] = {
        "phase": phase,
        "conditions": cond if cond is not None else conditions(ready=ready, at=created + 5),
        "hostIP": "10.0.0.11",
        "podIP": "10.244.1.17",
        "startTime": ts(created + 1),
        "qosClass": "Burstable",
        "containerStatuses": statuses if statuses is not None else [running()],
    }
    if init_statuses is not None:
        status["initContainerStatuses"] = init_statuses
    status.update(status_extra or {})
    return {"kind": "Pod", "apiVersion": "v1", "metadata": meta, "spec": spec, "status": status}


def replicaset_pod(
    rs: dict[str, Any],
    suffix: str,
    *,
    ready: bool = True,
    waiting_reason: str | None = None,
    waiting_message: str = "",
    restarts: int = 0,
    last: dict[str, Any] | None = None,
    started: float = -300,
    uid: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Pod RS-SUFFIX of ReplicaSet ``rs`` (its template's labels and containers): its first
    container running since ``started`` (``ready``), or waiting for ``waiting_reason``
    (ContainerCreating: a Pending pod). ``fields``: more of ``pod``'s keywords."""
    name = f"{rs['metadata']['name']}-{suffix}"
    template = copy.deepcopy(rs["spec"]["template"])
    first = template["spec"]["containers"][0]
    tag = first["image"].rsplit(":", 1)[1]
    if waiting_reason:
        state = waiting(
            first["name"], tag, reason=waiting_reason, message=waiting_message, restarts=restarts, last=last
        )
    else:
        state = running(first["name"], tag, ready=ready, started=started, restarts=restarts, last=last)
    return pod(
        name,
        namespace=rs["metadata"]["namespace"],
        uid=uid or f"uid-{name}",
        phase="Pending" if waiting_reason == "ContainerCreating" else "Running",
        labels=template["metadata"]["labels"],
        owner_uid=rs["metadata"]["uid"],
        containers=template["spec"]["containers"],
        statuses=[state],
        ready=ready,
        **fields,
    )


_EVENT_SEQ = [0]


def event(
    reason: str,
    message: str,
    *,
    kind: str = "Pod",
    name: str = "trace-api-web-7d9f8c6b5-x2k4q",
    namespace: str = "production",
    uid: str = "0c6f8a52-5d1e-4d1a-9d5e-000000000001",
    type: str = "Normal",
    count: int = 1,
    first: float = -60,
    last: float | None = None,
    container: str | None = "web",
    component: str = "kubelet",
    event_uid: str | None = None,
) -> dict[str, Any]:
    _EVENT_SEQ[0] += 1
    involved: dict[str, Any] = {
        "kind": kind,
        "namespace": namespace,
        "name": name,
        "uid": uid,
        "apiVersion": "apps/v1" if kind in ("Deployment", "ReplicaSet") else "v1",
        "resourceVersion": "4100",
    }
    if container is not None and kind == "Pod":
        involved["fieldPath"] = f"spec.containers{{{container}}}"
    return {
        "kind": "Event",
        "apiVersion": "v1",
        "metadata": {
            "name": f"{name}.{_EVENT_SEQ[0]:016x}",
            "namespace": namespace,
            "uid": event_uid or f"ev-{_EVENT_SEQ[0]}",
            "resourceVersion": str(5000 + _EVENT_SEQ[0]),
            "creationTimestamp": ts(first),
        },
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "source": {"component": component, "host": "sandbox-node-1"}
        if component == "kubelet"
        else {"component": component},
        "firstTimestamp": ts(first),
        "lastTimestamp": ts(first if last is None else last),
        "count": count,
        "type": type,
        "eventTime": None,
        "reportingComponent": component,
        "reportingInstance": "sandbox-node-1" if component == "kubelet" else "",
    }


def rollout_conditions(
    available: tuple[str, str],
    progressing: tuple[str, str, str],
    *,
    progress_at: float,
    progress_since: float = -3600,
) -> list[dict[str, Any]]:
    """A Deployment's Available and Progressing conditions: (status, reason[, message])."""
    return [
        {
            "type": "Available",
            "status": available[0],
            "reason": available[1],
            "message": "Deployment has minimum availability."
            if available[0] == "True"
            else "Deployment does not have minimum availability.",
            "lastUpdateTime": ts(-3600),
            "lastTransitionTime": ts(-3600),
        },
        {
            "type": "Progressing",
            "status": progressing[0],
            "reason": progressing[1],
            "message": progressing[2],
            "lastUpdateTime": ts(progress_at),
            "lastTransitionTime": ts(progress_since),
        },
    ]


def pod_template(
    labels: dict[str, str], containers: list[dict[str, Any]], termination_grace: int | None = 30
) -> dict[str, Any]:
    """A Deployment's (or ReplicaSet's) ``spec.template``."""
    spec: dict[str, Any] = {"containers": containers, "restartPolicy": "Always", "dnsPolicy": "ClusterFirst"}
    if termination_grace is not None:
        spec["terminationGracePeriodSeconds"] = termination_grace
    return {"metadata": {"labels": labels}, "spec": spec}


def deployment(
    name: str = "trace-api-web",
    *,
    namespace: str = "production",
    uid: str = "deploy-uid-web",
    tag: str = "3f9c2a1",
    replicas: int = 3,
    revision: int = 4,
    generation: int = 7,
    observed: int | None = None,
    status: dict[str, Any] | None = None,
    progressing: tuple[str, str, str] = (
        "True",
        "NewReplicaSetAvailable",
        'ReplicaSet "trace-api-web-7d9f8c6b5" has successfully progressed.',
    ),
    available: tuple[str, str] = ("True", "MinimumReplicasAvailable"),
    strategy: dict[str, Any] | None = None,
    paused: bool = False,
    containers: list[dict[str, Any]] | None = None,
    process: str = "web",
    app: str = "trace-api",
    progress_at: float = -120,
    termination_grace: int | None = 30,
    annotations: dict[str, str] | None = None,
    resource_version: str = "9000",
    created: float = -86400,
) -> dict[str, Any]:
    """Deployment NAME of ``app``/``process``; ``status`` overrides keys of the complete one."""
    labels = {"app": app, "process": process}
    if containers is None:
        containers = [
            container(
                tag=tag,
                readiness=probe(),
                liveness=probe("/livez", failureThreshold=6),
                requests={"cpu": "100m", "memory": "128Mi"},
                env=[{"name": "PROCESS_TYPE", "value": process}],
            )
        ]
    st = {
        "observedGeneration": generation if observed is None else observed,
        "replicas": replicas,
        "updatedReplicas": replicas,
        "readyReplicas": replicas,
        "availableReplicas": replicas,
        "conditions": rollout_conditions(available, progressing, progress_at=progress_at),
    }
    st.update(status or {})
    spec: dict[str, Any] = {
        "replicas": replicas,
        "selector": {"matchLabels": dict(labels)},
        "template": pod_template(dict(labels), containers, termination_grace),
        "strategy": strategy
        if strategy is not None
        else {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
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
            "namespace": namespace,
            "uid": uid,
            "generation": generation,
            "resourceVersion": resource_version,
            "creationTimestamp": ts(created),
            "labels": dict(labels),
            "annotations": {"deployment.kubernetes.io/revision": str(revision), **(annotations or {})},
        },
        "spec": spec,
        "status": st,
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
    created: float = -3600,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The ReplicaSet TEMPLATE_HASH of ``deploy`` at ``revision``, running image ``tag``; ``ready``
    and ``available`` (default: ``ready``) replicas default to ``replicas``."""
    template = copy.deepcopy(deploy["spec"]["template"])
    template["metadata"]["labels"]["pod-template-hash"] = template_hash
    for c in template["spec"]["containers"]:
        c["image"] = f"{IMAGE}:{tag}"
    name = f"{deploy['metadata']['name']}-{template_hash}"
    status_ready = replicas if ready is None else ready
    return {
        "kind": "ReplicaSet",
        "apiVersion": "apps/v1",
        "metadata": {
            "name": name,
            "namespace": deploy["metadata"]["namespace"],
            "uid": f"rs-uid-{template_hash}",
            "creationTimestamp": ts(created),
            "labels": {**template["metadata"]["labels"]},
            "annotations": {
                "deployment.kubernetes.io/revision": str(revision),
                "deployment.kubernetes.io/desired-replicas": str(deploy["spec"]["replicas"]),
                "deployment.kubernetes.io/max-replicas": str(deploy["spec"]["replicas"] + 1),
                **(annotations or {}),
            },
            "ownerReferences": controller_ref(
                "Deployment", deploy["metadata"]["name"], deploy["metadata"]["uid"]
            ),
        },
        "spec": {
            "replicas": replicas,
            "selector": {
                "matchLabels": {
                    **deploy["spec"]["selector"]["matchLabels"],
                    "pod-template-hash": template_hash,
                }
            },
            "template": template,
        },
        "status": {
            "replicas": replicas,
            "fullyLabeledReplicas": replicas,
            "readyReplicas": status_ready,
            "availableReplicas": status_ready if available is None else available,
            "observedGeneration": 1,
        },
    }


STALLED_MESSAGE = 'ReplicaSet "trace-api-web-6b7f4d9c8" has timed out progressing.'


def stalled_deployment() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """trace-api-web past its progress deadline rolling out badc0de, and its ReplicaSets: the new
    one (6b7f4d9c8, its one pod not ready) and the old one (7d9f8c6b5, three ready)."""
    d = deployment(
        tag="badc0de",
        revision=5,
        progressing=("False", "ProgressDeadlineExceeded", STALLED_MESSAGE),
        status={"replicas": 4, "updatedReplicas": 1, "readyReplicas": 3, "availableReplicas": 3},
    )
    new = replicaset(d, "6b7f4d9c8", revision=5, tag="badc0de", replicas=1, ready=0, available=0)
    old = replicaset(d, "7d9f8c6b5", revision=4, tag="3f9c2a1", replicas=3)
    return d, [new, old]


# -- manifests to create in the sandbox -----------------------------------------------------


def namespace(name: str) -> dict[str, Any]:
    """A Namespace manifest."""
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def deployment_manifest(
    name: str,
    namespace: str,
    labels: dict[str, str],
    containers: list[dict[str, Any]],
    *,
    replicas: int = 1,
    annotations: dict[str, str] | None = None,
    pod_labels: dict[str, str] | None = None,
    deployment_spec: dict[str, Any] | None = None,
    **pod_spec: Any,
) -> dict[str, Any]:
    """A Deployment body as a client sends it: ``labels`` on it and as its selector, ``pod_labels``
    (default ``labels``) on its pods; each a copy of its own. ``deployment_spec``: more Deployment
    spec fields (strategy, progressDeadlineSeconds); ``pod_spec``: more pod spec fields."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": dict(labels),
            "annotations": annotations or {},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(labels)},
            "template": {
                "metadata": {"labels": dict(labels if pod_labels is None else pod_labels)},
                "spec": {**pod_spec, "containers": containers},
            },
            **(deployment_spec or {}),
        },
    }


def process_container(process: str = "web", tag: str = "3f9c2a1", **fields: Any) -> dict[str, Any]:
    """A container of the sandbox's trace-api image running ``process`` (env PROCESS_TYPE)."""
    return {
        "name": process,
        "image": f"{IMAGE}:{tag}",
        "env": [{"name": "PROCESS_TYPE", "value": process}],
        **fields,
    }


def job_manifest(name: str, namespace: str, container: dict[str, Any], **spec: Any) -> dict[str, Any]:
    """A Job whose one container ``c`` runs ``container``'s fields (image, command…), never
    restarted. ``spec``: more Job spec fields (backoffLimit, completions, suspend…)."""
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            **spec,
            "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", **container}]}},
        },
    }


def app_deployment(ns: str, name: str, replicas: int, process: str = "worker") -> dict[str, Any]:
    """A Deployment of the sandbox's trace-api image running one process (labels app, process)."""
    return deployment_manifest(
        name,
        ns,
        {"app": name},
        [process_container(process)],
        replicas=replicas,
        pod_labels={"app": name, "process": process},
    )


# -- the sandbox's generated log lines ------------------------------------------------------

_SEQ = re.compile(r'(?:"seq":(\d+)\}|\sseq=(\d+))$')


def seq_of(text: str) -> int | None:
    """The per-instance sequence number that ends a sandbox log line (JSON or plain); None if none."""
    match = _SEQ.search(text)
    return int(match.group(1) or match.group(2)) if match else None
