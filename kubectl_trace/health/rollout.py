"""Deployment rollout state from a Deployment and its ReplicaSets, as kubectl and the controller see it.

The state follows ``kubectl rollout status`` (``polymorphichelpers/rollout_status.go``):
paused; spec not observed yet; ``Progressing`` condition with reason
``ProgressDeadlineExceeded`` → stalled; fewer updated replicas than desired, old replicas
still around, or updated replicas not yet available → progressing; else complete.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubectl_trace.health._common import as_int, child, children, timestamp
from kubectl_trace.health.images import image_tag
from kubectl_trace.health.pods import Problem
from kubectl_trace.kube.selectors import match_label_selector_object

__all__ = [
    "CHANGE_CAUSE_ANNOTATION",
    "REVISION_ANNOTATION",
    "ContainerImage",
    "ReplicaSetInfo",
    "RolloutState",
    "deployment_pods",
    "deployment_replicasets",
    "deployment_rollout",
    "replicaset_info",
    "resolve_int_or_percent",
]

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause"
_TEMPLATE_HASH = "pod-template-hash"


@dataclass(frozen=True)
class ContainerImage:
    """One container of a pod template and the image it runs."""

    container: str
    image: str
    tag: str | None


@dataclass(frozen=True)
class ReplicaSetInfo:
    """One ReplicaSet of a Deployment: its revision, what it runs and how far it got."""

    name: str
    revision: int | None
    template_hash: str
    images: tuple[ContainerImage, ...]
    desired: int
    current: int
    ready: int
    available: int
    created_at: float | None
    change_cause: str

    @property
    def tags(self) -> tuple[str, ...]:
        """The distinct image tags, in container order."""
        return _image_tags(self.images)

    @property
    def active(self) -> bool:
        """Whether it wants or still has pods."""
        return self.desired > 0 or self.current > 0


@dataclass(frozen=True)
class RolloutState:
    """The rollout of one Deployment.

    ``state``: ``complete``, ``progressing``, ``stalled`` (progress deadline exceeded;
    ``message`` is the controller's), ``paused``. Counts are the Deployment's status
    against ``desired`` (spec.replicas). ``surge`` is how many pods exist beyond
    ``desired`` (against ``max_surge``); ``unavailable`` how many desired pods are not
    available (against ``max_unavailable``); both limits resolved from ``maxSurge`` /
    ``maxUnavailable`` (ints or percentages) as the controller resolves them.
    """

    namespace: str
    name: str
    uid: str
    state: str
    reason: str
    message: str
    observed: bool
    revision: int | None
    images: tuple[ContainerImage, ...]
    desired: int
    current: int
    updated: int
    ready: int
    available: int
    unavailable: int
    strategy: str
    max_surge: int
    max_unavailable: int
    max_surge_spec: str
    max_unavailable_spec: str
    surge: int
    progress_deadline_seconds: int | None
    deadline_left: float | None  # seconds until the deadline while progressing
    last_progress_at: float | None
    new: ReplicaSetInfo | None
    old: tuple[ReplicaSetInfo, ...]  # old ReplicaSets that still want or have pods
    history: tuple[ReplicaSetInfo, ...]  # every ReplicaSet, newest revision first
    change_cause: str
    problems: tuple[Problem, ...]
    summary: str

    @property
    def tags(self) -> tuple[str, ...]:
        """The distinct image tags of the template, in container order."""
        return _image_tags(self.images)

    @property
    def old_tags(self) -> tuple[str, ...]:
        """Tags the old ReplicaSets that still have pods run (what the rollout moves away from)."""
        return _distinct(t for rs in self.old for t in rs.tags if t not in self.tags)

    @property
    def progress(self) -> float:
        """0..1: new pods available out of desired (1.0 when complete or scaled to zero)."""
        if self.state == "complete" or self.desired <= 0:
            return 1.0
        available_new = self.new.available if self.new is not None else 0
        return max(0.0, min(1.0, available_new / self.desired))

    @property
    def over_surge(self) -> bool:
        """More extra pods than ``maxSurge`` allows (a controller falling behind)."""
        return self.surge > self.max_surge

    @property
    def over_unavailable(self) -> bool:
        """More unavailable pods than ``maxUnavailable`` allows (capacity below the promise)."""
        return self.unavailable > self.max_unavailable

    @property
    def ok(self) -> bool:
        """No error problem."""
        return not any(p.severity == "error" for p in self.problems)

    def revision_of(self, template_hash: str) -> int | None:
        """The revision of the ReplicaSet with this ``pod-template-hash`` (a pod's REV column)."""
        for rs in self.history:
            if rs.template_hash == template_hash:
                return rs.revision
        return None


def _distinct(values: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for v in values:
        seen.setdefault(v, None)
    return tuple(seen)


def _image_tags(images: Iterable[ContainerImage]) -> tuple[str, ...]:
    """The distinct tags of ``images``, in container order (``(no tag)`` for an image without one)."""
    return _distinct(i.tag or "(no tag)" for i in images)


def resolve_int_or_percent(value: Any, total: int, *, round_up: bool, default: str) -> int:
    """An ``IntOrString`` (``1``, ``"25%"``) against ``total``; percentages round as the controller does."""
    if value is None or value == "":
        value = default
    if isinstance(value, str) and value.endswith("%"):
        try:
            percent = float(value[:-1])
        except ValueError:
            return 0
        exact = percent * total / 100.0
        return math.ceil(exact - 1e-9) if round_up else math.floor(exact + 1e-9)
    return max(0, as_int(value))


def _images(template_spec: Mapping[str, Any]) -> tuple[ContainerImage, ...]:
    out = []
    for c in children(template_spec, "containers"):
        image = str(c.get("image") or "")
        out.append(ContainerImage(str(c.get("name") or ""), image, image_tag(image) if image else None))
    return tuple(out)


def _revision(meta: Mapping[str, Any]) -> int | None:
    value = child(meta, "annotations").get(REVISION_ANNOTATION)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def replicaset_info(rs: Mapping[str, Any]) -> ReplicaSetInfo:
    """Summarise one ReplicaSet dict."""
    meta = child(rs, "metadata")
    spec = child(rs, "spec")
    status = child(rs, "status")
    template = child(spec, "template")
    return ReplicaSetInfo(
        name=str(meta.get("name") or ""),
        revision=_revision(meta),
        template_hash=str(
            child(meta, "labels").get(_TEMPLATE_HASH)
            or child(child(template, "metadata"), "labels").get(_TEMPLATE_HASH)
            or ""
        ),
        images=_images(child(template, "spec")),
        desired=as_int(spec.get("replicas"), 1),
        current=as_int(status.get("replicas")),
        ready=as_int(status.get("readyReplicas")),
        available=as_int(status.get("availableReplicas")),
        created_at=timestamp(meta.get("creationTimestamp")),
        change_cause=str(child(meta, "annotations").get(CHANGE_CAUSE_ANNOTATION) or ""),
    )


def deployment_replicasets(
    deployment: Mapping[str, Any], replicasets: Iterable[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """The ReplicaSets a Deployment controls (by controller owner uid, else by name and selector)."""
    meta = child(deployment, "metadata")
    uid = meta.get("uid")
    name = str(meta.get("name") or "")
    namespace = meta.get("namespace")
    selector = child(deployment, "spec").get("selector")
    out = []
    for rs in replicasets:
        rs_meta = child(rs, "metadata")
        if namespace and rs_meta.get("namespace") not in (None, namespace):
            continue
        refs = [r for r in children(rs_meta, "ownerReferences") if r.get("controller")]
        if refs:
            ref = refs[0]
            if ref.get("kind") == "Deployment" and (
                ref.get("uid") == uid if uid else ref.get("name") == name
            ):
                out.append(rs)
            continue
        labels = child(child(child(rs, "spec"), "template"), "metadata").get("labels") or {}
        if str(rs_meta.get("name") or "").startswith(f"{name}-") and match_label_selector_object(
            selector, labels
        ):
            out.append(rs)
    return out


def deployment_pods(
    deployment: Mapping[str, Any], pods: Iterable[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """The pods a Deployment's selector matches (same namespace), in name order."""
    meta = child(deployment, "metadata")
    namespace = meta.get("namespace")
    selector = child(deployment, "spec").get("selector")
    out = [
        p
        for p in pods
        if (not namespace or child(p, "metadata").get("namespace") in (None, namespace))
        and match_label_selector_object(selector, child(p, "metadata").get("labels"))
    ]
    out.sort(key=lambda p: str(child(p, "metadata").get("name") or ""))
    return out


def _strip_hash(template: Mapping[str, Any]) -> Any:
    meta = dict(child(template, "metadata"))
    labels = dict(child(meta, "labels"))
    labels.pop(_TEMPLATE_HASH, None)
    meta["labels"] = labels
    return {**template, "metadata": meta}


def _find_new(
    deployment: Mapping[str, Any], revision: int | None, replicasets: list[Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    template = _strip_hash(child(child(deployment, "spec"), "template"))
    for rs in replicasets:  # the controller's way: a template equal but for the hash label
        if _strip_hash(child(child(rs, "spec"), "template")) == template:
            return rs
    if revision is not None:  # templates defaulted differently: trust the revision
        for rs in replicasets:
            if _revision(child(rs, "metadata")) == revision:
                return rs
    return None


def _progressing(status: Mapping[str, Any]) -> Mapping[str, Any]:
    for condition in children(status, "conditions"):
        if condition.get("type") == "Progressing":
            return condition
    return {}


def _available_condition(status: Mapping[str, Any]) -> Mapping[str, Any]:
    for condition in children(status, "conditions"):
        if condition.get("type") == "Available":
            return condition
    return {}


def deployment_rollout(
    deployment: Mapping[str, Any], replicasets: Iterable[Mapping[str, Any]] = (), now: float = 0.0
) -> RolloutState:
    """Derive the rollout state of a Deployment.

    ``replicasets`` may be every ReplicaSet of the namespace: the Deployment's own are
    picked by owner. ``now`` (epoch seconds) sets ``deadline_left``.
    """
    meta = child(deployment, "metadata")
    spec = child(deployment, "spec")
    status = child(deployment, "status")
    name = str(meta.get("name") or "")
    namespace = str(meta.get("namespace") or "")
    desired = as_int(spec.get("replicas"), 1)
    current = as_int(status.get("replicas"))
    updated = as_int(status.get("updatedReplicas"))
    ready = as_int(status.get("readyReplicas"))
    available = as_int(status.get("availableReplicas"))
    unavailable = max(0, desired - available)
    revision = _revision(meta)
    generation = as_int(meta.get("generation"), 0)
    observed = as_int(status.get("observedGeneration"), 0) >= generation

    strategy = child(spec, "strategy")
    strategy_type = str(strategy.get("type") or "RollingUpdate")
    rolling = child(strategy, "rollingUpdate")
    if strategy_type == "Recreate":
        max_surge, max_unavailable = 0, desired
        surge_spec, unavailable_spec = "0", str(desired)
    else:
        surge_spec = str(rolling.get("maxSurge", "25%"))
        unavailable_spec = str(rolling.get("maxUnavailable", "25%"))
        max_surge = resolve_int_or_percent(rolling.get("maxSurge"), desired, round_up=True, default="25%")
        max_unavailable = resolve_int_or_percent(
            rolling.get("maxUnavailable"), desired, round_up=False, default="25%"
        )
        if max_surge == 0 and max_unavailable == 0:
            max_unavailable = 1  # the controller's fencepost rule
    surge = max(0, current - desired)

    own = deployment_replicasets(deployment, replicasets)
    infos = {id(rs): replicaset_info(rs) for rs in own}
    new_rs = _find_new(deployment, revision, own)
    new = infos[id(new_rs)] if new_rs is not None else None
    history = tuple(sorted(infos.values(), key=lambda r: (r.revision or 0, r.created_at or 0), reverse=True))
    old = tuple(r for r in history if (new is None or r.name != new.name) and r.active)

    progressing = _progressing(status)
    deadline = spec.get("progressDeadlineSeconds")
    deadline_s = as_int(deadline, 600) if deadline is not None else 600
    last_progress = timestamp(progressing.get("lastUpdateTime")) or timestamp(
        progressing.get("lastTransitionTime")
    )
    reason = str(progressing.get("reason") or "")
    message = str(progressing.get("message") or "")
    if spec.get("paused"):
        state = "paused"
        message = message if reason == "DeploymentPaused" else "Deployment is paused"
    elif not observed:
        state = "progressing"
        message = "waiting for the deployment spec update to be observed"
    elif reason == "ProgressDeadlineExceeded":
        state = "stalled"
    elif updated < desired or current > updated or available < updated:
        state = "progressing"
    else:
        state = "complete"
    deadline_left = None
    if state == "progressing" and last_progress is not None:
        deadline_left = max(0.0, last_progress + deadline_s - now)

    problems: list[Problem] = []
    if state == "stalled":
        problems.append(
            Problem(
                "ProgressDeadlineExceeded",
                "error",
                f"rollout stalled: {message or 'progress deadline exceeded'}",
            )
        )
    available_cond = _available_condition(status)
    if available_cond.get("status") == "False" and desired > 0:
        promised = max(0, desired - max_unavailable)
        if 0 < promised <= desired and available < promised:
            text = (
                f"only {available} of {desired} replicas available "
                f"(fewer than the {promised} the strategy promises)"
            )
        else:  # Recreate (or maxUnavailable 100%) promises none during a rollout
            text = f"{available} of {desired} replica{'s' if desired != 1 else ''} available"
        problems.append(
            Problem(str(available_cond.get("reason") or "MinimumReplicasUnavailable"), "error", text)
        )
    if state == "paused":
        problems.append(Problem("Paused", "warning", "rollout paused: new changes are not rolled out"))
    if not problems and state == "complete" and available < desired:
        problems.append(Problem("Unavailable", "warning", f"{available} of {desired} replicas available"))

    images = _images(child(child(spec, "template"), "spec"))
    return RolloutState(
        namespace=namespace,
        name=name,
        uid=str(meta.get("uid") or ""),
        state=state,
        reason=reason,
        message=message,
        observed=observed,
        revision=revision,
        images=images,
        desired=desired,
        current=current,
        updated=updated,
        ready=ready,
        available=available,
        unavailable=unavailable,
        strategy=strategy_type,
        max_surge=max_surge,
        max_unavailable=max_unavailable,
        max_surge_spec=surge_spec,
        max_unavailable_spec=unavailable_spec,
        surge=surge,
        progress_deadline_seconds=deadline_s,
        deadline_left=deadline_left,
        last_progress_at=last_progress,
        new=new,
        old=old,
        history=history,
        change_cause=str(child(meta, "annotations").get(CHANGE_CAUSE_ANNOTATION) or ""),
        problems=tuple(problems),
        summary=_summary(state, message, desired, updated, available, images, old),
    )


def _summary(
    state: str,
    message: str,
    desired: int,
    updated: int,
    available: int,
    images: tuple[ContainerImage, ...],
    old: tuple[ReplicaSetInfo, ...],
) -> str:
    tags = ",".join(_image_tags(images))
    if state == "stalled":
        return f"stalled rolling out {tags}: {message}" if message else f"stalled rolling out {tags}"
    if state == "paused":
        return f"paused at {tags} ({updated}/{desired} updated)"
    if state == "progressing":
        old_tags = ",".join(_distinct(t for rs in old for t in rs.tags))
        move = f"{old_tags} → {tags}" if old_tags and old_tags != tags else tags
        return f"rolling out {move}: {updated}/{desired} updated, {available} available"
    return f"{tags} running: {available}/{desired} available"
