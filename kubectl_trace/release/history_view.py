"""How ``history`` shows an app's releases (pure): the one-line text form and the JSON document.

Text, newest first, one release a line::

    v12  deploy d4e5f6a  web,worker,clock=d4e5f6a  dev@example.com  3m ago  current

followed by flags (``mixed tags``, ``rollout failed``, ``reconstructed``) and, when the
live state is not the newest release, one ``drift:`` line per process.

JSON (``-o json``), one document::

    {"app": "trace-api", "namespace": "production", "recorded": true,
     "store": "configmap/nodeapp-releases-trace-api",
     "current": 12 | null,
     "drift": [{"process", "deployment", "recordedTag", "liveTag"}],
     "releases": [{"release", "action", "argument", "description",
                   "processes": {NAME: {"deployment", "tag", "template"}},
                   "author", "time", "outcome", "legacy", "mixed", "current"}]}
"""

from __future__ import annotations

from typing import Any

from kubectl_trace.release.recording import AppReleases
from kubectl_trace.release.records import Release, is_mixed, release_to_json, tags_summary

__all__ = ["history_document", "history_lines"]


def _flags(release: Release, current: Release | None) -> list[str]:
    flags = []
    if current is not None and release.number == current.number:
        flags.append("current")
    if is_mixed(release):
        flags.append("⚠ mixed tags")
    if release.outcome == "failed":
        flags.append("✗ rollout failed")
    elif release.outcome == "pending":
        flags.append("rollout not followed to its end")
    if release.legacy:
        outside = "outside" in release.argument
        flags.append("made outside nodeapp" if outside else "reconstructed from ReplicaSets")
    return flags


def history_lines(
    data: AppReleases, now: float, *, limit: int | None = None, processes: set[str] | None = None
) -> list[str]:
    """The text form, newest first (``limit`` releases at most; ``processes`` narrows the tag column)."""
    from kubectl_trace.timeparse import format_age

    current = data.current
    rows = []
    for r in sorted(data.releases, key=lambda r: r.number, reverse=True)[: limit or None]:
        shown = {p: s for p, s in r.processes.items() if processes is None or p in processes}
        rows.append(
            [
                f"v{r.number}",
                r.description,
                tags_summary(shown),
                r.author,
                f"{format_age(now - r.time)} ago",
                "  ".join(_flags(r, current)),
            ]
        )
    heading = f"=== {data.app} releases in {data.namespace}"
    lines = [heading + ("" if data.recorded else " (none recorded yet)")]
    if not rows:
        lines.append("no releases")
    widths = [max((len(row[c]) for row in rows), default=0) for c in range(5)]
    for row in rows:
        cells = [row[c].ljust(widths[c]) for c in range(5)] + [row[5]]
        lines.append("  ".join(cells).rstrip())
    last = data.last
    for item in data.drift:
        where = item.text(last.number if last else 0)
        lines.append(f"drift: {where} (changed outside nodeapp, e.g. kubectl)")
    if data.drift:
        lines.append(
            "  the next deploy, env change or rollback records it; `rollback` goes back to a release"
        )
    return lines


def history_document(data: AppReleases) -> dict[str, Any]:
    """The ``-o json`` document (schema in the module docstring)."""
    from kubectl_trace.release.store import store_name

    current = data.current
    releases = []
    for r in sorted(data.releases, key=lambda r: r.number, reverse=True):
        item = release_to_json(r)
        item["mixed"] = is_mixed(r)
        item["current"] = current is not None and r.number == current.number
        releases.append(item)
    return {
        "app": data.app,
        "namespace": data.namespace,
        "recorded": data.recorded,
        "store": f"configmap/{store_name(data.app)}",
        "current": current.number if current is not None else None,
        "drift": [d.to_json() for d in data.drift],
        "releases": releases,
    }
