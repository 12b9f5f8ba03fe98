"""Label and field selectors: parsing and matching, shared by the product and the sandbox.

Label selector syntax (apimachinery ``labels/selector.go``): ``k=v``, ``k==v``, ``k!=v``,
``k in (a,b)``, ``k notin (a,b)``, ``k``, ``!k``; a comma means AND.
Field selectors: ``k=v``, ``k==v``, ``k!=v``; a comma means AND.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FieldRequirement",
    "LabelRequirement",
    "SelectorError",
    "format_label_selector",
    "match_label_selector_object",
    "match_labels",
    "parse_field_selector",
    "parse_label_selector",
]


class SelectorError(ValueError):
    """A selector that cannot be parsed."""


@dataclass(frozen=True)
class LabelRequirement:
    """One clause of a label selector."""

    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` satisfy this clause."""
        present = self.key in labels
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        if self.op in ("=", "in"):
            return present and labels[self.key] in self.values
        # "!=" and "notin" match objects without the key, as in Kubernetes
        return not present or labels[self.key] not in self.values


_KEY = r"[A-Za-z0-9][-A-Za-z0-9_./]*"
_VALUE = r"[-A-Za-z0-9_.]*"
_SET = re.compile(rf"\s*({_KEY})\s+(in|notin)\s*\(([^)]*)\)\s*")
_EQ = re.compile(rf"\s*({_KEY})\s*(==|!=|=)\s*({_VALUE})\s*")
_EXISTS = re.compile(rf"\s*(!?)\s*({_KEY})\s*")


def _split_top(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def parse_label_selector(text: str | None) -> tuple[LabelRequirement, ...]:
    """Parse a label selector string; empty or None selects everything."""
    if text is None or not text.strip():
        return ()
    out: list[LabelRequirement] = []
    for part in _split_top(text):
        if not part.strip():
            raise SelectorError(f"invalid label selector {text!r}: empty clause")
        if m := _SET.fullmatch(part):
            values = tuple(v.strip() for v in m.group(3).split(",") if v.strip())
            out.append(LabelRequirement(m.group(1), m.group(2), values))
        elif m := _EQ.fullmatch(part):
            op = "=" if m.group(2) in ("=", "==") else "!="
            out.append(LabelRequirement(m.group(1), op, (m.group(3),)))
        elif m := _EXISTS.fullmatch(part):
            out.append(LabelRequirement(m.group(2), "!" if m.group(1) else "exists"))
        else:
            raise SelectorError(f"invalid label selector {text!r}: cannot parse {part.strip()!r}")
    return tuple(out)


def match_labels(requirements: tuple[LabelRequirement, ...], labels: Mapping[str, str] | None) -> bool:
    """Whether ``labels`` satisfy every requirement."""
    labels = labels or {}
    return all(r.matches(labels) for r in requirements)


def match_label_selector_object(selector: Mapping[str, Any] | None, labels: Mapping[str, str] | None) -> bool:
    """Match a ``metav1.LabelSelector`` object (matchLabels + matchExpressions).

    An empty selector matches everything; a missing one (None) matches nothing, as the
    Deployment and ReplicaSet controllers treat them.
    """
    if selector is None:
        return False
    labels = labels or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expr in selector.get("matchExpressions") or []:
        op = ops.get(expr.get("operator", ""))
        if op is None:
            return False
        req = LabelRequirement(expr.get("key", ""), op, tuple(expr.get("values") or ()))
        if not req.matches(labels):
            return False
    return True


def format_label_selector(selector: Mapping[str, Any]) -> str:
    """A ``metav1.LabelSelector`` object as a selector string (for list requests)."""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        op, key, values = expr.get("operator"), expr.get("key"), expr.get("values") or []
        if op == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(str(key))
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)


@dataclass(frozen=True)
class FieldRequirement:
    """One clause of a field selector."""

    field: str
    equal: bool
    value: str

    def matches(self, getter: Callable[[str], str | None]) -> bool:
        """Whether the object's field (read through ``getter``) satisfies this clause."""
        actual = getter(self.field)
        actual = "" if actual is None else actual
        return (actual == self.value) if self.equal else (actual != self.value)


_FIELD = re.compile(r"\s*([A-Za-z0-9_.\[\]]+)\s*(==|!=|=)\s*(.*?)\s*")


def parse_field_selector(text: str | None) -> tuple[FieldRequirement, ...]:
    """Parse a field selector string (the allowed field names are the server's business)."""
    if text is None or not text.strip():
        return ()
    out: list[FieldRequirement] = []
    for part in text.split(","):
        m = _FIELD.fullmatch(part)
        if not m:
            raise SelectorError(f"invalid field selector {text!r}: cannot parse {part.strip()!r}")
        out.append(FieldRequirement(m.group(1), m.group(2) != "!=", m.group(3)))
    return tuple(out)
