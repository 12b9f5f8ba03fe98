"""Deployments of app trace-api with their ReplicaSets (the revision history), pods and events,
for deploy, history, rollback and the shutdown checks. Built from ``tests.factories``.
"""

from __future__ import annotations

from typing import Any

from tests import factories
from tests.factories import NOW as NOW  # re-exported: the tests import it from here
from tests.factories import container, probe

REPO = factories.IMAGE  # the image repository of every process


def containers(process: str, tag: str, *, env: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The one container of a process: named after it, readiness on port 3000, no preStop hook."""
    env = env if env is not None else [{"name": "PROCESS_TYPE", "value": process}]
    readiness = probe(port=3000, periodSeconds=5)
    return [container(process, tag, readiness=readiness, env=env, prestop=False, ports=False)]


def deployment(
    process: str = "web",
    tag: str = "3f9c2a1",
    *,
    namespace: str = "production",
    revision: int = 2,
    generation: int = 4,
    rv: str = "1000",
    cause: str | None = "deploy 3f9c2a1",
    env: list[dict[str, Any]] | None = None,
    extra: list | None = None,
    status: dict[str, Any] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Deployment trace-api-PROCESS; ``status`` replaces the complete one. ``fields``: more of
    ``tests.factories.deployment``'s keywords (replicas, paused)."""
    d = factories.deployment(
        f"trace-api-{process}",
        namespace=namespace,
        uid=f"uid-{namespace}-{process}",
        tag=tag,
        revision=revision,
        generation=generation,
        containers=containers(process, tag, env=env) + (extra or []),
        process=process,
        annotations=None if cause is None else {"kubernetes.io/change-cause": cause},
        resource_version=rv,
        created=-86400 * 20,
        **fields,
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
    return factories.replicaset(
        deploy,
        hash_,
        revision=revision,
        tag=tag,
        replicas=replicas,
        ready=ready,
        created=-age,
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
    last = None if last_exit is None else factories.terminated(last_exit, "Error", started=-30, finished=-20)
    return factories.replicaset_pod(
        rs,
        suffix,
        ready=ready,
        waiting_reason=waiting,
        waiting_message=f"{waiting} for test",
        restarts=restarts,
        last=last,
        started=-60,
        uid=f"pod-{suffix}",
        created=-120,
        node="node-1",
    )


def event(
    obj: dict[str, Any], reason: str, message: str, *, type_: str = "Warning", count: int = 1, at: float = -5
) -> dict:
    """Event ``reason`` about ``obj`` (a pod's: its first container), ``count`` times up to ``at``."""
    meta = obj["metadata"]
    return factories.event(
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
