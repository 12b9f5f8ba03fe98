"""Picking the container a ``log`` or ``exec`` request means, with the API server's errors."""

from __future__ import annotations

from typing import Any

from kubectl_trace.sandbox.store import StoreError

__all__ = ["resolve_container"]


def resolve_container(pod: dict[str, Any], container: str | None) -> str:
    """The container name: the one given (checked), or the pod's only container.

    400 ``a container name must be specified for pod X, choose one of: [a b]`` when the
    pod has several; 400 ``container c is not valid for pod X`` for an unknown name.
    """
    spec = pod.get("spec") or {}
    name = (pod.get("metadata") or {}).get("name", "")
    containers: list[str] = [c.get("name", "") for c in spec.get("containers") or []]
    init = [c.get("name", "") for c in spec.get("initContainers") or []]
    ephemeral = [c.get("name", "") for c in spec.get("ephemeralContainers") or []]
    if not container:
        if len(containers) == 1:
            return containers[0]
        message = (
            f"a container name must be specified for pod {name}, choose one of: [{' '.join(containers)}]"
        )
        if init:
            message += f" or one of the init containers: [{' '.join(init)}]"
        if ephemeral:
            message += f" or one of the ephemeral containers: [{' '.join(ephemeral)}]"
        raise StoreError.bad_request(message)
    if container not in containers and container not in init and container not in ephemeral:
        raise StoreError.bad_request(f"container {container} is not valid for pod {name}")
    return container
