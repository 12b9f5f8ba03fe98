"""Small rendering pieces: exact-width cells, column fitting, progress bars, overlays.

Everything works in terminal cells (``rich.cells.cell_len``) so that rows line up with
wide characters, and is deterministic so renderers can be tested as exact text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.text import Span, Text

__all__ = [
    "Cell",
    "Column",
    "bar",
    "cell",
    "fit_columns",
    "fit_plain",
    "join_cells",
    "lines_text",
    "overlay",
    "shorten_left",
]

ELLIPSIS = "…"
Cell = str | Text | tuple[str, str]  # a plain string, a Text, or (string, style): the cheapest


def shorten_left(text: str, width: int) -> str:
    """Keep the end of ``text`` (the unique part of a pod name): ``…9f8c6b5-x2k4q``."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    out = text
    while cell_len(out) > width - 1:
        out = out[1:]
    return ELLIPSIS + out


def cell(
    value: str | Text, width: int, *, justify: str = "left", style: str = "", left: bool = False
) -> Text:
    """``value`` padded or truncated (with an ellipsis) to exactly ``width`` cells."""
    if width <= 0:
        return Text("")
    if isinstance(value, Text):
        length = value.cell_len
        if length == width:
            return value  # already fits: no copy (callers build fresh lines per frame)
        text = value.copy()
    else:
        text = Text(value, style=style)
        length = text.cell_len
    if length > width:
        if left:
            plain = shorten_left(text.plain, width)
            text = Text(plain, style=style if not isinstance(value, Text) else value.style)
        else:
            text.truncate(width - 1)
            text.append(ELLIPSIS)
            if text.cell_len > width:  # a wide character at the cut
                text = Text(set_cell_size(text.plain, width), style=text.style)
        length = text.cell_len
    if length < width:
        pad = " " * (width - length)
        if justify == "right":
            text = Text(pad) + text
        else:
            text.append(pad)
    return text


def bar(fraction: float, width: int, *, done: str = "green", todo: str = "grey50") -> Text:
    """A progress bar of ``width`` cells: ``██████░░░░``."""
    fraction = max(0.0, min(1.0, fraction))
    filled = round(fraction * width)
    text = Text("█" * filled, style=done)
    text.append("░" * (width - filled), style=todo)
    return text


@dataclass(frozen=True)
class Column:
    """A table column: header, width limits and how it gives way on a narrow screen.

    ``priority``: lower is kept longer (columns with the highest number are dropped first);
    ``squeeze``: columns with a higher number shrink first (0: only at the very end);
    ``fill``: takes whatever width is left; ``left_trim``: truncates at the start.
    """

    header: str
    min: int
    max: int
    priority: int = 0
    justify: str = "left"
    fill: bool = False
    left_trim: bool = False
    squeeze: int = 0


class _Fit:
    """The widths being fitted: which columns are shown, and how wide, against the room there is."""

    def __init__(self, columns: Sequence[Column], natural: list[int], width: int, gap: int) -> None:
        self.columns = columns
        self.natural = natural
        self.width = width
        self.gap = gap
        self.widths = list(natural)
        self.active = [True] * len(columns)

    def excess(self) -> int:
        used = [w for w, a in zip(self.widths, self.active, strict=True) if a]
        return sum(used) + self.gap * max(0, len(used) - 1) - self.width

    def alive(self) -> list[int]:
        return [i for i, a in enumerate(self.active) if a]

    def shrink(self, candidates: list[int]) -> None:
        """Shrink ``candidates`` toward their minimum (most squeezable, then widest, first)."""
        columns, widths = self.columns, self.widths
        for i in sorted(candidates, key=lambda k: (-columns[k].squeeze, -(widths[k] - columns[k].min), -k)):
            over = self.excess()
            if over <= 0:
                return
            widths[i] -= min(over, widths[i] - columns[i].min)

    def drop_optional(self) -> None:
        """Drop the columns with a priority (highest first) while too wide."""
        columns = self.columns
        optional = (i for i, c in enumerate(columns) if c.priority > 0)
        for i in sorted(optional, key=lambda k: (-columns[k].priority, -k)):
            if self.excess() <= 0:
                return
            self.active[i] = False

    def drop_any(self) -> None:
        """Last resort: drop columns (highest priority, rightmost first) until one is left."""
        while self.excess() > 0:
            alive = self.alive()
            if len(alive) <= 1:
                if alive:
                    self.widths[alive[0]] = max(1, self.width)
                return
            self.active[max(alive, key=lambda k: (self.columns[k].priority, k))] = False

    def give_back(self) -> None:
        """Room left after dropping goes to the squeezed columns (least squeezable first), then to a fill."""
        columns, widths = self.columns, self.widths
        for i in sorted(range(len(columns)), key=lambda k: (columns[k].squeeze, k)):
            spare = -self.excess()
            if spare <= 0:
                break
            if self.active[i] and widths[i] < self.natural[i] and not columns[i].fill:
                widths[i] += min(spare, self.natural[i] - widths[i])
        spare = -self.excess()
        for i, col in enumerate(columns):
            if col.fill and self.active[i] and spare > 0:
                widths[i] += spare
                break


