"""Legacy discovery documents: ``/version``, ``/api``, ``/api/v1``, ``/apis``, ``/apis/GROUP/v1``.

Plain ``application/json`` answers, which kubectl accepts for every command here (it asks
for aggregated discovery first and falls back on the Content-Type).
"""

from __future__ import annotations

from typing import Any

from kubectl_trace.kube.resources import RESOURCES, Resource

__all__ = ["KUBERNETES_VERSION", "discovery_document"]

KUBERNETES_VERSION = {"major": "1", "minor": "37", "gitVersion": "v1.37.1"}

_SUBRESOURCE_SHAPES: dict[str, tuple[str, tuple[str, ...]]] = {
    # subresource → (kind, verbs); "" kind = the parent's kind
    "status": ("", ("get", "patch", "update")),
    "log": ("Pod", ("get",)),
    "exec": ("PodExecOptions", ("create", "get")),
    "attach": ("PodAttachOptions", ("create", "get")),
    "proxy": ("", ("create", "delete", "get", "patch", "update")),
    "scale": ("Scale", ("get", "patch", "update")),
}


def _verbs(resource: Resource) -> list[str]:
    verbs = list(resource.verbs)
    if resource.plural == "namespaces":
        verbs.remove("deletecollection")
    return verbs


def _resource_entries(resource: Resource) -> list[dict[str, Any]]:
    entry: dict[str, Any] = {
        "name": resource.plural,
        "singularName": resource.singular,
        "namespaced": resource.namespaced,
        "kind": resource.kind,
        "verbs": _verbs(resource),
    }
    if resource.short_names:
        entry["shortNames"] = list(resource.short_names)
    if resource.categories:
        entry["categories"] = list(resource.categories)
    entries = [entry]
    for sub in resource.subresources:
        kind, verbs = _SUBRESOURCE_SHAPES[sub]
        if sub == "proxy" and resource.plural == "services":
            kind = "ServiceProxyOptions"
        elif sub == "proxy":
            kind = "PodProxyOptions"
        sub_entry: dict[str, Any] = {
            "name": f"{resource.plural}/{sub}",
            "singularName": "",
            "namespaced": resource.namespaced,
            "kind": kind or resource.kind,
            "verbs": list(verbs),
        }
        if sub == "scale":
            sub_entry["group"] = "autoscaling"
            sub_entry["version"] = "v1"
        entries.append(sub_entry)
    return entries


def served() -> list[Resource]:
    """Every resource served: the resource table plus the events.k8s.io view of Events."""
    from kubectl_trace.sandbox.server.eventsv1 import EVENTS_V1

    return [*RESOURCES.values(), EVENTS_V1]


def _resource_list(group_version: str, group: str) -> dict[str, Any]:
    resources: list[dict[str, Any]] = []
    for resource in sorted(served(), key=lambda r: r.plural):
        if resource.group == group:
            resources.extend(_resource_entries(resource))
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }


# Groups served by handlers of their own (server.identity), not by the store: create-only reviews.
_REVIEW_GROUPS: dict[str, list[tuple[str, str]]] = {
    "authentication.k8s.io": [("selfsubjectreviews", "SelfSubjectReview")],
    "authorization.k8s.io": [
        ("selfsubjectaccessreviews", "SelfSubjectAccessReview"),
        ("selfsubjectrulesreviews", "SelfSubjectRulesReview"),
    ],
}


def _review_list(group: str) -> dict[str, Any]:
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/v1",
        "resources": [
            {"name": plural, "singularName": "", "namespaced": False, "kind": kind, "verbs": ["create"]}
            for plural, kind in _REVIEW_GROUPS[group]
        ],
    }


def discovery_document(path: str, server_address: str) -> dict[str, Any] | None:
    """The document served at ``path``, or None when there is none."""
    if path == "/version":
        return {
            **KUBERNETES_VERSION,
            "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean",
            "buildDate": "2026-01-01T00:00:00Z",
            "goVersion": "go1.25.0",
            "compiler": "gc",
            "platform": "linux/amd64",
        }
    if path == "/api":
        return {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
        }
    groups = sorted({(r.group, r.version) for r in served() if r.group})
    if path == "/apis":
        entries = []
        for group, version in groups:
            gv = {"groupVersion": f"{group}/{version}", "version": version}
            entries.append({"name": group, "versions": [gv], "preferredVersion": gv})
        from kubectl_trace.sandbox.server.metrics import group_entry

        entries.append(group_entry())  # metrics.k8s.io: served by its own handler, not the store
        for group in _REVIEW_GROUPS:
            gv = {"groupVersion": f"{group}/v1", "version": "v1"}
            entries.append({"name": group, "versions": [gv], "preferredVersion": gv})
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": entries}
    if path == "/api/v1":
        document = _resource_list("v1", "")
        document["resources"].append(
            {
                "name": "pods/portforward",
                "singularName": "",
                "namespaced": True,
                "kind": "PodPortForwardOptions",
                "verbs": ["create", "get"],
            }
        )
        return document
    for group in _REVIEW_GROUPS:
        if path == f"/apis/{group}/v1":
            return _review_list(group)
    for group, version in groups:
        if path == f"/apis/{group}/{version}":
            return _resource_list(f"{group}/{version}", group)
    return None
