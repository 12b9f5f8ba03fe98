"""From pod objects to the container instances to tail (pure).

A container *instance* is one run of a container: it has its own log. Its id is the
``containerID`` of ``state.running`` / ``state.terminated`` (or of ``lastState.terminated``
while a crashed container waits to be restarted); when the status has no containerID the
restart count stands in for it (``#3``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ContainerView",
    "InstanceCheck",
    "check_instance",
    "container_names",
    "container_view",
    "pod_uid",
]


def pod_uid(pod: Mapping[str, Any]) -> str:
    """The pod's uid (its name when the server sends no uid)."""
    meta = pod.get("metadata") or {}
    return str(meta.get("uid") or meta.get("name") or "")


def container_names(
    pod: Mapping[str, Any],
    include: re.Pattern[str] | None = None,
    exclude: re.Pattern[str] | None = None,
) -> tuple[list[str], int]:
    """The pod's containers that ``-c`` / ``-E`` select, and how many containers it has."""
    spec = pod.get("spec") or {}
    names = [str(c.get("name", "")) for c in spec.get("containers") or []]
    chosen = [
        n
        for n in names
        if (include is None or include.search(n)) and (exclude is None or not exclude.search(n))
    ]
    return chosen, len(names)


def _status(pod: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    status: Mapping[str, Any]
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == name:
            return status
    return None


@dataclass(frozen=True)
class ContainerView:
    """What a pod's status says about one container right now.

    ``instance`` is the id of the instance whose log the kubelet serves as the current
    log (None: the container never ran yet); ``running`` whether it still writes.
    ``previous`` is the id of the instance before it (from ``lastState.terminated``).
    """

    name: str
    instance: str | None
    running: bool
    restart_count: int
    previous: str | None = None
    last_exit_code: int | None = None
    last_reason: str | None = None
    started_at: str | None = None
    waiting_reason: str | None = None


def _cid(terminated_or_running: Mapping[str, Any] | None, fallback: str) -> str:
    cid = (terminated_or_running or {}).get("containerID")
    return str(cid) if cid else fallback


def container_view(pod: Mapping[str, Any], name: str) -> ContainerView:
    """The state of container ``name`` of ``pod`` (pure)."""
    status = _status(pod, name)
    if status is None:
        return ContainerView(name, None, False, 0)
    restarts = int(status.get("restartCount") or 0)
    state = status.get("state") or {}
    last = (status.get("lastState") or {}).get("terminated") or None
    previous = last_exit = last_reason = None
    if last is not None:
        previous = _cid(last, f"#{restarts - 1}" if restarts else "#prev")
        last_exit = last.get("exitCode")
        last_reason = last.get("reason")
    running = state.get("running")
    if running is not None:
        return ContainerView(
            name,
            _cid({"containerID": status.get("containerID")}, f"#{restarts}"),
            True,
            restarts,
            previous,
            last_exit,
            last_reason,
            running.get("startedAt"),
        )
    terminated = state.get("terminated")
    if terminated is not None:
        return ContainerView(
            name,
            _cid(terminated, _cid({"containerID": status.get("containerID")}, f"#{restarts}")),
            False,
            restarts,
            previous,
            last_exit,
            last_reason,
            terminated.get("startedAt"),
        )
    waiting = state.get("waiting") or {}
    if last is not None:
        # Crash loop: the current log is the last run's, which has ended.
        prev_id = _cid(last, f"#{restarts}")
        return ContainerView(
            name,
            prev_id,
            False,
            restarts,
            prev_id,
            last_exit,
            last_reason,
            last.get("startedAt"),
            waiting.get("reason"),
        )
    return ContainerView(name, None, False, restarts, None, None, None, None, waiting.get("reason"))


@dataclass(frozen=True)
class InstanceCheck:
    """What became of an instance whose stream ended.

    ``verdict``: ``running`` (the stream was dropped: resume it), ``ended`` (read what is
    left, from the current log, or the previous one when ``previous``), ``gone`` (no log
    to read any more).
    """

    verdict: str
    previous: bool = False
    terminating: bool = False  # the pod is being deleted: its log is served only a little longer


def check_instance(pod: Mapping[str, Any] | None, uid: str, name: str, instance: str) -> InstanceCheck:
    """Decide, from a fresh GET of the pod (None: 404), what became of ``instance``."""
    if pod is None or pod_uid(pod) != uid:
        return InstanceCheck("gone")
    terminating = bool((pod.get("metadata") or {}).get("deletionTimestamp"))
    view = container_view(pod, name)
    if view.running and view.instance == instance:
        return InstanceCheck("running", terminating=terminating)
    if view.previous == instance:
        return InstanceCheck("ended", previous=True, terminating=terminating)
    if view.instance == instance:
        return InstanceCheck("ended", terminating=terminating)
    return InstanceCheck("gone")
