"""The pieces every table printer is made of: columns, their cells, and the usual layout.

Most printers are ``NAME``, a few columns of their own, ``AGE`` and, for workloads, the
``-o wide`` columns of their pod template: ``named_printer`` builds them from a list of
``Field`` (a column and how to compute its cell).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from kubectl_trace.kube.selectors import format_label_selector
from kubectl_trace.timeparse import format_age, parse_rfc3339

__all__ = [
    "AGE",
    "NAME",
    "Cell",
    "Column",
    "Field",
    "Printer",
    "age",
    "created",
    "meta",
    "named_printer",
    "workload_wide",
]

Obj = dict[str, Any]
Cell = Callable[[Obj, float], Any]  # (object, server time) → the cell


class Column(NamedTuple):
    """A column definition; priority 1 columns show only with ``-o wide``."""

    name: str
    type: str = "string"
    priority: int = 0


NAME = Column("Name")
AGE = Column("Age")


@dataclass(frozen=True)
class Printer:
    """The columns of a resource's table and the cells of one row."""

    columns: list[Column]
    cells: Callable[[Obj, float], list[Any]]


@dataclass(frozen=True)
class Field:
    """A column and how its cell is computed."""

    column: Column
    cell: Cell


def meta(obj: Obj) -> Obj:
    """An object's metadata (empty when it has none)."""
    return obj.get("metadata") or {}


def age(stamp: str | None, now: float) -> str:
    """How long ago ``stamp`` was, as kubectl prints it (``<unknown>``, ``<invalid>``)."""
    if not stamp:
        return "<unknown>"
    try:
        seconds = now - parse_rfc3339(stamp)
    except ValueError:
        return "<unknown>"
    return "<invalid>" if seconds < -1 else format_age(seconds)


def created(obj: Obj, now: float) -> str:
    """The AGE column."""
    return age(meta(obj).get("creationTimestamp"), now)


def _name(obj: Obj, now: float) -> str:
    return str(meta(obj).get("name", ""))


def named_printer(*fields: Field, wide: tuple[Field, ...] = ()) -> Printer:
    """NAME, ``fields``, AGE, then the ``wide`` columns."""
    layout = [Field(NAME, _name), *fields, Field(AGE, created), *wide]

    def cells(obj: Obj, now: float) -> list[Any]:
        return [field.cell(obj, now) for field in layout]

    return Printer([field.column for field in layout], cells)


def _dig(obj: Obj, path: tuple[str, ...]) -> Obj:
    for key in path:
        obj = obj.get(key) or {}
    return obj


def workload_wide(workload: tuple[str, ...], *, no_selector: str) -> tuple[Field, ...]:
    """CONTAINERS, IMAGES and SELECTOR of the workload spec at path ``workload`` (``-o wide``).

    ``no_selector``: what SELECTOR says without a selector (printers differ).
    """

    def joined(key: str) -> Cell:
        def cell(obj: Obj, now: float) -> str:
            containers = _dig(obj, (*workload, "template", "spec")).get("containers") or []
            return ",".join(str(c.get(key, "")) for c in containers)

        return cell

    def selector(obj: Obj, now: float) -> str:
        value = _dig(obj, workload).get("selector")
        return format_label_selector(value) if value else no_selector

    return (
        Field(Column("Containers", priority=1), joined("name")),
        Field(Column("Images", priority=1), joined("image")),
        Field(Column("Selector", priority=1), selector),
    )
