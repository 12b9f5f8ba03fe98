"""Names and patterns checked before they are sent or run (pure).

Kubernetes names a namespace with an RFC 1123 *label* (``[a-z0-9]([-a-z0-9]*[a-z0-9])?``,
at most 63 characters) and a pod or Deployment with an RFC 1123 *subdomain* (labels
joined by dots, at most 253). A name that cannot exist gets our one-line usage error
before any request: a 100,000-character namespace would otherwise reach the server as a
URL it refuses with a raw "Got more than 8190 bytes".

Regular expressions the user gives (TARGET, ``--exclude-pod``, the log filters) run over
text from the cluster, which an app controls; Python's backtracking engine can take
exponential time on a pattern with a repeat inside a repeat (``(a+)+$``). Such patterns,
and very long ones, are refused with a hint.
"""

from __future__ import annotations

import re
from typing import Any

from kubectl_trace.errors import UsageError

__all__ = [
    "MAX_PATTERN",
    "check_pattern",
    "compile_pattern",
    "label_error",
    "shown_name",
    "subdomain_error",
    "validate_name",
    "validate_namespace",
]

_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
MAX_PATTERN = 1000
"""Characters of a user regular expression at most."""


def shown_name(text: str) -> str:
    """A name as an error message quotes it: controls visible, at most 60 characters."""
    from kubectl_trace.textsafe import visible

    shown = visible(text)
    return repr(shown if len(shown) <= 60 else shown[:57] + "…")


def label_error(name: str) -> str | None:
    """Why ``name`` is not an RFC 1123 label (None when it is one)."""
    if len(name) > 63:
        return f"must be no more than 63 characters (it has {len(name)})"
    if not _LABEL.fullmatch(name):
        return "must consist of lower case alphanumeric characters or '-', and start and end with one"
    return None


def subdomain_error(name: str) -> str | None:
    """Why ``name`` is not an RFC 1123 subdomain (None when it is one)."""
    if len(name) > 253:
        return f"must be no more than 253 characters (it has {len(name)})"
    if not _SUBDOMAIN.fullmatch(name):
        return (
            "must consist of lower case alphanumeric characters, '-' or '.', "
            "and start and end with an alphanumeric character"
        )
    return None


def validate_namespace(name: str, flag: str = "--namespace") -> str:
    """``name`` when it can be a namespace; UsageError (one line) otherwise."""
    problem = label_error(name)
    if problem is not None:
        raise UsageError(f"invalid {flag} {shown_name(name)}: a namespace name {problem}")
    return name


def validate_name(kind: str, name: str) -> str:
    """``name`` when it can name a ``kind`` (pod, deployment); UsageError otherwise."""
    problem = "must not be empty" if not name else subdomain_error(name)
    if problem is not None:
        raise UsageError(f"invalid {kind} name {shown_name(name)}: it {problem}")
    return name


# -- regular expressions -------------------------------------------------------------------------


def _subpatterns(op: Any, av: Any) -> list[Any]:
    """The parsed sub-patterns under one node of ``re._parser``'s tree."""
    name = str(op)
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        return [av[2]]
    if name == "SUBPATTERN":
        return [av[3]]
    if name == "BRANCH":
        return list(av[1])
    if name in ("ASSERT", "ASSERT_NOT"):
        return [av[1]]
    if name == "ATOMIC_GROUP":
        return [av]
    if name == "GROUPREF_EXISTS":
        return [p for p in av[1:] if p is not None]
    return []


def _width(parser: Any, sub: Any, items: list[Any]) -> int:
    """The least number of characters ``items`` (nodes of ``sub``) can match."""
    return int(parser.SubPattern(sub.state, items).getwidth()[0]) if items else 0


def _ambiguous(parser: Any, body: Any) -> bool:
    r"""Whether a repeated ``body`` can split one text in many ways (exponential backtracking).

    It can when it holds an unbounded repeat and the rest of it may match nothing
    (``(a+)+``, ``(\w+\s?)*``), or a ``.`` next to it or in it (``(.*a){20}``,
    ``(([a-z])+.)+``); ``(\w+-)+`` cannot (a heuristic: it errs on the side of refusing).
    """
    items = list(body)
    for index, (op, av) in enumerate(items):
        if str(op) in ("MAX_REPEAT", "MIN_REPEAT") and (av[1] > 1000 or av[1] - av[0] > 1000):
            rest = items[:index] + items[index + 1 :]
            inner = list(av[2])
            if _width(parser, body, rest) == 0 or any(str(o) == "ANY" for o, _ in inner + rest):
                return True
        for sub in _subpatterns(op, av):
            if str(op) != "POSSESSIVE_REPEAT" and _ambiguous(parser, sub):
                return True
    return False


def _nested_repeat(parser: Any, pattern: Any) -> bool:
    """Whether some repeat (more than once) has an ambiguous body."""
    for op, av in pattern:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT") and av[1] > 1 and _ambiguous(parser, av[2]):
            return True
        for sub in _subpatterns(op, av):
            if _nested_repeat(parser, sub):
                return True
    return False


def check_pattern(pattern: str, flag: str) -> None:
    """UsageError for a pattern that could run for a very long time on hostile text."""
    if len(pattern) > MAX_PATTERN:
        raise UsageError(
            f"invalid {flag} regular expression: {len(pattern)} characters (at most {MAX_PATTERN})"
        )
    try:
        from re import _parser  # type: ignore[attr-defined]  # the stdlib's own parser
    except ImportError:  # pragma: no cover - a Python without it: compile-time checks only
        return
    try:
        parsed = _parser.parse(pattern)
    except re.error:
        return  # compile() reports it
    if _nested_repeat(_parser, parsed):
        raise UsageError(
            f"invalid {flag} regular expression {shown_name(pattern)}: a repeat inside a repeat "
            "(like (a+)+) can take exponential time on some lines",
            hint="rewrite it without the nested repeat, e.g. (a+)+ → a+",
        )


def compile_pattern(pattern: str, flag: str) -> re.Pattern[str]:
    """Check ``pattern`` (:func:`check_pattern`) and compile it; UsageError when invalid."""
    check_pattern(pattern, flag)
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"invalid {flag} regular expression {shown_name(pattern)}: {exc}") from None
