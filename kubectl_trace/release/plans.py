"""What each release command will change, per Deployment, before anything is sent (pure).

A ``Plan`` holds one ``Planned`` per Deployment that changes — the patch built from the
object as read (what ``--dry-run`` prints and the user confirms) and the builder that makes
it again from a fresh read after a conflict — and the Deployments left alone, with why.
Builders raise ``Drift`` when the Deployment moved in a way the user did not confirm.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubectl_trace.errors import NodeappError
from kubectl_trace.health.images import image_tag
from kubectl_trace.release.app import app_containers, container_images
from kubectl_trace.release.patches import (
    Drift,
    EnvAssignment,
    Patch,
    env_set_patch,
    env_unset_patch,
    image_patch,
    restart_patch,
    scale_patch,
)

__all__ = [
    "ContainersOf",
    "Plan",
    "Planned",
    "ReleaseTarget",
    "app_tag",
    "plan_deploy",
    "plan_env_set",
    "plan_env_unset",
    "plan_promote",
    "plan_release",
    "plan_restart",
    "plan_scale",
]

Obj = Mapping[str, Any]
Builder = Callable[[Obj], "Patch | None"]
ContainersOf = Callable[[Obj], Sequence[str]]


@dataclass(frozen=True)
class Planned:
    """One Deployment to change: the patch as built now (shown), and how to rebuild it on conflict."""

    deployment: Obj
    patch: Patch
    build: Builder
    label: str  # what changes, for the progress view ("3f9c2a1 → a41c9e7")

    @property
    def name(self) -> str:
        """The Deployment name."""
        return str(self.deployment["metadata"]["name"])


@dataclass(frozen=True)
class Plan:
    """Every Deployment of a command: those that change, and those left alone (name, why)."""

    planned: tuple[Planned, ...] = ()
    unchanged: tuple[tuple[str, str], ...] = field(default=())


def _name(d: Obj) -> str:
    return str(d["metadata"]["name"])


def _template(d: Obj) -> Any:
    return (d.get("spec") or {}).get("template")


def _tags(d: Obj, repository: str) -> dict[str, str | None]:
    mine = {c for c, _ in app_containers(d, repository)}
    return {c: image_tag(img) for c, img, _ in container_images(d) if c in mine}


def _tag_list(tags: Mapping[str, str | None]) -> str:
    return ", ".join(sorted({t or "(no tag)" for t in tags.values()})) or "(none)"


def _image_step(d: Obj, repository: str, tag: str, cause: str, why_same: str) -> Planned | tuple[str, str]:
    expect = _tags(d, repository)
    if not expect:
        return (_name(d), f"does not run {repository}")
    patch = image_patch(d, repository, tag, cause, expect=expect)
    if patch is None:
        return (_name(d), why_same)

    def build(cur: Obj) -> Patch | None:
        return image_patch(cur, repository, tag, cause, expect=expect)

    return Planned(d, patch, build, f"{_tag_list(expect)} → {tag}")


def _collect(steps: Sequence[Planned | tuple[str, str]]) -> Plan:
    return Plan(
        tuple(s for s in steps if isinstance(s, Planned)),
        tuple(s for s in steps if not isinstance(s, Planned)),
    )


def plan_deploy(deployments: Sequence[Obj], repository: str, tag: str, cause: str) -> Plan:
    """``deploy``: ``tag`` on every container running ``repository``."""
    return _collect([_image_step(d, repository, tag, cause, f"already runs {tag}") for d in deployments])


def app_tag(d: Obj, repository: str) -> str:
    """The one tag a Deployment runs of the app's image (NodeappError when none or several)."""
    tags = {t for t in _tags(d, repository).values()}
    if len(tags) != 1 or None in tags:
        shown = ", ".join(sorted(t or "(no tag)" for t in tags)) or "none"
        raise NodeappError(
            f"deployment {_name(d)} runs {len(tags)} tags of {repository} ({shown}): which one?"
        )
    return str(next(iter(tags)))


def plan_promote(
    source: Sequence[Obj],
    target: Sequence[Obj],
    repository: str,
    cause_for: Callable[[str], str],
    process_of: Callable[[Obj], str],
) -> Plan:
    """``promote``: each target Deployment gets the tag its source counterpart (same process) runs."""
    by_process = {process_of(d): d for d in source}
    by_name = {_name(d): d for d in source}
    steps: list[Planned | tuple[str, str]] = []
    for d in target:
        src = by_process.get(process_of(d)) or by_name.get(_name(d))
        if src is None:
            steps.append((_name(d), "no counterpart in the source namespace"))
            continue
        tag = app_tag(src, repository)
        steps.append(_image_step(d, repository, tag, cause_for(tag), f"already runs {tag}"))
    return _collect(steps)


