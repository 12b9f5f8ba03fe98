"""The ReplicaSet controller (after ``pkg/controller/replicaset/replica_set.go``).

Keeps ``spec.replicas`` active pods (not terminal, not being deleted) owned by each
ReplicaSet: creates pods from the template (``<rs>-xxxxx``, owner reference, events
``SuccessfulCreate``), deletes the least valuable ones gracefully when there are too
many (unscheduled < pending < not ready < ready, newer first; ``SuccessfulDelete``), and
reports ``status.replicas / fullyLabeledReplicas / readyReplicas / availableReplicas /
terminatingReplicas / observedGeneration``.
"""

from __future__ import annotations

from typing import Any

from kubectl_trace.sandbox.controllers import Context
from kubectl_trace.sandbox.controllers.pods import create_pod, delete_pod
from kubectl_trace.sandbox.controllers.util import (
    controller_of,
    is_pod_active,
    is_pod_ready,
    is_pod_terminating,
    ready_condition,
)
from kubectl_trace.sandbox.recorder import EventSource

__all__ = ["ReplicaSetController"]

Obj = dict[str, Any]

_SOURCE = EventSource("replicaset-controller")
Key = tuple[str, str]

_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


class ReplicaSetController:
    """Reconciles ReplicaSets; queue ``replicasets`` with keys ``(namespace, name)``."""

    QUEUE = "replicasets"

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._requeue: dict[Key, Any] = {}

    # -- reading --------------------------------------------------------------------------

    def pods_of(self, rs: Obj) -> list[Obj]:
        """Pods this ReplicaSet controls."""
        return self.ctx.controlled(rs, "pods")

    def ready_since(self, pod: Obj) -> float | None:
        """When the pod last became ready (precise when the kubelet knows)."""
        uid = pod["metadata"].get("uid", "")
        if uid in self.ctx.ready_since:
            return self.ctx.ready_since[uid]
        cond = ready_condition(pod)
        if cond and cond.get("lastTransitionTime"):
            from kubectl_trace.timeparse import parse_rfc3339

            try:
                return parse_rfc3339(cond["lastTransitionTime"])
            except ValueError:
                return None
        return None

    def is_available(self, pod: Obj, min_ready: int, now: float) -> bool:
        """``podutil.IsPodAvailable`` with minReadySeconds on the simulated clock."""
        if not is_pod_ready(pod):
            return False
        if min_ready <= 0:
            return True
        since = self.ready_since(pod)
        return since is not None and since + self.ctx.scale.real(min_ready) <= now

    # -- syncing --------------------------------------------------------------------------

    def sync(self, key: Key) -> None:
        """Reconcile one ReplicaSet."""
        ns, name = key
        store = self.ctx.store
        rs = store.try_get("replicasets", ns, name)
        if rs is None:
            return
        pods = self.pods_of(rs)
        active = [p for p in pods if is_pod_active(p)]
        if not rs["metadata"].get("deletionTimestamp") and self._manage(rs, active):
            rs = store.try_get("replicasets", ns, name)
            if rs is None:
                return
            pods = self.pods_of(rs)
            active = [p for p in pods if is_pod_active(p)]
        self._update_status(rs, pods, active)

    def _manage(self, rs: Obj, active: list[Obj]) -> bool:
        want = int(rs["spec"].get("replicas", 1) if rs["spec"].get("replicas") is not None else 1)
        diff = len(active) - want
        if diff < 0:
            for _ in range(-diff):
                create_pod(self.ctx, rs, rs["spec"].get("template") or {}, _SOURCE)
            return True
        if diff > 0:
            for pod in self._pods_to_delete(active, diff):
                delete_pod(self.ctx, rs, pod, _SOURCE)
            return True
        return False

    def _pods_to_delete(self, active: list[Obj], count: int) -> list[Obj]:
        """``controller.ActivePods`` order: the first ones are the cheapest to lose."""
        now = self.ctx.clock()

        def rank(pod: Obj) -> tuple[Any, ...]:
            status = pod.get("status") or {}
            ready = is_pod_ready(pod)
            since = self.ready_since(pod) if ready else None
            restarts = sum(int(c.get("restartCount", 0)) for c in status.get("containerStatuses") or [])
            return (
                1 if (pod.get("spec") or {}).get("nodeName") else 0,
                _PHASE_RANK.get(status.get("phase", "Pending"), 0),
                1 if ready else 0,
                -(since or now),  # ready for less time first
                -restarts,
                -_created(pod),  # newer first
            )

        return sorted(active, key=rank)[:count]

    def _update_status(self, rs: Obj, pods: list[Obj], active: list[Obj]) -> None:
        now = self.ctx.clock()
        min_ready = int(rs["spec"].get("minReadySeconds") or 0)
        template_labels = ((rs["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {}
        fully = sum(
            1
            for p in active
            if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in template_labels.items())
        )
        ready = sum(1 for p in active if is_pod_ready(p))
        available = 0
        wake: float | None = None
        for p in active:
            if self.is_available(p, min_ready, now):
                available += 1
            elif is_pod_ready(p) and min_ready > 0:
                since = self.ready_since(p)
                if since is not None:
                    due = since + self.ctx.scale.real(min_ready)
                    wake = due if wake is None else min(wake, due)
        terminating = sum(1 for p in pods if is_pod_terminating(p))
        status: Obj = {"replicas": len(active)}
        if fully:
            status["fullyLabeledReplicas"] = fully
        if ready:
            status["readyReplicas"] = ready
        if available:
            status["availableReplicas"] = available
        status["terminatingReplicas"] = terminating
        status["observedGeneration"] = rs["metadata"].get("generation", 1)
        conditions = (rs.get("status") or {}).get("conditions")
        if conditions:
            status["conditions"] = conditions
        if rs.get("status") != status:
            ns, name = rs["metadata"]["namespace"], rs["metadata"]["name"]
            self.ctx.store.set_status("replicasets", ns, name, status)
        if wake is not None:
            key = (rs["metadata"]["namespace"], rs["metadata"]["name"])
            self.ctx.timers.after_real(
                max(0.0, wake - now) + 0.001, lambda: self.ctx.queue.enqueue(self.QUEUE, key)
            )


def _created(obj: Obj) -> float:
    from kubectl_trace.timeparse import parse_rfc3339

    text = obj["metadata"].get("creationTimestamp")
    try:
        return parse_rfc3339(text) if text else 0.0
    except ValueError:
        return 0.0


def owning_replicaset(pod: Obj) -> tuple[str, str] | None:
    """The (namespace, name) of the ReplicaSet controlling a pod."""
    ref = controller_of(pod)
    if ref and ref.get("kind") == "ReplicaSet":
        return pod["metadata"].get("namespace", ""), ref.get("name", "")
    return None
