"""Names for completion (namespaces, deployments, apps, pods), fetched cheaply and quietly."""

from __future__ import annotations

import base64
import http.client
import json
import os
import ssl
import tempfile
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from kubectl_trace.kube.config import SelectedContext, select_context
from kubectl_trace.kube.settings import KubeSettings

__all__ = ["ClusterNames"]


def _data_or_file(entry: Mapping[str, Any], key: str) -> bytes | None:
    data = entry.get(f"{key}-data")
    if data:
        return base64.b64decode(data)
    path = entry.get(key)
    if path:
        with open(path, "rb") as handle:
            return handle.read()
    return None


class ClusterNames:
    """Lists names from the cluster of the selected context; empty lists on any failure."""

    def __init__(self, settings: KubeSettings, environ: Mapping[str, str], timeout: float = 2.0) -> None:
        self.settings = settings
        self.environ = environ
        self.timeout = timeout
        self._selected: SelectedContext | None = None
        self._loaded = False

    @property
    def selected(self) -> SelectedContext | None:
        """The kubeconfig context (None if there is no usable kubeconfig)."""
        if not self._loaded:
            self._loaded = True
            try:
                self._selected = select_context(self.settings, self.environ)
            except Exception:
                self._selected = None
        return self._selected

    def contexts(self) -> list[str]:
        """Context names of the kubeconfig (no network)."""
        sel = self.selected
        if sel is None:
            return []
        return sorted(c["name"] for c in sel.config.get("contexts", []))

    def _get(self, path: str) -> dict[str, Any]:
        sel = self.selected
        if sel is None:
            return {}
        url = urlsplit(sel.cluster["server"])
        headers = {"Accept": "application/json", "User-Agent": "kubectl-nodeapp-completion"}
        token = sel.user.get("token")
        if not token and sel.user.get("tokenFile"):
            with open(sel.user["tokenFile"], encoding="utf-8") as handle:
                token = handle.read().strip()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if url.scheme == "https":
            context = ssl.create_default_context()
            if sel.cluster.get("insecure-skip-tls-verify"):
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            ca = _data_or_file(sel.cluster, "certificate-authority")
            if ca:
                context.load_verify_locations(cadata=ca.decode("ascii"))
            cert = _data_or_file(sel.user, "client-certificate")
            key = _data_or_file(sel.user, "client-key")
            if cert and key:
                with tempfile.TemporaryDirectory() as tmp:
                    cpath, kpath = os.path.join(tmp, "c"), os.path.join(tmp, "k")
                    with open(cpath, "wb") as c, open(kpath, "wb") as k:
                        c.write(cert)
                        k.write(key)
                    context.load_cert_chain(cpath, kpath)
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                url.hostname or "", url.port, timeout=self.timeout, context=context
            )
        else:
            conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=self.timeout)
        try:
            conn.request("GET", url.path.rstrip("/") + path, headers=headers)
            response = conn.getresponse()
            if response.status != 200:
                return {}
            data = json.loads(response.read())
            return data if isinstance(data, dict) else {}
        finally:
            conn.close()

    def _items(self, path: str) -> list[dict[str, Any]]:
        try:
            return list(self._get(path).get("items") or [])
        except Exception:
            return []

    def namespace(self, override: str | None) -> str:
        """The namespace to list in."""
        if override:
            return override
        sel = self.selected
        return sel.namespace if sel else "default"

    def namespaces(self) -> list[str]:
        """Namespace names."""
        return sorted(i["metadata"]["name"] for i in self._items("/api/v1/namespaces"))

    def deployments(self, namespace: str) -> list[dict[str, Any]]:
        """Deployment objects of a namespace."""
        return self._items(f"/apis/apps/v1/namespaces/{quote(namespace, safe='')}/deployments")

    def pods(self, namespace: str) -> list[str]:
        """Pod names of a namespace."""
        return sorted(
            i["metadata"]["name"] for i in self._items(f"/api/v1/namespaces/{quote(namespace, safe='')}/pods")
        )
