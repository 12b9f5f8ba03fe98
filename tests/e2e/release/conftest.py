"""The release tests' cluster: a private demo sandbox (they deploy, roll back and promote)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import pytest

from kubectl_trace.sandbox.process import SandboxHandle

from .helpers import settled


class Cluster(NamedTuple):
    """A private demo sandbox with both namespaces' rollouts complete."""

    handle: SandboxHandle
    kube: Any
    kubectl: Callable[..., Any]


@pytest.fixture
def cluster(
    sandbox_factory: Callable[..., SandboxHandle],
    kube_for: Callable[[SandboxHandle], Any],
    kubectl_for: Callable[[SandboxHandle], Callable[..., Any]],
    eventually: Callable[..., Any],
) -> Cluster:
    """A sandbox of this test's own, its ``Kube`` client and a kubectl runner for it."""
    handle = sandbox_factory(fixture="demo", time_scale=0.1)
    kube = kube_for(handle)
    eventually(
        lambda: settled(kube, "production") and settled(kube, "staging"), timeout=60, message="demo ready"
    )
    return Cluster(handle, kube, kubectl_for(handle))
