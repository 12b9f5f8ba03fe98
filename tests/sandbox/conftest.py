"""Fixtures of the sandbox server tests: an in-process server with a scripted runtime."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.demo import ready_pod
from tests.sandbox.harness import InProcessServer


@pytest.fixture
def server(tmp_path: Path) -> Iterator[InProcessServer]:
    """A fresh in-process API server (namespaces default and kube-system, nothing else)."""
    instance = InProcessServer(str(tmp_path)).start()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def skubectl(server: InProcessServer, tmp_path: Path) -> Callable[..., Any]:
    """The real kubectl against the in-process server."""
    from tests.conftest import _kubectl_runner

    handle = type("H", (), {"kubeconfig": server.kubeconfig})()
    return _kubectl_runner(handle, tmp_path / "kubectl-cache")  # type: ignore[arg-type]


@pytest.fixture
def skube(server: InProcessServer) -> Iterator[Any]:
    """Our ``Kube`` client for the in-process server."""
    from kubectl_trace.kube.client import connect
    from kubectl_trace.kube.settings import KubeSettings

    client = connect(KubeSettings(kubeconfig=server.kubeconfig))
    yield client
    client.close()


@pytest.fixture
def web_pod(sandbox: Any, kube: Any, eventually: Any) -> str:
    """A ready web pod of trace-api in the session sandbox's production namespace."""
    return ready_pod(kube, eventually)
