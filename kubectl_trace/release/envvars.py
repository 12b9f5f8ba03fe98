"""Config vars: parsing ``env`` arguments and listing what the pod templates set (pure).

Listing never needs a Secret: a ``secretKeyRef`` shows as a masked value with its
reference. With ``--reveal`` the caller reads the referenced Secrets and passes their
``data`` in; only then are values decoded and shown.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubectl_trace.errors import UsageError
from kubectl_trace.release.credentials import credential_reason
from kubectl_trace.release.patches import EnvAssignment

__all__ = [
    "MASK",
    "EnvRow",
    "EnvVar",
    "credential_reason",
    "env_vars",
    "group_rows",
    "parse_assignments",
    "parse_names",
    "parse_secret_ref",
    "replaced_references",
    "secret_refs",
]

MASK = "********"
_NAME = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*")
_SECRET_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")
_SECRET_KEY = re.compile(r"[-._a-zA-Z0-9]+")

Obj = Mapping[str, Any]


def _check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise UsageError(
            f"invalid config var name {name!r}: use letters, digits, '_', '-' or '.', "
            "not starting with a digit"
        )
    return name


def parse_secret_ref(text: str, var: str) -> tuple[str, str]:
    """``NAME[:KEY]`` → (secret, key); the key defaults to the variable's name."""
    secret, _, key = text.partition(":")
    key = key or var
    if not _SECRET_NAME.fullmatch(secret):
        raise UsageError(
            f"invalid Secret name {secret!r} in --from-secret (lowercase letters, digits, '-', '.')"
        )
    if not _SECRET_KEY.fullmatch(key):
        raise UsageError(f"invalid Secret key {key!r} in --from-secret (letters, digits, '-', '_', '.')")
    return secret, key


def parse_assignments(items: Sequence[str], from_secret: str | None) -> list[EnvAssignment]:
    """``set`` arguments: ``K=V …``, or exactly one ``K`` with ``--from-secret NAME[:KEY]``."""
    if not items:
        raise UsageError("env set needs at least one K=VALUE (or K --from-secret NAME[:KEY])")
    if from_secret is not None:
        if len(items) != 1 or "=" in items[0]:
            raise UsageError(
                "--from-secret sets exactly one variable: env APP set K --from-secret NAME[:KEY]"
            )
        name = _check_name(items[0])
        secret, key = parse_secret_ref(from_secret, name)
        return [EnvAssignment(name, secret=secret, key=key)]
    out: dict[str, EnvAssignment] = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not eq:
            raise UsageError(
                f"{item!r}: give a value (K=VALUE), or take it from a Secret: K --from-secret NAME[:KEY]"
            )
        _check_name(name)
        if name in out:
            raise UsageError(f"{name} is given twice")
        out[name] = EnvAssignment(name, value=value)
    return list(out.values())


def parse_names(items: Sequence[str]) -> list[str]:
    """``unset`` arguments: variable names."""
    if not items:
        raise UsageError("env unset needs at least one variable name")
    names: dict[str, None] = {}
    for item in items:
        if "=" in item:
            raise UsageError(f"{item!r}: unset takes names only (env APP unset K …)")
        names[_check_name(item)] = None
    return list(names)


@dataclass(frozen=True)
class EnvVar:
    """One variable of one container as the pod template defines it.

    ``source``: ``value`` (literal), ``secret``, ``configmap``, ``field``, ``resource``,
    ``secret-all`` / ``configmap-all`` (``envFrom``). ``shown`` is what to print: the
    literal, a masked or revealed secret value, or a description of the reference.
    """

    deployment: str
    process: str
    container: str
    name: str
    source: str
    reference: str
    shown: str
    masked: bool

    def to_json(self) -> dict[str, Any]:
        """JSON form for ``-o json``."""
        return {
            "deployment": self.deployment,
            "process": self.process,
            "container": self.container,
            "name": self.name,
            "source": self.source,
            "reference": self.reference or None,
            "value": None if self.masked else self.shown,
            "masked": self.masked,
        }


def secret_refs(
    deployments: Sequence[Obj], containers: Mapping[str, Sequence[str]], kind: str = "secret"
) -> set[str]:
    """The Secret (``kind="configmap"``: ConfigMap) names the listed containers reference."""
    key_ref, from_ref = (
        ("secretKeyRef", "secretRef") if kind == "secret" else ("configMapKeyRef", "configMapRef")
    )
    names: set[str] = set()
    for d in deployments:
        dname = str(d["metadata"]["name"])
        for c in _template_containers(d):
            if c.get("name") not in containers.get(dname, ()):
                continue
            for e in c.get("env") or []:
                ref = (e.get("valueFrom") or {}).get(key_ref)
                if ref and ref.get("name"):
                    names.add(str(ref["name"]))
            for src in c.get("envFrom") or []:
                ref = src.get(from_ref)
                if ref and ref.get("name"):
                    names.add(str(ref["name"]))
    return names


