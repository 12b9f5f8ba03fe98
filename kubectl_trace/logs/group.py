"""Multi-line grouping: a plain line and the indented lines after it stay one entry.

Node.js prints uncaught errors as ``Error: boom`` followed by ``    at …`` lines; other
streams must not be interleaved into them. Per source, the last plain line is held until
the next line of that source shows whether it continues (indented → appended) or until
``hold`` seconds pass (while following). JSON lines are never held.
"""

from __future__ import annotations

from collections.abc import Callable

from kubectl_trace.logs.record import Entry, Source

__all__ = ["Grouper", "is_continuation"]


def is_continuation(text: str) -> bool:
    """Whether a plain line continues the previous one (it starts with a space or a tab)."""
    first = text[:1]
    return first == " " or first == "\t"


class Grouper:
    """Groups entries per source and passes finished ones to ``emit``."""

    def __init__(self, emit: Callable[[Entry], None], *, hold: float = 0.05, max_lines: int = 500) -> None:
        self._emit = emit
        self.hold = hold
        self.max_lines = max_lines
        self._pending: dict[Source, Entry] = {}

    @property
    def pending(self) -> int:
        """How many sources have a held entry."""
        return len(self._pending)

    def add(self, entry: Entry) -> None:
        """Take one single-line entry (in stream order for its source)."""
        source = entry.source
        text = entry.text
        first = text[:1]
        if first == " " or first == "\t":
            held = self._pending.get(source)
            if held is not None:
                more = held.more
                if more is None:
                    held.more = [(entry.ts, text)]
                else:
                    more.append((entry.ts, text))
                    if len(more) >= self.max_lines:
                        del self._pending[source]
                        self._emit(held)
                return
        held = self._pending.pop(source, None)
        if held is not None:
            self._emit(held)
        if first == "{":
            self._emit(entry)
        else:
            self._pending[source] = entry

    def take(self, source: Source) -> Entry | None:
        """Remove and return the entry held for ``source`` (the caller continues it)."""
        return self._pending.pop(source, None)

    def hold_entry(self, entry: Entry) -> None:
        """Hold ``entry`` (a plain line that indented lines may continue)."""
        self._pending[entry.source] = entry

    def flush_source(self, source: Source) -> None:
        """The source's stream ended (or paused): emit what it holds."""
        held = self._pending.pop(source, None)
        if held is not None:
            self._emit(held)

    def flush_due(self, now: float) -> float | None:
        """Emit entries held for ``hold`` seconds; return when the next one is due (or None)."""
        if not self._pending:
            return None
        limit = now - self.hold
        next_due: float | None = None
        for source, held in list(self._pending.items()):
            if held.arrival <= limit:
                del self._pending[source]
                self._emit(held)
            else:
                due = held.arrival + self.hold
                if next_due is None or due < next_due:
                    next_due = due
        return next_due

    def flush_all(self) -> None:
        """Emit everything held (end of input)."""
        pending = list(self._pending.values())
        self._pending.clear()
        for held in pending:
            self._emit(held)
