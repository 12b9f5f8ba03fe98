"""Rich's rendered lines as prompt_toolkit formatted text (no ANSI round trip).

``fragments(lines)`` turns ``list[list[Segment]]`` into ``[(style, text), …]`` with one
newline between lines; rich ``Style`` objects become prompt_toolkit style strings once
and are cached. Cluster text is made visible on the way (``textsafe``: the same ``^[`` and
``<9b>`` prompt_toolkit would show, and bidi controls too).
"""

from __future__ import annotations

from functools import lru_cache

from prompt_toolkit.formatted_text import StyleAndTextTuples
from rich.color import Color, ColorType
from rich.segment import Segment
from rich.style import Style

from kubectl_trace.textsafe import visible

__all__ = ["fragments", "pt_style"]

_ANSI = (
    "ansiblack",
    "ansired",
    "ansigreen",
    "ansiyellow",
    "ansiblue",
    "ansimagenta",
    "ansicyan",
    "ansigray",
    "ansibrightblack",
    "ansibrightred",
    "ansibrightgreen",
    "ansibrightyellow",
    "ansibrightblue",
    "ansibrightmagenta",
    "ansibrightcyan",
    "ansiwhite",
)


def _color(color: Color | None) -> str:
    if color is None or color.type == ColorType.DEFAULT:
        return ""
    if color.type == ColorType.STANDARD and color.number is not None and color.number < 16:
        return _ANSI[color.number]
    triplet = color.get_truecolor()
    return f"#{triplet.red:02x}{triplet.green:02x}{triplet.blue:02x}"


@lru_cache(maxsize=1024)
def pt_style(style: Style | None) -> str:
    """A rich Style as a prompt_toolkit style string (``fg:#808080 bg:ansired bold``)."""
    if style is None or not style:
        return ""
    parts = []
    fg = _color(style.color)
    if fg:
        parts.append(f"fg:{fg}")
    bg = _color(style.bgcolor)
    if bg:
        parts.append(f"bg:{bg}")
    for attr in ("bold", "dim", "italic", "underline", "reverse", "blink", "strike"):
        value = getattr(style, attr)
        if value:
            parts.append(attr)
        elif value is False and attr in ("bold", "reverse"):
            parts.append(f"no{attr}")
    return " ".join(parts)


def fragments(lines: list[list[Segment]]) -> StyleAndTextTuples:
    """Formatted text for prompt_toolkit: every segment with its style, lines joined by newlines."""
    out: StyleAndTextTuples = []
    append = out.append
    last = len(lines) - 1
    for i, line in enumerate(lines):
        for segment in line:
            if segment.control:
                continue
            append((pt_style(segment.style), visible(segment.text)))
        if i != last:
            append(("", "\n"))
    return out
