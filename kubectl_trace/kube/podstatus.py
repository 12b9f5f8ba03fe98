"""kubectl's STATUS column of a pod (``printPod`` in kubectl's printers), from the pod alone.

Pure and import-light: ``health`` (status, dashboard, deploy) and ``shell`` (the picker,
which must start fast) both show it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["pod_status_column"]


def _map(obj: Any, key: str) -> Mapping[str, Any]:
    value = obj.get(key) if obj else None
    return value if isinstance(value, Mapping) else {}


def _list(obj: Any, key: str) -> list[Mapping[str, Any]]:
    value = obj.get(key) if obj else None
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _terminated_text(terminated: Mapping[str, Any]) -> str:
    if terminated.get("reason"):
        return str(terminated["reason"])
    if terminated.get("signal"):
        return f"Signal:{terminated['signal']}"
    return f"ExitCode:{terminated.get('exitCode')}"


def pod_status_column(pod: Mapping[str, Any], phase: str | None = None, ready: bool | None = None) -> str:
    """The STATUS kubectl shows: ``Running``, ``CrashLoopBackOff``, ``Init:0/1``, ``Terminating``.

    ``phase`` and ``ready`` (the Ready condition) are read from the pod unless given.
    """
    status = _map(pod, "status")
    if phase is None:
        phase = str(status.get("phase") or "Pending")
    if ready is None:
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True" for c in _list(status, "conditions")
        )
    reason = str(status.get("reason") or phase or "Unknown")
    init_statuses = _list(status, "initContainerStatuses")
    initializing = False
    for i, ics in enumerate(init_statuses):
        state = _map(ics, "state")
        terminated, waiting = _map(state, "terminated"), _map(state, "waiting")
        if terminated and terminated.get("exitCode") in (0, "0"):
            continue
        initializing = True
        if terminated:
            reason = f"Init:{_terminated_text(terminated)}"
        elif waiting.get("reason") and waiting.get("reason") != "PodInitializing":
            reason = f"Init:{waiting['reason']}"
        else:
            reason = f"Init:{i}/{len(init_statuses)}"
        break
    if not initializing:
        has_running = False
        for cs in reversed(_list(status, "containerStatuses")):
            state = _map(cs, "state")
            waiting, terminated = _map(state, "waiting"), _map(state, "terminated")
            if waiting.get("reason"):
                reason = str(waiting["reason"])
            elif terminated:
                reason = _terminated_text(terminated)
            elif cs.get("ready") and "running" in state:
                has_running = True
        if reason == "Completed" and has_running:
            reason = "Running" if ready else "NotReady"
    if _map(pod, "metadata").get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    return reason
