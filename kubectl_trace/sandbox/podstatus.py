"""A pod's status as the kubelet reports it, built from its containers' slots and runs.

``pod_status`` writes the phase, the conditions (with their transition times, which
``Conditions`` remembers between reports), the addresses and the container statuses
(``state``, ``lastState.terminated``, ``restartCount``, image and container IDs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from kubectl_trace.sandbox.podslots import NodeInfo, Run, Slot
from kubectl_trace.sandbox.store import rfc3339

__all__ = ["Conditions", "PodView", "container_status", "phase", "pod_status", "terminated"]

Obj = dict[str, Any]


class PodView(Protocol):
    """What the status is made of: one pod worker's state."""

    init_slots: list[Slot]
    slots: list[Slot]
    restart_policy: str
    sandbox_ready: bool  # the pod sandbox (and its network) is up
    finalized: bool  # every container has stopped after deletion
    node: NodeInfo
    pod_ip: str
    start_wall: float


class Conditions:
    """The pod conditions, each keeping its transition time while its status stays."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.last: dict[str, tuple[str, str]] = {}

    def condition(self, type_: str, ok: bool, reason: str | None = None, message: str | None = None) -> Obj:
        """The condition ``type_`` now; ``reason`` and ``message`` say why it is False."""
        status = "True" if ok else "False"
        now = rfc3339(self.clock())
        previous = self.last.get(type_)
        when = previous[1] if previous is not None and previous[0] == status else now
        self.last[type_] = (status, when)
        cond: Obj = {"type": type_, "status": status, "lastProbeTime": None, "lastTransitionTime": when}
        if not ok and reason:
            cond["reason"] = reason
            if message:
                cond["message"] = message
        return cond


def terminated(run: Run) -> Obj:
    """A finished run as ``state.terminated``."""
    state: Obj = {
        "exitCode": int(run.exit_code if run.exit_code is not None else 0),
        "reason": run.reason or "Completed",
        "startedAt": rfc3339(run.started_wall),
        "finishedAt": rfc3339(run.finished_wall or run.started_wall),
        "containerID": f"containerd://{run.container_id}",
    }
    if run.message:
        state["message"] = run.message
    return state


def container_status(slot: Slot) -> Obj:
    """One entry of ``containerStatuses`` (or ``initContainerStatuses``)."""
    run = slot.current
    previous = slot.runs[0] if len(slot.runs) == 2 else None
    image = str(slot.spec.get("image", ""))
    status: Obj = {"name": slot.name, "state": {}, "lastState": {}, "ready": bool(slot.ready)}
    if slot.state == "running" and run is not None:
        status["state"] = {"running": {"startedAt": rfc3339(run.started_wall)}}
        if previous is not None:
            status["lastState"] = {"terminated": terminated(previous)}
    elif slot.state == "terminated" and run is not None:
        status["state"] = {"terminated": terminated(run)}
        if previous is not None:
            status["lastState"] = {"terminated": terminated(previous)}
    else:
        waiting: Obj = {"reason": slot.reason or "ContainerCreating"}
        if slot.message:
            waiting["message"] = slot.message
        status["state"] = {"waiting": waiting}
        if run is not None and run.finished:
            status["lastState"] = {"terminated": terminated(run)}
    status["restartCount"] = slot.restart_count
    if run is not None:
        status["image"] = run.profile.ref.canonical
        status["imageID"] = run.profile.image_id
        status["containerID"] = f"containerd://{run.container_id}"
    else:
        status["image"] = image
        status["imageID"] = ""
    status["started"] = bool(slot.state == "running" and slot.started)
    return status


def phase(view: PodView) -> str:
    """The pod phase from its containers and its restart policy."""
    slots = view.slots
    if view.finalized:
        runs = [s.current for s in slots if s.current is not None]
        if runs and all(r.exit_code == 0 for r in runs):
            return "Succeeded"
        return "Failed" if runs else "Pending"
    if any(not s.done for s in view.init_slots):
        init_failed = any(
            s.state == "terminated" and s.current is not None and bool(s.current.exit_code)
            for s in view.init_slots
        )
        return "Failed" if init_failed and view.restart_policy == "Never" else "Pending"
    running = stopped = waiting = failed = 0
    for slot in slots:
        if slot.state == "running":
            running += 1
        elif slot.state == "terminated" or (slot.state == "waiting" and slot.current is not None):
            stopped += 1
            if slot.current is not None and slot.current.exit_code:
                failed += 1
        else:
            waiting += 1
    if waiting == len(slots) or (waiting and not running and not stopped):
        return "Pending"
    if running > 0:
        return "Running"
    if stopped > 0:
        if view.restart_policy == "Always":
            return "Running"
        if view.restart_policy == "OnFailure" and failed:
            return "Running"
        return "Failed" if failed else "Succeeded"
    return "Pending"


def pod_status(pod: Obj, view: PodView, memory: Conditions) -> Obj:
    """The status of ``pod`` as the kubelet reports it now."""
    initialized = all(s.done for s in view.init_slots)
    not_ready = [s.name for s in view.slots if not s.ready]
    containers_ready = not not_ready and initialized
    ready_msg = f"containers with unready status: [{' '.join(not_ready)}]"
    init_pending = [s.name for s in view.init_slots if not s.done]
    incomplete = f"containers with incomplete status: [{' '.join(init_pending)}]"
    conds = [
        memory.condition("PodReadyToStartContainers", view.sandbox_ready and not view.finalized),
        memory.condition(
            "Initialized",
            initialized,
            "ContainersNotInitialized",
            incomplete,
        ),
        memory.condition("Ready", containers_ready, "ContainersNotReady", ready_msg),
        memory.condition("ContainersReady", containers_ready, "ContainersNotReady", ready_msg),
    ]
    if not initialized:
        conds[2]["reason"] = conds[3]["reason"] = "ContainersNotInitialized"
        conds[2]["message"] = conds[3]["message"] = incomplete
    old = pod.get("status") or {}
    scheduled = next((c for c in old.get("conditions") or [] if c.get("type") == "PodScheduled"), None)
    conds.append(
        scheduled
        or {
            "type": "PodScheduled",
            "status": "True",
            "lastProbeTime": None,
            "lastTransitionTime": rfc3339(view.start_wall),
        }
    )
    status: Obj = {
        "observedGeneration": pod["metadata"].get("generation", 1),
        "phase": phase(view),
        "conditions": conds,
        "hostIP": view.node.host_ip,
        "hostIPs": [{"ip": view.node.host_ip}],
    }
    if view.sandbox_ready or view.finalized:  # the pod network comes with the sandbox
        status["podIP"] = view.pod_ip
        status["podIPs"] = [{"ip": view.pod_ip}]
    status["startTime"] = rfc3339(view.start_wall)
    if view.init_slots:
        status["initContainerStatuses"] = [container_status(s) for s in view.init_slots]
    status["containerStatuses"] = [container_status(s) for s in view.slots]
    status["qosClass"] = old.get("qosClass") or "BestEffort"
    return status


def containers_ready(view: PodView) -> bool:
    """Every init container is done and every container ready."""
    return all(s.done for s in view.init_slots) and all(s.ready for s in view.slots)
