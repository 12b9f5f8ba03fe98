"""What the shell needs to know about a pod, read from its JSON (pure, no I/O).

Whether a container can take an exec, why not (with a hint the user can act on), and the
facts a picker row shows: process, readiness, restarts, age, image tag.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubectl_trace.errors import NodeappError
from kubectl_trace.kube.podstatus import pod_status_column
from kubectl_trace.kube.targets import PROCESS_ENV, PROCESS_LABEL, pod_process
from kubectl_trace.timeparse import format_age, parse_rfc3339

__all__ = [
    "DEFAULT_CONTAINER_ANNOTATION",
    "PodRow",
    "container_names",
    "container_state",
    "default_container",
    "image_tag",
    "is_ready",
    "is_terminating",
    "not_runnable",
    "owner_deployment",
    "pod_row",
    "restarts",
    "status_reason",
]

DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"
_PULL_REASONS = ("ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull")
_STARTING_REASONS = ("ContainerCreating", "PodInitializing")


def _meta(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    return pod.get("metadata") or {}


def _status(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    return pod.get("status") or {}


def container_names(pod: Mapping[str, Any]) -> list[str]:
    """The names of the pod's (regular) containers, in spec order."""
    return [c.get("name", "") for c in (pod.get("spec") or {}).get("containers") or []]


def default_container(pod: Mapping[str, Any]) -> str | None:
    """The container kubectl would pick: the default-container annotation, else the first."""
    names = container_names(pod)
    wanted = (_meta(pod).get("annotations") or {}).get(DEFAULT_CONTAINER_ANNOTATION)
    if wanted and wanted in names:
        return str(wanted)
    return names[0] if names else None


def _container_status(pod: Mapping[str, Any], container: str) -> Mapping[str, Any] | None:
    status: Mapping[str, Any]
    for status in _status(pod).get("containerStatuses") or []:
        if status.get("name") == container:
            return status
    return None


def container_state(pod: Mapping[str, Any], container: str) -> tuple[str, Mapping[str, Any]]:
    """``("running"|"waiting"|"terminated"|"unknown", details)`` of one container."""
    status = _container_status(pod, container)
    state = (status or {}).get("state") or {}
    for key in ("running", "waiting", "terminated"):
        if key in state and state[key] is not None:
            return key, state[key] or {}
    return "unknown", {}


def is_terminating(pod: Mapping[str, Any]) -> bool:
    """The pod is being deleted."""
    return bool(_meta(pod).get("deletionTimestamp"))


def is_ready(pod: Mapping[str, Any]) -> bool:
    """The pod's Ready condition is True."""
    for condition in _status(pod).get("conditions") or []:
        if condition.get("type") == "Ready":
            return bool(condition.get("status") == "True")
    return False


def restarts(pod: Mapping[str, Any]) -> int:
    """Restarts summed over the pod's containers."""
    return sum(int(s.get("restartCount") or 0) for s in _status(pod).get("containerStatuses") or [])


def image_tag(image: str) -> str:
    """The tag (or short digest) of an image reference: ``registry/app:3f9c2a1`` → ``3f9c2a1``."""
    if "@" in image:
        return image.split("@", 1)[1].split(":")[-1][:12]
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else "latest"


def owner_deployment(pod: Mapping[str, Any]) -> str | None:
    """The Deployment a pod belongs to, read from its ReplicaSet owner and pod-template-hash."""
    meta = _meta(pod)
    template_hash = (meta.get("labels") or {}).get("pod-template-hash")
    for owner in meta.get("ownerReferences") or []:
        if owner.get("kind") == "ReplicaSet" and owner.get("controller", True):
            name = str(owner.get("name", ""))
            if template_hash and name.endswith(f"-{template_hash}"):
                return name[: -len(template_hash) - 1]
            return name.rsplit("-", 1)[0] if "-" in name else name
    return None


def status_reason(pod: Mapping[str, Any]) -> str:
    """A one-word status, as kubectl's STATUS column shows it."""
    return pod_status_column(pod)


