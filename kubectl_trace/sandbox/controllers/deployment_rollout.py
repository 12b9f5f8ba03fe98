"""The rollout arithmetic of a Deployment (pure; after ``deployment_util.go``).

How many pods a RollingUpdate may add (maxSurge) or take away (maxUnavailable), how big the
new ReplicaSet may grow, how a change of ``spec.replicas`` is spread over the ReplicaSets
(proportional scaling), and the orders in which ReplicaSets are considered.
"""

from __future__ import annotations

import math
from typing import Any

from kubectl_trace.sandbox.controllers.deployment_revisions import (
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    annotation_int,
)
from kubectl_trace.sandbox.controllers.util import int_or_percent

__all__ = [
    "created",
    "find_active_or_latest",
    "has_deadline",
    "is_rolling",
    "is_saturated",
    "max_surge",
    "max_unavailable",
    "new_rs_new_replicas",
    "newest_first",
    "proportion",
    "replicas_of",
    "resolve_fenceposts",
    "status_count",
]

Obj = dict[str, Any]


def replicas_of(obj: Obj | None) -> int:
    """``*spec.replicas`` (1 when unset)."""
    if obj is None:
        return 0
    value = (obj.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def status_count(obj: Obj | None, field: str) -> int:
    """An integer of ``obj``'s status (0 when unset)."""
    if obj is None:
        return 0
    return int((obj.get("status") or {}).get(field) or 0)


def is_rolling(d: Obj) -> bool:
    """The strategy is RollingUpdate (the default)."""
    return ((d["spec"].get("strategy") or {}).get("type") or "RollingUpdate") == "RollingUpdate"


def resolve_fenceposts(d: Obj) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) as absolute numbers; never both zero."""
    rolling = (d["spec"].get("strategy") or {}).get("rollingUpdate") or {}
    desired = replicas_of(d)
    surge = int_or_percent(rolling.get("maxSurge", "25%"), desired, round_up=True)
    unavailable = int_or_percent(rolling.get("maxUnavailable", "25%"), desired, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def max_surge(d: Obj) -> int:
    """``MaxSurge``: 0 unless RollingUpdate."""
    return resolve_fenceposts(d)[0] if is_rolling(d) else 0


def max_unavailable(d: Obj) -> int:
    """``MaxUnavailable``: 0 unless RollingUpdate with replicas; at most replicas."""
    if not is_rolling(d) or replicas_of(d) == 0:
        return 0
    return min(resolve_fenceposts(d)[1], replicas_of(d))


def has_deadline(d: Obj) -> bool:
    """``spec.progressDeadlineSeconds`` is set (and not the "never" value)."""
    value = d["spec"].get("progressDeadlineSeconds")
    return value is not None and int(value) != 2**31 - 1


def created(obj: Obj) -> tuple[str, str]:
    """Oldest first: by creation time, then name."""
    return (obj["metadata"].get("creationTimestamp", ""), obj["metadata"].get("name", ""))


def newest_first(rs: Obj) -> tuple[str, ...]:
    """Newest first: the creation order inverted (a sort key)."""
    ts, name = created(rs)
    return tuple(chr(0x10FFFF - ord(c)) for c in ts + name)


def new_rs_new_replicas(d: Obj, all_rss: list[Obj], new_rs: Obj) -> int:
    """``NewRSNewReplicas``.

    Counts the pods a ReplicaSet still has beyond its spec too, so that the surge bound
    also holds while an old ReplicaSet's extra pods are being deleted.
    """
    want = replicas_of(d)
    if not is_rolling(d):
        return want
    surge = int_or_percent(
        ((d["spec"].get("strategy") or {}).get("rollingUpdate") or {}).get("maxSurge", "25%"),
        want,
        round_up=True,
    )
    current = sum(max(replicas_of(rs), status_count(rs, "replicas")) for rs in all_rss if rs is not None)
    max_total = want + surge
    if current >= max_total:
        return replicas_of(new_rs)
    scale_up = min(max_total - current, want - replicas_of(new_rs))
    return replicas_of(new_rs) + max(0, scale_up)


def proportion(rs: Obj, d: Obj, to_add: int, added: int) -> int:
    """``GetProportion``: the share of ``to_add`` that ``rs`` gets (``added`` handed out so far)."""
    if replicas_of(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    if replicas_of(d) == 0:
        fraction = -replicas_of(rs)
    else:
        deployment_replicas = replicas_of(d) + max_surge(d)
        annotated = annotation_int(rs, MAX_REPLICAS)
        if annotated is None or annotated == 0:
            annotated = status_count(d, "replicas") or deployment_replicas
        size = replicas_of(rs) * deployment_replicas / annotated
        fraction = math.floor(size + 0.5) - replicas_of(rs)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def find_active_or_latest(new_rs: Obj | None, old_rss: list[Obj]) -> Obj | None:
    """``FindActiveOrLatest``: the one ReplicaSet with pods, or the newest when none has any."""
    if new_rs is None and not old_rss:
        return None
    olds = sorted(old_rss, key=created, reverse=True)
    active = [rs for rs in [*olds, new_rs] if rs is not None and replicas_of(rs) > 0]
    if not active:
        return new_rs if new_rs is not None else olds[0]
    if len(active) == 1:
        return active[0]
    return None


def is_saturated(d: Obj, rs: Obj | None) -> bool:
    """``IsSaturated``: ``rs`` is scaled for, and has, all the deployment's pods available."""
    if rs is None:
        return False
    desired = annotation_int(rs, DESIRED_REPLICAS)
    return (
        desired == replicas_of(d)
        and replicas_of(rs) == replicas_of(d)
        and status_count(rs, "availableReplicas") == replicas_of(d)
    )
