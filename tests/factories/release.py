"""Deployments of app trace-api with their ReplicaSets (the revision history), pods and events,
for deploy, history, rollback and the shutdown checks. Built from ``tests.factories.objects``.
"""

from __future__ import annotations

from typing import Any

from tests.factories import objects
from tests.factories.objects import IMAGE as REPO
from tests.factories.objects import NOW as NOW  # re-exported: the tests import it from here
from tests.factories.objects import probe


def containers(process: str, tag: str, *, env: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The one container of a process: named after it, readiness on port 3000."""
    return [
        {
            "name": process,
            "image": f"{REPO}:{tag}",
            "env": env if env is not None else [{"name": "PROCESS_TYPE", "value": process}],
            "resources": {},
            "readinessProbe": probe(port=3000, periodSeconds=5),
        }
    ]


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
    """Deployment trace-api-PROCESS; ``status`` replaces the complete one."""
    d = objects.deployment(
        f"trace-api-{process}",
        namespace=namespace,
        uid=f"uid-{namespace}-{process}",
        tag=tag,
        replicas=replicas,
        revision=revision,
        generation=generation,
        paused=paused,
        containers=containers(process, tag, env=env) + (extra or []),
        process=process,
        annotations=None if cause is None else {"kubernetes.io/change-cause": cause},
        resource_version=rv,
        created=-86400 * 20,
    )
    if status is not None:
        d["status"] = status
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
) -> dict[str, Any]:
    """The ReplicaSet HASH_ of ``deploy`` at ``revision``: its template with image ``tag``."""
    return objects.replicaset(
        deploy,
        hash_,
        revision=revision,
        tag=tag,
        replicas=replicas,
        ready=ready,
        available=ready,
        created=-age,
        uid=f"rs-{hash_}",
        annotations=None if cause is None else {"kubernetes.io/change-cause": cause},
    )


def pod(
    rs: dict[str, Any],
    suffix: str,
    *,
    ready: bool = True,
    waiting: str | None = None,
    restarts: int = 0,
    last_exit: int | None = None,
) -> dict[str, Any]:
    """Pod RS-SUFFIX: running (``ready``), or waiting with reason ``waiting``."""
    name = rs["spec"]["template"]["spec"]["containers"][0]["name"]
    tag = rs["spec"]["template"]["spec"]["containers"][0]["image"].rsplit(":", 1)[1]
    last = None if last_exit is None else objects.terminated(last_exit, "Error", started=-30, finished=-20)
    status = (
        objects.waiting(
            name, tag, reason=waiting, message=f"{waiting} for test", restarts=restarts, last=last
        )
        if waiting
        else objects.running(name, tag, ready=ready, started=-60, restarts=restarts, last=last)
    )
    return objects.replicaset_pod(
        rs,
        suffix,
        status,
        uid=f"pod-{suffix}",
        phase="Pending" if waiting == "ContainerCreating" else "Running",
        ready=ready,
        created=-120,
        node="node-1",
    )


def event(
    obj: dict[str, Any], reason: str, message: str, *, type_: str = "Warning", count: int = 1, at: float = -5
) -> dict:
    """Event ``reason`` about ``obj`` (a pod's: its first container), ``count`` times up to ``at``."""
    meta = obj["metadata"]
    return objects.event(
        reason,
        message,
        kind=obj["kind"],
        name=meta["name"],
        namespace=meta["namespace"],
        uid=meta.get("uid", ""),
        type=type_,
        count=count,
        first=at - 10 * (count - 1),
        last=at,
        container=obj["spec"].get("containers", [{}])[0].get("name", "") if obj["kind"] == "Pod" else None,
    )
