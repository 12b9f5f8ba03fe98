"""From a snapshot and the UI state to what one frame shows (pure, memoised on identity).

``derive(snapshot, ui, now)`` computes the rollout state of every Deployment, picks the
selected one, orders and filters its pods (newest revision first, then by name),
chooses the pod whose log is tailed and lists the selected app's Jobs and CronJobs.
Per-pod health is *not* derived here: only the views derive it, and only for the rows
that are visible.

Work that depends only on immutable parts of the snapshot (a Deployment's pods, the
events in a Deployment's scope) is memoised on the identity of those parts, so a frame
after a change elsewhere costs a dictionary lookup.
"""

from __future__ import annotations

import heapq
import itertools
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubectl_trace.dashboard.batch import BatchRows, app_of, batch_rows
from kubectl_trace.dashboard.pmap import PMap
from kubectl_trace.dashboard.state import Snapshot
from kubectl_trace.dashboard.ui import UiState
from kubectl_trace.health import (
    EventRecord,
    EventScope,
    PodHealth,
    RolloutState,
    deployment_rollout,
    group_events,
    pod_health,
)

__all__ = ["Frame", "FrameCache", "PodRow", "default_container", "derive", "scope_events"]

_ORDER = operator.attrgetter("order")
_AT = operator.attrgetter("at")
# How many of the newest events of a Deployment's scope are grouped for the Events panel.
_RECENT_EVENTS = 300


@dataclass(frozen=True)
class PodRow:
    """A pod of the selected Deployment, with the cheap facts used to order and filter."""

    name: str
    revision: int | None
    ready: bool
    newest: bool  # belongs to the Deployment's current (new) ReplicaSet
    pod: Mapping[str, Any]
    order: tuple[int, str] = (0, "")  # newest revision first, then by name


@dataclass(frozen=True)
class Frame:
    """What one frame shows, before rendering."""

    snapshot: Snapshot
    now: float
    rollouts: tuple[RolloutState, ...]  # every Deployment, by name
    selected: RolloutState | None
    deployment_index: int | None
    pods: tuple[PodRow, ...]  # the selected Deployment's pods, ordered and filtered
    pods_total: int  # before the filter
    pods_ready: int  # before the filter
    pod_index: int | None  # the selected pod's row
    log_pod: str | None  # whose log the tail shows
    cache: FrameCache | None = None
    batch: BatchRows = field(default_factory=BatchRows)  # the selected app's recent Jobs and its CronJobs

    def events(self) -> list[EventRecord]:
        """The selected Deployment's events (every event when none is selected), newest first."""
        name = self.selected.name if self.selected is not None else None
        if self.cache is not None:
            return self.cache.scope_events(self.snapshot, name)
        return scope_events(self.snapshot, name)

    @property
    def deployment_names(self) -> tuple[str, ...]:
        """The Deployments in display order."""
        return tuple(r.name for r in self.rollouts)

    @property
    def pod(self) -> PodRow | None:
        """The selected pod's row."""
        return self.pods[self.pod_index] if self.pod_index is not None else None

    def health(self, row: PodRow) -> PodHealth:
        """The pod's health now (memoised per pod object, its events and the second)."""
        events = self.snapshot.pod_events(row.name)
        if self.cache is None:
            return pod_health(row.pod, events, self.now)
        return self.cache.health(row.pod, events, self.now)


def default_container(row: PodRow | None) -> str | None:
    """The container ``kubectl logs`` would pick: the default-container annotation, else the first."""
    if row is None:
        return None
    meta = row.pod.get("metadata") or {}
    chosen = (meta.get("annotations") or {}).get("kubectl.kubernetes.io/default-container")
    containers = [str(c.get("name")) for c in (row.pod.get("spec") or {}).get("containers") or ()]
    if chosen in containers:
        return str(chosen)
    return containers[0] if containers else None


def _is_ready(pod: Mapping[str, Any]) -> bool:
    for condition in (pod.get("status") or {}).get("conditions") or ():
        if condition.get("type") == "Ready":
            return bool(condition.get("status") == "True")
    return False


