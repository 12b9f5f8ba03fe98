"""The Deployment controller.

After ``pkg/controller/deployment`` (sync.go, rolling.go, recreate.go, progress.go and
``util/deployment_util.go``).

What ``kubectl rollout status|history|undo``, ``set image``, ``scale`` and
``rollout pause|resume|restart`` rely on:

* ReplicaSets named ``<deployment>-<pod-template-hash>`` with the hash in their labels,
  selector and template, a controller owner reference, and the annotations
  ``deployment.kubernetes.io/revision`` (+ ``revision-history``), ``desired-replicas``,
  ``max-replicas`` and the deployment's own (``kubernetes.io/change-cause``);
* a new revision = highest old revision + 1; a template equal (ignoring the hash) to an
  existing ReplicaSet's reuses it with a bumped revision (that is how ``undo`` works);
* RollingUpdate bounded by maxSurge / maxUnavailable, Recreate, proportional scaling,
  pause, revisionHistoryLimit clean-up;
* status: observedGeneration, replicas, updated/ready/available/unavailable counts, the
  ``Available`` and ``Progressing`` conditions (``NewReplicaSetCreated``,
  ``FoundNewReplicaSet``, ``ReplicaSetUpdated``, ``NewReplicaSetAvailable``,
  ``ProgressDeadlineExceeded``, ``DeploymentPaused``, ``DeploymentResumed``);
* ``ScalingReplicaSet`` events: ``Scaled up replica set X from 0 to 1``.

Progress deadlines and minReadySeconds run on the simulated clock (``--time-scale``).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Sequence
from typing import Any

from kubectl_trace.sandbox.controllers import Context
from kubectl_trace.sandbox.controllers.deployment_revisions import (
    DESIRED_REPLICAS,
    REVISION,
    annotation_int,
    revision_of,
    set_deployment_revision,
    set_new_rs_annotations,
    set_replicas_annotations,
)
from kubectl_trace.sandbox.controllers.deployment_rollout import (
    created,
    find_active_or_latest,
    has_deadline,
    is_rolling,
    is_saturated,
    max_surge,
    max_unavailable,
    new_rs_new_replicas,
    newest_first,
    proportion,
    replicas_of,
    status_count,
)
from kubectl_trace.sandbox.controllers.deployment_status import (
    calculate_status,
    deployment_complete,
    deployment_progressing,
    get_condition,
    new_condition,
    remove_condition,
    set_condition,
)
from kubectl_trace.sandbox.controllers.util import (
    controller_of,
    equal_ignore_hash,
    new_replicaset,
    owner_reference,
    selector_matches,
    template_hash,
)
from kubectl_trace.sandbox.recorder import EventSource
from kubectl_trace.sandbox.store import StoreError, rfc3339

__all__ = ["DeploymentController"]

Obj = dict[str, Any]
Key = tuple[str, str]

_SOURCE = EventSource("deployment-controller")


class DeploymentController:
    """Reconciles Deployments; queue ``deployments`` with keys ``(namespace, name)``."""

    QUEUE = "deployments"

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        # deployment uid → (Progressing lastUpdateTime as written, precise epoch seconds)
        self._progress_at: dict[str, tuple[str, float]] = {}
        self._requeue_at: dict[Key, float] = {}

    # -- helpers ---------------------------------------------------------------------------

    def _now(self) -> float:
        return self.ctx.clock()

    def _progressing(self, status: str, reason: str, message: str) -> Obj:
        return new_condition("Progressing", status, reason, message, rfc3339(self._now()))

    def _event(self, d: Obj, message: str, reason: str = "ScalingReplicaSet", type_: str = "Normal") -> None:
        self.ctx.recorder.record(d, type_, reason, message, _SOURCE)

    def _write(self, d: Obj) -> Obj:
        """Store the deployment's status and annotations (as UpdateStatus does)."""
        ns, name = d["metadata"]["namespace"], d["metadata"]["name"]
        status = d.get("status") or {}
        annotations = d["metadata"].get("annotations")
        progressing = get_condition(status, "Progressing")
        if progressing is not None:
            stored = self.ctx.store.try_get("deployments", ns, name)
            before = get_condition((stored or {}).get("status") or {}, "Progressing")
            if before != progressing or d["metadata"]["uid"] not in self._progress_at:
                self._progress_at[d["metadata"]["uid"]] = (progressing.get("lastUpdateTime", ""), self._now())

        def put(draft: Obj) -> None:
            draft["status"] = copy.deepcopy(status)
            if annotations is None:
                draft["metadata"].pop("annotations", None)
            else:
                draft["metadata"]["annotations"] = dict(annotations)

        stored = self.ctx.store.mutate("deployments", ns, name, put)
        d["metadata"]["resourceVersion"] = stored["metadata"]["resourceVersion"]
        return d

    def _replicasets(self, d: Obj) -> list[Obj]:
        """ReplicaSets the deployment controls, adopting matching orphans."""
        store = self.ctx.store
        out = self.ctx.controlled(d, "replicasets")
        selector = d["spec"].get("selector")
        for rs in store.list("replicasets", d["metadata"]["namespace"]):
            if controller_of(rs) is not None or rs["metadata"].get("deletionTimestamp"):
                continue
            if not selector_matches(selector, rs["metadata"].get("labels")):
                continue

            def adopt(draft: Obj) -> None:
                draft["metadata"].setdefault("ownerReferences", []).append(owner_reference(d))

            out.append(
                store.mutate("replicasets", rs["metadata"]["namespace"], rs["metadata"]["name"], adopt)
            )
        return out

    def _pods_by_rs(self, rs_list: list[Obj]) -> dict[str, list[Obj]]:
        return {rs["metadata"]["uid"]: self.ctx.controlled(rs, "pods") for rs in rs_list}

    # -- the sync loop (syncDeployment) ------------------------------------------------------

    def sync(self, key: Key) -> None:
        """Reconcile one Deployment."""
        ns, name = key
        stored = self.ctx.store.try_get("deployments", ns, name)
        if stored is None:
            self._requeue_at.pop(key, None)
            return
        d = copy.deepcopy(stored)
        d.setdefault("status", {})
        selector = d["spec"].get("selector")
        if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
            self._event(
                d,
                "This deployment is selecting all pods. A non-empty selector is required.",
                "SelectingAll",
                "Warning",
            )
            if int(d["status"].get("observedGeneration") or 0) < int(d["metadata"].get("generation") or 1):
                d["status"]["observedGeneration"] = d["metadata"].get("generation", 1)
                self._write(d)
            return
        rs_list = self._replicasets(d)
        if d["metadata"].get("deletionTimestamp"):
            new_rs, old_rss = self._get_all(d, rs_list, create=False)
            self._sync_status(d, [*old_rss, new_rs], new_rs)
            return
        self._check_paused_conditions(d)
        if d["spec"].get("paused"):
            self._sync(d, rs_list)
            return
        if self._is_scaling_event(d, rs_list):
            self._sync(d, rs_list)
            return
        if is_rolling(d):
            self._rollout_rolling(d, rs_list)
        else:
            self._rollout_recreate(d, rs_list)

    def _check_paused_conditions(self, d: Obj) -> None:
        if not has_deadline(d):
            return
        cond = get_condition(d["status"], "Progressing")
        if cond is not None and cond.get("reason") == "ProgressDeadlineExceeded":
            return
        paused_exists = cond is not None and cond.get("reason") == "DeploymentPaused"
        if d["spec"].get("paused") and not paused_exists:
            set_condition(
                d["status"],
                self._progressing("Unknown", "DeploymentPaused", "Deployment is paused"),
            )
            self._write(d)
        elif not d["spec"].get("paused") and paused_exists:
            set_condition(
                d["status"],
                self._progressing("Unknown", "DeploymentResumed", "Deployment is resumed"),
            )
            self._write(d)

    # -- revisions and the new ReplicaSet ---------------------------------------------------

    def _find_new(self, d: Obj, rs_list: list[Obj]) -> Obj | None:
        template = d["spec"].get("template")
        for rs in sorted(rs_list, key=created):
            if equal_ignore_hash(rs["spec"].get("template"), template):
                return rs
        return None

    def _get_all(self, d: Obj, rs_list: list[Obj], *, create: bool) -> tuple[Obj | None, list[Obj]]:
        """``getAllReplicaSetsAndSyncRevision``: (new RS or None, old RSs)."""
        new_rs = self._find_new(d, rs_list)
        old_rss = [
            rs for rs in rs_list if new_rs is None or rs["metadata"]["uid"] != new_rs["metadata"]["uid"]
        ]
        max_old = max((revision_of(rs) for rs in old_rss), default=0)
        new_revision = str(max_old + 1)
        store = self.ctx.store
        if new_rs is not None:
            rs_copy = copy.deepcopy(new_rs)
            changed = set_new_rs_annotations(d, rs_copy, new_revision)
            min_ready = int(d["spec"].get("minReadySeconds") or 0)
            if changed or int(rs_copy["spec"].get("minReadySeconds") or 0) != min_ready:
                annotations = rs_copy["metadata"]["annotations"]

                def put(draft: Obj) -> None:
                    draft["metadata"]["annotations"] = annotations
                    if min_ready:
                        draft["spec"]["minReadySeconds"] = min_ready
                    else:
                        draft["spec"].pop("minReadySeconds", None)

                ns, name = rs_copy["metadata"]["namespace"], rs_copy["metadata"]["name"]
                new_rs = store.mutate("replicasets", ns, name, put, bump_generation=True)
                rs_copy = new_rs
            needs = set_deployment_revision(d, rs_copy["metadata"]["annotations"].get(REVISION, new_revision))
            if has_deadline(d) and get_condition(d["status"], "Progressing") is None:
                msg = f'Found new replica set "{rs_copy["metadata"]["name"]}"'
                set_condition(d["status"], self._progressing("True", "FoundNewReplicaSet", msg))
                needs = True
            if needs:
                self._write(d)
            return rs_copy, old_rss
        if not create:
            return None, old_rss
        return self._create_new_rs(d, old_rss, new_revision), old_rss

    def _create_new_rs(self, d: Obj, old_rss: list[Obj], new_revision: str) -> Obj | None:
        store = self.ctx.store
        template = d["spec"].get("template") or {}
        collisions = d["status"].get("collisionCount")
        rs = new_replicaset(d, template, template_hash(template, collisions), 0)
        name = rs["metadata"]["name"]
        if d["spec"].get("minReadySeconds"):
            rs["spec"]["minReadySeconds"] = int(d["spec"]["minReadySeconds"])
        new_count = new_rs_new_replicas(d, [*old_rss, rs], rs)
        rs["spec"]["replicas"] = new_count
        set_new_rs_annotations(d, rs, new_revision)
        set_replicas_annotations(rs, replicas_of(d), replicas_of(d) + max_surge(d))
        try:
            created = store.create("replicasets", rs)
        except StoreError as err:
            if err.code != 409:
                msg = f'Failed to create new replica set "{name}": {err.message}'
                self._event(d, msg, "FailedCreate", "Warning")
                set_condition(d["status"], self._progressing("False", "ReplicaSetCreateError", msg))
                self._write(d)
                return None
            existing = store.try_get("replicasets", d["metadata"]["namespace"], name)
            ref = controller_of(existing) if existing else None
            if (
                existing is not None
                and ref
                and ref.get("uid") == d["metadata"]["uid"]
                and equal_ignore_hash(existing["spec"].get("template"), d["spec"].get("template"))
            ):
                return existing
            # a hash collision: try again with the next collision count
            d["status"]["collisionCount"] = int(collisions or 0) + 1
            self._write(d)
            self.ctx.queue.enqueue(self.QUEUE, (d["metadata"]["namespace"], d["metadata"]["name"]))
            return None
        if new_count > 0:
            self._event(d, f"Scaled up replica set {name} from 0 to {new_count}")
        needs = set_deployment_revision(d, new_revision)
        if has_deadline(d):
            msg = f'Created new replica set "{name}"'
            set_condition(d["status"], self._progressing("True", "NewReplicaSetCreated", msg))
            needs = True
        if needs:
            self._write(d)
        return created

    # -- scaling ---------------------------------------------------------------------------

    def _scale_rs(self, rs: Obj, new_scale: int, d: Obj, operation: str | None = None) -> tuple[bool, Obj]:
        """``scaleReplicaSetAndRecordEvent`` / ``scaleReplicaSet``."""
        old_scale = replicas_of(rs)
        size_needs = old_scale != new_scale
        probe = copy.deepcopy(rs)
        annotations_need = set_replicas_annotations(probe, replicas_of(d), replicas_of(d) + max_surge(d))
        if not size_needs and not annotations_need:
            return False, rs
        annotations = probe["metadata"]["annotations"]

        def put(draft: Obj) -> None:
            draft["spec"]["replicas"] = new_scale
            draft["metadata"]["annotations"] = annotations

        ns, name = rs["metadata"]["namespace"], rs["metadata"]["name"]
        updated = self.ctx.store.mutate("replicasets", ns, name, put, bump_generation=True)
        if size_needs:
            if operation is None:
                operation = "up" if old_scale < new_scale else "down"
            self._event(d, f"Scaled {operation} replica set {name} from {old_scale} to {new_scale}")
        return size_needs, updated

    def _is_scaling_event(self, d: Obj, rs_list: list[Obj]) -> bool:
        new_rs, old_rss = self._get_all(d, rs_list, create=False)
        for rs in [*old_rss, new_rs]:
            if rs is None or replicas_of(rs) <= 0:
                continue
            desired = annotation_int(rs, DESIRED_REPLICAS)
            if desired is not None and desired != replicas_of(d):
                return True
        return False

    def _scale(self, d: Obj, new_rs: Obj | None, old_rss: list[Obj]) -> None:
        """Proportional scaling (``scale`` in sync.go)."""
        active_or_latest = find_active_or_latest(new_rs, old_rss)
        if active_or_latest is not None:
            if replicas_of(active_or_latest) != replicas_of(d):
                self._scale_rs(active_or_latest, replicas_of(d), d)
            return
        if is_saturated(d, new_rs):
            for rs in old_rss:
                if replicas_of(rs) > 0:
                    self._scale_rs(rs, 0, d)
            return
        if not is_rolling(d):
            return
        all_rss = [rs for rs in [*old_rss, new_rs] if rs is not None and replicas_of(rs) > 0]
        all_count = sum(replicas_of(rs) for rs in all_rss)
        allowed = replicas_of(d) + max_surge(d) if replicas_of(d) > 0 else 0
        to_add = allowed - all_count
        operation = None
        if to_add > 0:
            all_rss.sort(key=lambda rs: (-replicas_of(rs), newest_first(rs)))
            operation = "up"
        elif to_add < 0:
            all_rss.sort(key=lambda rs: (-replicas_of(rs), created(rs)))
            operation = "down"
        added = 0
        sizes: dict[str, int] = {}
        for rs in all_rss:
            if to_add != 0:
                share = proportion(rs, d, to_add, added)
                sizes[rs["metadata"]["name"]] = replicas_of(rs) + share
                added += share
            else:
                sizes[rs["metadata"]["name"]] = replicas_of(rs)
        for i, rs in enumerate(all_rss):
            name = rs["metadata"]["name"]
            if i == 0 and to_add != 0:
                sizes[name] = max(0, sizes[name] + to_add - added)
            self._scale_rs(rs, sizes[name], d, operation)

    def _sync(self, d: Obj, rs_list: list[Obj]) -> None:
        """Scaling events and paused deployments: scale, clean up, status (no progress check)."""
        new_rs, old_rss = self._get_all(d, rs_list, create=False)
        self._scale(d, new_rs, old_rss)
        if d["spec"].get("paused"):
            self._cleanup(d, old_rss)
        rs_list = self._replicasets(d)
        new_rs, old_rss = self._get_all(d, rs_list, create=False)
        self._sync_status(d, [*old_rss, new_rs], new_rs)

    # -- RollingUpdate ---------------------------------------------------------------------

    def _rollout_rolling(self, d: Obj, rs_list: list[Obj]) -> None:
        new_rs, old_rss = self._get_all(d, rs_list, create=True)
        if new_rs is None:
            return
        all_rss = [*old_rss, new_rs]
        if self._reconcile_new(d, all_rss, new_rs):
            self._sync_rollout_status(d, self._fresh(all_rss), self._fresh_one(new_rs))
            return
        if self._reconcile_old(d, all_rss, [rs for rs in old_rss if replicas_of(rs) > 0], new_rs):
            self._sync_rollout_status(d, self._fresh(all_rss), self._fresh_one(new_rs))
            return
        if deployment_complete(d, d["status"]):
            self._cleanup(d, old_rss)
        self._sync_rollout_status(d, self._fresh(all_rss), self._fresh_one(new_rs))

    def _fresh_one(self, rs: Obj | None) -> Obj | None:
        if rs is None:
            return None
        return self.ctx.store.try_get("replicasets", rs["metadata"]["namespace"], rs["metadata"]["name"])

    def _fresh(self, rss: Sequence[Obj | None]) -> list[Obj | None]:
        return [self._fresh_one(rs) for rs in rss]

    def _reconcile_new(self, d: Obj, all_rss: list[Obj], new_rs: Obj) -> bool:
        if replicas_of(new_rs) == replicas_of(d):
            return False
        if replicas_of(new_rs) > replicas_of(d):
            scaled, _ = self._scale_rs(new_rs, replicas_of(d), d)
            return scaled
        count = new_rs_new_replicas(d, all_rss, new_rs)
        scaled, _ = self._scale_rs(new_rs, count, d)
        return scaled

    def _reconcile_old(self, d: Obj, all_rss: list[Obj], old_rss: list[Obj], new_rs: Obj) -> bool:
        old_count = sum(replicas_of(rs) for rs in old_rss)
        if old_count == 0:
            return False
        all_count = sum(replicas_of(rs) for rs in all_rss)
        min_available = replicas_of(d) - max_unavailable(d)
        new_unavailable = replicas_of(new_rs) - status_count(new_rs, "availableReplicas")
        max_scaled_down = all_count - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False
        old_rss, cleaned = self._cleanup_unhealthy(d, old_rss, max_scaled_down)
        all_rss = [*old_rss, new_rs]
        scaled = self._scale_down_old_for_rolling(d, all_rss, old_rss)
        return cleaned + scaled > 0

    def _cleanup_unhealthy(self, d: Obj, old_rss: list[Obj], max_cleanup: int) -> tuple[list[Obj], int]:
        old_rss = sorted(old_rss, key=created)
        total = 0
        out = []
        for rs in old_rss:
            if total >= max_cleanup or replicas_of(rs) == 0:
                out.append(rs)
                continue
            available = status_count(rs, "availableReplicas")
            if replicas_of(rs) == available:
                out.append(rs)
                continue
            count = min(max_cleanup - total, replicas_of(rs) - available)
            _, updated = self._scale_rs(rs, replicas_of(rs) - count, d)
            total += count
            out.append(updated)
        return out, total

    def _scale_down_old_for_rolling(self, d: Obj, all_rss: list[Obj], old_rss: list[Obj]) -> int:
        min_available = replicas_of(d) - max_unavailable(d)
        available = sum(status_count(rs, "availableReplicas") for rs in all_rss if rs is not None)
        if available <= min_available:
            return 0
        total_to_scale = available - min_available
        total = 0
        for rs in sorted(old_rss, key=created):
            if total >= total_to_scale:
                break
            if replicas_of(rs) == 0:
                continue
            count = min(replicas_of(rs), total_to_scale - total)
            self._scale_rs(rs, replicas_of(rs) - count, d)
            total += count
        return total

    # -- Recreate --------------------------------------------------------------------------

    def _rollout_recreate(self, d: Obj, rs_list: list[Obj]) -> None:
        new_rs, old_rss = self._get_all(d, rs_list, create=False)
        all_rss: list[Obj | None] = [*old_rss, new_rs]
        scaled_down = False
        for rs in old_rss:
            if replicas_of(rs) > 0:
                changed, _ = self._scale_rs(rs, 0, d)
                scaled_down = scaled_down or changed
        if scaled_down:
            self._sync_rollout_status(d, self._fresh(all_rss), self._fresh_one(new_rs))
            return
        if self._old_pods_running(new_rs, self._fresh(old_rss)):
            self._sync_rollout_status(d, self._fresh(all_rss), self._fresh_one(new_rs))
            return
        if new_rs is None:
            new_rs, old_rss = self._get_all(d, rs_list, create=True)
            all_rss = [*old_rss, new_rs]
        if new_rs is not None and replicas_of(new_rs) != replicas_of(d):
            self._scale_rs(new_rs, replicas_of(d), d)
        if deployment_complete(d, d["status"]):
            self._cleanup(d, old_rss)
        self._sync_rollout_status(d, self._fresh(all_rss), self._fresh_one(new_rs))

    def _old_pods_running(self, new_rs: Obj | None, old_rss: list[Obj | None]) -> bool:
        olds = [rs for rs in old_rss if rs is not None]
        if sum(status_count(rs, "replicas") for rs in olds) > 0:
            return True
        for pods in self._pods_by_rs(olds).values():
            for pod in pods:
                phase = (pod.get("status") or {}).get("phase")
                if phase not in ("Failed", "Succeeded"):
                    return True
        return False

    # -- clean-up and status ---------------------------------------------------------------

    def _cleanup(self, d: Obj, old_rss: list[Obj]) -> None:
        limit = d["spec"].get("revisionHistoryLimit")
        if limit is None:
            return
        alive = [
            rs
            for rs in (self._fresh_one(r) for r in old_rss)
            if rs is not None and not rs["metadata"].get("deletionTimestamp")
        ]
        diff = len(alive) - int(limit)
        if diff <= 0:
            return
        alive.sort(key=lambda rs: (revision_of(rs), created(rs)))
        for rs in alive[:diff]:
            if (
                status_count(rs, "replicas") != 0
                or replicas_of(rs) != 0
                or int(rs["metadata"].get("generation") or 1) > status_count(rs, "observedGeneration")
            ):
                continue
            with contextlib.suppress(StoreError):
                self.ctx.store.remove("replicasets", rs["metadata"]["namespace"], rs["metadata"]["name"])

    def _sync_status(self, d: Obj, all_rss: list[Obj | None], new_rs: Obj | None) -> None:
        """``syncDeploymentStatus``: counts and Available only."""
        status = calculate_status(d, all_rss, new_rs, rfc3339(self._now()))
        if status != d.get("status"):
            d["status"] = status
            self._write(d)

    def _sync_rollout_status(self, d: Obj, all_rss: list[Obj | None], new_rs: Obj | None) -> None:
        """``syncRolloutStatus``: counts, Available, and progress against the deadline."""
        status = calculate_status(d, all_rss, new_rs, rfc3339(self._now()))
        if not has_deadline(d):
            remove_condition(status, "Progressing")
        current = get_condition(d["status"], "Progressing")
        complete = (
            int(status.get("replicas") or 0) == int(status.get("updatedReplicas") or 0)
            and current is not None
            and current.get("reason") == "NewReplicaSetAvailable"
        )
        rs_name = new_rs["metadata"]["name"] if new_rs is not None else None
        if has_deadline(d) and not complete:
            if deployment_complete(d, status):
                msg = (
                    f'ReplicaSet "{rs_name}" has successfully progressed.'
                    if rs_name
                    else f'Deployment "{d["metadata"]["name"]}" has successfully progressed.'
                )
                set_condition(status, self._progressing("True", "NewReplicaSetAvailable", msg))
            elif deployment_progressing(d, status):
                msg = (
                    f'ReplicaSet "{rs_name}" is progressing.'
                    if rs_name
                    else f'Deployment "{d["metadata"]["name"]}" is progressing.'
                )
                cond = self._progressing("True", "ReplicaSetUpdated", msg)
                self._progress_at[d["metadata"]["uid"]] = (cond["lastUpdateTime"], self._now())
                if current is not None:
                    if current.get("status") == "True":
                        cond["lastTransitionTime"] = current.get(
                            "lastTransitionTime", cond["lastTransitionTime"]
                        )
                    remove_condition(status, "Progressing")
                    status.setdefault("conditions", [])
                set_condition(status, cond)
            elif self._timed_out(d, status):
                msg = (
                    f'ReplicaSet "{rs_name}" has timed out progressing.'
                    if rs_name
                    else f'Deployment "{d["metadata"]["name"]}" has timed out progressing.'
                )
                set_condition(status, self._progressing("False", "ProgressDeadlineExceeded", msg))
        if status != d.get("status"):
            d["status"] = status
            self._write(d)
            return
        self._requeue_stuck(d, status)

    def _progress_time(self, d: Obj, cond: Obj) -> float:
        seen = self._progress_at.get(d["metadata"]["uid"])
        if seen is not None and seen[0] == cond.get("lastUpdateTime"):
            return seen[1]
        from kubectl_trace.timeparse import parse_rfc3339

        try:
            return parse_rfc3339(cond.get("lastUpdateTime", ""))
        except ValueError:
            return self._now()

    def _timed_out(self, d: Obj, status: Obj) -> bool:
        if not has_deadline(d):
            return False
        cond = get_condition(status, "Progressing")
        if cond is None:
            return False
        if cond.get("reason") == "NewReplicaSetAvailable":
            return False
        if cond.get("reason") == "ProgressDeadlineExceeded":
            return True
        deadline = self.ctx.scale.real(int(d["spec"]["progressDeadlineSeconds"]))
        return self._progress_time(d, cond) + deadline < self._now()

    def _requeue_stuck(self, d: Obj, status: Obj) -> None:
        cond = get_condition(d["status"], "Progressing")
        if not has_deadline(d) or cond is None:
            return
        if deployment_complete(d, status) or cond.get("reason") == "ProgressDeadlineExceeded":
            return
        if cond.get("reason") in ("DeploymentPaused",):
            return
        deadline = self.ctx.scale.real(int(d["spec"]["progressDeadlineSeconds"]))
        due = self._progress_time(d, cond) + deadline
        key = (d["metadata"]["namespace"], d["metadata"]["name"])
        if self._requeue_at.get(key) == due:
            return
        self._requeue_at[key] = due
        after = max(0.0, due - self._now()) + 0.01
        self.ctx.timers.after_real(after, lambda: self.ctx.queue.enqueue(self.QUEUE, key))
