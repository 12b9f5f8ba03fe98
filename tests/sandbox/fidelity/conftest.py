"""Fixtures of the fidelity tests: a namespace of one's own in the session sandbox, the official client."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kubectl_trace.sandbox.process import SandboxHandle


@pytest.fixture
def namespace(kubectl: Callable[..., Any]) -> Iterator[str]:
    """A fresh namespace in the session sandbox, deleted afterwards."""
    name = f"fid-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name, check=True)
    yield name
    kubectl("delete", "namespace", name, "--wait=false")


@pytest.fixture
def official(sandbox: SandboxHandle) -> Iterator[Any]:
    """An ``ApiClient`` of the official ``kubernetes`` package for the session sandbox."""
    from kubernetes import config

    client = config.new_client_from_config(config_file=sandbox.kubeconfig)
    yield client
    client.close()


def deployment(name: str, *, replicas: Any = 1, image: str = "reg/app:1", **spec: Any) -> dict[str, Any]:
    """A valid Deployment manifest (``spec`` entries override or add fields)."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
            **spec,
        },
    }


def status_of(exc: Any) -> dict[str, Any]:
    """The ``Status`` body of an official client ApiException."""
    return json.loads(exc.body)
