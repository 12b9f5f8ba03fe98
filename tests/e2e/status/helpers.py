"""Helpers for the status/events end-to-end tests: break a Deployment with the real kubectl."""

from __future__ import annotations

import json
import uuid
from typing import Any

REPO = "registry.sandbox.local/trace/trace-api"


def container_of(kube: Any, deployment: str, namespace: str) -> tuple[str, str]:
    """(container name, image repository) of a Deployment's first container."""
    d = kube.get("deployments", deployment, namespace)
    c = d["spec"]["template"]["spec"]["containers"][0]
    return c["name"], c["image"].rsplit(":", 1)[0]


def set_image(kubectl: Any, kube: Any, deployment: str, namespace: str, tag: str) -> None:
    """``kubectl set image deploy/D C=REPO:TAG`` with the real kubectl."""
    name, repo = container_of(kube, deployment, namespace)
    kubectl("set", "image", f"deploy/{deployment}", f"{name}={repo}:{tag}", "-n", namespace, check=True)


def shorten_deadline(kubectl: Any, deployment: str, namespace: str, seconds: int) -> None:
    """A short progress deadline so a broken rollout stalls within the test (simulated seconds)."""
    patch = json.dumps({"spec": {"progressDeadlineSeconds": seconds}})
    kubectl("patch", "deploy", deployment, "-n", namespace, "-p", patch, check=True)


def status_json(invoke: Any, kubeconfig: str, *args: str) -> tuple[dict[str, Any], int]:
    """``status … -o json`` in process: (document, exit code)."""
    result = invoke("status", *args, "-o", "json", kubeconfig=kubeconfig)
    assert result.stdout, result.stderr
    return json.loads(result.stdout), result.exit_code


def rollout_of(doc: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The rollout section of one Deployment in a status document."""
    for d in doc["deployments"]:
        if d["rollout"]["name"] == name:
            return d
    return None


def own_namespace(kube: Any, prefix: str) -> str:
    """Create a namespace of the test's own in a shared sandbox."""
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    kube.create("namespaces", {"metadata": {"name": name}})
    return name
