"""The line parser: JSON dialects of Node.js loggers, and plain lines.

Dialects (all one JSON object per line):

- winston: ``level`` ("error", "warn", "info", "http", "verbose", "debug", "silly") and
  ``message``;
- winston-gke / Cloud Logging: ``severity`` ("DEFAULT" … "EMERGENCY") and ``message``;
- pino: numeric ``level`` (10 trace … 60 fatal), ``msg``, ``time``, ``pid``, ``hostname``;
- bunyan: numeric ``level``, ``msg``, ``name``, ``hostname``, ``pid``, ``time``, ``v``.

A stack (``err.stack``, ``error.stack``, ``stack``, ``stack_trace``, a multi-line
``message``) is taken out of the fields and shown as an indented block. Plain lines are
left as they are; a level is guessed from them only for ``--level`` filtering.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "HIDDEN_FIELDS",
    "LEVELS",
    "LEVEL_RANK",
    "Parsed",
    "guess_plain_level",
    "normalize_level",
    "parse_text",
    "parse_text_keep_stack",
]

LEVELS = ("trace", "debug", "info", "warn", "error", "fatal")
LEVEL_RANK = {name: rank for rank, name in enumerate(LEVELS)}

# Fields the pretty renderer leaves out: the kubelet's timestamp says when, and these
# repeat per line what the pod prefix already says. ``-o json`` keeps them.
HIDDEN_FIELDS = frozenset({"time", "timestamp", "v", "pid", "hostname"})

_STRING_LEVELS = {
    # winston (npm levels) and common spellings
    "silly": "trace",
    "trace": "trace",
    "verbose": "debug",
    "debug": "debug",
    "http": "debug",
    "info": "info",
    "information": "info",
    "notice": "info",
    "warn": "warn",
    "warning": "warn",
    "error": "error",
    "err": "error",
    "fatal": "fatal",
    "critical": "fatal",
    "crit": "fatal",
    "alert": "fatal",
    "emergency": "fatal",
    "emerg": "fatal",
    "panic": "fatal",
    # Cloud Logging severities (upper case in the wild; lower-cased before lookup)
    "default": "info",
}
_STRING_LEVELS_EXACT = {**_STRING_LEVELS, **{k.upper(): v for k, v in _STRING_LEVELS.items()}}
_MESSAGE_KEYS = ("message", "msg")
_LEVEL_KEYS = ("level", "severity", "lvl", "loglevel")


def _numeric_level(value: float) -> str:
    # pino / bunyan: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal
    if value >= 60:
        return "fatal"
    if value >= 50:
        return "error"
    if value >= 40:
        return "warn"
    if value >= 30:
        return "info"
    if value >= 20:
        return "debug"
    return "trace"


def normalize_level(value: Any) -> str | None:
    """A logger's level (string or pino/bunyan number) as trace/debug/info/warn/error/fatal."""
    if isinstance(value, str):
        found = _STRING_LEVELS_EXACT.get(value)
        if found is None:
            found = _STRING_LEVELS.get(value.strip().lower())
        return found
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return _numeric_level(value)
    return None


_PLAIN_LEVEL_PATTERN = r"""^\s*(?:
        \[?(?P<word>TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|FATAL|CRITICAL|PANIC)\]?(?=[\s:\]|]) |
        (?P<lower>trace|debug|info|warn|warning|error|fatal):\s |
        (?P<exc>(?:[A-Z]\w*)?Error(?:\s\[[\w-]+\])?:\s|Uncaught\s|UnhandledPromiseRejection)
    )"""
_LOGFMT_LEVEL_PATTERN = r"(?:^|\s)(?:level|lvl|severity)=\"?(\w+)"
_compiled: list[re.Pattern[str]] = []


def _patterns() -> list[re.Pattern[str]]:
    """The plain-line level patterns, compiled on first use (not at import: start-up time)."""
    if not _compiled:
        _compiled.extend((re.compile(_PLAIN_LEVEL_PATTERN, re.X), re.compile(_LOGFMT_LEVEL_PATTERN)))
    return _compiled


