"""Build the simulated cluster for a sandbox.

(The controllers, kubelet, images and demo fixture plug in here; until they exist the
cluster holds the namespaces only and its runtime has no containers.)
"""

from __future__ import annotations

from kubectl_trace.sandbox.interfaces import (
    ContainerLog,
    ExecTarget,
    ProxyAnswer,
    SandboxOptions,
)
from kubectl_trace.sandbox.store import Store, StoreError

__all__ = ["build_cluster"]


class _NoContainers:
    """A runtime with no containers: every pod is still waiting to start."""

    def __init__(self) -> None:
        self._faults: dict[str, str] = {}

    def container_log(self, namespace: str, pod: str, container: str, *, previous: bool) -> ContainerLog:
        raise StoreError.bad_request(
            f'container "{container}" in pod "{pod}" is waiting to start: ContainerCreating'
        )

    def exec_target(self, namespace: str, pod: str, container: str) -> ExecTarget:
        raise StoreError.bad_request(f"container {container} is not running")

    def proxy(self, namespace: str, pod: str, port: str, path: str, method: str) -> ProxyAnswer:
        raise StoreError(503, "ServiceUnavailable", f'pod "{pod}" is not running')

    def kill(self, namespace: str, pod: str, container: str | None) -> None:
        raise StoreError.bad_request(f'pod "{pod}" has no running containers')

    def mark_image(self, tag: str, fault: str | None) -> None:
        if fault:
            self._faults[tag] = fault
        else:
            self._faults.pop(tag, None)

    def image_faults(self) -> dict[str, str]:
        return dict(self._faults)


class _NamespacesOnly:
    def __init__(self, options: SandboxOptions) -> None:
        self.options = options
        self.store = Store()
        self.runtime = _NoContainers()

    async def start(self) -> None:
        for name in ("default", "kube-system", "kube-public"):
            self.store.create(
                "namespaces",
                {
                    "metadata": {"name": name},
                    "spec": {"finalizers": ["kubernetes"]},
                    "status": {"phase": "Active"},
                },
            )

    async def stop(self) -> None:
        return None


def build_cluster(options: SandboxOptions) -> _NamespacesOnly:
    """The cluster a sandbox serves."""
    return _NamespacesOnly(options)
