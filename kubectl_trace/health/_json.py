"""Health objects as JSON-ready dicts (``-o json``): snake_case keys, times as RFC 3339."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

__all__ = ["rfc3339", "to_json"]


def rfc3339(ts: float | None) -> str | None:
    """Epoch seconds as ``2026-01-02T15:04:05Z`` (None stays None)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(int(ts), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_json(value: Any) -> Any:
    """Turn health dataclasses (and tuples/lists/dicts of them) into plain JSON values.

    Every field whose name ends in ``_at`` holds epoch seconds and becomes an RFC 3339
    string; other floats are rounded to milliseconds.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            out[f.name] = rfc3339(item) if f.name.endswith("_at") else to_json(item)
        return out
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, float):
        return round(value, 3)
    return value
