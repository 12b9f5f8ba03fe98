"""Parsing request paths into what they address (pure; unit-tested without a server)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from kubectl_trace.kube.resources import RESOURCES, Resource
from kubectl_trace.sandbox.server.eventsv1 import EVENTS_V1

__all__ = ["Route", "parse_path"]

_DISCOVERY = frozenset(
    {
        "/version",
        "/api",
        "/api/v1",
        "/apis",
        "/apis/apps/v1",
        "/apis/batch/v1",
        "/apis/events.k8s.io/v1",
        "/apis/authorization.k8s.io/v1",
        "/apis/authentication.k8s.io/v1",
    }
)
# Subresources of namespaces themselves (``/api/v1/namespaces/NAME/status``), not collections.
_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})
# served for pods although the shared resource table (and so discovery) does not list them
_EXTRA_POD_SUBRESOURCES = frozenset({"portforward"})


@dataclass(frozen=True)
class Route:
    """What one request path addresses."""

    kind: str  # "discovery", "openapi", "resource", "admin", "healthz", "metrics", "unknown"
    path: str = ""
    resource: Resource | None = None
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None
    rest: str = ""  # pods/NAME/proxy/REST: the path after the subresource, with its "/"
    legacy_watch: bool = False

    @property
    def label(self) -> str:
        """The resource as request counters name it: ``pods``, ``pods/log``, ``discovery``."""
        if self.resource is None:
            return self.kind
        return f"{self.resource.plural}/{self.subresource}" if self.subresource else self.resource.plural


def _fixed_route(path: str) -> Route | None:
    """The paths that address no resource: discovery, OpenAPI, health, admin, metrics."""
    if path in _DISCOVERY:
        return Route("discovery", path=path)
    if path in ("/openapi/v2", "/openapi/v3") or path.startswith("/openapi/v3/"):
        return Route("openapi", path=path)
    if path in ("/healthz", "/livez", "/readyz"):
        return Route("healthz", path=path)
    if path.startswith("/sandbox/"):
        return Route("admin", path=path)
    if path == "/apis/metrics.k8s.io" or path.startswith("/apis/metrics.k8s.io/"):
        return Route("metrics", path=path)  # served by server.metrics
    return None


def _group_and_rest(segments: list[str]) -> tuple[str, list[str], int] | None:
    """(API group, the segments after ``/api/v1`` or ``/apis/GROUP/v1``, how many those were)."""
    if len(segments) >= 2 and segments[0] == "api" and segments[1] == "v1":
        return "", segments[2:], 2
    if len(segments) >= 3 and segments[0] == "apis" and segments[2] == "v1":
        return segments[1], segments[3:], 3
    return None


def _subresource_tail(raw_path: str, consumed: int, subresource: str) -> str | None:
    """The rest of the raw path after ``…/NAME/SUB``, decoded once, keeping its slashes.

    Only ``proxy`` takes one: None when another subresource has one.
    """
    tail_segments = raw_path.split("/")[1:][consumed:]
    tail = "/" + "/".join(unquote(s) for s in tail_segments) if tail_segments else ""
    if subresource != "proxy" and tail.strip("/"):
        return None
    return tail


def _resource_of(group: str, plural: str) -> Resource | None:
    if group == EVENTS_V1.group and plural == EVENTS_V1.plural:
        return EVENTS_V1  # core Events served through events.k8s.io/v1
    resource = RESOURCES.get(plural)
    return resource if resource is not None and resource.group == group else None


def _has_subresource(resource: Resource, subresource: str) -> bool:
    return subresource in resource.subresources or (
        resource.plural == "pods" and subresource in _EXTRA_POD_SUBRESOURCES
    )


def parse_path(raw_path: str) -> Route:
    """Classify a raw (still percent-encoded) URL path."""
    path = raw_path.rstrip("/") or "/"
    fixed = _fixed_route(path)
    if fixed is not None:
        return fixed
    unknown = Route("unknown", path=path)
    found = _group_and_rest([unquote(s) for s in raw_path.split("/")[1:]])
    if found is None:
        return unknown
    group, rest, prefix_len = found
    legacy_watch = bool(rest) and rest[0] == "watch"
    if legacy_watch:
        rest = rest[1:]
        prefix_len += 1
    namespace: str | None = None
    if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] not in _NAMESPACE_SUBRESOURCES:
        namespace = rest[1]
        rest = rest[2:]
        prefix_len += 2
    if not rest or rest[0] == "":
        return unknown
    resource = _resource_of(group, rest[0])
    if resource is None or (namespace is not None and not resource.namespaced):
        return unknown
    name = (rest[1] if len(rest) >= 2 else None) or None
    subresource = rest[2] if len(rest) >= 3 else None
    tail: str | None = ""
    if subresource is not None:
        if not _has_subresource(resource, subresource):
            return unknown
        tail = _subresource_tail(raw_path, prefix_len + 3, subresource)
    elif len(rest) > 3:
        return unknown
    if tail is None or (resource.namespaced and name is not None and namespace is None):
        return unknown
    return Route(
        "resource",
        path=path,
        resource=resource,
        namespace=namespace,
        name=name,
        subresource=subresource,
        rest=tail,
        legacy_watch=legacy_watch,
    )
