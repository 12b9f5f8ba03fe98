"""A rich ``Console`` whose text passes through :mod:`kubectl_trace.textsafe` on the way out.

Renderers call :func:`~kubectl_trace.textsafe.safe_text` on cluster text they put into
tables (so widths are measured on what is shown); this console is the last line: every
text segment is made visible when the buffer is rendered, before rich turns styles into
escape sequences. Control segments (cursor moves of ``Live``) are rich's own and pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from rich.console import Console
from rich.segment import Segment

from kubectl_trace.textsafe import visible

__all__ = ["SafeConsole"]


def _visible_segments(buffer: Iterable[Segment]) -> Iterator[Segment]:
    for segment in buffer:
        text, style, control = segment
        if control is None:
            shown = visible(text)
            if shown is not text:
                segment = Segment(shown, style)
        yield segment


class SafeConsole(Console):
    """``rich.console.Console`` that never writes a control character from its text."""

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        return super()._render_buffer(_visible_segments(buffer))
