"""Kubernetes resource quantities: CPU in millicores, memory in bytes (pure).

``parse_cpu("250m") == 250.0``, ``parse_cpu("1") == 1000.0``, ``parse_cpu("12345678n")``
(the nanocores metrics.k8s.io reports) ``== 12.345678``; ``parse_memory("128Mi")`` is
134217728 and ``parse_memory("100M")`` 100000000. Malformed text gives None.
"""

from __future__ import annotations

import re

__all__ = ["format_cpu", "format_memory", "parse_cpu", "parse_memory"]

_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$")
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": 1e-9,
    "u": 1e-6,
    "m": 1e-3,
    "": 1.0,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
}


def _parse(text: object) -> float | None:
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    if not isinstance(text, str):
        return None
    match = _QUANTITY.match(text.strip())
    if not match:
        return None
    number, suffix = match.groups()
    try:
        value = float(number)
    except ValueError:
        return None
    if suffix in _BINARY:
        return value * _BINARY[suffix]
    if suffix in _DECIMAL:
        return value * _DECIMAL[suffix]
    return None


def parse_cpu(text: object) -> float | None:
    """CPU quantity → millicores (None when malformed or absent)."""
    value = _parse(text)
    return None if value is None else value * 1000.0


def parse_memory(text: object) -> int | None:
    """Memory quantity → bytes (None when malformed or absent)."""
    value = _parse(text)
    return None if value is None else round(value)


def format_cpu(millicores: float) -> str:
    """``250m``; whole cores above 10 (``12``)."""
    if millicores >= 10_000:
        return f"{millicores / 1000:.0f}"
    return f"{millicores:.0f}m"


def format_memory(size: float) -> str:
    """``118Mi``, ``1.5Gi``, ``900Ki`` (binary units, as kubectl top prints them)."""
    if size >= 2**30:
        return f"{size / 2**30:.1f}Gi"
    if size >= 2**20:
        return f"{size / 2**20:.0f}Mi"
    return f"{size / 2**10:.0f}Ki"
