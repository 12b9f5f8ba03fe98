"""An app as the release commands see it: its process Deployments and the image they share.

``load_app`` resolves APP strictly through ``kube.targets.resolve_app`` (Deployments
labelled ``app=APP`` or ``app.kubernetes.io/name=APP``; unlabelled ``APP-<process>`` only
when none is); the rest is pure: which repository is "the app's
image" and which containers run it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubectl_trace.errors import NodeappError
from kubectl_trace.health.images import image_ref
from kubectl_trace.kube.targets import deployment_process

if TYPE_CHECKING:
    from kubectl_trace.kube.calls import KubeClient
    from kubectl_trace.userconfig import UserConfig

__all__ = [
    "App",
    "app_containers",
    "container_images",
    "infer_repository",
    "load_app",
    "process_name",
]

Obj = Mapping[str, Any]


@dataclass(frozen=True)
class App:
    """The process Deployments of one app in one namespace, as read (name order)."""

    name: str
    namespace: str
    deployments: tuple[Obj, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The Deployment names."""
        return tuple(str(d["metadata"]["name"]) for d in self.deployments)

    def by_name(self) -> dict[str, Obj]:
        """Deployments by name."""
        return {str(d["metadata"]["name"]): d for d in self.deployments}


def process_name(deployment: Obj, config: UserConfig | None = None) -> str:
    """The process type (``web``), else the Deployment name."""
    kwargs = {}
    if config is not None:
        kwargs = {"label": config.process_label, "env": config.process_env}
    return deployment_process(deployment, **kwargs) or str(deployment["metadata"]["name"])


def container_images(deployment: Obj) -> list[tuple[str, str, bool]]:
    """``(container, image, is_init)`` of the pod template, containers first."""
    spec = ((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}
    out = [(str(c.get("name")), str(c.get("image") or ""), False) for c in spec.get("containers") or []]
    out += [(str(c.get("name")), str(c.get("image") or ""), True) for c in spec.get("initContainers") or []]
    return out


def infer_repository(app: str, deployments: Sequence[Obj], configured: str | None = None) -> str:
    """The app's image repository: the config's ``image_repository``, else the one it runs.

    Without a configured one, the repository of the main containers (the first of each pod
    template) that most Deployments share wins; a tie is an error asking for the setting.
    """
    if configured:
        wanted = image_ref(configured).repository  # a tag given by mistake is ignored
        if not any(
            image_ref(img).repository == wanted for d in deployments for _, img, _ in container_images(d)
        ):
            raise NodeappError(
                f'no Deployment of app "{app}" runs image repository {wanted} '
                "(image_repository in the config file)",
                hint="fix image_repository in the config file, or remove it to use the app's own image",
            )
        return wanted
    counts: Counter[str] = Counter()
    for d in deployments:
        images = container_images(d)
        if images:
            counts[image_ref(images[0][1]).repository] += 1
    if not counts:
        raise NodeappError(f'the Deployments of app "{app}" have no containers')
    ranked = counts.most_common()
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        tied = ", ".join(sorted(r for r, n in ranked if n == ranked[0][1]))
        raise NodeappError(
            f'the Deployments of app "{app}" run different images ({tied}): which one is the app\'s?',
            hint='set image_repository = "REPOSITORY" in the config file (kubectl nodeapp info shows where)',
        )
    return ranked[0][0]


def app_containers(deployment: Obj, repository: str) -> list[tuple[str, bool]]:
    """``(container, is_init)`` of the containers running ``repository`` (any tag)."""
    return [
        (name, init)
        for name, image, init in container_images(deployment)
        if image and image_ref(image).repository == repository
    ]


def load_app(
    kube: KubeClient,
    app: str,
    *,
    namespace: str | None = None,
    process: str | None = None,
    config: UserConfig | None = None,
) -> App:
    """Resolve APP to exactly one app's process Deployments (``--process`` narrows them).

    Strict (``kube.targets.resolve_app``): Deployments labelled with the app, else unlabelled
    ``APP-<process>``; a name that is not an app (a prefix of others included) is an error
    listing the namespace's apps.
    """
    from kubectl_trace.kube.targets import resolve_app

    ns = namespace or kube.namespace
    kube.require_namespace(ns)
    found = resolve_app(kube, app, namespace=ns, process=process, config=config)
    deployments = sorted(found, key=lambda d: str(d["metadata"]["name"]))
    return App(name=app, namespace=ns, deployments=tuple(deployments))
