"""What the mutating keys do to the cluster: app rollback, undo, pause / resume, restart.

``u`` rolls the whole app of the selected Deployment back to its last healthy release
(``release.app_rollback``, recorded as a new release, exactly what ``nodeapp rollback APP``
does but without following it: the dashboard shows the rollout); ``U`` is kubectl's undo of
the selected Deployment alone.

The patches are the release module's (``release.history.undo_plan`` for kubectl's
client-side undo with ``test`` operations guarding the template and annotations;
``release.patches.restart_patch`` for ``restartedAt``) and go through
``release.apply.apply_guarded``, which re-reads the Deployment and rebuilds the patch when
someone changed it meanwhile. Each function returns the one-line outcome to show.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kubectl_trace.dashboard.ui import Action
from kubectl_trace.errors import NodeappError

if TYPE_CHECKING:
    from kubectl_trace.kube.calls import KubeClient

__all__ = ["perform", "pod_command"]


class _Nothing(Exception):
    """The patch builder found nothing to change (carries the reason)."""


def _rfc3339(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


def _tags(obj: Mapping[str, Any]) -> str:
    from kubectl_trace.health import image_tag

    containers = ((obj.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or ()
    return ",".join(dict.fromkeys(image_tag(str(c.get("image") or "")) or "(no tag)" for c in containers))


def _apply(kube: KubeClient, namespace: str, name: str, build: Any) -> Any:
    from kubectl_trace.release.apply import apply_guarded

    return apply_guarded(kube, namespace, name, build)


def undo(kube: KubeClient, namespace: str, name: str, revision: int) -> str:
    """Roll ``name`` back to ``revision`` (0: the previous one), as ``kubectl rollout undo`` does."""
    from kubectl_trace.kube.selectors import format_label_selector
    from kubectl_trace.release.history import undo_plan

    target = [revision]

    def build(current: Mapping[str, Any]) -> Any:
        selector = format_label_selector((current.get("spec") or {}).get("selector") or {})
        replicasets = kube.list("replicasets", namespace, label_selector=selector or None).items
        plan = undo_plan(current, replicasets, revision)
        target[0] = plan.to_revision
        if plan.patch is None:
            raise _Nothing(plan.skipped)
        return plan.patch

    try:
        applied = _apply(kube, namespace, name, build)
    except _Nothing as nothing:
        return f"{name}: {nothing}"
    after = getattr(applied, "after", None) or {}
    return f"rolled back {name} to revision {target[0]} ({_tags(after)})" if after else f"rolled back {name}"


def app_rollback(kube: KubeClient, namespace: str, name: str, user: str, now: float) -> str:
    """Roll the app of Deployment ``name`` back to its last healthy release (a new release)."""
    import os

    from kubectl_trace.release.app_rollback import app_of_deployment, plan_app_rollback
    from kubectl_trace.release.apply import Step, apply_all
    from kubectl_trace.release.patches import change_cause
    from kubectl_trace.release.recording import Recorder, author_of
    from kubectl_trace.release.records import Release, tags_summary
    from kubectl_trace.userconfig import load_user_config

    config = load_user_config()
    app = app_of_deployment(kube.get("deployments", name, namespace), config)
    at = _rfc3339(now)

    def cause_for(target: Release) -> str:
        return change_cause(f"rollback to v{target.number}", user, at)

    rollback = plan_app_rollback(kube, app, namespace, config, cause_for)
    target = rollback.target
    if not rollback.plan.planned:
        return f"app {app} already runs v{target.number}"
    argument = f"to v{target.number}"
    author = author_of(os.environ)
    recorder = Recorder(kube, app, namespace, config, rollback.repository, "rollback", argument, author, now)
    recorder.prepare()
    steps = [Step(namespace, p.name, p.build, p.deployment) for p in rollback.plan.planned]
    outcome = apply_all(kube, steps)
    made = recorder.record({a.name: a.after for a in outcome.applied})
    return (
        f"rolling back app {app} to v{target.number} ({target.description}): "
        f"{tags_summary(target.processes)} — release v{made.number}"
    )


def set_paused(kube: KubeClient, namespace: str, name: str, paused: bool) -> str:
    """Pause or resume the rollout of ``name`` (a patch guarded by the resourceVersion)."""
    from kubectl_trace.release.patches import Patch

    def build(current: Mapping[str, Any]) -> Any:
        if bool((current.get("spec") or {}).get("paused")) == paused:
            raise _Nothing("already paused" if paused else "not paused")
        rv = str((current.get("metadata") or {}).get("resourceVersion") or "")
        body = {"metadata": {"resourceVersion": rv}, "spec": {"paused": paused}}
        return Patch(namespace, name, "strategic", body, "paused" if paused else "resumed")

    try:
        _apply(kube, namespace, name, build)
    except _Nothing as nothing:
        return f"{name}: {nothing}"
    return f"paused the rollout of {name}" if paused else f"resumed the rollout of {name}"


def restart(kube: KubeClient, namespace: str, name: str, user: str, now: float) -> str:
    """A rolling restart (``kubectl.kubernetes.io/restartedAt``), recorded as the change cause."""
    from kubectl_trace.release.patches import change_cause, restart_patch

    at = _rfc3339(now)

    def build(current: Mapping[str, Any]) -> Any:
        if (current.get("spec") or {}).get("paused"):
            raise NodeappError(f"{name} is paused: resume it (p) before restarting")
        return restart_patch(current, at, change_cause("restart", user, at))

    _apply(kube, namespace, name, build)
    return f"restarting every pod of {name}"


def perform(kube: KubeClient, action: Action, *, user: str = "", now: float | None = None) -> str:
    """Carry out a deployment action; returns what happened (raises KubeError/NodeappError)."""
    name = action.deployment or ""
    namespace = action.namespace
    if action.kind == "app-rollback":
        return app_rollback(kube, namespace, name, user, time.time() if now is None else now)
    if action.kind == "undo":
        return undo(kube, namespace, name, action.revision or 0)
    if action.kind in ("pause", "resume"):
        return set_paused(kube, namespace, name, action.kind == "pause")
    if action.kind == "restart":
        return restart(kube, namespace, name, user, time.time() if now is None else now)
    raise NodeappError(f"unknown action {action.kind}")


def pod_command(prefix: list[str], global_args: list[str], action: Action) -> list[str]:
    """The argument list that runs ``kubectl nodeapp logs|shell POD -n NS`` with our flags."""
    if action.pod is None:
        raise NodeappError("no pod selected")
    return [*prefix, action.kind, action.pod, "-n", action.namespace, *global_args]
