"""Names for completion (namespaces, contexts, deployments, pods), fetched cheaply and quietly.

Uses the lean client (``kube.lite``: no kubernetes import) with a short timeout and no
retries; for what only the official client knows (a legacy ``auth-provider``, in-cluster
config) the same named fallback as the commands (``kube.client.connect``), so completion
works wherever the commands do. Any failure gives an empty list, because a completer must
never get in the way; it never warns either (the commands say what needs saying).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from kubectl_trace.kube.config import SelectedContext, select_context
from kubectl_trace.kube.retry import NO_RETRY
from kubectl_trace.kube.settings import KubeSettings

if TYPE_CHECKING:
    from kubectl_trace.kube.calls import KubeClient

__all__ = ["ClusterNames"]


class ClusterNames:
    """Lists names from the cluster of the selected context; empty lists on any failure."""

    def __init__(self, settings: KubeSettings, environ: Mapping[str, str], timeout: float = 2.0) -> None:
        self.settings = replace(settings, request_timeout=timeout)
        self.environ = environ
        self._selected: SelectedContext | None = None
        self._client: KubeClient | None = None
        self._loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        try:
            self._selected = select_context(self.settings, self.environ)
            from kubectl_trace.kube.lite import connect_lite

            self._client = connect_lite(self.settings, self.environ, retry=NO_RETRY, selected=self._selected)
            if self._client is None:  # legacy auth-provider, in-cluster: the official client
                from kubectl_trace.kube.client import connect

                self._client = connect(self.settings, retry=NO_RETRY)
        except Exception:
            self._client = None

    def contexts(self) -> list[str]:
        """Context names of the kubeconfig (no network)."""
        self._load()
        if self._selected is None:
            return []
        return self._selected.kubeconfig.context_names()

    def namespace(self, override: str | None) -> str:
        """The namespace to list in."""
        if override:
            return override
        self._load()
        return self._selected.namespace if self._selected else "default"

    def _items(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        self._load()
        if self._client is None:
            return []
        try:
            return list(self._client.list(kind, namespace).items)
        except Exception:
            return []

    def namespaces(self) -> list[str]:
        """Namespace names."""
        return sorted(i["metadata"]["name"] for i in self._items("namespaces"))

    def deployments(self, namespace: str) -> list[dict[str, Any]]:
        """Deployment objects of a namespace."""
        return self._items("deployments", namespace)

    def pods(self, namespace: str) -> list[str]:
        """Pod names of a namespace."""
        return sorted(i["metadata"]["name"] for i in self._items("pods", namespace))
