"""Merging the streams of many containers into one.

``--order arrival`` (the default) prints entries as they come. ``--order time`` is a true
k-way merge on the kubelet timestamps: each stream is in time order, so the earliest
queued entry may be printed as soon as every open stream has something queued (nothing
earlier can come). While following, a stream that has nothing queued holds the others
back for at most ``delay`` seconds; without ``-f`` the merge waits for every stream.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from itertools import count

from kubectl_trace.logs.record import Entry, Marker, Source

__all__ = ["Item", "TimeMerger"]

Item = Entry | Marker  # what a stream carries: a line, or a note about the stream


class TimeMerger:
    """Time-ordered merge of per-source streams (items have ``source``, ``ts``, ``arrival``)."""

    def __init__(self, emit: Callable[[Item], None], *, delay: float = 0.3, follow: bool = True) -> None:
        self._emit = emit
        self.delay = delay
        self.follow = follow
        self._heap: list[tuple[str, int, Item]] = []
        self._seq = count()
        self._queued: dict[Source, int] = {}
        self._open: set[Source] = set()
        self._starving: set[Source] = set()  # open sources with nothing queued

    @property
    def queued(self) -> int:
        """Entries waiting to be printed."""
        return len(self._heap)

    def open(self, source: Source) -> None:
        """A stream starts: until it sends something or closes, it may hold others back."""
        if source in self._open:
            return
        self._open.add(source)
        if not self._queued.get(source):
            self._starving.add(source)

    def close(self, source: Source) -> None:
        """A stream ended: it will send nothing more."""
        self._open.discard(source)
        self._starving.discard(source)

    def add(self, item: Item) -> None:
        """Queue one item of its source's stream (in that stream's order)."""
        source = item.source
        heapq.heappush(self._heap, (item.ts, next(self._seq), item))
        self._queued[source] = self._queued.get(source, 0) + 1
        self._starving.discard(source)

    def release(self, now: float) -> float | None:
        """Emit what may be emitted; return when to call again (None: when more arrives)."""
        heap = self._heap
        while heap:
            _, _, item = heap[0]
            source = item.source
            if self._starving:  # an open stream has nothing queued: it might send earlier
                if not self.follow:
                    return None
                due = item.arrival + self.delay
                if due > now:
                    return due
            heapq.heappop(heap)
            left = self._queued[source] - 1
            if left:
                self._queued[source] = left
            else:
                del self._queued[source]
                if source in self._open:
                    self._starving.add(source)
            self._emit(item)
        return None

    def flush_all(self) -> None:
        """Emit everything queued, in time order (end of input or interrupt)."""
        heap = self._heap
        while heap:
            _, _, item = heapq.heappop(heap)
            self._emit(item)
        self._queued.clear()
        self._starving = set(self._open)
