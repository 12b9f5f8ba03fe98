"""The live pods of an app in the sandbox (not being deleted), as the end-to-end tests look for them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def is_running(pod: dict[str, Any]) -> bool:
    """The pod's phase is Running."""
    return bool((pod.get("status") or {}).get("phase") == "Running")


def is_ready(pod: dict[str, Any]) -> bool:
    """The pod's Ready condition is True."""
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def has_running_container(pod: dict[str, Any]) -> bool:
    """A container of the pod is in state running."""
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return any("running" in (s.get("state") or {}) for s in statuses)


def live_pods(
    kube: Any, namespace: str, selector: str, keep: Callable[[dict[str, Any]], bool] | None = None
) -> list[dict[str, Any]]:
    """The pods matching ``selector`` that are not being deleted (and that ``keep``, if given)."""
    pods = kube.list("pods", namespace, label_selector=selector).items
    return [p for p in pods if not p["metadata"].get("deletionTimestamp") and (keep is None or keep(p))]


def running_pod_names(kube: Any, namespace: str, selector: str) -> list[str]:
    """The sorted names of the live pods matching ``selector`` in phase Running."""
    return sorted(p["metadata"]["name"] for p in live_pods(kube, namespace, selector, is_running))
