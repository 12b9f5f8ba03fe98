"""Where an app's releases live: one ConfigMap per app, ``nodeapp-releases-<app>``, in its namespace.

Why a ConfigMap: every teammate and CI machine must see the same numbered history, so it
lives in the cluster, next to the app, readable and writable with the RBAC the team already
has for the namespace — a CRD would need cluster-admin to install and would break every
cluster where nobody did; annotations on the Deployments would scatter one release over
several objects that cannot be updated atomically. One object per app is one atomic write:
``metadata.resourceVersion`` in the PUT makes the API server refuse (409 Conflict) a write
based on a stale read, so two people releasing at once each re-read and take the next
number — no number is given twice and no release is lost (``append`` retries). Creating
the ConfigMap races the same way (409 AlreadyExists → read it and append).

Bounded: the newest ``MAX_RELEASES`` records are kept, with only the pod templates they use
(deduplicated by digest), and older ones are dropped further when the data would pass
``MAX_BYTES`` (ConfigMaps are limited to 1 MiB).

Data keys: ``releases`` (a JSON list of ``records.release_to_json``) and ``templates``
(a JSON object digest → pod template).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass
from typing import TYPE_CHECKING, Any

from kubectl_trace.errors import NodeappError
from kubectl_trace.kube.errors import ApiError
from kubectl_trace.release.records import Ledger, Release, release_from_json, release_to_json

if TYPE_CHECKING:
    from kubectl_trace.kube.calls import KubeClient
    from kubectl_trace.release.shutdowns import ProcessShutdowns

__all__ = ["MAX_BYTES", "MAX_RELEASES", "ReleaseStore", "store_name"]

MAX_RELEASES = 60
MAX_BYTES = 700_000
ATTEMPTS = 20
MANAGED_BY = "kubectl-nodeapp"
APP_ANNOTATION = "nodeapp.dev/app"


def store_name(app: str) -> str:
    """``nodeapp-releases-trace-api``."""
    return f"nodeapp-releases-{app}"[:253]


def _parse(cm: dict[str, Any]) -> Ledger:
    data = cm.get("data") or {}
    try:
        releases = [release_from_json(r) for r in json.loads(data.get("releases") or "[]")]
        templates = json.loads(data.get("templates") or "{}")
    except (ValueError, KeyError, TypeError) as exc:
        name = (cm.get("metadata") or {}).get("name")
        raise NodeappError(
            f"the release records in ConfigMap {name} are damaged ({exc})",
            hint="look at them with: kubectl get configmap " + str(name) + " -o yaml",
        ) from None
    return Ledger(sorted(releases, key=lambda r: r.number), dict(templates))


def _data(ledger: Ledger) -> dict[str, str]:
    ledger.trim(MAX_RELEASES)
    while True:
        data = {
            "releases": json.dumps([release_to_json(r) for r in ledger.releases], separators=(",", ":")),
            "templates": json.dumps(ledger.templates, sort_keys=True, separators=(",", ":")),
        }
        if sum(len(v) for v in data.values()) <= MAX_BYTES or len(ledger.releases) <= 1:
            return data
        ledger.trim(len(ledger.releases) - 1)


@dataclass(frozen=True)
class ReleaseStore:
    """The release records of one app in one namespace (a ``ResourceCalls`` client)."""

    kube: KubeClient
    namespace: str
    app: str
    _: KW_ONLY
    sleep: Callable[[float], None] = time.sleep

    @property
    def name(self) -> str:
        """The ConfigMap holding the records."""
        return store_name(self.app)

    def _read(self) -> tuple[Ledger, dict[str, Any] | None]:
        try:
            cm = self.kube.get("configmaps", self.name, self.namespace)
        except ApiError as exc:
            if exc.status == 404:
                return Ledger(), None
            raise
        return _parse(cm), cm

    def load(self) -> Ledger | None:
        """The recorded releases; None when nothing was recorded yet."""
        ledger, cm = self._read()
        return ledger if cm is not None else None

    def _write(self, ledger: Ledger, cm: dict[str, Any] | None) -> None:
        data = _data(ledger)
        if cm is None:
            body = {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": self.name,
                    "namespace": self.namespace,
                    "labels": {"app.kubernetes.io/managed-by": MANAGED_BY},
                    "annotations": {APP_ANNOTATION: self.app},
                },
                "data": data,
            }
            self.kube.create("configmaps", body, self.namespace)
            return
        body = dict(cm)
        body["data"] = data  # metadata.resourceVersion stays: the write is refused if stale
        self.kube.replace("configmaps", body, self.namespace)

    def update(self, change: Callable[[Ledger, bool], Any]) -> Any:
        """Read, ``change(ledger, exists)`` in place, write; re-read and redo on a conflict.

        ``change`` returns what ``update`` returns; returning None writes nothing.
        """
        for attempt in range(ATTEMPTS):
            ledger, cm = self._read()
            result = change(ledger, cm is not None)
            if result is None:
                return None
            try:
                self._write(ledger, cm)
            except ApiError as exc:
                if exc.status == 409:  # stale resourceVersion, or created meanwhile
                    self.sleep(min(0.2, 0.01 * (attempt + 1)))
                    continue
                raise
            return result
        raise NodeappError(
            f"could not record the release: ConfigMap {self.name} kept changing ({ATTEMPTS} conflicts)",
            hint="someone is releasing continuously; look at the history and try again",
        )

    def append(
        self,
        make: Callable[[int], Release],
        templates: dict[str, dict[str, Any]],
        *,
        seed: Callable[[], tuple[list[Release], dict[str, dict[str, Any]]]] | None = None,
        before: Callable[[Ledger], Release | None] | None = None,
    ) -> Release:
        """Record a new release numbered after the newest (``make(number)`` builds it).

        ``seed`` gives the reconstructed releases to start a new store with; ``before`` may
        add a release first (the live state changed outside nodeapp since the last one).
        """

        def change(ledger: Ledger, exists: bool) -> Release:
            if not exists and seed is not None:
                old, old_templates = seed()
                ledger.releases.extend(old)
                ledger.templates.update(old_templates)
            if before is not None:
                extra = before(ledger)
                if extra is not None:
                    ledger.releases.append(extra)
            release = make(ledger.next_number)
            ledger.releases.append(release)
            ledger.templates.update(templates)
            return release

        result: Release = self.update(change)
        return result

    def set_outcome(self, number: int, outcome: str, shutdowns: Sequence[ProcessShutdowns] = ()) -> bool:
        """Record how release ``number``'s rollout ended, and how its old pods stopped when known.

        False when the release was dropped meanwhile.
        """

        def change(ledger: Ledger, exists: bool) -> bool | None:
            stops = shutdowns or None  # none known: keep what is there
            return True if exists and ledger.with_outcome(number, outcome, stops) else None

        return bool(self.update(change))
