"""The interactive pod picker: type to filter (fuzzy), arrows to move, Enter to choose.

A small inline prompt_toolkit application (not full screen, erased when done): a query
line, a header and the matching pods with process, readiness, restarts, age and image
tag; matched characters are highlighted. Esc or Ctrl-C cancels (``None``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubectl_trace.shell.fuzzy import Match, fuzzy_filter
from kubectl_trace.shell.pods import PodRow
from kubectl_trace.textsafe import visible

if TYPE_CHECKING:
    from prompt_toolkit.formatted_text import StyleAndTextTuples

__all__ = ["PickerState", "pick_pod", "render_rows"]

_COLUMNS = ("POD", "PROCESS", "READY", "RESTARTS", "AGE", "IMAGE")


@dataclass
class PickerState:
    """The picker's model: all rows, the query, the filtered matches and the selection."""

    rows: Sequence[PodRow]
    query: str = ""
    selected: int = 0
    matches: list[Match[PodRow]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.filter(self.query)

    def filter(self, query: str) -> None:
        """Apply a new query; the selection goes back to the best match."""
        self.query = query
        self.matches = fuzzy_filter(query, list(self.rows), PodRow.search_text)
        self.selected = 0

    def move(self, delta: int) -> None:
        """Move the selection (wrapping around)."""
        if self.matches:
            self.selected = (self.selected + delta) % len(self.matches)

    @property
    def current(self) -> PodRow | None:
        """The selected row, if any row matches."""
        return self.matches[self.selected].item if self.matches else None


def _cells(row: PodRow) -> tuple[str, ...]:
    # process (PROCESS_TYPE) and tag come from the pod spec: shown safely, widths measured on that
    return (row.name, visible(row.process), row.ready, str(row.restarts), row.age, visible(row.tag))


def render_rows(state: PickerState, height: int) -> StyleAndTextTuples:
    """Formatted text of the header and the visible matches (a window around the selection)."""
    rows = [m.item for m in state.matches] or list(state.rows)
    widths = [max([len(c)] + [len(_cells(r)[i]) for r in rows]) for i, c in enumerate(_COLUMNS)]
    out: StyleAndTextTuples = [
        ("class:header", "  " + "  ".join(c.ljust(widths[i]) for i, c in enumerate(_COLUMNS)).rstrip() + "\n")
    ]
    if not state.matches:
        out.append(("class:empty", f"  no pod matches {state.query!r}\n"))
        return out
    top = max(0, min(state.selected - height // 2, len(state.matches) - height))
    for index in range(top, min(len(state.matches), top + height)):
        match = state.matches[index]
        chosen = index == state.selected
        base = "class:selected" if chosen else "class:row"
        cells = _cells(match.item)
        out.append((base, "> " if chosen else "  "))
        name = cells[0]
        hits = {p for p in match.positions if p < len(name)}
        for i, ch in enumerate(name):
            out.append((base + (" class:hit" if i in hits else ""), ch))
        out.append((base, " " * (widths[0] - len(name))))
        rest = "".join("  " + cells[i].ljust(widths[i]) for i in range(1, len(cells))).rstrip()
        style = base if match.item.is_ready else base + " class:unready"
        out.append((style, rest + "\n"))
    if len(state.matches) > height:
        out.append(("class:more", f"  {len(state.matches)} pods, ↑/↓ to scroll\n"))
    return out


def pick_pod(
    rows: Sequence[PodRow],
    *,
    title: str = "Pick a pod",
    input: Any = None,
    output: Any = None,
    height: int = 12,
) -> str | None:
    """Ask the user for one of ``rows``; the chosen pod's name, or None when cancelled.

    ``input``/``output`` are prompt_toolkit Input/Output objects (defaults: the terminal);
    tests pass ``create_pipe_input()`` and ``DummyOutput()``.
    """
    from prompt_toolkit.application import Application
    from prompt_toolkit.buffer import Buffer
    from prompt_toolkit.key_binding import KeyBindings
    from prompt_toolkit.layout import HSplit, Layout, Window
    from prompt_toolkit.layout.controls import BufferControl, FormattedTextControl
    from prompt_toolkit.layout.dimension import Dimension
    from prompt_toolkit.layout.processors import BeforeInput
    from prompt_toolkit.styles import Style

    state = PickerState(rows)
    query = Buffer(multiline=False, on_text_changed=lambda buf: state.filter(buf.text))
    bindings = KeyBindings()

    @bindings.add("up")
    @bindings.add("c-p")
    def _up(event: Any) -> None:
        state.move(-1)

    @bindings.add("down")
    @bindings.add("c-n")
    @bindings.add("tab")
    def _down(event: Any) -> None:
        state.move(1)

    @bindings.add("enter")
    def _accept(event: Any) -> None:
        row = state.current
        if row is not None:
            event.app.exit(result=row.name)

    @bindings.add("escape", eager=True)
    @bindings.add("c-c")
    def _cancel(event: Any) -> None:
        event.app.exit(result=None)

    @bindings.add("c-d")
    def _eof(event: Any) -> None:
        if not query.text:
            event.app.exit(result=None)
        else:
            query.delete()

    visible = max(1, min(height, len(rows)))
    body = Window(
        FormattedTextControl(lambda: render_rows(state, visible)),
        height=Dimension(min=2, max=visible + 3),
        wrap_lines=False,
    )
    layout = Layout(
        HSplit(
            [
                Window(
                    FormattedTextControl(
                        [
                            ("class:title", title),
                            ("class:help", "  (type to filter, ↑/↓, Enter; Esc cancels)"),
                        ]
                    ),
                    height=1,
                ),
                Window(
                    BufferControl(query, input_processors=[BeforeInput("> ", style="class:prompt")]), height=1
                ),
                body,
            ]
        ),
        focused_element=query,
    )
    style = Style.from_dict(
        {
            "title": "bold",
            "help": "#888888",
            "header": "bold #888888",
            "selected": "reverse",
            "hit": "bold #ff8700",
            "unready": "#aa5555",
            "more": "#888888",
            "empty": "#aa5555",
            "prompt": "bold",
        }
    )
    app: Application[str | None] = Application(
        layout=layout,
        key_bindings=bindings,
        style=style,
        full_screen=False,
        erase_when_done=True,
        mouse_support=False,
        input=input,
        output=output,
    )
    return app.run(handle_sigint=False)
