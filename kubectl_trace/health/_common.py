"""Small helpers shared by the health modules: cached timestamp parsing, short durations."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from kubectl_trace.timeparse import format_age, parse_rfc3339

__all__ = ["ago", "as_int", "child", "children", "span_text", "timestamp"]

_EMPTY: Mapping[str, Any] = {}


@lru_cache(maxsize=16384)
def _parse(text: str) -> float | None:
    try:
        return parse_rfc3339(text)
    except ValueError:
        return None


def timestamp(value: Any) -> float | None:
    """An RFC 3339 string from the wire as epoch seconds (None when absent or malformed).

    Cached: a frame over thousands of pods sees the same strings again and again.
    """
    if not value or not isinstance(value, str):
        return None
    return _parse(value)


def child(obj: Mapping[str, Any] | None, key: str) -> Mapping[str, Any]:
    """``obj[key]`` as a mapping, or an empty one (the wire omits empty fields)."""
    if not obj:
        return _EMPTY
    value = obj.get(key)
    if value is None:
        return _EMPTY
    # dict first: the ABC check is slow and this runs for every field of every pod
    return value if type(value) is dict or isinstance(value, Mapping) else _EMPTY


def children(obj: Mapping[str, Any] | None, key: str) -> list[Mapping[str, Any]]:
    """``obj[key]`` as a list of mappings, or an empty list."""
    if not obj:
        return []
    value = obj.get(key)
    if not value or type(value) is not list:
        return []
    return [v for v in value if type(v) is dict or isinstance(v, Mapping)]


def as_int(value: Any, default: int = 0) -> int:
    """An integer field that may be missing, null or (rarely) a string."""
    if type(value) is int:
        return value
    if value is None:
        return default
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def ago(at: float | None, now: float) -> str:
    """``3m`` for a time three minutes before ``now`` ("" when unknown)."""
    if at is None:
        return ""
    return format_age(now - at)


def span_text(count: int, first: float | None, last: float | None) -> str:
    """``×12 over 3m``; ``×12`` when the span is unknown or zero; "" for a single occurrence."""
    if count <= 1:
        return ""
    if first is None or last is None or last - first < 1:
        return f"×{count}"
    return f"×{count} over {format_age(last - first)}"
