"""Request paths → what they address (pure)."""

from __future__ import annotations

import pytest

from kubectl_trace.sandbox.server.app import request_verb
from kubectl_trace.sandbox.server.routes import parse_path


@pytest.mark.parametrize(
    ("path", "resource", "namespace", "name", "sub", "rest"),
    [
        ("/api/v1/pods", "pods", None, None, None, ""),
        ("/api/v1/namespaces", "namespaces", None, None, None, ""),
        ("/api/v1/namespaces/prod", "namespaces", None, "prod", None, ""),
        ("/api/v1/namespaces/prod/status", "namespaces", None, "prod", "status", ""),
        ("/api/v1/namespaces/prod/pods", "pods", "prod", None, None, ""),
        ("/api/v1/namespaces/prod/pods/web-1", "pods", "prod", "web-1", None, ""),
        ("/api/v1/namespaces/prod/pods/web-1/log", "pods", "prod", "web-1", "log", ""),
        (
            "/api/v1/namespaces/prod/pods/web-1:8080/proxy/healthz",
            "pods",
            "prod",
            "web-1:8080",
            "proxy",
            "/healthz",
        ),
        ("/api/v1/namespaces/prod/pods/web-1/proxy/a/b%2Fc", "pods", "prod", "web-1", "proxy", "/a/b/c"),
        ("/api/v1/namespaces/prod/pods/web-1/proxy", "pods", "prod", "web-1", "proxy", ""),
        ("/apis/apps/v1/deployments", "deployments", None, None, None, ""),
        ("/apis/apps/v1/namespaces/prod/deployments/web/scale", "deployments", "prod", "web", "scale", ""),
        (
            "/apis/apps/v1/namespaces/prod/replicasets/web-abc/status",
            "replicasets",
            "prod",
            "web-abc",
            "status",
            "",
        ),
        ("/api/v1/nodes/sandbox-node-1", "nodes", None, "sandbox-node-1", None, ""),
        ("/api/v1/watch/namespaces/prod/pods", "pods", "prod", None, None, ""),
    ],
)
def test_resource_paths(
    path: str, resource: str, namespace: str | None, name: str | None, sub: str | None, rest: str
) -> None:
    route = parse_path(path)
    assert route.kind == "resource"
    assert route.resource is not None and route.resource.plural == resource
    assert (route.namespace, route.name, route.subresource, route.rest) == (namespace, name, sub, rest)


def test_legacy_watch_prefix_is_flagged() -> None:
    assert parse_path("/api/v1/watch/pods").legacy_watch
    assert not parse_path("/api/v1/pods").legacy_watch


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/deployments",  # apps resource under the core group
        "/apis/apps/v1/pods",  # core resource under apps
        "/api/v2/pods",
        "/apis/apps/v2/deployments",
        "/api/v1/foos",
        "/api/v1/namespaces/prod/nodes",  # cluster-scoped resource inside a namespace
        "/api/v1/pods/web-1",  # namespaced object without its namespace
        "/api/v1/namespaces/prod/pods/web-1/nosuch",
        "/api/v1/namespaces/prod/pods/web-1/log/extra",
        "/",
        "/metrics",
    ],
)
def test_unknown_paths(path: str) -> None:
    assert parse_path(path).kind == "unknown"


def test_discovery_admin_and_health_paths() -> None:
    for path in ("/version", "/api", "/api/v1", "/apis", "/apis/apps/v1"):
        assert parse_path(path).kind == "discovery"
    assert parse_path("/sandbox/v1/status").kind == "admin"
    assert parse_path("/healthz").kind == "healthz"
    assert parse_path("/openapi/v3").kind == "openapi"
    assert parse_path("/openapi/v3/apis/apps/v1").kind == "openapi"


def test_openapi_v3_lists_patch_with_field_validation() -> None:
    from kubectl_trace.sandbox.server.openapi import openapi_document

    root = openapi_document("/openapi/v3")
    assert root is not None and {"api/v1", "apis/apps/v1", "apis/batch/v1", "apis/events.k8s.io/v1"} <= set(
        root["paths"]
    )
    url = root["paths"]["apis/apps/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/apis/apps/v1?hash=")
    doc = openapi_document("/openapi/v3/apis/apps/v1")
    assert doc is not None
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {
        "group": "apps",
        "version": "v1",
        "kind": "Deployment",
    }
    assert {"name": "fieldValidation", "in": "query"}.items() <= next(
        p for p in patch["parameters"] if p["name"] == "fieldValidation"
    ).items()
    assert openapi_document("/openapi/v3/apis/policy/v1") is None


@pytest.mark.parametrize(
    ("method", "path", "query", "verb", "label"),
    [
        ("GET", "/api/v1/namespaces/a/pods", {}, "list", "pods"),
        ("GET", "/api/v1/namespaces/a/pods", {"watch": "true"}, "watch", "pods"),
        ("GET", "/api/v1/namespaces/a/pods", {"watch": "0"}, "list", "pods"),
        ("GET", "/api/v1/watch/pods", {}, "watch", "pods"),
        ("GET", "/api/v1/namespaces/a/pods/p", {}, "get", "pods"),
        ("POST", "/api/v1/namespaces/a/pods", {}, "create", "pods"),
        ("PUT", "/apis/apps/v1/namespaces/a/deployments/d/scale", {}, "update", "deployments/scale"),
        ("PATCH", "/apis/apps/v1/namespaces/a/deployments/d", {}, "patch", "deployments"),
        ("DELETE", "/api/v1/namespaces/a/pods/p", {}, "delete", "pods"),
        ("DELETE", "/api/v1/namespaces/a/pods", {}, "deletecollection", "pods"),
        ("GET", "/api/v1/namespaces/a/pods/p/log", {}, "get", "pods/log"),
        ("GET", "/api/v1/namespaces/a/pods/p/exec", {}, "connect", "pods/exec"),
        ("GET", "/api/v1", {}, "get", "discovery"),
    ],
)
def test_request_verbs(method: str, path: str, query: dict[str, str], verb: str, label: str) -> None:
    route = parse_path(path)
    assert request_verb(method, route, query) == verb
    assert route.label == label
