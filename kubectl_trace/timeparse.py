"""Durations (``90s``, ``5m``, ``1h30m``) and RFC 3339 timestamps, as kubectl spells them."""

from __future__ import annotations

import re
from datetime import UTC

from kubectl_trace.errors import UsageError

__all__ = [
    "format_age",
    "format_rfc3339_nano",
    "parse_duration",
    "parse_rfc3339",
    "parse_since",
]

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)")


def parse_duration(text: str, *, flag: str = "duration", allow_bare_seconds: bool = True) -> float:
    """Parse a Go-style duration (``1h30m``, ``250ms``, ``5m``) into seconds.

    A bare number means seconds when ``allow_bare_seconds`` (as ``--request-timeout`` does).
    Raises UsageError naming ``flag`` on anything else.
    """
    s = text.strip()
    if not s:
        raise UsageError(f"invalid {flag} '': expected a duration such as 30s, 5m or 1h30m")
    if allow_bare_seconds and re.fullmatch(r"\d+(?:\.\d+)?", s):
        return float(s)
    pos = 0
    total = 0.0
    for match in _PART.finditer(s):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(s) or pos == 0:
        raise UsageError(f"invalid {flag} {text!r}: expected a duration such as 30s, 5m or 1h30m")
    return total


_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:\d{2})"
)


def parse_rfc3339(text: str) -> float:
    """Parse an RFC 3339 timestamp (any number of fractional digits) into epoch seconds.

    Raises ValueError when ``text`` is not one.
    """
    from datetime import datetime, timedelta, timezone

    match = _RFC3339.fullmatch(text.strip())
    if not match:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    year, month, day, hour, minute, second, frac, zone = match.groups()
    if zone in ("Z", "z"):
        tz = UTC
    else:
        sign = 1 if zone[0] == "+" else -1
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    base = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=tz)
    fraction = int(frac.ljust(9, "0")) / 1e9 if frac else 0.0
    return base.timestamp() + fraction


def parse_since(text: str, *, now: float) -> float:
    """``--since`` value (a duration ago, or an RFC 3339 time) as epoch seconds."""
    try:
        return parse_rfc3339(text)
    except ValueError:
        pass
    try:
        return now - parse_duration(text, flag="--since", allow_bare_seconds=False)
    except UsageError:
        raise UsageError(
            f"invalid --since {text!r}: expected a duration (30s, 5m, 2h) "
            "or an RFC 3339 time (2026-01-02T15:04:05Z)"
        ) from None


def format_rfc3339_nano(ts: float) -> str:
    """Epoch seconds as kubelet prints them: ``2026-01-02T15:04:05.123456789Z``."""
    from datetime import datetime

    whole = int(ts // 1)
    nanos = round((ts - whole) * 1e9)
    if nanos >= 1_000_000_000:
        whole += 1
        nanos -= 1_000_000_000
    stamp = datetime.fromtimestamp(whole, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{nanos:09d}Z"


def format_age(seconds: float) -> str:
    """An age the way kubectl prints it: ``45s``, ``3m12s``, ``5h``, ``2d``."""
    s = max(0, int(seconds))
    if s < 120:
        return f"{s}s"
    if s < 600:
        return f"{s // 60}m{s % 60}s" if s % 60 else f"{s // 60}m"
    if s < 3 * 3600:
        return f"{s // 60}m"
    if s < 8 * 3600:
        hours, minutes = divmod(s // 60, 60)
        return f"{hours}h{minutes}m" if minutes else f"{hours}h"
    if s < 2 * 86400:
        return f"{s // 3600}h"
    if s < 8 * 86400:
        days, hours = divmod(s // 3600, 24)
        return f"{days}d{hours}h" if hours else f"{days}d"
    return f"{s // 86400}d"
