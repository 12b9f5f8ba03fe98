"""Fuzzy matching for the pod picker, in the spirit of fzf: a subsequence, scored.

The query's characters must appear in order (case-insensitive unless the query has a
capital). The best alignment wins: matches at word starts (after ``-``, ``_``, ``.``,
``/``, space) and runs of consecutive characters score high, gaps cost a little, and an
earlier start breaks ties. Dynamic programming over (query × text): O(len(q)·len(t)).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["Match", "fuzzy_filter", "fuzzy_match"]

T = TypeVar("T")

_MATCH = 16
_BOUNDARY = 10
_FIRST_CHAR = 6
_CONSECUTIVE = 8
_GAP = 1
_SEPARATORS = frozenset("-_./: ")
_NONE = -(10**9)


@dataclass(frozen=True)
class Match(Generic[T]):
    """An item that matched, its score, and the matched positions in its text."""

    item: T
    score: int
    positions: tuple[int, ...]


def _bonus(text: str, j: int) -> int:
    if j == 0:
        return _BOUNDARY + _FIRST_CHAR
    return _BOUNDARY if text[j - 1] in _SEPARATORS else 0


def _is_subsequence(needle: str, hay: str) -> bool:
    pos = 0
    for ch in needle:
        pos = hay.find(ch, pos) + 1
        if pos == 0:
            return False
    return True


def _score_row(i: int, ch: str, hay: str, text: str, prev: list[int]) -> tuple[list[int], list[int]]:
    """Row ``i``: the best score with ``needle[i]`` at each ``hay[j]``, and where it came from."""
    n = len(hay)
    cur = [_NONE] * n
    row_back = [-1] * n
    best_gap, best_gap_at = _NONE, -1  # max over k <= j-2 of prev[k] - GAP*(j-1-k)
    for j in range(n):
        if i > 0 and j >= 2:
            candidate = prev[j - 2] - _GAP
            best_gap -= _GAP
            if candidate > best_gap:
                best_gap, best_gap_at = candidate, j - 2
        if hay[j] != ch:
            continue
        gain = _MATCH + _bonus(text, j)
        if i == 0:
            cur[j] = gain - min(j, 20)  # an early start is better
            continue
        options = []
        if j >= 1 and prev[j - 1] > _NONE:
            options.append((prev[j - 1] + _CONSECUTIVE, j - 1))
        if best_gap > _NONE // 2:
            options.append((best_gap, best_gap_at))
        if not options:
            continue
        value, at = max(options)
        cur[j], row_back[j] = value + gain, at
    return cur, row_back


def fuzzy_match(query: str, text: str) -> tuple[int, tuple[int, ...]] | None:
    """Score ``text`` against ``query``: ``(score, matched positions)``, or None if no match."""
    query = "".join(query.split())  # spaces in the query do not have to match
    if not query:
        return 0, ()
    if query.lower() == query:
        hay, needle = text.lower(), query
    else:
        hay, needle = text, query
    n, m = len(hay), len(needle)
    if m > n or not _is_subsequence(needle, hay):
        return None
    # row i of the table: best score with needle[i] matched at hay[j]; back: the previous position
    prev = [_NONE] * n
    back: list[list[int]] = []
    for i, ch in enumerate(needle):
        prev, row_back = _score_row(i, ch, hay, text, prev)
        back.append(row_back)
    best = max(range(n), key=lambda j: prev[j])
    if prev[best] <= _NONE // 2:
        return None
    positions = [best]
    for i in range(m - 1, 0, -1):
        positions.append(back[i][positions[-1]])
    return prev[best], tuple(reversed(positions))


def fuzzy_filter(query: str, items: Sequence[T], text: Callable[[T], str]) -> list[Match[T]]:
    """The items matching ``query``, best first (stable for equal scores); all for ``""``."""
    matches: list[tuple[int, int, Match[T]]] = []
    for index, item in enumerate(items):
        found = fuzzy_match(query, text(item))
        if found is not None:
            score, positions = found
            matches.append((-score, index, Match(item, score, positions)))
    matches.sort(key=lambda entry: (entry[0], entry[1]))
    return [entry[2] for entry in matches]
