"""The revision annotations of a Deployment's ReplicaSets (after ``deployment_util.go``).

``deployment.kubernetes.io/revision`` (+ ``revision-history``) number the ReplicaSets a
Deployment has had, which is what ``kubectl rollout history|undo`` read; ``desired-replicas`` and
``max-replicas`` record the sizes a ReplicaSet was last scaled for (proportional scaling reads
them). The Deployment's own annotations (``kubernetes.io/change-cause``) are copied onto its
ReplicaSets. Pure: every function edits the dict it is given.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "DESIRED_REPLICAS",
    "MAX_REPLICAS",
    "REVISION",
    "REVISION_HISTORY",
    "annotation_int",
    "revision_of",
    "set_deployment_revision",
    "set_new_rs_annotations",
    "set_replicas_annotations",
]

Obj = dict[str, Any]

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
_SKIP_ANNOTATIONS = {
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
}
_MAX_REV_HISTORY_CHARS = 2000


def revision_of(rs: Obj | None) -> int:
    """The ``deployment.kubernetes.io/revision`` of a ReplicaSet (0 when absent)."""
    if rs is None:
        return 0
    try:
        return int((rs["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def annotation_int(rs: Obj, key: str) -> int | None:
    """An integer annotation of ``rs`` (None when absent or not a number)."""
    value = (rs["metadata"].get("annotations") or {}).get(key)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _copy_annotations(d: Obj, rs: Obj) -> bool:
    changed = False
    annotations = rs["metadata"].setdefault("annotations", {})
    for key, value in (d["metadata"].get("annotations") or {}).items():
        if key in _SKIP_ANNOTATIONS or annotations.get(key) == value:
            continue
        annotations[key] = value
        changed = True
    return changed


def set_new_rs_annotations(d: Obj, rs: Obj, new_revision: str) -> bool:
    """``SetNewReplicaSetAnnotations`` without the sizes; whether anything changed.

    Copies the deployment's annotations, raises the revision and remembers the one it replaces.
    """
    changed = _copy_annotations(d, rs)
    annotations = rs["metadata"].setdefault("annotations", {})
    old_revision = annotations.get(REVISION)
    try:
        old_int = int(old_revision) if old_revision else 0
    except ValueError:
        return False
    new_int = int(new_revision)
    if old_int < new_int:
        annotations[REVISION] = new_revision
        changed = True
    if old_revision and old_int < new_int:
        history = annotations.get(REVISION_HISTORY, "")
        if not history:
            annotations[REVISION_HISTORY] = old_revision
        else:
            parts = history.split(",")
            total = len(history) + len(old_revision) + 1
            start = 0
            while total > _MAX_REV_HISTORY_CHARS and start < len(parts):
                total -= len(parts[start]) + 1
                start += 1
            if total <= _MAX_REV_HISTORY_CHARS:
                annotations[REVISION_HISTORY] = ",".join([*parts[start:], old_revision])
    return changed


def set_replicas_annotations(rs: Obj, desired: int, maximum: int) -> bool:
    """Record the sizes ``rs`` is scaled for; whether they changed."""
    annotations = rs["metadata"].setdefault("annotations", {})
    changed = False
    if annotations.get(DESIRED_REPLICAS) != str(desired):
        annotations[DESIRED_REPLICAS] = str(desired)
        changed = True
    if annotations.get(MAX_REPLICAS) != str(maximum):
        annotations[MAX_REPLICAS] = str(maximum)
        changed = True
    return changed


def set_deployment_revision(d: Obj, revision: str) -> bool:
    """The deployment's own revision annotation; whether it changed."""
    annotations = d["metadata"].setdefault("annotations", {})
    if annotations.get(REVISION) != revision:
        annotations[REVISION] = revision
        return True
    return False
