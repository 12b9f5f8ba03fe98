"""The sandbox's control plane: Deployment, ReplicaSet, scheduler, garbage collector.

They follow kube-controller-manager's logic closely (``pkg/controller/deployment``,
``replicaset``, ``garbagecollector``) so that the real ``kubectl rollout`` commands see
what they expect. They share a ``Context``: the store, the event recorder, the work
queues, the owner index and the timers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubectl_trace.sandbox.controllers.queue import OwnerIndex, Reconciler
from kubectl_trace.sandbox.recorder import EventRecorder
from kubectl_trace.sandbox.store import Store
from kubectl_trace.sandbox.timescale import Scheduler, TimeScale

__all__ = ["Context"]


@dataclass
class Context:
    """What every controller works with."""

    store: Store
    recorder: EventRecorder
    queue: Reconciler
    index: OwnerIndex
    timers: Scheduler
    scale: TimeScale
    clock: Callable[[], float] = field(default=time.time)
    # pod uid → epoch seconds its Ready condition last became True (more precise than the
    # condition's seconds-precision time; the kubelet fills it)
    ready_since: dict[str, float] = field(default_factory=dict)

    def controlled(self, owner: dict[str, Any], resource: str) -> list[dict[str, Any]]:
        """The objects of ``resource`` that ``owner`` controls, as stored now."""
        found = (
            self.store.try_get(resource, ns, name)
            for _, ns, name in self.index.dependents(owner["metadata"]["uid"], resource, controlled=True)
        )
        return [obj for obj in found if obj is not None]
