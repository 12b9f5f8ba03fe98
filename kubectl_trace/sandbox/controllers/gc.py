"""Garbage collection of dependents and namespace clean-up.

* When an owner disappears, its dependents go too (background propagation, what
  ``kubectl delete`` asks for by default): pods gracefully, other objects at once
  (which cascades). A dependent with another live owner only loses the reference.
* An owner being deleted in the foreground (``deletionTimestamp`` + finalizer
  ``foregroundDeletion``) waits for its dependents, then goes; with ``orphan`` its
  dependents are released first.
* A namespace being deleted (``deletionTimestamp`` or phase ``Terminating``) has all its
  objects deleted, then goes; a namespace removed outright takes its objects with it.
"""

from __future__ import annotations

import contextlib
from typing import Any

from kubectl_trace.kube.resources import RESOURCES
from kubectl_trace.sandbox.controllers import Context
from kubectl_trace.sandbox.controllers.util import graceful_delete
from kubectl_trace.sandbox.store import Change, StoreError, rfc3339

__all__ = ["GarbageCollector"]

Obj = dict[str, Any]
_BY_KIND = {r.kind: r.plural for r in RESOURCES.values()}


def _drop_owner(draft: Obj, uid: str) -> None:
    """Remove the owner ``uid`` from ``draft``'s ownerReferences (the field goes when empty)."""
    meta = draft["metadata"]
    refs = [r for r in meta.get("ownerReferences") or [] if r.get("uid") != uid]
    if refs:
        meta["ownerReferences"] = refs
    else:
        meta.pop("ownerReferences", None)