def _plan_containers(
    deployments: Sequence[Obj],
    containers_of: ContainersOf,
    patch_for: Callable[[Obj, list[str]], Patch | None],
    unchanged: str,
) -> Plan:
    """A patch of the chosen containers of each Deployment, built again from the current object."""
    steps: list[Planned | tuple[str, str]] = []
    for d in deployments:
        names = list(containers_of(d))
        patch = patch_for(d, names)
        if patch is None:
            steps.append((_name(d), unchanged))
            continue

        def build(cur: Obj, names: list[str] = names) -> Patch | None:
            return patch_for(cur, names)

        steps.append(Planned(d, patch, build, patch.summary))
    return _collect(steps)


def plan_env_set(
    deployments: Sequence[Obj], containers_of: ContainersOf, assignments: Sequence[EnvAssignment], cause: str
) -> Plan:
    """``env set``: re-applied on conflict (other keys set meanwhile are kept)."""

    def patch_for(obj: Obj, names: list[str]) -> Patch | None:
        return env_set_patch(obj, names, assignments, cause)

    return _plan_containers(deployments, containers_of, patch_for, "already has these values")


def plan_env_unset(
    deployments: Sequence[Obj], containers_of: ContainersOf, names: Sequence[str], cause: str
) -> Plan:
    """``env unset``."""

    def patch_for(obj: Obj, cnames: list[str]) -> Patch | None:
        return env_unset_patch(obj, cnames, names, cause)

    return _plan_containers(deployments, containers_of, patch_for, f"has none of {', '.join(names)}")


def plan_scale(deployments: Sequence[Obj], wanted: Mapping[str, int], relative: Mapping[str, bool]) -> Plan:
    """``scale``: ``wanted`` maps Deployment name → replicas; relative requests refuse a moved count."""
    steps: list[Planned | tuple[str, str]] = []
    for d in deployments:
        name = _name(d)
        if name not in wanted:
            continue
        replicas = wanted[name]
        patch = scale_patch(d, replicas)
        current = (d.get("spec") or {}).get("replicas", 1)
        if patch is None:
            steps.append((name, f"already at {replicas}"))
            continue

        def build(
            cur: Obj, replicas: int = replicas, current: int = current, name: str = name
        ) -> Patch | None:
            now = (cur.get("spec") or {}).get("replicas", 1)
            if relative.get(name) and now != current:
                raise Drift(f"{name} was scaled to {now} by someone else meanwhile (it had {current})")
            return scale_patch(cur, replicas)

        steps.append(Planned(d, patch, build, f"{current} → {replicas} pods"))
    return _collect(steps)


def plan_restart(deployments: Sequence[Obj], at: str, cause: str) -> Plan:
    """``restart``: a new ``restartedAt`` on every Deployment."""
    steps: list[Planned | tuple[str, str]] = []
    for d in deployments:

        def build(cur: Obj) -> Patch | None:
            return restart_patch(cur, at, cause)

        steps.append(Planned(d, restart_patch(d, at, cause), build, "rolling restart"))
    return _collect(steps)


@dataclass(frozen=True)
class ReleaseTarget:
    """What one process goes to in a release rollback or promote."""

    process: str
    deployment: Obj  # the live Deployment
    template: Mapping[str, Any]  # the release's pod template
    digest: str
    from_tag: str
    to_tag: str
    note: str = ""  # "rebuilt from the recorded template (its ReplicaSet is gone)"


def plan_release(targets: Sequence[ReleaseTarget], cause: str) -> Plan:
    """Every process to its release's pod template; those already on it are left alone.

    A conflict re-reads the Deployment; one whose pod template moved since it was read
    (someone changed it meanwhile) stops the change (Drift) instead of being overwritten.
    """
    from kubectl_trace.release.patches import template_patch
    from kubectl_trace.release.records import template_digest, template_of

    steps: list[Planned | tuple[str, str]] = []
    for t in targets:
        live_digest = template_digest(template_of(t.deployment))
        if live_digest == t.digest:
            steps.append((_name(t.deployment), f"already runs this template ({t.to_tag})"))
            continue
        summary = f"{t.process} {t.from_tag} → {t.to_tag}" + (f"; {t.note}" if t.note else "")

        def build(
            cur: Obj, t: ReleaseTarget = t, live_digest: str = live_digest, summary: str = summary
        ) -> Patch | None:
            now = template_digest(template_of(cur))
            if now == t.digest:
                return None
            if now != live_digest:
                raise Drift(f"{_name(cur)} was changed by someone else since it was read")
            return template_patch(cur, t.template, cause, summary)

        steps.append(
            Planned(
                t.deployment,
                template_patch(t.deployment, t.template, cause, summary),
                build,
                f"{t.from_tag} → {t.to_tag}",
            )
        )
    return _collect(steps)
