"""Standard five-field cron schedules, as ``robfig/cron`` parses them for CronJobs.

``minute hour day-of-month month day-of-week`` with ``*``, ``a-b``, ``a,b``, ``*/n``,
``a-b/n``, month and weekday names, ``?`` for ``*``, and the macros ``@yearly``,
``@monthly``, ``@weekly``, ``@daily``, ``@hourly`` (``@every`` is not allowed on
CronJobs). As in Vixie cron, when both day fields are restricted a day matches either.
Times are UTC epoch seconds.
"""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass

__all__ = ["CronError", "CronSchedule", "parse_schedule"]

_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
_DAYS = {name.lower(): (i + 1) % 7 for i, name in enumerate(calendar.day_abbr)}
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_NAMES: tuple[dict[str, int], ...] = ({}, {}, {}, _MONTHS, _DAYS)


class CronError(ValueError):
    """A schedule that does not parse."""


def _value(text: str, names: dict[str, int]) -> int:
    lowered = text.lower()
    if lowered in names:
        return names[lowered]
    if not text.isdigit():
        raise CronError(f"failed to parse int from {text}: strconv.Atoi: parsing {text!r}: invalid syntax")
    return int(text)


def _field(text: str, index: int) -> frozenset[int]:
    low, high = _BOUNDS[index]
    names = _NAMES[index]
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = _value(step_text, {})
            if step <= 0:
                raise CronError(f"step of range should be a positive number: {text}")
        if part in ("*", "?"):
            start, end = low, high
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = _value(a, names), _value(b, names)
        else:
            start = _value(part, names)
            end = high if step > 1 else start
        if index == 4 and end == 7:
            end = 6 if start > 0 else 7
        if start < low or end > (7 if index == 4 else high) or start > end:
            raise CronError(f"end of range ({end}) above maximum ({high}): {part}")
        values.update(v % 7 if index == 4 else v for v in range(start, end + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class CronSchedule:
    """A parsed schedule."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    any_weekday: bool

    def _day_matches(self, tm: time.struct_time) -> bool:
        dom = tm.tm_mday in self.days
        dow = (tm.tm_wday + 1) % 7 in self.weekdays
        if self.any_day or self.any_weekday:
            return dom and dow
        return dom or dow

    def matches(self, t: float) -> bool:
        """Whether the minute starting at ``t`` (seconds) is scheduled."""
        tm = time.gmtime(t)
        return (
            tm.tm_min in self.minutes
            and tm.tm_hour in self.hours
            and tm.tm_mon in self.months
            and self._day_matches(tm)
        )

    def next_after(self, t: float, limit_days: int = 366 * 5) -> float | None:
        """The first scheduled minute strictly after ``t``."""
        minute = (int(t) // 60 + 1) * 60
        end = minute + limit_days * 86_400
        while minute < end:
            tm = time.gmtime(minute)
            if tm.tm_mon not in self.months or not self._day_matches(tm):
                minute = (minute // 86_400 + 1) * 86_400
                continue
            if tm.tm_hour not in self.hours:
                minute = (minute // 3600 + 1) * 3600
                continue
            if tm.tm_min in self.minutes:
                return float(minute)
            minute += 60
        return None


def parse_schedule(text: str) -> CronSchedule:
    """A schedule from its text; ``CronError`` when it does not parse."""
    spec = text.strip()
    if spec.startswith("TZ=") or spec.startswith("CRON_TZ="):
        raise CronError("cannot use TZ or CRON_TZ in schedule, use timeZone field instead")
    spec = _MACROS.get(spec.lower(), spec)
    if spec.startswith("@"):
        raise CronError(f"unrecognized descriptor: {spec}")
    parts = spec.split()
    if len(parts) != 5:
        raise CronError(f"expected exactly 5 fields, found {len(parts)}: {text}")
    fields = [_field(part, i) for i, part in enumerate(parts)]
    return CronSchedule(
        fields[0],
        fields[1],
        fields[2],
        fields[3],
        fields[4],
        any_day=parts[2] in ("*", "?"),
        any_weekday=parts[4] in ("*", "?"),
    )