def _owner(pod: Mapping[str, Any]) -> str:
    for ref in (pod.get("metadata") or {}).get("ownerReferences") or ():
        if ref.get("controller"):
            return str(ref.get("name") or "")
    return ""


def _row(pod: Mapping[str, Any], revisions: Mapping[str, int | None], new_hash: str | None) -> PodRow:
    meta = pod.get("metadata") or {}
    name = str(meta.get("name") or "")
    template_hash = str((meta.get("labels") or {}).get("pod-template-hash") or "")
    revision = revisions.get(template_hash)
    return PodRow(
        name=name,
        revision=revision,
        ready=_is_ready(pod),
        newest=new_hash is not None and template_hash == new_hash,
        pod=pod,
        order=(-(revision or 0), name),
    )


def _uid(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("uid") or "")


# -- memoised pieces ---------------------------------------------------------------------------


class FrameCache:
    """Memos of ``derive`` keyed on the identity of immutable snapshot parts (one per dashboard)."""

    def __init__(self) -> None:
        self.rs: tuple[Any, dict[str, list[dict[str, Any]]]] | None = None
        self.pods: dict[str, tuple[Any, frozenset[str], list[Mapping[str, Any]]]] = {}
        self.events: dict[str, tuple[Any, list[EventRecord]]] = {}
        self.event_shards: dict[str, dict[int, tuple[Any, list[EventRecord]]]] = {}
        self.shard_pods: dict[str, dict[int, tuple[Any, frozenset[str], list[Mapping[str, Any]]]]] = {}
        self.healths: dict[str, tuple[Any, Any, int, PodHealth]] = {}
        self.shard_key: Any = None
        self.shard_rows: dict[int, tuple[Any, list[PodRow]]] = {}
        self.sorted: tuple[Any, Any, tuple[PodRow, ...]] | None = None
        self.batch: tuple[Any, Any, tuple[str, str] | None, BatchRows] | None = None

    def batch_rows(self, snapshot: Snapshot, app: tuple[str, str] | None) -> BatchRows:
        """The app's Jobs and CronJobs, reused while the Job and CronJob maps are the same objects."""
        hit = self.batch
        if hit is not None and hit[0] is snapshot.jobs and hit[1] is snapshot.cronjobs and hit[2] == app:
            return hit[3]
        rows = batch_rows(snapshot.jobs, snapshot.cronjobs, app) if app is not None else BatchRows()
        self.batch = (snapshot.jobs, snapshot.cronjobs, app, rows)
        return rows

    def replicasets_by_owner(self, replicasets: PMap[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        """ReplicaSets grouped by the uid of their controlling Deployment."""
        if self.rs is not None and self.rs[0] is replicasets:
            return self.rs[1]
        grouped: dict[str, list[dict[str, Any]]] = {}
        for rs in replicasets.values():
            for ref in (rs.get("metadata") or {}).get("ownerReferences") or ():
                if ref.get("controller") and ref.get("kind") == "Deployment":
                    grouped.setdefault(str(ref.get("uid") or ""), []).append(rs)
                    break
            else:
                grouped.setdefault("", []).append(rs)
        self.rs = (replicasets, grouped)
        return grouped

    def deployment_pods(self, snapshot: Snapshot, rollout: RolloutState) -> list[Mapping[str, Any]]:
        """The pods whose controlling ReplicaSet belongs to the Deployment.

        Worked out per shard of the pod map and memoised on the shard's identity: after a
        change only the shards it touched are looked at again.
        """
        rs_names = frozenset(rs.name for rs in rollout.history)
        memo = self.pods.get(rollout.name)
        if memo is not None and memo[0] is snapshot.pods and memo[1] == rs_names:
            return memo[2]
        shard_memo = self.shard_pods.setdefault(rollout.name, {})
        pods: list[Mapping[str, Any]] = []
        for index, shard in enumerate(snapshot.pods.shards()):
            hit = shard_memo.get(index)
            if hit is None or hit[0] is not shard or hit[1] != rs_names:
                hit = (shard, rs_names, [p for p in shard.values() if _owner(p) in rs_names])
                shard_memo[index] = hit
            pods.extend(hit[2])
        if len(self.pods) > 16:
            self.pods.clear()
            self.shard_pods = {rollout.name: shard_memo}
        self.pods[rollout.name] = (snapshot.pods, rs_names, pods)
        return pods

    def pod_rows(self, snapshot: Snapshot, rollout: RolloutState) -> tuple[PodRow, ...]:
        """The Deployment's pods as rows, newest revision first, then by name.

        Rows are built per shard of the pod map and memoised on the shard's identity (and
        the Deployment's ReplicaSets): after a change only the touched shards are looked
        at again; the sorted tuple is reused while nothing changed at all.
        """
        rs_names = frozenset(rs.name for rs in rollout.history)
        revisions = {rs.template_hash: rs.revision for rs in rollout.history}
        new_hash = rollout.new.template_hash if rollout.new is not None else None
        key = (rollout.name, rs_names, tuple(sorted(revisions.items())), new_hash)
        if self.sorted is not None and self.sorted[0] is snapshot.pods and self.sorted[1] == key:
            return self.sorted[2]
        if self.shard_key != key:
            self.shard_key, self.shard_rows = key, {}
        memo = self.shard_rows
        built: list[PodRow] = []
        # Pods that changed but kept their place (same names, same order): swapped in without a sort.
        swapped: dict[str, PodRow] | None = {} if self.sorted is not None and self.sorted[1] == key else None
        for index, shard in enumerate(snapshot.pods.shards()):
            hit = memo.get(index)
            if hit is None or hit[0] is not shard:
                fresh = [_row(p, revisions, new_hash) for p in shard.values() if _owner(p) in rs_names]
                if swapped is not None:
                    if hit is not None and [r.order for r in hit[1]] == [r.order for r in fresh]:
                        swapped.update((r.name, r) for r in fresh)
                    else:
                        swapped = None
                hit = (shard, fresh)
                memo[index] = hit
            built.extend(hit[1])
        if swapped is not None and self.sorted is not None:
            rows = tuple(swapped.get(r.name, r) for r in self.sorted[2]) if swapped else self.sorted[2]
        else:
            built.sort(key=_ORDER)
            rows = tuple(built)
        self.sorted = (snapshot.pods, key, rows)
        return rows

    def health(self, pod: Mapping[str, Any], events: tuple[EventRecord, ...], now: float) -> PodHealth:
        """``pod_health``, reused while the pod object, its events and the second are the same."""
        name = str((pod.get("metadata") or {}).get("name") or "")
        second = int(now)
        hit = self.healths.get(name)
        if hit is not None and hit[0] is pod and hit[1] is events and hit[2] == second:
            return hit[3]
        health = pod_health(pod, events, now)
        if len(self.healths) > 512:
            self.healths.clear()
        self.healths[name] = (pod, events, second, health)
        return health

    def scope_events(self, snapshot: Snapshot, deployment: str | None) -> list[EventRecord]:
        """``scope_events``, memoised on the snapshot's event map and, per shard, on its shards.

        While events keep arriving (a rollout, a crash loop) only the shards they landed in
        are matched against the scope again.
        """
        key = deployment or ""
        memo = self.events.get(key)
        if memo is not None and memo[0] is snapshot.events:
            return memo[1]
        scope = _scope(deployment)
        shard_memo = self.event_shards.setdefault(key, {})
        lists: list[list[EventRecord]] = []
        for index, shard in enumerate(snapshot.events.shards()):
            hit = shard_memo.get(index)
            if hit is None or hit[0] is not shard:
                newest = sorted((r for r in shard.values() if scope.matches(r)), key=_AT, reverse=True)
                hit = (shard, newest[:_RECENT_EVENTS])
                shard_memo[index] = hit
            if hit[1]:
                lists.append(hit[1])
        recent = list(itertools.islice(heapq.merge(*lists, key=_AT, reverse=True), _RECENT_EVENTS))
        grouped = group_events(recent)
        grouped.reverse()
        if len(self.events) > 16:
            self.events.clear()
            self.event_shards = {key: shard_memo}
        self.events[key] = (snapshot.events, grouped)
        return grouped


def scope_events(snapshot: Snapshot, deployment: str | None) -> list[EventRecord]:
    """The events of a Deployment, its ReplicaSets and pods (gone ones too), grouped, newest first.

    ``None`` means every event of the namespace. Only the newest few hundred are grouped.
    """
    scope = _scope(deployment)
    return _group_recent([r for r in snapshot.events.values() if scope.matches(r)])


def _scope(deployment: str | None) -> EventScope:
    return EventScope.of(everything=True) if deployment is None else EventScope.of(deployments=[deployment])


def _group_recent(matched: list[EventRecord]) -> list[EventRecord]:
    recent = heapq.nlargest(_RECENT_EVENTS, matched, key=_AT)
    grouped = group_events(recent)
    grouped.reverse()
    return grouped


# -- the frame ---------------------------------------------------------------------------------


def _matches(row: PodRow, text: str) -> bool:
    if text in row.name.lower():
        return True
    status = row.pod.get("status") or {}
    if text in str(status.get("phase") or "").lower():
        return True
    for cs in status.get("containerStatuses") or ():
        waiting = (cs.get("state") or {}).get("waiting") or {}
        if text in str(waiting.get("reason") or "").lower():
            return True
    return text in ("ready" if row.ready else "not ready")


def _interesting(rows: tuple[PodRow, ...]) -> PodRow | None:
    """The pod to tail when nothing was chosen: a new pod that is not ready, else the first."""
    for row in rows:
        if row.newest and not row.ready:
            return row
    return rows[0] if rows else None


def derive(snapshot: Snapshot, ui: UiState, now: float, cache: FrameCache | None = None) -> Frame:
    """Compute the frame for ``snapshot`` as the user sees it (``ui``) at ``now``.

    Pass the dashboard's ``FrameCache`` so unchanged parts are not recomputed.
    """
    cache = cache if cache is not None else FrameCache()
    by_owner = cache.replicasets_by_owner(snapshot.replicasets)
    deployments = sorted(snapshot.deployments.values(), key=lambda d: str(d["metadata"].get("name")))
    rollouts = tuple(deployment_rollout(d, by_owner.get(_uid(d), ()), now) for d in deployments)
    names = [r.name for r in rollouts]

    index: int | None = None
    if ui.deployment in names:
        index = names.index(ui.deployment)
    elif rollouts:  # nothing chosen yet: the first rollout in motion, else the first
        index = next((i for i, r in enumerate(rollouts) if r.state != "complete"), 0)
    selected = rollouts[index] if index is not None else None

    rows: tuple[PodRow, ...] = ()
    total = ready = 0
    if selected is not None:
        built = list(cache.pod_rows(snapshot, selected))
        total = len(built)
        ready = sum(1 for r in built if r.ready)
        if ui.filter:
            text = ui.filter.lower()
            built = [r for r in built if _matches(r, text)]
        rows = tuple(built)

    pod_index: int | None = None
    if ui.pod is not None:
        for i, row in enumerate(rows):
            if row.name == ui.pod:
                pod_index = i
                break
    log_row: PodRow | None = rows[pod_index] if pod_index is not None else None
    if ui.pod_auto:
        best = _interesting(rows)
        # An automatic choice moves only when its pod is gone, or when it is a ready pod of
        # an old revision while a new pod is not ready (the rollout is where the news is).
        if log_row is None or (best is not None and best.newest and not best.ready and not log_row.newest):
            log_row = best
            pod_index = rows.index(best) if best is not None else None
    return Frame(
        snapshot=snapshot,
        now=now,
        rollouts=rollouts,
        selected=selected,
        deployment_index=index,
        pods=rows,
        pods_total=total,
        pods_ready=ready,
        pod_index=pod_index,
        log_pod=log_row.name if log_row is not None else None,
        cache=cache,
        batch=_batch(snapshot, selected, cache),
    )


def _batch(snapshot: Snapshot, selected: RolloutState | None, cache: FrameCache) -> BatchRows:
    if selected is None or (not snapshot.jobs and not snapshot.cronjobs):
        return BatchRows()
    return cache.batch_rows(snapshot, app_of(snapshot.deployments.get(selected.name)))
