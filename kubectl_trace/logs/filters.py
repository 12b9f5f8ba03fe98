"""Which entries are shown: ``--level``, ``-i/--include``, ``-e/--exclude``.

``--level`` is a minimum severity: a structured line below it is hidden, and so is a
line that says no level at all (plain start-up lines). ``-i`` keeps entries whose text
matches any of its patterns; ``-e`` drops entries whose text matches any of its patterns.
Patterns are searched in the original text (all lines of a grouped entry).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from kubectl_trace.logs.parse import LEVEL_RANK, Parsed, parse_text
from kubectl_trace.logs.record import Entry

__all__ = ["EntryFilter"]


class EntryFilter:
    """A predicate over entries, built from the filter flags."""

    def __init__(
        self,
        *,
        level: str | None = None,
        include: Sequence[re.Pattern[str]] = (),
        exclude: Sequence[re.Pattern[str]] = (),
        parse: Callable[[str], Parsed] = parse_text,
    ) -> None:
        self.parse = parse
        self.min_rank = LEVEL_RANK[level] if level else None
        self.include = tuple(include)
        self.exclude = tuple(exclude)

    @property
    def active(self) -> bool:
        """Whether anything is filtered at all."""
        return self.min_rank is not None or bool(self.include) or bool(self.exclude)

    def accepts(self, entry: Entry) -> bool:
        """Whether ``entry`` is shown (parses it when ``--level`` needs the level)."""
        if self.min_rank is not None:
            parsed = entry.parsed
            if parsed is None:
                parsed = entry.parsed = self.parse(entry.text)
            level = parsed.level
            if level is None or LEVEL_RANK[level] < self.min_rank:
                return False
        if self.include or self.exclude:
            text = entry.raw
            if self.include and not any(p.search(text) for p in self.include):
                return False
            if self.exclude and any(p.search(text) for p in self.exclude):
                return False
        return True
