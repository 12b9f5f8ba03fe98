"""Running ``kubectl nodeapp`` as a user does (a real process, no terminal) and reading the cluster."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kubectl_trace.health import deployment_rollout, image_tag
from tests.e2e.pods import is_ready, live_pods

REPO = "registry.sandbox.local/trace/trace-api"
APP_DEPLOYMENTS = ("trace-api-clock", "trace-api-web", "trace-api-worker")


def nodeapp(
    handle: Any,
    *args: str,
    cwd: str | Path | None = None,
    config: str | Path | None = None,
    stdin: str | None = None,
    timeout: float = 180.0,
) -> subprocess.CompletedProcess[str]:
    """``kubectl nodeapp ARGS`` in its own process, stdin not a terminal, a known config file."""
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "NO_COLOR", "FORCE_COLOR")}
    env["USER"] = "e2e-tester"
    env["KUBECTL_NODEAPP_CONFIG"] = str(config) if config else os.devnull + ".missing.toml"
    return subprocess.run(
        [sys.executable, "-m", "kubectl_trace", "--kubeconfig", handle.kubeconfig, *args],
        cwd=str(cwd) if cwd else None,
        env=env,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def deployments(kube: Any, namespace: str) -> dict[str, dict[str, Any]]:
    """The app's Deployments by name."""
    items = kube.list("deployments", namespace, label_selector="app=trace-api").items
    return {d["metadata"]["name"]: d for d in items}


def tags(kube: Any, namespace: str) -> dict[str, str | None]:
    """Deployment → the tag its pod template runs."""
    return {
        name: image_tag(d["spec"]["template"]["spec"]["containers"][0]["image"])
        for name, d in deployments(kube, namespace).items()
    }


def settled(kube: Any, namespace: str) -> bool:
    """Every app Deployment's rollout is complete (as ``kubectl rollout status`` decides)."""
    rss = kube.list("replicasets", namespace).items
    return all(deployment_rollout(d, rss).state == "complete" for d in deployments(kube, namespace).values())


def ready_pods(kube: Any, namespace: str, process: str) -> list[dict[str, Any]]:
    """Running, ready, not terminating pods of one process."""
    return live_pods(kube, namespace, f"app=trace-api,process={process}", is_ready)


def env_of(deployment: Mapping[str, Any]) -> dict[str, Any]:
    """The first container's env entries by name."""
    return {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0].get("env") or []}