def guess_plain_level(text: str) -> str | None:
    """A level for a plain line, when it says one (``ERROR …``, ``level=warn``, ``TypeError: …``)."""
    plain, logfmt = _compiled or _patterns()
    match = plain.match(text)
    if match is not None:
        if match.group("exc"):
            return "error"
        return normalize_level(match.group("word") or match.group("lower"))
    if "=" in text:
        found = logfmt.search(text)
        if found is not None:
            return normalize_level(found.group(1))
    return None


@dataclass(slots=True)
class Parsed:
    """What a line says: level, message, fields and stack (``structured`` for JSON lines)."""

    structured: bool
    level: str | None
    message: str
    fields: dict[str, Any]
    stack: str | None = None


def _std_loads() -> Any:
    """The standard library's C scanner without ``json.loads``'s Python wrappers.

    The caller has checked that the text starts with ``{`` and ends with ``}``; text after
    the object makes it invalid, as with ``json.loads``.
    """
    scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]

    def loads(text: str) -> Any:
        try:
            obj, end = scan(text, 0)
        except StopIteration:
            raise ValueError("not JSON") from None
        if end != len(text):
            raise ValueError("extra data")
        return obj

    return loads


def _make_loads() -> Any:
    """``orjson.loads`` when it is installed (3-4x faster), else the standard library's scanner."""
    try:
        from orjson import loads as fast
    except ImportError:
        return _std_loads()

    def loads(text: str) -> Any:
        try:
            return fast(text)
        except ValueError:
            return json.loads(text)  # what orjson refuses (e.g. integers over 64 bits)

    return loads


_loads = _make_loads()
_EMPTY: dict[str, Any] = {}


def _take_stack(fields: dict[str, Any]) -> str | None:
    """Remove and return the stack trace held in ``fields`` (err.stack, stack, …)."""
    for key in ("err", "error", "exception"):
        inner = fields.get(key)
        if isinstance(inner, dict):
            stack = inner.get("stack")
            if isinstance(stack, str) and stack:
                rest = {k: v for k, v in inner.items() if k != "stack"}
                if rest:
                    fields[key] = rest
                else:
                    del fields[key]
                return stack
        elif key == "exception" and isinstance(inner, str) and "\n" in inner:
            del fields[key]
            return inner
    for key in ("stack", "stack_trace", "stacktrace"):
        stack = fields.get(key)
        if isinstance(stack, str) and stack:
            del fields[key]
            return stack
    return None


def parse_text(text: str, *, take_stack: bool = True) -> Parsed:
    """Parse one log line (without the kubelet timestamp); the stack is taken out of the fields.

    ``take_stack=False`` leaves the stack where the line had it (for ``-o json``).
    """
    if text[:1] == "{" and text[-1:] == "}":
        try:
            obj = _loads(text)
        except ValueError:
            obj = None
        if type(obj) is dict:
            return _parse_object(obj, take_stack)
    return Parsed(False, guess_plain_level(text), text, _EMPTY)


def parse_text_keep_stack(text: str) -> Parsed:
    """Like ``parse_text``, but the stack stays where the line had it (for ``-o json``)."""
    return parse_text(text, take_stack=False)


def _parse_object(obj: dict[str, Any], split_stack: bool) -> Parsed:
    level: str | None = None
    for key in _LEVEL_KEYS:
        if key in obj:
            value = obj[key]
            found = normalize_level(value)
            if found is not None:
                level = found
                del obj[key]
                break
    message: Any = ""
    for key in _MESSAGE_KEYS:
        if key in obj:
            message = obj.pop(key)
            break
    if not isinstance(message, str):
        message = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
    stack = None
    if not split_stack:
        return Parsed(True, level, message, obj, None)
    if "stack" in obj or "err" in obj or "error" in obj or "stack_trace" in obj or "exception" in obj:
        stack = _take_stack(obj)
    if stack is None and "\n" in message:
        # Cloud Logging style: the stack trace inside the message.
        message, _, stack = message.partition("\n")
    return Parsed(True, level, message, obj, stack)