@dataclass(frozen=True)
class PodRow:
    """One pod as the picker and candidate lists show it."""

    name: str
    process: str
    ready: str  # "1/1"
    is_ready: bool
    status: str
    restarts: int
    age: str
    tag: str
    deployment: str | None

    def search_text(self) -> str:
        """What fuzzy filtering looks at: name first, then process, tag and status."""
        return f"{self.name} {self.process} {self.tag} {self.status}"


def pod_row(
    pod: Mapping[str, Any],
    now: float,
    *,
    process_label: str = PROCESS_LABEL,
    process_env: str = PROCESS_ENV,
) -> PodRow:
    """The picker row of ``pod`` at time ``now`` (epoch seconds)."""
    meta = _meta(pod)
    containers = (pod.get("spec") or {}).get("containers") or []
    statuses = _status(pod).get("containerStatuses") or []
    ready_count = sum(1 for s in statuses if s.get("ready"))
    created = meta.get("creationTimestamp")
    age = "?"
    if created:
        try:
            age = format_age(max(0.0, now - parse_rfc3339(str(created))))
        except ValueError:
            age = "?"
    first = default_container(pod)
    image = next((c.get("image", "") for c in containers if c.get("name") == first), "")
    return PodRow(
        name=str(meta.get("name", "")),
        process=pod_process(meta.get("labels"), containers, label=process_label, env=process_env) or "-",
        ready=f"{ready_count}/{len(containers)}",
        is_ready=is_ready(pod),
        status=status_reason(pod),
        restarts=restarts(pod),
        age=age,
        tag=image_tag(image) if image else "-",
        deployment=owner_deployment(pod),
    )


def not_runnable(pod: Mapping[str, Any], container: str) -> NodeappError | None:
    """Why ``container`` of ``pod`` cannot take an exec now (an error with a hint), or None."""
    name = str(_meta(pod).get("name", ""))
    if is_terminating(pod):
        return NodeappError(
            f"pod {name} is terminating",
            "pick another pod of the app (kubectl nodeapp shell APP), or pass --any to try anyway",
        )
    phase = str(_status(pod).get("phase") or "Unknown")
    if phase in ("Succeeded", "Failed"):
        return NodeappError(
            f"pod {name} has finished ({phase})",
            f"see what happened: kubectl nodeapp logs {name}",
        )
    kind, details = container_state(pod, container)
    if kind == "running":
        return None
    reason = str(details.get("reason") or "")
    status = _container_status(pod, container) or {}
    if kind == "waiting" and reason == "CrashLoopBackOff":
        last = (status.get("lastState") or {}).get("terminated") or {}
        exit_info = ""
        if last:
            exit_info = f", last exit code {last.get('exitCode', '?')}"
            if last.get("reason"):
                exit_info += f" ({last['reason']})"
        count = int(status.get("restartCount") or 0)
        return NodeappError(
            f"container {container} of pod {name} is in CrashLoopBackOff "
            f"(restarted {count} time{'s' if count != 1 else ''}{exit_info})",
            f"see: kubectl nodeapp logs {name} --previous",
        )
    if kind == "waiting" and reason in _PULL_REASONS:
        message = str(details.get("message") or "").strip()
        return NodeappError(
            f"container {container} of pod {name} cannot start: {reason}"
            + (f" ({message})" if message else ""),
            f"check the image tag; see: kubectl nodeapp events {name}",
        )
    if kind == "waiting" or (kind == "unknown" and phase == "Pending"):
        why = reason or ("not scheduled yet" if not (pod.get("spec") or {}).get("nodeName") else phase)
        return NodeappError(
            f"container {container} of pod {name} is not running yet ({why})",
            f"wait a moment and try again; see: kubectl nodeapp events {name}",
        )
    if kind == "terminated":
        code = details.get("exitCode", "?")
        return NodeappError(
            f"container {container} of pod {name} has exited"
            + (f" ({reason}, exit code {code})" if reason else f" (exit code {code})"),
            f"see: kubectl nodeapp logs {name}",
        )
    return NodeappError(
        f"container {container} of pod {name} is not running (pod phase {phase})",
        f"see: kubectl nodeapp events {name}",
    )
