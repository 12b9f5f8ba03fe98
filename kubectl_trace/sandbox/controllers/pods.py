"""Creating and deleting the pods of a controller (ReplicaSet, Job), as ``controller.PodControl`` does."""

from __future__ import annotations

import copy
from typing import Any

from kubectl_trace.sandbox.controllers import Context
from kubectl_trace.sandbox.controllers.util import graceful_delete, owner_reference, random_suffix
from kubectl_trace.sandbox.defaults import default_pod, qos_class
from kubectl_trace.sandbox.recorder import EventSource
from kubectl_trace.sandbox.store import StoreError

__all__ = ["create_pod", "delete_pod"]

Obj = dict[str, Any]


def create_pod(ctx: Context, owner: Obj, template: Obj, source: EventSource) -> Obj | None:
    """A pod from ``template``, named ``OWNER-xxxxx`` and controlled by ``owner``.

    Records ``SuccessfulCreate`` or ``FailedCreate`` on the owner; None when it failed.
    """
    template = copy.deepcopy(template)
    tmeta = template.get("metadata") or {}
    name = owner["metadata"]["name"]
    meta: Obj = {
        "generateName": name + "-",
        "namespace": owner["metadata"]["namespace"],
        "labels": dict(tmeta.get("labels") or {}),
        "ownerReferences": [owner_reference(owner)],
    }
    if tmeta.get("annotations"):
        meta["annotations"] = dict(tmeta["annotations"])
    pod: Obj = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": template.get("spec") or {}}
    default_pod(pod)
    pod["status"] = {"phase": "Pending", "qosClass": qos_class(pod["spec"])}
    for _ in range(10):  # a random name that is taken: try another
        meta["name"] = f"{name}-{random_suffix()}"
        try:
            created = ctx.store.create("pods", pod)
        except StoreError as err:
            if err.code == 409:
                continue
            message = f"Error creating: {err.message}"
            ctx.recorder.record(owner, "Warning", "FailedCreate", message, source)
            return None
        message = f"Created pod: {created['metadata']['name']}"
        ctx.recorder.record(owner, "Normal", "SuccessfulCreate", message, source)
        return created
    return None


def delete_pod(ctx: Context, owner: Obj, pod: Obj, source: EventSource) -> None:
    """Delete a pod of ``owner`` gracefully and record ``SuccessfulDelete`` on the owner."""
    graceful_delete(ctx.store, pod, now=ctx.clock())
    message = f"Deleted pod: {pod['metadata']['name']}"
    ctx.recorder.record(owner, "Normal", "SuccessfulDelete", message, source)