def fit_columns(
    columns: Sequence[Column], rows: Sequence[Sequence[Cell]], width: int, gap: int = 1
) -> list[int]:
    """Widths for ``columns`` within ``width`` cells (0 for a dropped column).

    Each column starts at its content's width (within min..max). While too wide: columns
    that may be squeezed shrink toward their minimum (the highest ``squeeze`` first); then
    the lowest-priority columns (``priority`` > 0, highest first) are dropped; then the
    rest shrink; then anything goes. A ``fill`` column takes the width left over.
    """
    natural = []
    for i, col in enumerate(columns):
        content = max([cell_len(col.header)] + [_len(r[i]) for r in rows if i < len(r)])
        natural.append(max(col.min, min(col.max, content)))
    fit = _Fit(columns, natural, width, gap)
    fit.shrink([i for i, c in enumerate(columns) if c.squeeze > 0])
    fit.drop_optional()
    if fit.excess() > 0:
        fit.shrink(fit.alive())
    fit.drop_any()
    fit.give_back()
    return [w if a else 0 for w, a in zip(fit.widths, fit.active, strict=True)]


def _len(value: Cell) -> int:
    if isinstance(value, Text):
        return value.cell_len
    return cell_len(value[0] if isinstance(value, tuple) else value)


def fit_plain(plain: str, width: int, *, justify: str = "left", left: bool = False) -> str:
    """A plain string padded or truncated (with an ellipsis) to exactly ``width`` cells."""
    length = cell_len(plain)
    if length > width:
        if left:
            plain = shorten_left(plain, width)
        else:
            plain = set_cell_size(plain, max(0, width - 1)) + ELLIPSIS if width > 0 else ""
        length = cell_len(plain)
    if length < width:
        pad = " " * (width - length)
        plain = pad + plain if justify == "right" else plain + pad
    return plain


def join_cells(
    columns: Sequence[Column], widths: Sequence[int], values: Sequence[Cell], gap: int = 1
) -> Text:
    """One row: each value fitted to its column's width, dropped columns left out.

    Built as one string with style spans (a frame draws dozens of rows, ten times a second).
    """
    pieces: list[str] = []
    spans: list[Span] = []
    pos = 0
    space = " " * gap
    for col, w, value in zip(columns, widths, values, strict=True):
        if w <= 0:
            continue
        if pieces:
            pieces.append(space)
            pos += gap
        if isinstance(value, Text) and value.spans:
            fitted = cell(value, w, justify=col.justify, left=col.left_trim)
            plain = fitted.plain
            if fitted.style:
                spans.append(Span(pos, pos + len(plain), fitted.style))
            spans.extend(span.move(pos) for span in fitted.spans)
        else:
            if isinstance(value, Text):
                text, style = value.plain, value.style
            elif isinstance(value, tuple):
                text, style = value
            else:
                text, style = value, ""
            plain = fit_plain(text, w, justify=col.justify, left=col.left_trim)
            if style:
                spans.append(Span(pos, pos + len(plain), style))
        pieces.append(plain)
        pos += len(plain)
    return Text("".join(pieces), spans=spans)


def overlay(lines: list[list[Segment]], box: list[list[Segment]], top: int, left: int) -> list[list[Segment]]:
    """Lay ``box`` lines over ``lines`` at (``top``, ``left``) cells; returns new lines."""
    out = list(lines)
    for i, box_line in enumerate(box):
        y = top + i
        if not 0 <= y < len(out):
            continue
        line = out[y]
        box_width = Segment.get_line_length(box_line)
        line_width = Segment.get_line_length(line)
        cuts = [max(0, min(left, line_width)), max(0, min(left + box_width, line_width)), line_width]
        parts = list(Segment.divide(line, cuts))
        before, _, after = parts[0], parts[1], parts[2]
        pad = max(0, left - Segment.get_line_length(before))
        out[y] = [*before, *([Segment(" " * pad)] if pad else []), *box_line, *after]
    return out


def lines_text(lines: list[list[Segment]]) -> str:
    """Plain text of rendered lines (trailing spaces kept: every line is the screen's width)."""
    return "\n".join("".join(s.text for s in line if not s.control) for line in lines)
