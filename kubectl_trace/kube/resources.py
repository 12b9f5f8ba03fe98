"""The resource kinds this product and its sandbox know: names, groups, paths.

One table shared by the client layer (building paths) and the sandbox (discovery,
routing), so the two can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

__all__ = ["RESOURCES", "Resource", "lookup"]

_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class Resource:
    """One API resource (``pods``, ``deployments.apps`` …)."""

    plural: str
    singular: str
    kind: str
    group: str
    version: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = _VERBS

    @property
    def api_version(self) -> str:
        """``v1`` or ``apps/v1``."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> str:
        """``pods`` or ``deployments.apps``, as API messages name it."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def list_kind(self) -> str:
        """``PodList``."""
        return f"{self.kind}List"

    def base_path(self) -> str:
        """``/api/v1`` or ``/apis/apps/v1``."""
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    def path(
        self, namespace: str | None = None, name: str | None = None, subresource: str | None = None
    ) -> str:
        """The URL path of the collection, an object, or its subresource."""
        parts = [self.base_path()]
        if self.namespaced and namespace:
            parts.append(f"namespaces/{quote(namespace, safe='')}")
        parts.append(self.plural)
        if name is not None:
            parts.append(quote(name, safe=":"))
            if subresource:
                parts.append(subresource)
        return "/".join(parts)


RESOURCES: dict[str, Resource] = {
    r.plural: r
    for r in (
        Resource("namespaces", "namespace", "Namespace", "", "v1", False, ("ns",), (), ("status",)),
        Resource("nodes", "node", "Node", "", "v1", False, ("no",), (), ("status",)),
        Resource(
            "pods",
            "pod",
            "Pod",
            "",
            "v1",
            True,
            ("po",),
            ("all",),
            ("status", "log", "exec", "attach", "proxy"),
        ),
        Resource("services", "service", "Service", "", "v1", True, ("svc",), ("all",), ("status", "proxy")),
        Resource("configmaps", "configmap", "ConfigMap", "", "v1", True, ("cm",)),
        Resource("secrets", "secret", "Secret", "", "v1", True),
        Resource("events", "event", "Event", "", "v1", True, ("ev",)),
        Resource("serviceaccounts", "serviceaccount", "ServiceAccount", "", "v1", True, ("sa",)),
        Resource(
            "deployments",
            "deployment",
            "Deployment",
            "apps",
            "v1",
            True,
            ("deploy",),
            ("all",),
            ("status", "scale"),
        ),
        Resource(
            "replicasets",
            "replicaset",
            "ReplicaSet",
            "apps",
            "v1",
            True,
            ("rs",),
            ("all",),
            ("status", "scale"),
        ),
        Resource("jobs", "job", "Job", "batch", "v1", True, (), ("all",), ("status",)),
        Resource("cronjobs", "cronjob", "CronJob", "batch", "v1", True, ("cj",), ("all",), ("status",)),
    )
}

_ALIASES: dict[str, Resource] = {}
for _r in RESOURCES.values():
    for _alias in (_r.plural, _r.singular, _r.kind.lower(), _r.group_resource, *_r.short_names):
        _ALIASES[_alias] = _r


def lookup(name: str) -> Resource:
    """A resource by plural, singular, kind or short name (``po``, ``deploy``, ``Deployment``)."""
    try:
        return _ALIASES[name.lower()]
    except KeyError:
        raise KeyError(f"unknown resource type {name!r}") from None
