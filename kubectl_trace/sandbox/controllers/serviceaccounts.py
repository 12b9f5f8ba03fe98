"""The service account controller: a ``default`` ServiceAccount in every active namespace.

As kube-controller-manager's ``serviceaccount-controller``: when a namespace appears (or
its ``default`` account is deleted) the account is (re)created; a terminating namespace
gets none. Clients that wait for ``default`` before creating pods (as many tools and
admission plugins do) find it a moment after the namespace.
"""

from __future__ import annotations

import contextlib
from typing import Any

from kubectl_trace.sandbox.controllers import Context
from kubectl_trace.sandbox.store import Change, StoreError

__all__ = ["ServiceAccountsController"]

DEFAULT = "default"


class ServiceAccountsController:
    """Keys are namespace names (queue ``serviceaccounts``)."""

    QUEUE = "serviceaccounts"

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def observe(self, change: Change) -> None:
        """Route a store change to the queue."""
        meta: dict[str, Any] = change.object.get("metadata") or {}
        if change.resource == "namespaces" and change.type != "DELETED":
            self.ctx.queue.enqueue(self.QUEUE, meta.get("name", ""))
        elif (
            change.resource == "serviceaccounts" and change.type == "DELETED" and meta.get("name") == DEFAULT
        ):
            self.ctx.queue.enqueue(self.QUEUE, meta.get("namespace") or "")

    def sync(self, namespace: str) -> None:
        """Create ``default`` in ``namespace`` when it is active and has none."""
        store = self.ctx.store
        ns = store.try_get("namespaces", None, namespace)
        if ns is None or ns["metadata"].get("deletionTimestamp"):
            return
        if (ns.get("status") or {}).get("phase") == "Terminating":
            return
        if store.try_get("serviceaccounts", namespace, DEFAULT) is not None:
            return
        meta = {"name": DEFAULT, "namespace": namespace}
        if ns["metadata"].get("creationTimestamp"):
            # made right after its namespace (which the fixture dates back)
            meta["creationTimestamp"] = ns["metadata"]["creationTimestamp"]
        with contextlib.suppress(StoreError):  # the namespace went meanwhile
            store.create("serviceaccounts", {"metadata": meta}, namespace)
