"""Checks across the pods of one process type (pure): mixed Node.js versions, plain-text logs.

``mixed_versions`` takes (pod, process, version) triples (the versions ``status --probe``
asked each container for) and names the processes whose pods run more than one Node.js
version. ``plain_log_share`` is the share of lines that are not one JSON object each;
``log_format_flag`` words the finding when most of a process's last lines are plain text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

__all__ = ["log_format_flag", "mixed_versions", "plain_log_share"]

PLAIN_SHARE = 0.5  # more than this share of plain lines: the process does not log JSON


def mixed_versions(triples: Iterable[tuple[str, str, str]]) -> list[str]:
    """One line per process whose pods run different Node.js versions."""
    by_process: dict[str, dict[str, set[str]]] = {}
    for pod, process, version in triples:
        if version:
            by_process.setdefault(process, {}).setdefault(version, set()).add(pod)
    out = []
    for process, versions in sorted(by_process.items()):
        if len(versions) < 2:
            continue
        parts = [
            f"{v} ({len(pods)} pod{'s' if len(pods) != 1 else ''})"
            for v, pods in sorted(versions.items(), key=lambda item: (-len(item[1]), item[0]))
        ]
        out.append(f"{process}: pods run different Node.js versions: {', '.join(parts)}")
    return out


def _is_json_object(line: str) -> bool:
    text = line.strip()
    if not text.startswith("{"):
        return False
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def plain_log_share(lines: Sequence[str]) -> float:
    """The share of non-empty lines that are not a JSON object (0.0 for no lines)."""
    lines = [line for line in lines if line.strip()]
    if not lines:
        return 0.0
    return sum(1 for line in lines if not _is_json_object(line)) / len(lines)


def log_format_flag(process: str, pod: str, lines: Sequence[str]) -> str | None:
    """``clock: logs are not JSON (…)`` when most of the last lines are plain text."""
    share = plain_log_share(lines)
    if share <= PLAIN_SHARE:
        return None
    example = next((line.strip() for line in lines if line.strip() and not _is_json_object(line)), "")
    if len(example) > 60:
        example = example[:59] + "…"
    return (
        f"{process}: logs are not JSON ({share:.0%} of the last lines in {pod}, e.g. {example!r}): "
        "JSON lines (winston, pino) keep level and fields for `logs --level` and log search"
    )
