"""Patch builders: each turns the Deployment as read now into the exact PATCH to send (pure).

Every patch is guarded so that a concurrent change is never silently lost:

- strategic merge patches carry ``metadata.resourceVersion`` (the API server answers 409
  Conflict when the object changed since it was read);
- JSON patches (undo, restore) start with ``test`` operations on exactly the values they
  replace (a failed test is answered 422 and nothing is written).

A builder returns ``None`` when the Deployment already is as wanted, and raises ``Drift``
when it changed in a way the user did not see when confirming (someone else deployed).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubectl_trace.health.images import image_ref
from kubectl_trace.release.tags import with_tag

__all__ = [
    "CHANGE_CAUSE",
    "RESTARTED_AT",
    "Drift",
    "EnvAssignment",
    "Patch",
    "change_cause",
    "env_set_patch",
    "env_unset_patch",
    "image_patch",
    "restart_patch",
    "restore_patch",
    "scale_patch",
    "template_patch",
]

CHANGE_CAUSE = "kubernetes.io/change-cause"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
_CONTENT_TYPES = {
    "strategic": "application/strategic-merge-patch+json",
    "json": "application/json-patch+json",
    "merge": "application/merge-patch+json",
}

Obj = Mapping[str, Any]


class Drift(Exception):
    """The Deployment changed (not just its status) in a way the plan did not expect."""


@dataclass(frozen=True)
class Patch:
    """One PATCH of one Deployment: ``type`` is ``strategic`` or ``json``."""

    namespace: str
    name: str
    type: str
    body: Any
    summary: str

    @property
    def content_type(self) -> str:
        """The request's Content-Type."""
        return _CONTENT_TYPES[self.type]

    @property
    def path(self) -> str:
        """The request path."""
        return f"/apis/apps/v1/namespaces/{self.namespace}/deployments/{self.name}"

    def render(self, *, reveal: bool = False) -> str:
        """The request as ``--dry-run`` prints it: method, path, Content-Type, then the body.

        Env values that look like credentials are shown as ``<masked>`` unless ``reveal``: a
        dry run is pasted into tickets and CI logs.
        """
        shown = self.body if reveal else _masked(self.body)
        body = json.dumps(shown, separators=(",", ":"), ensure_ascii=False)
        return f"PATCH {self.path}\nContent-Type: {self.content_type}\n{body}\n"


MASKED = "<masked>"


def _masked(value: Any) -> Any:
    """``value`` with every ``{"name": N, "value": V}`` env entry whose V looks like a credential masked."""
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if not isinstance(value, dict):
        return value
    name, secret = value.get("name"), value.get("value")
    if isinstance(name, str) and isinstance(secret, str):
        from kubectl_trace.release.credentials import credential_reason

        if credential_reason(name, secret):
            return {**value, "value": MASKED}
    return {k: _masked(v) for k, v in value.items()}


