"""The scheduler: binds pending pods to the sandbox nodes.

Picks the node with the fewest pods among those whose labels satisfy the pod's
``nodeSelector``; records ``Scheduled`` (``Successfully assigned ns/pod to node``) or,
when no node fits, ``FailedScheduling`` with the pod's ``PodScheduled`` condition False
``Unschedulable``, as kube-scheduler does.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from kubectl_trace.sandbox.controllers import Context
from kubectl_trace.sandbox.recorder import EventSource
from kubectl_trace.sandbox.store import StoreError, rfc3339

__all__ = ["PodScheduler"]

Obj = dict[str, Any]

_SOURCE = EventSource("default-scheduler")


class PodScheduler:
    """Queue ``scheduler``; keys ``(namespace, name)`` of pods without a node."""

    QUEUE = "scheduler"

    def __init__(self, ctx: Context, nodes: list[str]) -> None:
        self.ctx = ctx
        self.nodes = nodes
        self.load: Counter[str] = Counter()
        self._failed: set[str] = set()

    def wants(self, pod: Obj) -> bool:
        """Whether a pod waits for this scheduler."""
        spec = pod.get("spec") or {}
        return (
            not spec.get("nodeName")
            and not pod["metadata"].get("deletionTimestamp")
            and spec.get("schedulerName", "default-scheduler") == "default-scheduler"
            and (pod.get("status") or {}).get("phase", "Pending") == "Pending"
        )

    def sync(self, key: tuple[str, str]) -> None:
        """Try to bind one pod."""
        ns, name = key
        store = self.ctx.store
        pod = store.try_get("pods", ns, name)
        if pod is None or not self.wants(pod):
            return
        selector = (pod.get("spec") or {}).get("nodeSelector") or {}
        fits = []
        for node_name in self.nodes:
            node = store.try_get("nodes", None, node_name)
            if node is None:
                continue
            labels = node["metadata"].get("labels") or {}
            if all(labels.get(k) == v for k, v in selector.items()):
                fits.append(node_name)
        now = rfc3339(self.ctx.clock())
        if not fits:
            total = len(self.nodes)
            message = (
                f"0/{total} nodes are available: {total} node(s) didn't match Pod's node "
                "affinity/selector. "
                f"preemption: 0/{total} nodes are available: {total} Preemption is not helpful "
                "for scheduling."
            )
            uid = pod["metadata"]["uid"]

            def unschedulable(draft: Obj) -> None:
                status = draft.setdefault("status", {})
                conditions = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
                old = next(
                    (c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"), None
                )
                conditions.append(
                    {
                        "type": "PodScheduled",
                        "status": "False",
                        "lastProbeTime": None,
                        "lastTransitionTime": old.get("lastTransitionTime", now) if old else now,
                        "reason": "Unschedulable",
                        "message": message,
                    }
                )
                status["conditions"] = conditions

            store.mutate("pods", ns, name, unschedulable)
            self.ctx.recorder.record(pod, "Warning", "FailedScheduling", message, _SOURCE)
            if uid not in self._failed:
                self._failed.add(uid)
            # kube-scheduler retries unschedulable pods periodically
            self.ctx.timers.after(30.0, lambda: self.ctx.queue.enqueue(self.QUEUE, key))
            return
        node_name = min(fits, key=lambda n: (self.load[n], self.nodes.index(n)))
        self.load[node_name] += 1

        def bind(draft: Obj) -> None:
            draft["spec"]["nodeName"] = node_name
            status = draft.setdefault("status", {})
            conditions = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
            conditions.append(
                {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": now}
            )
            status["conditions"] = conditions

        try:
            bound = store.mutate("pods", ns, name, bind)
        except StoreError:
            return
        self._failed.discard(pod["metadata"]["uid"])
        self.ctx.recorder.record(
            bound,
            "Normal",
            "Scheduled",
            f"Successfully assigned {ns}/{name} to {node_name}",
            _SOURCE,
        )

    def forget(self, pod: Obj) -> None:
        """A pod left its node."""
        node = (pod.get("spec") or {}).get("nodeName")
        if node and self.load[node] > 0:
            self.load[node] -= 1
