"""The whole-app rollback plan, shared by ``rollback`` and the dashboard's ``u`` key.

Reads the app's releases (``recording.read_releases``), picks the release (``--to vN``,
``--to-tag TAG`` or the last healthy one) and plans every process onto its template
(``restore.release_targets`` → ``plans.plan_release``); nothing is changed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubectl_trace.release.plans import Plan
from kubectl_trace.release.recording import AppReleases
from kubectl_trace.release.records import Release

if TYPE_CHECKING:
    from kubectl_trace.kube.calls import KubeClient

__all__ = ["AppRollback", "app_of_deployment", "plan_app_rollback"]


@dataclass(frozen=True)
class AppRollback:
    """What a whole-app rollback will do."""

    app: str
    target: Release
    why: str  # "the last release whose rollout completed healthy", "as asked"
    plan: Plan
    data: AppReleases
    repository: str | None

    @property
    def current(self) -> str:
        """``v7``, or what runs when no release matches it."""
        current = self.data.current
        return f"v{current.number}" if current is not None else "a state no release recorded"


def plan_app_rollback(
    kube: KubeClient,
    app: str,
    namespace: str,
    config: Any,
    cause_for: Any,
    *,
    to: int | None = None,
    to_tag: str | None = None,
    force: bool = False,
) -> AppRollback:
    """Plan the rollback of ``app`` (``cause_for(release)``: the change cause); NodeappError if it cannot."""
    from kubectl_trace.errors import NodeappError
    from kubectl_trace.release.app import infer_repository, load_app
    from kubectl_trace.release.plans import plan_release
    from kubectl_trace.release.recording import read_releases
    from kubectl_trace.release.records import default_target, find_target
    from kubectl_trace.release.restore import release_targets

    loaded = load_app(kube, app, namespace=namespace, config=config)
    try:
        repository: str | None = infer_repository(app, loaded.deployments, config.image_repository)
    except NodeappError:
        repository = None
    data = read_releases(kube, app, namespace, loaded.deployments, config, repository)
    if to is not None or to_tag is not None:
        target, why = find_target(data.releases, number=to, tag=to_tag), "as asked"
    else:
        target, why = default_target(data.releases, data.live)
    replicasets = kube.list("replicasets", namespace).items
    targets = release_targets(data, target, replicasets, force=force)
    return AppRollback(app, target, why, plan_release(targets, cause_for(target)), data, repository)


def app_of_deployment(deployment: Any, config: Any) -> str:
    """The app a Deployment belongs to: its app label, else its name without ``-<process>``."""
    from kubectl_trace.kube.targets import app_of

    label = app_of(deployment, config.app_label)
    if label:
        return label
    name = str((deployment.get("metadata") or {}).get("name") or "")
    return name.rsplit("-", 1)[0] if "-" in name else name
