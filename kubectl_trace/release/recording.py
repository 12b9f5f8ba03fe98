"""Reading an app's releases with its live state, and recording a new release around a change.

``read_releases`` gives what ``history``, ``rollback``, ``promote`` and ``status`` need: the
recorded releases (reconstructed from the ReplicaSets when nothing was recorded yet), the
live state of every process, the current release and the drift from the last one.

``Recorder`` is used by ``flow.execute``: ``prepare()`` before anything is changed (reads
the app and, for a first release, reconstructs the older ones from the ReplicaSets as they
are before the change), ``record(applied)`` right after the patches (the new release, plus a
``kubectl`` release first when the app had been changed outside nodeapp), and
``finish(outcome)`` once the rollouts ended.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubectl_trace.release.records import (
    PENDING,
    DriftItem,
    ProcessState,
    Release,
    current_release,
    drift,
    legacy_releases,
    live_state,
)
from kubectl_trace.release.store import ReleaseStore

if TYPE_CHECKING:
    from kubectl_trace.kube.calls import KubeClient
    from kubectl_trace.release.shutdowns import ProcessShutdowns
    from kubectl_trace.userconfig import UserConfig

__all__ = ["AppReleases", "Recorder", "author_of", "read_releases", "user_name"]

Obj = Mapping[str, Any]


def user_name(environ: Mapping[str, str]) -> str:
    """Who makes the change (for change causes): ``$USER``, ``$LOGNAME``, ``$USERNAME``, else the login."""
    name = environ.get("USER") or environ.get("LOGNAME") or environ.get("USERNAME")
    if name:
        return name
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def author_of(environ: Mapping[str, str]) -> str:
    """Who makes a release: git ``user.email`` when set, else ``USER@host``."""
    try:
        done = subprocess.run(
            ["git", "config", "--get", "user.email"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **environ},
        )
        email = done.stdout.strip()
        if done.returncode == 0 and email:
            return email
    except (OSError, subprocess.SubprocessError):
        pass
    import socket

    return f"{user_name(environ)}@{socket.gethostname()}"


@dataclass
class AppReleases:
    """An app's releases next to what runs now."""

    app: str
    namespace: str
    releases: list[Release]  # oldest first
    templates: dict[str, dict[str, Any]]
    recorded: bool  # False: reconstructed from ReplicaSets only
    live: dict[str, ProcessState]
    live_templates: dict[str, dict[str, Any]]
    deployments: dict[str, Obj] = field(default_factory=dict)  # process → live Deployment

    @property
    def last(self) -> Release | None:
        """The newest release."""
        return self.releases[-1] if self.releases else None

    @property
    def current(self) -> Release | None:
        """The newest release that matches what runs."""
        return current_release(self.releases, self.live)

    @property
    def drift(self) -> list[DriftItem]:
        """How the live state differs from the newest release."""
        return drift(self.last, self.live)


def _pairs(deployments: Sequence[Obj], config: UserConfig) -> list[tuple[str, Obj]]:
    from kubectl_trace.release.app import process_name

    return [(process_name(d, config), d) for d in deployments]


def read_releases(
    kube: KubeClient,
    app: str,
    namespace: str,
    deployments: Sequence[Obj],
    config: UserConfig,
    repository: str | None,
) -> AppReleases:
    """The releases of ``app`` (all its ``deployments``): one GET, and a LIST when none is recorded."""
    pairs = _pairs(deployments, config)
    live, live_templates = live_state(pairs, repository)
    ledger = ReleaseStore(kube, namespace, app).load()
    if ledger is None:
        replicasets = kube.list("replicasets", namespace).items
        releases, templates = legacy_releases(pairs, replicasets, repository)
        recorded = False
    else:
        releases, templates, recorded = ledger.releases, ledger.templates, True
    return AppReleases(
        app, namespace, list(releases), dict(templates), recorded, live, live_templates, dict(pairs)
    )


def _in_flight(before: Sequence[tuple[str, Obj]], last: Release) -> bool:
    """Whether a Deployment carries a nodeapp change cause newer than the last release.

    nodeapp writes ``kubernetes.io/change-cause`` ("deploy a41c9e7 by ana at 2026-…Z") with each
    change; ``kubectl set image`` leaves it alone. A cause newer than the last recorded release
    is a concurrent nodeapp release whose record is on its way, not a change made outside.
    """
    import re

    from kubectl_trace.timeparse import parse_rfc3339

    for _, d in before:
        cause = str(
            ((d.get("metadata") or {}).get("annotations") or {}).get("kubernetes.io/change-cause") or ""
        )
        found = re.search(r" by \S+ at (\S+)$", cause)
        if not found:
            continue
        try:
            at = parse_rfc3339(found.group(1))
        except ValueError:
            continue
        if at > int(last.time):
            return True
    return False


