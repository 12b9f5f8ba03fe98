"""What ``promote`` shows and copies besides the tags (pure): config differences, the Node.js change.

Config is compared per process on the app's main container: each variable as a literal
(credential-looking ones masked), a Secret or ConfigMap reference, or absent. Values are
never read from Secrets. ``--with-config`` makes the target's env and envFrom those of the
source (``config_template``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["config_differences", "config_template", "node_change"]

Obj = Mapping[str, Any]


def _containers(d: Obj) -> list[Mapping[str, Any]]:
    return list((((d.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or [])


def _shown(entry: Mapping[str, Any]) -> str:
    from kubectl_trace.release.envvars import MASK, credential_reason

    vf = entry.get("valueFrom")
    if not vf:
        value = str(entry.get("value") or "")
        return MASK if credential_reason(str(entry.get("name")), value) else repr(value)
    for kind, label in (("secretKeyRef", "secret"), ("configMapKeyRef", "configmap")):
        if vf.get(kind):
            return f"{label} {vf[kind].get('name')}:{vf[kind].get('key')}"
    if vf.get("fieldRef"):
        return f"field {vf['fieldRef'].get('fieldPath')}"
    return "(valueFrom)"


def _env(d: Obj, container: str | None) -> dict[str, Mapping[str, Any]]:
    for c in _containers(d):
        if container is None or c.get("name") == container:
            return {str(e.get("name")): e for e in c.get("env") or []}
    return {}


def config_differences(
    source: Sequence[Obj],
    target: Sequence[Obj],
    process_of: Callable[[Obj], str],
    source_ns: str,
    target_ns: str,
) -> list[str]:
    """``web,worker: LOG_LEVEL 'debug' in staging, 'info' in production`` — one line per difference."""
    by_process = {process_of(d): d for d in source}
    found: dict[tuple[str, str, str], list[str]] = {}
    for d in target:
        process = process_of(d)
        src = by_process.get(process)
        if src is None:
            continue
        mine, theirs = _env(d, None), _env(src, None)
        for name in sorted(set(mine) | set(theirs)):
            if name in ("PROCESS_TYPE",):
                continue
            a, b = theirs.get(name), mine.get(name)
            if a == b:
                continue
            left = _shown(a) if a is not None else "unset"
            right = _shown(b) if b is not None else "unset"
            if left == right:  # both masked: say that they differ without showing them
                left = f"{left} (differs)"
            found.setdefault((name, left, right), []).append(process)
    return [
        f"{','.join(processes)}: {name} {left} in {source_ns}, {right} in {target_ns}"
        for (name, left, right), processes in found.items()
    ]


def config_template(target: Obj, source: Obj) -> dict[str, Any]:
    """The target's pod template with the env and envFrom of the source's containers (same names)."""
    from kubectl_trace.release.records import template_of

    template = template_of(target)
    by_name = {str(c.get("name")): c for c in _containers(source)}
    for c in (template.get("spec") or {}).get("containers") or []:
        src = by_name.get(str(c.get("name")))
        if src is None:
            continue
        for field in ("env", "envFrom"):
            if src.get(field):
                c[field] = copy.deepcopy(src[field])
            else:
                c.pop(field, None)
    return template


_VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")


def node_change(source: str | None, target: str | None) -> str | None:
    """``Node.js changes v20.11.1 → v18.20.4 (a major version down)`` when they differ, else None."""
    if not source or not target:
        return None
    a, b = _VERSION.search(source), _VERSION.search(target)
    if a is None or b is None or a.groups() == b.groups():
        return None
    old, new = f"v{'.'.join(b.groups())}", f"v{'.'.join(a.groups())}"
    major_old, major_new = int(b.group(1)), int(a.group(1))
    if major_new < major_old:
        how = "a major version down"
    elif major_new > major_old:
        how = "a new major version"
    else:
        how = "same major version"
    return f"Node.js changes {old} → {new} ({how})"
