"""Manifests to create in the sandbox (as a client sends them), and the sandbox's log lines."""

from __future__ import annotations

import re
from typing import Any

from tests.factories.objects import IMAGE


def namespace(name: str) -> dict[str, Any]:
    """A Namespace manifest."""
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def deployment_manifest(
    name: str,
    namespace: str | None,
    labels: dict[str, str],
    containers: list[dict[str, Any]],
    *,
    replicas: int = 1,
    annotations: dict[str, str] | None = None,
    pod_labels: dict[str, str] | None = None,
    **pod_spec: Any,
) -> dict[str, Any]:
    """A Deployment body as a client sends it: ``labels`` on it and as its selector, ``pod_labels``
    (default ``labels``) on its pods; each a copy of its own. ``pod_spec``: more pod spec fields."""
    metadata: dict[str, Any] = {"name": name, "labels": dict(labels)}
    if namespace is not None:
        metadata["namespace"] = namespace
    if annotations is not None:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata,
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(labels)},
            "template": {
                "metadata": {"labels": dict(labels if pod_labels is None else pod_labels)},
                "spec": {**pod_spec, "containers": containers},
            },
        },
    }


def process_container(process: str = "web", tag: str = "3f9c2a1", **fields: Any) -> dict[str, Any]:
    """A container of the sandbox's trace-api image running ``process`` (env PROCESS_TYPE)."""
    return {
        "name": process,
        "image": f"{IMAGE}:{tag}",
        "env": [{"name": "PROCESS_TYPE", "value": process}],
        **fields,
    }


def app_deployment(ns: str, name: str, replicas: int, process: str = "worker") -> dict[str, Any]:
    """A Deployment of the sandbox's trace-api image running one process (labels app, process)."""
    return deployment_manifest(
        name,
        ns,
        {"app": name},
        [process_container(process)],
        replicas=replicas,
        pod_labels={"app": name, "process": process},
    )


# -- the sandbox's generated log lines ------------------------------------------------------

_SEQ = re.compile(r'(?:"seq":(\d+)\}|\sseq=(\d+))$')


def seq_of(text: str) -> int | None:
    """The per-instance sequence number that ends a sandbox log line (JSON or plain); None if none."""
    match = _SEQ.search(text)
    return int(match.group(1) or match.group(2)) if match else None