def _meta(obj: Obj) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _template_spec(deployment: Obj) -> Mapping[str, Any]:
    return ((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}


def _ident(deployment: Obj) -> tuple[str, str]:
    meta = _meta(deployment)
    return str(meta.get("namespace") or ""), str(meta["name"])


def _guarded_metadata(deployment: Obj, cause: str | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"resourceVersion": str(_meta(deployment).get("resourceVersion") or "")}
    if cause is not None:
        meta["annotations"] = {CHANGE_CAUSE: cause}
    return meta


def change_cause(action: str, user: str, at: str) -> str:
    """``kubernetes.io/change-cause``: what changed, who, when (``deploy a41c9e7 by ana at …``)."""
    return f"{action} by {user or 'unknown'} at {at}"


# -- a whole pod template (release rollback) ---------------------------------------------


def template_patch(deployment: Obj, template: Mapping[str, Any], cause: str, summary: str) -> Patch:
    """Put a recorded pod template on a Deployment: a JSON patch guarded by its resourceVersion.

    ``test`` on ``/metadata/resourceVersion`` makes a write based on a stale read fail (422),
    so the caller re-reads and decides again; the change cause is set beside it.
    """
    ns, name = _ident(deployment)
    meta = _meta(deployment)
    ops: list[dict[str, Any]] = [
        {"op": "test", "path": "/metadata/resourceVersion", "value": str(meta.get("resourceVersion") or "")},
        {"op": "replace", "path": "/spec/template", "value": dict(template)},
    ]
    if meta.get("annotations"):
        ops.append({"op": "add", "path": "/metadata/annotations/" + _pointer(CHANGE_CAUSE), "value": cause})
    else:
        ops.append({"op": "add", "path": "/metadata/annotations", "value": {CHANGE_CAUSE: cause}})
    return Patch(ns, name, "json", ops, summary)


# -- image ------------------------------------------------------------------------------


def image_patch(
    deployment: Obj,
    repository: str,
    tag: str,
    cause: str,
    *,
    expect: Mapping[str, str | None] | None = None,
) -> Patch | None:
    """Set ``tag`` on every container (and init container) that runs ``repository``.

    ``expect`` maps container name → the tag the plan showed the user; a container now on a
    third tag raises Drift (someone else deployed meanwhile).
    """
    ns, name = _ident(deployment)
    spec = _template_spec(deployment)
    sections: dict[str, list[dict[str, str]]] = {}
    moves: list[str] = []
    for field in ("containers", "initContainers"):
        for c in spec.get(field) or []:
            image = str(c.get("image") or "")
            ref = image_ref(image)
            if not image or ref.repository != repository:
                continue
            cname = str(c.get("name"))
            if expect is not None and cname in expect and ref.tag not in (expect[cname], tag):
                raise Drift(
                    f"{name}: container {cname} now runs {ref.tag or '(no tag)'}, "
                    f"not {expect[cname] or '(no tag)'} as when the change was planned"
                )
            if ref.tag == tag and not ref.digest:
                continue
            sections.setdefault(field, []).append({"name": cname, "image": with_tag(image, tag)})
            moves.append(f"{cname} {ref.tag or '(no tag)'} → {tag}")
    if not sections:
        return None
    body = {
        "metadata": _guarded_metadata(deployment, cause),
        "spec": {"template": {"spec": sections}},
    }
    return Patch(ns, name, "strategic", body, "image " + ", ".join(moves))


# -- env --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnvAssignment:
    """``K=V`` (``value``) or ``K`` from a Secret key (``secret``, ``key``)."""

    name: str
    value: str | None = None
    secret: str | None = None
    key: str | None = None

    def entry(self) -> dict[str, Any]:
        """The env entry as the API has it."""
        if self.secret is not None:
            return {
                "name": self.name,
                "valueFrom": {"secretKeyRef": {"name": self.secret, "key": self.key or self.name}},
            }
        return {"name": self.name, "value": self.value or ""}

    def describe(self) -> str:
        """``LOG_LEVEL`` or ``DATABASE_URL from secret trace-api-db:url`` (never the value)."""
        if self.secret is not None:
            return f"{self.name} from secret {self.secret}:{self.key or self.name}"
        return self.name


def _same_entry(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    def norm(entry: Mapping[str, Any]) -> tuple[Any, Any]:
        value = entry.get("value")
        return ("" if value is None and "valueFrom" not in entry else value, entry.get("valueFrom"))

    return norm(current) == norm(wanted)


def _containers(deployment: Obj, names: Iterable[str]) -> list[tuple[str, Mapping[str, Any]]]:
    spec = _template_spec(deployment)
    wanted = set(names)
    out = []
    for field in ("containers", "initContainers"):
        for c in spec.get(field) or []:
            if c.get("name") in wanted:
                out.append((field, c))
    return out


def _env_patch(
    deployment: Obj,
    containers: Sequence[str],
    cause: str,
    verb: str,
    edits: Callable[[Mapping[str, Any]], list[tuple[str, dict[str, Any]]]],
) -> Patch | None:
    """A strategic patch of the named containers' ``env``: ``edits(container)`` gives its elements.

    Each edit is (what the patch says it does, the env element); the summary is ``verb``
    and each thing done once, in order. None when no container needs an edit.
    """
    ns, name = _ident(deployment)
    sections: dict[str, list[dict[str, Any]]] = {}
    done: dict[str, None] = {}
    for field, c in _containers(deployment, containers):
        found = edits(c)
        if found:
            sections.setdefault(field, []).append({"name": c["name"], "env": [e for _, e in found]})
            done.update(dict.fromkeys(what for what, _ in found))
    if not sections:
        return None
    body = {"metadata": _guarded_metadata(deployment, cause), "spec": {"template": {"spec": sections}}}
    return Patch(ns, name, "strategic", body, f"{verb} " + ", ".join(done))


def env_set_patch(
    deployment: Obj,
    containers: Sequence[str],
    assignments: Sequence[EnvAssignment],
    cause: str,
) -> Patch | None:
    """Set env vars on the named containers; entries already equal are left out.

    A literal replacing a secret reference (or the reverse) deletes the other field.
    """

    def edits(c: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        current = {str(e.get("name")): e for e in c.get("env") or []}
        out = []
        for a in assignments:
            wanted = a.entry()
            have = current.get(a.name)
            if have is not None and _same_entry(have, wanted):
                continue
            element = dict(wanted)
            if have is not None:
                if "value" in have and "value" not in element:
                    element["value"] = None
                if "valueFrom" in have and "valueFrom" not in element:
                    element["valueFrom"] = None
            out.append((a.describe(), element))
        return out

    return _env_patch(deployment, containers, cause, "set", edits)


def env_unset_patch(
    deployment: Obj, containers: Sequence[str], names: Sequence[str], cause: str
) -> Patch | None:
    """Remove env vars from the named containers (those that have them)."""

    def edits(c: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        present = {str(e.get("name")) for e in c.get("env") or []}
        return [(n, {"name": n, "$patch": "delete"}) for n in names if n in present]

    return _env_patch(deployment, containers, cause, "unset", edits)


# -- replicas, restart --------------------------------------------------------------------


def scale_patch(deployment: Obj, replicas: int) -> Patch | None:
    """Set ``spec.replicas`` (None when it already is)."""
    ns, name = _ident(deployment)
    spec = deployment.get("spec") or {}
    current = spec.get("replicas", 1)
    if current == replicas:
        return None
    body = {"metadata": _guarded_metadata(deployment, None), "spec": {"replicas": replicas}}
    return Patch(ns, name, "strategic", body, f"replicas {current} → {replicas}")


def restart_patch(deployment: Obj, at: str, cause: str) -> Patch:
    """A rolling restart as ``kubectl rollout restart`` does it: a new ``restartedAt`` annotation."""
    ns, name = _ident(deployment)
    body = {
        "metadata": _guarded_metadata(deployment, cause),
        "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: at}}}},
    }
    return Patch(ns, name, "strategic", body, f"restartedAt {at}")


# -- restore (undo our own change) --------------------------------------------------------


def _pointer(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def restore_patch(before: Obj, after: Obj, current: Obj | None = None) -> Patch | None:
    """Put back what a change of ours replaced: the pod template, replicas and change cause.

    ``before`` is the Deployment as read before the change, ``after`` as the change left it.
    The patch tests that the template (and replicas) still are what we set, so a later
    change by someone else is never overwritten (the test fails instead). ``current``
    (default ``after``) is the object as read now: when its template or replicas are no
    longer ours, Drift is raised and nothing is sent.
    """
    current = after if current is None else current
    ns, name = _ident(current)
    ops: list[dict[str, Any]] = []
    b_spec, a_spec, c_spec = before.get("spec") or {}, after.get("spec") or {}, current.get("spec") or {}
    if c_spec.get("template") != a_spec.get("template") or c_spec.get("replicas", 1) != a_spec.get(
        "replicas", 1
    ):
        raise Drift(f"{name} was changed again by someone else after our change, so it was not put back")
    what = []
    if b_spec.get("template") != a_spec.get("template"):
        ops.append({"op": "test", "path": "/spec/template", "value": copy.deepcopy(a_spec.get("template"))})
        ops.append(
            {"op": "replace", "path": "/spec/template", "value": copy.deepcopy(b_spec.get("template"))}
        )
        what.append("pod template")
    if b_spec.get("replicas", 1) != a_spec.get("replicas", 1):
        ops.append({"op": "test", "path": "/spec/replicas", "value": a_spec.get("replicas", 1)})
        ops.append({"op": "replace", "path": "/spec/replicas", "value": b_spec.get("replicas", 1)})
        what.append(f"replicas {b_spec.get('replicas', 1)}")
    if not ops:
        return None
    b_cause = (_meta(before).get("annotations") or {}).get(CHANGE_CAUSE)
    c_annotations = _meta(current).get("annotations")
    c_cause = (c_annotations or {}).get(CHANGE_CAUSE)
    path = f"/metadata/annotations/{_pointer(CHANGE_CAUSE)}"
    if b_cause != c_cause:
        if b_cause is None:
            ops.append({"op": "remove", "path": path})
        elif c_annotations is None:
            ops.append({"op": "add", "path": "/metadata/annotations", "value": {CHANGE_CAUSE: b_cause}})
        else:
            ops.append({"op": "add", "path": path, "value": b_cause})
    return Patch(ns, name, "json", ops, "restore " + " and ".join(what))
