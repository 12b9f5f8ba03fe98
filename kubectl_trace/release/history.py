"""Release history and client-side undo, exactly as kubectl computes them (pure).

``kubectl rollout history`` lists the Deployment's ReplicaSets (by controller owner) with
their ``deployment.kubernetes.io/revision`` and ``kubernetes.io/change-cause``;
``kubectl rollout undo`` (``polymorphichelpers/rollback.go``) picks the previous revision
(the second highest) or ``--to-revision N``, skips when the template already matches,
removes the ``pod-template-hash`` label from the ReplicaSet's template, keeps the
Deployment's own revision/last-applied annotations and takes every other annotation from
the ReplicaSet, then sends a JSON patch replacing ``/spec/template`` and
``/metadata/annotations``. Here the patch starts with ``test`` operations on both values, so
a concurrent change fails the patch instead of being overwritten.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubectl_trace.errors import NodeappError
from kubectl_trace.health.rollout import deployment_replicasets, replicaset_info
from kubectl_trace.release.app import app_containers
from kubectl_trace.release.patches import Patch
from kubectl_trace.release.records import without_hash

__all__ = [
    "ANNOTATIONS_TO_SKIP",
    "HistoryRow",
    "UndoPlan",
    "equal_ignoring_hash",
    "history_rows",
    "undo_plan",
]

REVISION = "deployment.kubernetes.io/revision"
# kubectl's annotationsToSkip: kept from the Deployment, never copied from the ReplicaSet.
ANNOTATIONS_TO_SKIP = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION,
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    }
)

Obj = Mapping[str, Any]


@dataclass(frozen=True)
class HistoryRow:
    """One revision of one Deployment."""

    deployment: str
    revision: int
    replicaset: str
    tags: tuple[str, ...]
    change_cause: str
    created_at: float | None
    current: bool
    ready: int
    desired: int


def _revision(obj: Obj) -> int | None:
    value = ((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def equal_ignoring_hash(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    """Whether two pod templates are equal but for the ``pod-template-hash`` label (kubectl's test)."""
    return without_hash(a) == without_hash(b)


def _owned(deployment: Obj, replicasets: Iterable[Obj]) -> list[Obj]:
    return [rs for rs in deployment_replicasets(deployment, replicasets) if _revision(rs) is not None]


def history_rows(
    deployment: Obj, replicasets: Iterable[Obj], repository: str | None = None
) -> list[HistoryRow]:
    """The revisions of ``deployment`` (oldest first, as kubectl prints them).

    ``replicasets`` may be the namespace's; ``repository`` picks which containers' tags to
    show (default: every container's). The current revision is the one whose template the
    Deployment has (else the Deployment's revision annotation).
    """
    name = str((deployment.get("metadata") or {}).get("name") or "")
    template = (deployment.get("spec") or {}).get("template")
    current_rev = _revision(deployment)
    owned = _owned(deployment, replicasets)
    matching = [rs for rs in owned if equal_ignoring_hash((rs.get("spec") or {}).get("template"), template)]
    current_name = (
        str(matching[0]["metadata"]["name"])
        if len(matching) == 1
        else next((str(rs["metadata"]["name"]) for rs in owned if _revision(rs) == current_rev), "")
    )
    rows = []
    for rs in owned:
        info = replicaset_info(rs)
        if repository:
            mine = {c for c, _ in app_containers(rs, repository)}
            tags = tuple(dict.fromkeys(i.tag or "(no tag)" for i in info.images if i.container in mine))
        else:
            tags = info.tags
        rows.append(
            HistoryRow(
                deployment=name,
                revision=info.revision or 0,
                replicaset=info.name,
                tags=tags or info.tags,
                change_cause=info.change_cause,
                created_at=info.created_at,
                current=info.name == current_name,
                ready=info.ready,
                desired=info.desired,
            )
        )
    rows.sort(key=lambda r: r.revision)
    return rows


@dataclass(frozen=True)
class UndoPlan:
    """What ``rollback`` does to one Deployment: ``patch`` None means nothing to do (``skipped``)."""

    deployment: str
    from_revision: int | None
    to_revision: int
    replicaset: str
    patch: Patch | None
    skipped: str = ""


def _target(deployment: Obj, owned: list[Obj], to_revision: int) -> Obj:
    name = str((deployment.get("metadata") or {}).get("name") or "")
    if to_revision:
        for rs in owned:
            if _revision(rs) == to_revision:
                return rs
        have = ", ".join(str(r) for r in sorted(filter(None, (_revision(rs) for rs in owned))))
        raise NodeappError(
            f"unable to find revision {to_revision} in the history of deployment {name}"
            + (f" (it has: {have})" if have else ""),
            hint="see the revisions with: kubectl rollout history "
            f"deployment/{name} -n {(deployment.get('metadata') or {}).get('namespace')}",
        )
    latest: tuple[int, Obj | None] = (-1, None)
    previous: tuple[int, Obj | None] = (-1, None)
    for rs in owned:
        v = _revision(rs)
        if v is None:
            continue
        if v > latest[0]:
            previous, latest = latest, (v, rs)
        elif v > previous[0]:
            previous = (v, rs)
    if previous[1] is None:
        raise NodeappError(
            f'no rollout history found for deployment "{name}": there is no previous revision to roll back to'
        )
    return previous[1]


def undo_plan(deployment: Obj, replicasets: Iterable[Obj], to_revision: int = 0) -> UndoPlan:
    """Compute ``kubectl rollout undo [--to-revision N]`` for one Deployment.

    Raises NodeappError for a paused Deployment, a missing revision, or no history.
    """
    meta = deployment.get("metadata") or {}
    name = str(meta.get("name") or "")
    namespace = str(meta.get("namespace") or "")
    if (deployment.get("spec") or {}).get("paused"):
        raise NodeappError(
            f"deployment {name} is paused: a paused deployment cannot be rolled back",
            hint=f"resume it first: kubectl rollout resume deployment/{name} -n {namespace}",
        )
    owned = _owned(deployment, replicasets)
    rs = _target(deployment, owned, to_revision)
    revision = _revision(rs) or 0
    rs_meta = rs.get("metadata") or {}
    template = (deployment.get("spec") or {}).get("template")
    rs_template = (rs.get("spec") or {}).get("template")
    if equal_ignoring_hash(rs_template, template):
        return UndoPlan(
            name,
            _revision(deployment),
            revision,
            str(rs_meta.get("name") or ""),
            None,
            skipped=f"skipped rollback (current template already matches revision {revision})",
        )
    restored = without_hash(rs_template)
    current_annotations = dict(meta.get("annotations") or {})
    annotations = {k: v for k, v in current_annotations.items() if k in ANNOTATIONS_TO_SKIP}
    annotations.update(
        {k: v for k, v in (rs_meta.get("annotations") or {}).items() if k not in ANNOTATIONS_TO_SKIP}
    )
    ops: list[dict[str, Any]] = [
        {"op": "test", "path": "/spec/template", "value": copy.deepcopy(template)},
    ]
    if "annotations" in meta:
        ops.append({"op": "test", "path": "/metadata/annotations", "value": current_annotations})
    ops.append({"op": "replace", "path": "/spec/template", "value": restored})
    ops.append(
        {
            "op": "replace" if "annotations" in meta else "add",
            "path": "/metadata/annotations",
            "value": annotations,
        }
    )
    patch = Patch(namespace, name, "json", ops, f"template of revision {revision} ({rs_meta.get('name')})")
    return UndoPlan(name, _revision(deployment), revision, str(rs_meta.get("name") or ""), patch)
