"""The status of a Deployment: replica counts and the Available / Progressing conditions.

After ``deployment_util.go`` and ``sync.go`` (``calculateStatus``). Pure: the time of a new
condition is passed in (``now``, RFC 3339), so the controller's simulated clock stays its own.
"""

from __future__ import annotations

import copy
from typing import Any

from kubectl_trace.sandbox.controllers.deployment_rollout import max_unavailable, replicas_of, status_count

__all__ = [
    "calculate_status",
    "deployment_complete",
    "deployment_progressing",
    "get_condition",
    "new_condition",
    "remove_condition",
    "set_condition",
]

Obj = dict[str, Any]


def deployment_complete(d: Obj, status: Obj) -> bool:
    """``DeploymentComplete``."""
    want = replicas_of(d)
    return (
        int(status.get("updatedReplicas") or 0) == want
        and int(status.get("replicas") or 0) == want
        and int(status.get("availableReplicas") or 0) == want
        and int(status.get("observedGeneration") or 0) >= int(d["metadata"].get("generation") or 1)
    )


def deployment_progressing(d: Obj, new: Obj) -> bool:
    """``DeploymentProgressing``: any sign of progress since the stored status."""
    old = d.get("status") or {}

    def g(s: Obj, f: str) -> int:
        return int(s.get(f) or 0)

    old_old = g(old, "replicas") - g(old, "updatedReplicas")
    new_old = g(new, "replicas") - g(new, "updatedReplicas")
    return (
        g(new, "updatedReplicas") > g(old, "updatedReplicas")
        or new_old < old_old
        or g(new, "readyReplicas") > g(old, "readyReplicas")
        or g(new, "availableReplicas") > g(old, "availableReplicas")
    )


def get_condition(status: Obj, type_: str) -> Obj | None:
    """A condition by type."""
    conditions: list[Obj] = status.get("conditions") or []
    for cond in conditions:
        if cond.get("type") == type_:
            return cond
    return None


def set_condition(status: Obj, cond: Obj) -> None:
    """``SetDeploymentCondition``.

    Same status and reason → no change; same status → keep lastTransitionTime; the
    condition moves to the end of the list.
    """
    current = get_condition(status, cond["type"])
    if (
        current is not None
        and current.get("status") == cond["status"]
        and current.get("reason") == cond["reason"]
    ):
        return
    if current is not None and current.get("status") == cond["status"]:
        cond["lastTransitionTime"] = current.get("lastTransitionTime", cond["lastTransitionTime"])
    status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != cond["type"]] + [
        cond
    ]


def remove_condition(status: Obj, type_: str) -> None:
    """Drop a condition."""
    status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != type_]
    if not status["conditions"]:
        del status["conditions"]


def new_condition(type_: str, status: str, reason: str, message: str, now: str) -> Obj:
    """A condition that changes (or is first set) at ``now``."""
    return {
        "type": type_,
        "status": status,
        "lastUpdateTime": now,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }


def calculate_status(d: Obj, all_rss: list[Obj | None], new_rs: Obj | None, now: str) -> Obj:
    """``calculateStatus``: the counts over the ReplicaSets and the Available condition."""
    rss = [rs for rs in all_rss if rs is not None]
    available = sum(status_count(rs, "availableReplicas") for rs in rss)
    total = sum(replicas_of(rs) for rs in rss)
    status: Obj = {"observedGeneration": d["metadata"].get("generation", 1)}
    counts = {
        "replicas": sum(status_count(rs, "replicas") for rs in rss),
        "updatedReplicas": status_count(new_rs, "replicas"),
        "readyReplicas": sum(status_count(rs, "readyReplicas") for rs in rss),
        "availableReplicas": available,
        "unavailableReplicas": max(0, total - available),
    }
    status.update({k: v for k, v in counts.items() if v})
    status["terminatingReplicas"] = sum(status_count(rs, "terminatingReplicas") for rs in rss)
    conditions = copy.deepcopy((d.get("status") or {}).get("conditions") or [])
    if conditions:
        status["conditions"] = conditions
    if d["status"].get("collisionCount") is not None:
        status["collisionCount"] = d["status"]["collisionCount"]
    if available >= replicas_of(d) - max_unavailable(d):
        cond = new_condition(
            "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", now
        )
    else:
        cond = new_condition(
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
            now,
        )
    set_condition(status, cond)
    return status
