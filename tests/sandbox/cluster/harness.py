"""Run the simulated cluster in process, on its own event loop, with a tiny time scale.

``run_cluster(scenario, **options)`` starts a ``SandboxCluster`` (demo fixture by default),
waits for it to settle, awaits ``scenario(sim)`` and stops it. ``Sim`` offers what the
scenarios need: ``await sim.wait(predicate)`` (``wait_until`` on the cluster's own loop),
store edits that bump the generation as the API server's PATCH does, and a recorder of every
store change so that invariants can be checked at every observed moment.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from kubectl_trace.sandbox.cluster import SandboxCluster, build_cluster
from kubectl_trace.sandbox.interfaces import SandboxOptions
from kubectl_trace.sandbox.store import Change

Obj = dict[str, Any]

API = "registry.sandbox.local/trace/trace-api"


class Sim:
    """A running cluster and helpers for one scenario."""

    def __init__(self, cluster: SandboxCluster) -> None:
        self.cluster = cluster
        self.store = cluster.store
        self.changes: list[Change] = []
        self._unsubscribe = self.store.subscribe(self.changes.append)

    async def wait(self, predicate: Callable[[], Any], timeout: float = 20.0, message: str = "") -> Any:
        """Poll ``predicate`` on the loop until it is truthy; AssertionError on timeout.

        ``wait_until`` of tests/conftest.py, for a scenario: it runs between two of the
        cluster's own steps on the one loop, so it sees every state that lasts a step (a
        thread polling from outside, tried here, missed a short ErrImagePull under load).
        """
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {message or predicate}")
            await asyncio.sleep(0.01)

    def edit(self, resource: str, namespace: str, name: str, fn: Callable[[Obj], None]) -> Obj:
        """Change an object's spec/metadata as a client's PATCH would (generation bumped)."""
        return self.store.mutate(resource, namespace, name, fn, bump_generation=True)

    def set_image(self, namespace: str, deployment: str, image: str, container: int = 0) -> Obj:
        """``kubectl set image``."""

        def change(d: Obj) -> None:
            d["spec"]["template"]["spec"]["containers"][container]["image"] = image

        return self.edit("deployments", namespace, deployment, change)

    def deployment(self, namespace: str, name: str) -> Obj:
        return self.store.get("deployments", namespace, name)

    def condition(self, namespace: str, name: str, type_: str) -> Obj | None:
        status = self.deployment(namespace, name).get("status") or {}
        return next((c for c in status.get("conditions") or [] if c["type"] == type_), None)

    def complete(self, namespace: str, name: str) -> bool:
        """What ``kubectl rollout status`` calls success."""
        d = self.deployment(namespace, name)
        s = d.get("status") or {}
        want = d["spec"]["replicas"]
        cond = self.condition(namespace, name, "Progressing")
        return (
            s.get("observedGeneration", 0) >= d["metadata"]["generation"]
            and s.get("updatedReplicas", 0) == want
            and s.get("replicas", 0) == want
            and s.get("availableReplicas", 0) == want
            and cond is not None
            and cond["reason"] == "NewReplicaSetAvailable"
        )

    def pods(self, namespace: str, **labels: str) -> list[Obj]:
        return [
            p
            for p in self.store.list("pods", namespace)
            if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in labels.items())
        ]

    def events(self, namespace: str, *, name: str | None = None, reason: str | None = None) -> list[Obj]:
        return [
            e
            for e in self.store.list("events", namespace)
            if (name is None or e["involvedObject"]["name"] == name)
            and (reason is None or e["reason"] == reason)
        ]

    def replicasets(self, namespace: str, deployment: str) -> list[Obj]:
        uid = self.deployment(namespace, deployment)["metadata"]["uid"]
        return [
            rs
            for rs in self.store.list("replicasets", namespace)
            if any(r.get("uid") == uid for r in rs["metadata"].get("ownerReferences") or [])
        ]

    def create(self, resource: str, obj: Obj) -> Obj:
        from kubectl_trace.sandbox.defaults import apply_defaults

        return self.store.create(resource, apply_defaults(resource, copy.deepcopy(obj)))

    def close(self) -> None:
        self._unsubscribe()


def run_cluster(scenario: Callable[[Sim], Awaitable[None]], *, settle: bool = True, **options: Any) -> None:
    """Run ``scenario`` against a fresh cluster (time scale 0.02 unless given)."""
    options.setdefault("time_scale", 0.02)
    options.setdefault("log_rate", 20.0)
    options.setdefault("containers", "simulated")  # these scenarios test the simulated containers

    async def main() -> None:
        cluster = build_cluster(SandboxOptions(**options))
        await cluster.start()
        sim = Sim(cluster)
        try:
            if settle:
                assert await cluster.settled(30), "the fixture did not settle"
            await scenario(sim)
            assert not cluster.errors, cluster.errors
        finally:
            sim.close()
            await cluster.stop()

    asyncio.run(main())


def is_ready(pod: Obj) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def validate(kind: str, obj: Obj) -> None:
    """Deserialize through the official client's models (strict pydantic); raises if invalid."""
    from kubernetes import client

    client.ApiClient().deserialize(json.dumps(obj), kind, "application/json")


def web_deployment(
    namespace: str,
    name: str,
    tag: str,
    *,
    replicas: int = 3,
    surge: Any = 1,
    unavailable: Any = 0,
    probes: bool = True,
    extra: Obj | None = None,
) -> Obj:
    """A trace-api web Deployment of our own."""
    container: Obj = {
        "name": "web",
        "image": f"{API}:{tag}",
        "env": [{"name": "PROCESS_TYPE", "value": "web"}, {"name": "PORT", "value": "3000"}],
        "ports": [{"name": "http", "containerPort": 3000}],
    }
    if probes:
        container["readinessProbe"] = {
            "httpGet": {"path": "/healthz", "port": "http"},
            "initialDelaySeconds": 2,
            "periodSeconds": 5,
            "failureThreshold": 3,
        }
        container["livenessProbe"] = {
            "httpGet": {"path": "/healthz", "port": "http"},
            "initialDelaySeconds": 15,
            "periodSeconds": 10,
            "failureThreshold": 6,
        }
    spec: Obj = {
        "replicas": replicas,
        "selector": {"matchLabels": {"app": name}},
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable},
        },
        "progressDeadlineSeconds": 60,
        "template": {
            "metadata": {"labels": {"app": name, "process": "web"}},
            "spec": {"containers": [container]},
        },
    }
    spec.update(extra or {})
    return {"metadata": {"name": name, "namespace": namespace}, "spec": spec}
