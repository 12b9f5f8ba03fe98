"""In-memory object store with Kubernetes resourceVersion semantics.

One global, monotonically increasing resourceVersion; every write gets the next one and
is appended to a bounded history that watches replay. The history is a window like the
API server's watch cache over a compacted etcd: at most ``history_limit`` changes and none
older than ``window_seconds``; ``compact()`` drops it all (the sandbox does so once its
fixture is loaded: a cluster one connects to has a past no watch can replay). A watch or a
continue token from before the window gets 410 Expired.
Objects are plain JSON dicts owned by the store: callers treat what ``get``/``list``
return as read-only and write through ``create``/``update``/``mutate``/``remove``.
Everything runs on the sandbox's one event loop thread; listeners are called
synchronously after each write.
"""

from __future__ import annotations

import builtins
import copy
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kubectl_trace.kube.resources import RESOURCES, Resource

__all__ = ["Change", "Store", "StoreError", "rfc3339"]

Obj = dict[str, Any]


def rfc3339(ts: float) -> str:
    """Seconds-precision UTC timestamp as the API server writes metadata times."""
    return datetime.fromtimestamp(int(ts), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class StoreError(Exception):
    """An API error with the fields of a ``metav1.Status``."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> Obj:
        """The ``Status`` object to send."""
        body: Obj = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code  # after details, in the order the API server writes them
        return body

    @classmethod
    def _about(cls, code: int, reason: str, resource: Resource, name: str, message: str) -> StoreError:
        """An error about one object, with the details that name it."""
        return cls(code, reason, message, details=_details(resource, name))

    @classmethod
    def not_found(cls, resource: Resource, name: str) -> StoreError:
        """404 ``pods "x" not found``."""
        return cls._about(404, "NotFound", resource, name, f'{resource.group_resource} "{name}" not found')

    @classmethod
    def already_exists(cls, resource: Resource, name: str) -> StoreError:
        """409 AlreadyExists."""
        return cls._about(
            409, "AlreadyExists", resource, name, f'{resource.group_resource} "{name}" already exists'
        )

    @classmethod
    def conflict(cls, resource: Resource, name: str, why: str) -> StoreError:
        """409 Conflict, as for a stale resourceVersion."""
        message = f'Operation cannot be fulfilled on {resource.group_resource} "{name}": {why}'
        return cls._about(409, "Conflict", resource, name, message)

    @classmethod
    def expired(cls, rv: int, current: int) -> StoreError:
        """410 Expired for a watch from a compacted resourceVersion."""
        return cls(410, "Expired", f"too old resource version: {rv} ({current})")

    @classmethod
    def invalid(cls, resource: Resource, name: str, causes: list[dict[str, str]]) -> StoreError:
        """422 Invalid with field causes."""
        text = ", ".join(f"{c.get('field')}: {c.get('message')}" for c in causes)
        if len(causes) > 1:
            text = f"[{text}]"
        kind = f"{resource.kind}.{resource.group}" if resource.group else resource.kind
        return cls(
            422,
            "Invalid",
            f'{kind} "{name}" is invalid: {text}',
            details={**_details(resource, name), "kind": resource.kind, "causes": causes},
        )

    @classmethod
    def bad_request(cls, message: str) -> StoreError:
        """400 BadRequest."""
        return cls(400, "BadRequest", message)


def _details(resource: Resource, name: str) -> dict[str, Any]:
    """``details`` of a Status about one object, keys in the API server's order."""
    details: dict[str, Any] = {"name": name}
    if resource.group:
        details["group"] = resource.group
    details["kind"] = resource.plural
    return details


@dataclass(frozen=True)
class Change:
    """One write, as watches see it."""

    type: str  # ADDED, MODIFIED, DELETED
    resource: str  # plural, e.g. "pods"
    namespace: str | None
    object: Obj
    previous: Obj | None
    rv: int


Key = tuple[str, str, str]  # (resource, namespace or "", name)


class Store:
    """Objects by (resource, namespace, name), with resourceVersions and a change history."""

    def __init__(
        self,
        *,
        history_limit: int = 50_000,
        window_seconds: float = 300.0,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._objects: dict[str, dict[Key, Obj]] = {r: {} for r in RESOURCES}
        self._history: deque[Change] = deque()
        self._times: deque[float] = deque()
        self._history_limit = history_limit
        self.window_seconds = window_seconds
        self._listeners: list[Callable[[Change], None]] = []
        self._rv = 0
        self._compacted = 0  # changes up to this resourceVersion can no longer be replayed
        self.clock = clock
        # resource → what the API server's create strategy does to a new object once it has
        # its uid (Jobs: generated selector and labels); may raise StoreError
        self.create_hooks: dict[str, Callable[[Obj], None]] = {}
        self._monotonic = monotonic

    # -- reading --------------------------------------------------------------------------

    @property
    def resource_version(self) -> int:
        """The current (latest) global resourceVersion."""
        return self._rv

    def get(self, resource: str, namespace: str | None, name: str) -> Obj:
        """The stored object (read-only) or StoreError 404."""
        obj = self._objects[resource].get((resource, namespace or "", name))
        if obj is None:
            raise StoreError.not_found(RESOURCES[resource], name)
        return obj

    def try_get(self, resource: str, namespace: str | None, name: str) -> Obj | None:
        """The stored object (read-only) or None."""
        return self._objects[resource].get((resource, namespace or "", name))

    def list(
        self,
        resource: str,
        namespace: str | None = None,
        predicate: Callable[[Obj], bool] | None = None,
    ) -> builtins.list[Obj]:
        """Stored objects (read-only) of one resource, in one namespace or all, sorted by name."""
        objs: Iterable[Obj] = self._objects[resource].values()
        if namespace:
            objs = (o for o in objs if o["metadata"].get("namespace") == namespace)
        if predicate is not None:
            objs = (o for o in objs if predicate(o))
        return sorted(objs, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))

    def count(self, resource: str) -> int:
        """How many objects of a resource exist."""
        return len(self._objects[resource])

    @property
    def compacted_version(self) -> int:
        """The newest resourceVersion whose change is no longer in the history."""
        self._trim()
        return self._compacted

    def changes_since(self, rv: int) -> builtins.list[Change]:
        """Changes after ``rv``; StoreError 410 when they are no longer all in the history."""
        if rv >= self._rv:
            return []
        self._trim()
        if rv < self._compacted:
            raise StoreError.expired(rv, self._rv)
        return [c for c in self._history if c.rv > rv]

    def compact(self) -> int:
        """Forget the whole history (as etcd compaction does); returns the compacted version."""
        self._history.clear()
        self._times.clear()
        self._compacted = self._rv
        return self._compacted

    def _trim(self) -> None:
        limit = self._monotonic() - self.window_seconds
        history, times = self._history, self._times
        while history and (len(history) > self._history_limit or times[0] < limit):
            self._compacted = history.popleft().rv
            times.popleft()

    # -- listening ------------------------------------------------------------------------

    def subscribe(self, listener: Callable[[Change], None]) -> Callable[[], None]:
        """Call ``listener(change)`` after every write; returns the unsubscribe function."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def _emit(self, change: Change) -> None:
        self._history.append(change)
        self._times.append(self._monotonic())
        if len(self._history) > self._history_limit:
            self._trim()
        for listener in list(self._listeners):
            listener(change)

    def _next_rv(self) -> int:
        self._rv += 1
        return self._rv

    # -- writing --------------------------------------------------------------------------

    def create(self, resource: str, obj: Obj, namespace: str | None = None, *, dry_run: bool = False) -> Obj:
        """Store a new object: fills uid, resourceVersion, creationTimestamp, generation.

        Honours ``metadata.generateName``; 404 when the namespace does not exist; 409 when
        the name is taken. ``dry_run``: every check and field as for a real create (no
        resourceVersion), nothing stored.
        """
        info = RESOURCES[resource]
        new = copy.deepcopy(obj)
        meta = new.setdefault("metadata", {})
        if info.namespaced:
            ns = namespace or meta.get("namespace") or "default"
            if self.try_get("namespaces", None, ns) is None:
                raise StoreError.not_found(RESOURCES["namespaces"], ns)
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        if not meta.get("name"):
            prefix = meta.get("generateName")
            if not prefix:
                raise StoreError.invalid(
                    info,
                    "",
                    [
                        {
                            "reason": "FieldValueRequired",
                            "message": "name or generateName is required",
                            "field": "metadata.name",
                        }
                    ],
                )
            meta["name"] = prefix + uuid.uuid4().hex[:5]
        key = (resource, meta.get("namespace", ""), meta["name"])
        if key in self._objects[resource]:
            raise StoreError.already_exists(info, meta["name"])
        new["kind"] = info.kind
        new["apiVersion"] = info.api_version
        meta["uid"] = str(uuid.uuid4())
        meta.setdefault("creationTimestamp", rfc3339(self.clock()))
        prepare = self.create_hooks.get(resource)
        if prepare is not None:  # the API server's create strategy (may raise StoreError)
            prepare(new)
        if "spec" in new or resource in ("deployments", "replicasets", "pods"):
            meta["generation"] = 1
        meta.pop("deletionTimestamp", None)
        if dry_run:
            meta.pop("resourceVersion", None)
            return new
        rv = self._next_rv()
        meta["resourceVersion"] = str(rv)
        self._objects[resource][key] = new
        self._emit(Change("ADDED", resource, meta.get("namespace"), new, None, rv))
        return new

    def update(
        self, resource: str, obj: Obj, *, subresource: str | None = None, dry_run: bool = False
    ) -> Obj:
        """Replace an object (PUT semantics).

        A ``metadata.resourceVersion`` that is not the stored one → 409 Conflict. The main
        resource keeps the stored status and bumps ``generation`` when the spec changes;
        the ``status`` subresource replaces only the status. A write that changes nothing
        keeps the resourceVersion and emits nothing, as the API server does. ``dry_run``:
        the answer of the write, nothing stored.
        """
        info = RESOURCES[resource]
        meta_in = obj.get("metadata") or {}
        name = meta_in.get("name", "")
        ns = meta_in.get("namespace") if info.namespaced else None
        current = self.get(resource, ns, name)
        given_rv = meta_in.get("resourceVersion")
        if given_rv and str(given_rv) != current["metadata"]["resourceVersion"]:
            raise StoreError.conflict(
                info,
                name,
                "the object has been modified; please apply your changes to the latest version and try again",
            )
        new = copy.deepcopy(obj)
        new["kind"] = info.kind
        new["apiVersion"] = info.api_version
        meta = new.setdefault("metadata", {})
        for fixed in (
            "uid",
            "creationTimestamp",
            "namespace",
            "generation",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ):
            if fixed in current["metadata"]:
                meta[fixed] = current["metadata"][fixed]
            else:
                meta.pop(fixed, None)
        if subresource == "status":
            merged = copy.deepcopy(current)
            merged["status"] = new.get("status", {})
            new = merged
        elif subresource is None:
            if "status" in current:
                new["status"] = copy.deepcopy(current["status"])
            else:
                new.pop("status", None)
            if new.get("spec") != current.get("spec") and "generation" in meta:
                meta["generation"] = int(meta["generation"]) + 1
        if dry_run:
            new["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            return new
        return self._replace(resource, current, new)

    def mutate(
        self,
        resource: str,
        namespace: str | None,
        name: str,
        fn: Callable[[Obj], Obj | None],
        *,
        bump_generation: bool = False,
    ) -> Obj:
        """Apply ``fn`` to a copy of the stored object and store the result (no RV check).

        For controllers and the kubelet, which own the status; ``fn`` edits in place or
        returns a new dict. ``bump_generation`` when ``fn`` changed the spec.
        """
        current = self.get(resource, namespace, name)
        draft = copy.deepcopy(current)
        result = fn(draft)
        new = draft if result is None else result
        if bump_generation and new.get("spec") != current.get("spec"):
            meta = new["metadata"]
            meta["generation"] = int(meta.get("generation", 1)) + 1
        return self._replace(resource, current, new)

    def set_status(self, resource: str, namespace: str | None, name: str, status: Obj) -> Obj:
        """Replace an object's ``status`` with ``status`` (which the store then owns).

        The cheap path for controllers and the kubelet: the rest of the object is shared
        with the previous version instead of deep-copied (stored objects are read-only).
        Emits nothing when the status is unchanged.
        """
        current = self.get(resource, namespace, name)
        if current.get("status") == status:
            return current
        new = dict(current)
        new["metadata"] = dict(current["metadata"])
        new["status"] = status
        return self._replace(resource, current, new)

    def _replace(self, resource: str, current: Obj, new: Obj) -> Obj:
        new["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        if new == current:
            return current
        rv = self._next_rv()
        new["metadata"]["resourceVersion"] = str(rv)
        meta = new["metadata"]
        self._objects[resource][(resource, meta.get("namespace", ""), meta["name"])] = new
        self._emit(Change("MODIFIED", resource, meta.get("namespace"), new, current, rv))
        return new

    def remove(self, resource: str, namespace: str | None, name: str, *, uid: str | None = None) -> Obj:
        """Delete an object now (404 if absent; 409 if ``uid`` is given and differs)."""
        info = RESOURCES[resource]
        current = self.get(resource, namespace, name)
        if uid is not None and current["metadata"].get("uid") != uid:
            raise StoreError.conflict(info, name, f"Precondition failed: UID in precondition: {uid}")
        key = (resource, current["metadata"].get("namespace", ""), name)
        del self._objects[resource][key]
        rv = self._next_rv()
        gone = copy.deepcopy(current)
        gone["metadata"]["resourceVersion"] = str(rv)
        self._emit(Change("DELETED", resource, current["metadata"].get("namespace"), gone, current, rv))
        return gone