def _each_process_recorded(states: Mapping[str, ProcessState], releases: Sequence[Release]) -> bool:
    """Whether every process runs a pod template that some recorded release gave it.

    A release being applied while another person's release reads the app is seen half-done:
    some processes still on the older release, some already on the newer one. Only a template
    no release ever had (``kubectl set image``, ``kubectl edit``) is a change made outside.
    """
    known = {(p, s.template) for r in releases for p, s in r.processes.items()}
    return all((p, s.template) in known for p, s in states.items())


@dataclass
class Recorder:
    """Records the release a change makes (see the module docstring)."""

    kube: KubeClient
    app: str
    namespace: str
    config: UserConfig
    repository: str | None
    action: str
    argument: str
    author: str
    now: float
    _before: list[tuple[str, Obj]] = field(default_factory=list)
    _seed: tuple[list[Release], dict[str, dict[str, Any]]] | None = None
    release: Release | None = None

    def prepare(self) -> None:
        """Read the app as it is before the change (and the older releases when none is recorded)."""
        from kubectl_trace.kube.targets import resolve_app

        deployments = resolve_app(self.kube, self.app, namespace=self.namespace, config=self.config)
        self._before = _pairs(deployments, self.config)
        store = ReleaseStore(self.kube, self.namespace, self.app)
        if store.load() is None:
            replicasets = self.kube.list("replicasets", self.namespace).items
            self._seed = legacy_releases(self._before, replicasets, self.repository)

    def record(self, applied: Mapping[str, Obj]) -> Release:
        """Record the release the applied changes made (``applied``: Deployment name → as patched)."""
        from kubectl_trace.kube.targets import resolve_app

        now = {
            str(d["metadata"]["name"]): d
            for d in resolve_app(self.kube, self.app, namespace=self.namespace, config=self.config)
        }
        now.update(applied)
        after = _pairs(list(now.values()), self.config)
        states, templates = live_state(after, self.repository)
        before_states, before_templates = live_state(self._before, self.repository)
        seed = self._seed

        def make(number: int) -> Release:
            return Release(number, self.action, self.argument, states, self.author, self.now, PENDING)

        def outside(ledger: Any) -> Release | None:
            if ledger.last is None or current_release(ledger.releases, before_states) is not None:
                return None  # nothing recorded yet, or the app ran a recorded release
            if _in_flight(self._before, ledger.last):
                return None  # another nodeapp release is being made right now: not an outside change
            if _each_process_recorded(before_states, ledger.releases):
                return None  # a recorded release seen half-applied (a concurrent nodeapp change)
            ledger.templates.update(before_templates)
            return Release(
                ledger.next_number,
                "kubectl",
                "(changed outside nodeapp)",
                before_states,
                "unknown",
                self.now,
                legacy=True,
            )

        store = ReleaseStore(self.kube, self.namespace, self.app)
        self.release = store.append(
            make, templates, seed=(lambda: seed) if seed is not None else None, before=outside
        )
        return self.release

    def finish(self, outcome: str, shutdowns: Sequence[ProcessShutdowns] = ()) -> None:
        """Record how the release's rollout ended (and how its old pods stopped)."""
        if self.release is not None:
            ReleaseStore(self.kube, self.namespace, self.app).set_outcome(
                self.release.number, outcome, shutdowns
            )


def release_status(
    kube: KubeClient, app: str, namespace: str, deployments: Sequence[Obj], config: UserConfig
) -> Any:
    """For ``status APP``: ``(json, lines, last)`` on the current release and drift; None without releases.

    ``last`` is the newest release (its recorded shutdowns are shown when the pods are gone).

    One GET (the release ConfigMap); nothing is reconstructed here.
    """
    from kubectl_trace.errors import NodeappError
    from kubectl_trace.kube.errors import KubeError
    from kubectl_trace.kube.targets import app_deployments
    from kubectl_trace.release.app import infer_repository

    mine = app_deployments(app, deployments, config.app_label)
    if not mine:
        return None
    try:
        ledger = ReleaseStore(kube, namespace, app).load()
    except (KubeError, NodeappError):
        return None
    if ledger is None or ledger.last is None:
        return None
    try:
        repository: str | None = infer_repository(app, mine, config.image_repository)
    except NodeappError:
        repository = None
    live, _ = live_state(_pairs(mine, config), repository)
    last = ledger.last
    current = current_release(ledger.releases, live)
    items = drift(last, live)
    document = {
        "last": last.number,
        "current": current.number if current is not None else None,
        "drift": [d.to_json() for d in items],
    }
    lines = []
    if current is not None:
        lines.append(f"release: v{current.number} ({current.description}) by {current.author}")
    for item in items:
        lines.append(f"drift: {item.text(last.number)} (changed outside nodeapp, e.g. kubectl)")
    if items:
        lines.append(f"  see: kubectl nodeapp history {app} -n {namespace}")
    return document, lines, last
