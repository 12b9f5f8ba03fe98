"""A namespace mid-rollout, as the dashboard watches it: Deployments, ReplicaSets, pods, events.

Built from ``tests.factories``; every object gets its own resourceVersion, as from one
API server.
"""

from __future__ import annotations

import itertools
from typing import Any

from tests import factories
from tests.factories import IMAGE, container, probe, replicaset
from tests.factories import NOW as NOW  # re-exported: the tests import it from here
from tests.factories import READINESS_503 as READINESS_503  # re-exported: the tests import it from here

NS = "production"

_seq = itertools.count(1)


def _resource_version() -> str:
    return str(next(_seq) + 1000)


def deployment(
    name: str = "trace-api-web",
    *,
    tag: str = "3f9c2a1",
    replicas: int = 3,
    generation: int = 4,
    updated: int | None = None,
    ready: int | None = None,
    available: int | None = None,
    current: int | None = None,
    progressing: tuple[str, str, str] | None = None,
    progress_at: float = -30,
    max_surge: Any = 1,
    max_unavailable: Any = 0,
    process: str = "web",
    **fields: Any,
) -> dict[str, Any]:
    """Deployment NAME with these replica counts (default all ``replicas``), surge 1, unavailable 0.

    ``fields``: more of ``tests.factories.deployment``'s keywords (revision, observed, paused, app)."""
    available_n = replicas if available is None else available
    env = [{"name": "PROCESS_TYPE", "value": process}]
    web = container(process, tag, readiness=probe(), liveness=probe(), env=env, prestop=False, ports=False)
    minimum = "True" if available_n >= replicas - (max_unavailable or 0) else "False"
    prog = progressing or (
        "True",
        "NewReplicaSetAvailable",
        f'ReplicaSet "{name}-hash" has successfully progressed.',
    )
    status = {
        "replicas": replicas if current is None else current,
        "updatedReplicas": replicas if updated is None else updated,
        "readyReplicas": replicas if ready is None else ready,
        "availableReplicas": available_n,
        "unavailableReplicas": max(0, replicas - available_n),
        "conditions": factories.rollout_conditions(
            (minimum, "MinimumReplicasAvailable"), prog, progress_at=progress_at, progress_since=progress_at
        ),
    }
    return factories.deployment(
        name,
        namespace=NS,
        uid=f"uid-{name}",
        tag=tag,
        replicas=replicas,
        generation=generation,
        status=status,
        strategy={
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": max_surge, "maxUnavailable": max_unavailable},
        },
        containers=[web],
        process=process,
        termination_grace=None,
        resource_version=_resource_version(),
        **fields,
    )


def pod(
    rs: dict[str, Any],
    suffix: str,
    *,
    created: float = -600,
    last_termination: tuple[str, int, float] | None = None,
    waiting: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Pod RS-SUFFIX, started 2 s after ``created``; ``last_termination``: (reason, exit code, when).
    ``fields``: more of ``tests.factories.replicaset_pod``'s keywords (ready, restarts, deleted)."""
    last = None
    if last_termination is not None:
        reason, code, finished = last_termination
        last = factories.terminated(code, reason, started=finished - 100, finished=finished)
    return factories.replicaset_pod(
        rs,
        suffix,
        waiting_reason=waiting,
        last=last,
        started=created + 2,
        created=created,
        resource_version=_resource_version(),
        **fields,
    )


def event(
    reason: str, message: str, *, name: str, kind: str = "Pod", uid: str | None = None, **fields: Any
) -> dict[str, Any]:
    """Event ``reason`` about NAME in production, from the kubelet (pods) or the deployment controller.
    ``fields``: more of ``tests.factories.event``'s keywords (type, count, first, last, container)."""
    return factories.event(
        reason,
        message,
        kind=kind,
        name=name,
        namespace=NS,
        uid=f"uid-{name}",
        component="kubelet" if kind == "Pod" else "deployment-controller",
        event_uid=uid,
        **fields,
    )


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