class GarbageCollector:
    """The garbage collector and namespace controller (queue ``gc``).

    Keys are ``("orphaned", uid)``, ``("owner", resource, ns, name)`` or
    ``("namespace", name)``.
    """

    QUEUE = "gc"

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def observe(self, change: Change) -> None:
        """Route a store change to the queue."""
        meta = change.object.get("metadata", {})
        queue = self.ctx.queue
        if change.type == "DELETED":
            uid = meta.get("uid")
            if uid and self.ctx.index.dependents(uid):
                queue.enqueue(self.QUEUE, ("orphaned", uid))
            for ref in meta.get("ownerReferences") or []:
                owner = self._find_owner(ref, meta.get("namespace"))
                if owner is not None and owner["metadata"].get("deletionTimestamp"):
                    queue.enqueue(self.QUEUE, self._owner_key(owner))
            if change.resource == "namespaces":
                queue.enqueue(self.QUEUE, ("namespace", meta.get("name", "")))
            elif change.namespace:
                namespace = self.ctx.store.try_get("namespaces", None, change.namespace)
                if namespace is not None and namespace["metadata"].get("deletionTimestamp"):
                    queue.enqueue(self.QUEUE, ("namespace", change.namespace))
            return
        if change.resource == "namespaces":
            if (
                meta.get("deletionTimestamp")
                or (change.object.get("status") or {}).get("phase") == "Terminating"
            ):
                queue.enqueue(self.QUEUE, ("namespace", meta.get("name", "")))
            return
        if meta.get("deletionTimestamp") and meta.get("finalizers") and change.resource != "pods":
            queue.enqueue(self.QUEUE, self._owner_key(change.object))

    @staticmethod
    def _owner_key(obj: Obj) -> tuple[str, ...]:
        meta = obj["metadata"]
        return ("owner", _BY_KIND.get(obj.get("kind", ""), ""), meta.get("namespace") or "", meta["name"])

    def _find_owner(self, ref: Obj, namespace: str | None) -> Obj | None:
        resource = _BY_KIND.get(ref.get("kind", ""))
        if resource is None:
            return None
        ns = namespace if RESOURCES[resource].namespaced else None
        obj = self.ctx.store.try_get(resource, ns, ref.get("name", ""))
        if obj is None or obj["metadata"].get("uid") != ref.get("uid"):
            return None
        return obj

    def sync(self, key: tuple[str, ...]) -> None:
        """Handle one queue key."""
        if key[0] == "orphaned":
            self._collect(key[1])
        elif key[0] == "owner":
            self._owner(key[1], key[2], key[3])
        elif key[0] == "namespace":
            self._namespace(key[1])

    def _remove(self, resource: str, ns: str, name: str) -> None:
        """Remove an object now (gone already: nothing to do)."""
        with contextlib.suppress(StoreError):
            self.ctx.store.remove(resource, ns or None, name)

    def _orphan(self, resource: str, ns: str, name: str, uid: str) -> None:
        """Drop a dependent's owner reference to ``uid``."""
        self.ctx.store.mutate(resource, ns or None, name, lambda draft: _drop_owner(draft, uid))

    def _delete(self, resource: str, ns: str, name: str, *, foreground: bool = False) -> None:
        store = self.ctx.store
        obj = store.try_get(resource, ns or None, name)
        if obj is None:
            return
        if resource == "pods":
            graceful_delete(store, obj, now=self.ctx.clock())
            return
        if foreground and self.ctx.index.dependents(obj["metadata"]["uid"]):
            # a dependent of a foreground deletion goes in the foreground too: it waits for its own
            if obj["metadata"].get("deletionTimestamp"):
                return

            def mark(draft: Obj) -> None:
                meta = draft["metadata"]
                meta["deletionTimestamp"] = rfc3339(self.ctx.clock())
                meta["deletionGracePeriodSeconds"] = 0
                meta["finalizers"] = [*(meta.get("finalizers") or []), "foregroundDeletion"]

            with contextlib.suppress(StoreError):
                store.mutate(resource, ns or None, name, mark)
            return
        self._remove(resource, ns, name)

    def _collect(self, uid: str) -> None:
        store = self.ctx.store
        for resource, ns, name in list(self.ctx.index.dependents(uid)):
            obj = store.try_get(resource, ns or None, name)
            if obj is None:
                continue
            refs = obj["metadata"].get("ownerReferences") or []
            alive = [r for r in refs if r.get("uid") != uid and self._find_owner(r, ns or None) is not None]
            if alive:
                self._orphan(resource, ns, name, uid)
            else:
                self._delete(resource, ns, name)

    def _owner(self, resource: str, ns: str, name: str) -> None:
        store = self.ctx.store
        if not resource:
            return
        obj = store.try_get(resource, ns or None, name)
        if obj is None or not obj["metadata"].get("deletionTimestamp"):
            return
        finalizers = list(obj["metadata"].get("finalizers") or [])
        uid = obj["metadata"]["uid"]
        deps = self.ctx.index.dependents(uid)
        if "orphan" in finalizers:
            for dep_resource, dep_ns, dep_name in deps:
                with contextlib.suppress(StoreError):
                    self._orphan(dep_resource, dep_ns, dep_name, uid)
            finalizers.remove("orphan")
        elif "foregroundDeletion" in finalizers:
            if deps:
                for dep in deps:
                    self._delete(*dep, foreground=True)
                return
            finalizers.remove("foregroundDeletion")
        else:
            return
        if finalizers:

            def keep(draft: Obj) -> None:
                draft["metadata"]["finalizers"] = finalizers

            store.mutate(resource, ns or None, name, keep)
            return
        self._remove(resource, ns, name)

    def _namespace(self, name: str) -> None:
        store = self.ctx.store
        namespace = store.try_get("namespaces", None, name)
        for resource, info in RESOURCES.items():
            if not info.namespaced:
                continue
            for obj in store.list(resource, name):
                if namespace is None or resource == "events":
                    # events go at once; and once the namespace is gone nothing may stay behind
                    self._remove(resource, name, obj["metadata"]["name"])
                else:
                    self._delete(resource, name, obj["metadata"]["name"])
        if namespace is None:
            return
        leftover = sum(len(store.list(r, name)) for r, info in RESOURCES.items() if info.namespaced)
        if leftover == 0:
            self._remove("namespaces", "", name)
        elif (namespace.get("status") or {}).get("phase") != "Terminating":

            def terminating(draft: Obj) -> None:
                draft.setdefault("status", {})["phase"] = "Terminating"

            store.mutate("namespaces", None, name, terminating)
