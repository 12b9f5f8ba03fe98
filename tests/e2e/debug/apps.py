"""An app of one's own in the session sandbox: a namespace with a web Deployment of the demo image."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

IMAGE = "registry.sandbox.local/trace/trace-api:3f9c2a1"


def web_deployment(app: str, replicas: int = 2) -> dict[str, Any]:
    """A Deployment ``APP-web`` labelled app=APP, process=web, serving /healthz on port 3000 (http)."""
    labels = {"app": app, "process": "web"}
    probe = {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 2}
    container = {
        "name": "web",
        "image": IMAGE,
        "env": [{"name": "PROCESS_TYPE", "value": "web"}, {"name": "PORT", "value": "3000"}],
        "ports": [{"name": "http", "containerPort": 3000}],
        "readinessProbe": probe,
    }
    return {
        "metadata": {"name": f"{app}-web", "labels": {"app": app}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }


def ready_pods(kube: Any, namespace: str, app: str) -> list[str]:
    """Names of the app's running, ready, not terminating pods."""
    out = []
    for pod in kube.list("pods", namespace, label_selector=f"app={app}").items:
        status = pod.get("status") or {}
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or []
        )
        if ready and status.get("phase") == "Running" and not pod["metadata"].get("deletionTimestamp"):
            out.append(str(pod["metadata"]["name"]))
    return sorted(out)


@contextmanager
def own_app(kube: Any, eventually: Any, app: str = "shop", replicas: int = 2) -> Iterator[str]:
    """A fresh namespace with ``APP-web`` ready; the namespace's name. Deleted afterwards."""
    namespace = f"dbg-{uuid.uuid4().hex[:8]}"
    kube.create("namespaces", {"metadata": {"name": namespace}})
    try:
        kube.create("deployments", web_deployment(app, replicas), namespace)
        eventually(
            lambda: len(ready_pods(kube, namespace, app)) == replicas, timeout=60, message=f"{app} ready"
        )
        yield namespace
    finally:
        kube.delete("namespaces", namespace)
