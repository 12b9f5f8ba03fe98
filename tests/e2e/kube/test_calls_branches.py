"""The client's answers to a real API server's refusals: 401, 403, 404 and both kinds of 409.

Against the session sandbox, with both clients (the lean one and the official one): the same
``ApiError`` (status, reason, the server's message) whichever sends. 403 comes from the
sandbox kubeconfig's read-only context (``sandbox-readonly``: no Secrets, no changes).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kubectl_trace.kube.errors import ApiError
from kubectl_trace.kube.settings import KubeSettings


def _lean(settings: KubeSettings) -> Any:
    from kubectl_trace.kube.lite import connect_lite

    return connect_lite(settings, {})


def _official(settings: KubeSettings) -> Any:
    from kubectl_trace.kube.client import connect

    return connect(settings)


@pytest.fixture(params=[_lean, _official], ids=["lean", "official"])
def client_for(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``client_for(kubeconfig, context=None)``: a client of this test's kind (closed afterwards)."""

    def make(kubeconfig: str, context: str | None = None) -> Any:
        client = request.param(KubeSettings(kubeconfig=kubeconfig, context=context))
        assert client is not None
        request.addfinalizer(client.close)
        return client

    return make


@pytest.fixture
def own_namespace(kube: Any) -> Iterator[str]:
    """A namespace of this test's own in the session sandbox (deleted afterwards)."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    kube.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    kube.delete("namespaces", name)


def test_403_forbidden(sandbox, client_for):
    viewer = client_for(sandbox.kubeconfig, "sandbox-readonly")
    assert viewer.get("deployments", "trace-api-web", "production")["metadata"]["name"] == "trace-api-web"
    with pytest.raises(ApiError) as caught:
        viewer.get("secrets", "trace-api-db", "production")
    assert (caught.value.status, caught.value.reason) == (403, "Forbidden")
    assert caught.value.message == (
        'forbidden: secrets "trace-api-db" is forbidden: User "viewer" cannot get resource "secrets" '
        'in API group "" in the namespace "production"'
    )


def test_401_unauthorized(sandbox, client_for, tmp_path):
    config = tmp_path / "kubeconfig"
    config.write_text(Path(sandbox.kubeconfig).read_text().replace("token: ", "token: wrong-", 1))
    with pytest.raises(ApiError) as caught:
        client_for(str(config)).get("namespaces", "production")
    assert caught.value.status == 401
    assert caught.value.message.startswith("unauthorized: the API server at ")


def test_404_and_whether_a_namespace_exists(sandbox, client_for):
    client = client_for(sandbox.kubeconfig)
    with pytest.raises(ApiError) as caught:
        client.get("pods", "no-such-pod", "production")
    assert (caught.value.status, caught.value.reason) == (404, "NotFound")
    assert client.namespace_exists("production") is True
    assert client.namespace_exists("no-such-namespace") is False
    client.require_namespace("production")
    with pytest.raises(ApiError, match='namespace "no-such-namespace" not found') as missing:
        client.require_namespace("no-such-namespace")
    assert missing.value.status == 404


def test_409_already_exists_and_conflict(sandbox, client_for, own_namespace):
    client = client_for(sandbox.kubeconfig)
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "1"}}
    first = client.create("configmaps", body, own_namespace)
    with pytest.raises(ApiError) as twice:
        client.create("configmaps", body, own_namespace)
    assert (twice.value.status, twice.value.reason) == (409, "AlreadyExists")
    assert twice.value.message == 'configmaps "settings" already exists'
    client.replace("configmaps", {**first, "data": {"a": "2"}}, own_namespace)
    with pytest.raises(ApiError) as stale:  # the resourceVersion of before the replace
        client.replace("configmaps", {**first, "data": {"a": "3"}}, own_namespace)
    assert (stale.value.status, stale.value.reason) == (409, "Conflict")
    assert stale.value.message.startswith('Operation cannot be fulfilled on configmaps "settings"')
    assert client.get("configmaps", "settings", own_namespace)["data"] == {"a": "2"}


def test_get_raw_stops_reading_at_the_limit(sandbox, client_for):
    client = client_for(sandbox.kubeconfig)
    status, whole = client.get_raw("/api/v1/namespaces")
    assert status == 200 and len(whole) > 16
    assert client.get_raw("/api/v1/namespaces", limit=16) == (200, whole[:16])