def _template_containers(deployment: Obj) -> list[Mapping[str, Any]]:
    spec = ((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}
    return list(spec.get("containers") or []) + list(spec.get("initContainers") or [])


def _decode(data: Mapping[str, Any] | None, key: str) -> str | None:
    if data is None or key not in data:
        return None
    try:
        return base64.b64decode(str(data[key]), validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return None


# name → the object's ``data`` (None: it does not exist); None: not looked up
_Found = Mapping[str, Mapping[str, Any] | None] | None
# What one entry shows: name, source, reference, shown value, masked.
_Shown = tuple[str, str, str, str, bool]


def _env_from(src: Mapping[str, Any]) -> _Shown | None:
    """An ``envFrom`` entry: every key of a Secret or a ConfigMap (with a prefix, if any)."""
    prefix = str(src.get("prefix") or "")
    label = f" (prefix {prefix})" if prefix else ""
    if src.get("secretRef"):
        sname = str(src["secretRef"].get("name"))
        return f"{prefix}*", "secret-all", f"secret {sname}", f"every key of secret {sname}{label}", False
    if src.get("configMapRef"):
        cm = str(src["configMapRef"].get("name"))
        return f"{prefix}*", "configmap-all", f"configmap {cm}", f"every key of configmap {cm}{label}", False
    return None


def _secret_value(name: str, ref: Mapping[str, Any], secrets: _Found) -> _Shown:
    sname, key = str(ref.get("name")), str(ref.get("key"))
    reference = f"secret {sname}:{key}"
    if secrets is None:
        return name, "secret", reference, MASK, True
    data = secrets.get(sname)
    value = _decode(data, key)
    if data is None:
        shown = "(secret not found)"
    elif value is None:
        shown = f"(no key {key} in the secret)"
    else:
        shown = value
    return name, "secret", reference, shown, False


def _configmap_value(name: str, ref: Mapping[str, Any], configmaps: _Found) -> _Shown:
    cm, key = str(ref.get("name")), str(ref.get("key"))
    shown = "(from configmap)"
    if configmaps is not None and cm in configmaps:
        data = configmaps[cm]
        if data is None:
            shown = "(configmap not found)"
        elif key not in data:
            shown = f"(no key {key} in the configmap)"
        else:
            shown = str(data[key])
    return name, "configmap", f"configmap {cm}:{key}", shown, False


def _env(
    e: Mapping[str, Any],
    secrets: _Found,
    configmaps: _Found,
) -> _Shown:
    """An ``env`` entry: a value, or where the value comes from."""
    name = str(e.get("name"))
    vf = e.get("valueFrom")
    if not vf:
        return name, "value", "", str(e.get("value") or ""), False
    if vf.get("secretKeyRef"):
        return _secret_value(name, vf["secretKeyRef"], secrets)
    if vf.get("configMapKeyRef"):
        return _configmap_value(name, vf["configMapKeyRef"], configmaps)
    if vf.get("fieldRef"):
        path = str(vf["fieldRef"].get("fieldPath"))
        return name, "field", f"field {path}", f"(pod field {path})", False
    if vf.get("resourceFieldRef"):
        res = str(vf["resourceFieldRef"].get("resource"))
        return name, "resource", f"resource {res}", f"(container {res})", False
    return name, "other", "", "(valueFrom)", False


def env_vars(
    deployment: Obj,
    process: str,
    containers: Sequence[str],
    secrets: _Found = None,
    configmaps: _Found = None,
) -> list[EnvVar]:
    """The variables of ``containers`` of one Deployment, in template order.

    ``secrets`` (name → the Secret's ``data``, or None when it does not exist) reveals
    secret values; without it they are masked. ``configmaps`` (name → ``data``) shows the
    values of ConfigMap references.
    """
    dname = str(deployment["metadata"]["name"])
    out: list[EnvVar] = []
    for c in _template_containers(deployment):
        cname = str(c.get("name"))
        if cname not in containers:
            continue
        shown = [_env_from(src) for src in c.get("envFrom") or []]
        shown += [_env(e, secrets, configmaps) for e in c.get("env") or []]
        out.extend(EnvVar(dname, process, cname, *entry) for entry in shown if entry is not None)
    return out


@dataclass(frozen=True)
class EnvRow:
    """One line of ``env list``: a variable with one value and the processes that have it."""

    name: str
    shown: str
    reference: str
    processes: tuple[str, ...]
    masked: bool


def group_rows(variables: Sequence[EnvVar], all_processes: Sequence[str]) -> list[EnvRow]:
    """Merge the same variable with the same value across processes (like one heroku config).

    Rows are sorted by name; a variable whose value differs per process gets one row per
    value. ``processes`` is empty when every process in ``all_processes`` has it.
    """
    groups: dict[tuple[str, str, str, bool], list[str]] = {}
    for v in variables:
        groups.setdefault((v.name, v.shown, v.reference, v.masked), [])
        if v.process not in groups[(v.name, v.shown, v.reference, v.masked)]:
            groups[(v.name, v.shown, v.reference, v.masked)].append(v.process)
    rows = []
    everyone = set(all_processes)
    for (name, shown, reference, masked), processes in groups.items():
        procs = () if set(processes) == everyone and len(everyone) > 1 else tuple(processes)
        rows.append(EnvRow(name, shown, reference, procs, masked))
    order = {p: i for i, p in enumerate(all_processes)}
    rows.sort(key=lambda r: (r.name, min((order.get(p, 99) for p in r.processes), default=-1)))
    return rows


# -- guards: credentials and references ---------------------------------------------------


def replaced_references(
    deployments: Sequence[Obj], containers_of: Any, assignments: Sequence[EnvAssignment]
) -> list[str]:
    """The references a literal ``set`` would replace: ``LOG_LEVEL (configmap x:k in trace-api-web)``."""
    out: dict[str, list[str]] = {}
    literal = {a.name for a in assignments if a.secret is None}
    for d in deployments:
        mine = set(containers_of(d))
        for c in _template_containers(d):
            if str(c.get("name")) not in mine:
                continue
            for e in c.get("env") or []:
                name = str(e.get("name"))
                vf = e.get("valueFrom") or {}
                if name not in literal:
                    continue
                for kind, label in (("secretKeyRef", "secret"), ("configMapKeyRef", "configmap")):
                    ref = vf.get(kind)
                    if ref:
                        where = f"{name} ({label} {ref.get('name')}:{ref.get('key')}"
                        out.setdefault(where, []).append(str(d["metadata"]["name"]))
    return [f"{where} in {', '.join(names)})" for where, names in out.items()]
