"""The log of one container instance, as a pure function of time.

A log is a list of *segments*: lines ``start .. start+count`` at evenly spaced or explicit
times, each line's text computed on demand by a renderer from (index in segment, time, seq).
So thousands of idle containers cost nothing, and any reader (since, tail, follow, previous)
sees exactly the same lines. The kubelet appends segments (start-up lines, then steady lines
forever), cuts the log when it kills the instance, and finishes it when the process exits.
A history shared by many containers (``append_shared``) is rendered once and served as bytes.
``loggen`` decides what the lines say.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import math
import time
from collections.abc import Callable, Hashable, Sequence
from typing import Any

__all__ = ["InstanceLog", "Render", "SecondStamp"]


class SecondStamp:
    """``YYYY-MM-DDTHH:MM:SS`` of a whole second (UTC), kept for the last second asked.

    Log lines come in order, many a second: a timestamp's fraction is all that changes.
    """

    __slots__ = ("_prefix", "_sec")

    def __init__(self) -> None:
        self._sec = -1
        self._prefix = ""

    def __call__(self, sec: int) -> str:
        """The prefix of second ``sec`` (epoch)."""
        if sec != self._sec:
            self._sec = sec
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
        return self._prefix


class _NanoStamp:
    """``timeparse.format_rfc3339_nano`` (same digits)."""

    __slots__ = ("_second",)

    def __init__(self) -> None:
        self._second = SecondStamp()

    def __call__(self, ts: float) -> str:
        whole = int(ts // 1)
        nanos = round((ts - whole) * 1e9)
        if nanos >= 1_000_000_000:
            whole += 1
            nanos -= 1_000_000_000
        return f"{self._second(whole)}.{nanos:09d}Z"


# A renderer turns (index within its segment, time, seq) into the line's text.
Render = Callable[[int, float, int], str]


class _Shared:
    """Lines rendered once and shared by every container of one style (the backlog).

    Holds the texts, and on demand the whole block as bytes — with or without the
    kubelet's timestamp prefix — with the byte offset of every line, so a reader of
    50,000 lines of history costs a slice, not 50,000 renderings.
    """

    def __init__(self, times: list[float], texts: list[str]) -> None:
        self.times = times
        self.texts = texts
        self._blobs: dict[bool, tuple[bytes, list[int]]] = {}

    def blob(self, timestamps: bool) -> tuple[bytes, list[int]]:
        found = self._blobs.get(timestamps)
        if found is None:
            if timestamps:
                stamp = _NanoStamp()
                lines = [f"{stamp(t)} {x}\n".encode() for t, x in zip(self.times, self.texts, strict=True)]
            else:
                lines = [f"{x}\n".encode() for x in self.texts]
            offsets = [0]
            for line in lines:
                offsets.append(offsets[-1] + len(line))
            found = (b"".join(lines), offsets)
            self._blobs[timestamps] = found
        return found


_SHARED: dict[tuple[Any, ...], _Shared] = {}


class _Segment:
    """Lines ``start .. start+count`` at ``t0 + k*dt`` (``count`` None = unbounded)."""

    __slots__ = ("count", "dt", "render", "shared", "start", "t0", "times")

    def __init__(
        self,
        start: int,
        t0: float,
        dt: float,
        count: int | None,
        render: Render,
        times: Sequence[float] | None = None,
    ) -> None:
        self.start = start
        self.t0 = t0
        self.dt = dt
        self.count = count
        self.render = render
        self.times = list(times) if times is not None else None
        self.shared: _Shared | None = None

    def time(self, k: int) -> float:
        if self.times is not None:
            return self.times[k]
        return self.t0 + k * self.dt

    def last_time(self) -> float:
        if self.count is None:
            return math.inf
        if self.count == 0:
            return self.t0
        return self.time(self.count - 1)

    def count_at(self, now: float) -> int:
        """Lines of this segment with time <= now."""
        if self.times is not None:
            return bisect.bisect_right(self.times, now)
        if now < self.t0:
            return 0
        n = self.count if self.dt <= 0 else int((now - self.t0) / self.dt + 1e-9) + 1
        if n is None:
            return 0
        return n if self.count is None else min(n, self.count)

    def first_at(self, t: float) -> int:
        """Index within the segment of the first line with time >= t (may be == count)."""
        if self.times is not None:
            return bisect.bisect_left(self.times, t)
        if t <= self.t0:
            return 0
        if self.dt <= 0:
            return self.count or 0
        k = max(0, math.ceil((t - self.t0) / self.dt - 1e-9))
        while k > 0 and self.time(k - 1) >= t:
            k -= 1
        while self.time(k) < t:
            k += 1
        return k if self.count is None else min(k, self.count)


class InstanceLog:
    """The log of one container instance; implements ``interfaces.ContainerLog``."""

    def __init__(self, started_at: float) -> None:
        self.started_at = started_at
        self._segments: list[_Segment] = []
        self._finished = False
        self._event: asyncio.Event | None = None
        self._starts: list[int] = []

    # -- building (the kubelet) --------------------------------------------------------------

    @property
    def planned(self) -> int | None:
        """Lines planned in total (None while the last segment is unbounded)."""
        if not self._segments:
            return 0
        last = self._segments[-1]
        return None if last.count is None else last.start + last.count

    def append(self, t0: float, dt: float, count: int | None, render: Render) -> None:
        """Add a segment of evenly spaced lines after the existing ones."""
        self._add(_Segment(self.planned or 0, t0, dt, count, render))

    def append_at(self, times: Sequence[float], render: Render) -> None:
        """Add lines at explicit (non-decreasing) times."""
        if times:
            self._add(_Segment(self.planned or 0, times[0], 0.0, len(times), render, times))

    def append_shared(
        self, key: Hashable, t0: float, dt: float, count: int, render: Callable[[], Render]
    ) -> None:
        """Add ``count`` evenly spaced lines, rendered once for every log with the same arguments.

        ``render()`` makes their renderer; it is called only the first time.
        """
        full_key = (key, t0, dt, count)
        shared = _SHARED.get(full_key)
        if shared is None:
            draw = render()
            times = [t0 + k * dt for k in range(count)]
            shared = _Shared(times, [draw(k, t, k + 1) for k, t in enumerate(times)])
            if len(_SHARED) > 32:
                _SHARED.clear()
            _SHARED[full_key] = shared
        texts = shared.texts
        segment = _Segment(self.planned or 0, t0, dt, count, lambda k, t, seq: texts[k])
        segment.shared = shared
        self._add(segment)

    def _add(self, segment: _Segment) -> None:
        if self.planned is None:
            raise RuntimeError("cannot append after an unbounded segment; cut the log first")
        self._segments.append(segment)
        self._starts.append(segment.start)
        self._changed()

    def cut(self, at: float) -> None:
        """Keep only the lines with time <= ``at`` (a kill, or the start of a shutdown)."""
        kept: list[_Segment] = []
        for seg in self._segments:
            n = seg.count_at(at)
            if n <= 0:
                break
            if seg.count is None or n < seg.count:
                part = _Segment(
                    seg.start, seg.t0, seg.dt, n, seg.render, seg.times[:n] if seg.times else None
                )
                part.shared = seg.shared
                kept.append(part)
                break
            kept.append(seg)
        self._segments = kept
        self._starts = [s.start for s in kept]
        self._changed()

    def finish(self) -> None:
        """The instance has exited: no more lines, and every planned line is written.

        A process writes its last words before it exits; when the exit timer fires a little
        before the times planned for them (timers run late or early under load), those lines
        are written at the exit instead of appearing a few milliseconds after it.
        """
        now = time.time()
        if self.planned is None:
            self.cut(now)
        for seg in self._segments:
            if seg.count and seg.last_time() > now:
                seg.times = [min(seg.time(k), now) for k in range(seg.count)]
                seg.t0 = seg.times[0]
        self._finished = True
        self._changed()

    def _changed(self) -> None:
        if self._event is not None:
            self._event.set()
            self._event = None

    # -- reading (ContainerLog) ----------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """The instance has ended: no more lines will be added."""
        return self._finished

    def line_count(self, now: float) -> int:
        """How many lines exist at time ``now``."""
        total = 0
        for seg in self._segments:
            n = seg.count_at(now)
            total = seg.start + n
            if seg.count is None or n < seg.count:
                break
        return total

    def _segment_of(self, index: int) -> _Segment:
        i = bisect.bisect_right(self._starts, index) - 1
        if i < 0:
            raise IndexError(index)
        seg = self._segments[i]
        if seg.count is not None and index - seg.start >= seg.count:
            raise IndexError(index)
        return seg

    def line(self, index: int) -> tuple[float, str]:
        """Line ``index``: (epoch seconds, text without the newline)."""
        seg = self._segment_of(index)
        k = index - seg.start
        t = seg.time(k)
        return t, seg.render(k, t, index + 1)

    def lines(self, start: int, stop: int) -> list[tuple[float, str]]:
        """Lines ``start .. stop-1`` (a batch form of ``line``)."""
        out: list[tuple[float, str]] = []
        index = start
        while index < stop:
            seg = self._segment_of(index)
            end = stop if seg.count is None else min(stop, seg.start + seg.count)
            render, time_of, base = seg.render, seg.time, seg.start
            for i in range(index, end):
                k = i - base
                t = time_of(k)
                out.append((t, render(k, t, i + 1)))
            index = end
        return out

    def chunk(self, start: int, stop: int, *, timestamps: bool) -> bytes:
        """Lines ``start .. stop-1`` as the log endpoint sends them.

        Newline-terminated, each prefixed with the kubelet timestamp
        (``2006-01-02T15:04:05.000000000Z ``) when ``timestamps``. Backlog lines come from a
        shared pre-rendered block.
        """
        stamp = _NanoStamp()
        parts: list[bytes] = []
        index = start
        while index < stop:
            seg = self._segment_of(index)
            end = stop if seg.count is None else min(stop, seg.start + seg.count)
            if seg.shared is not None:
                blob, offsets = seg.shared.blob(timestamps)
                parts.append(blob[offsets[index - seg.start] : offsets[end - seg.start]])
            else:
                for t, text in self.lines(index, end):
                    prefix = stamp(t) + " " if timestamps else ""
                    # surrogateescape: an echoed line may carry bytes that are not UTF-8
                    parts.append(f"{prefix}{text}\n".encode("utf-8", "surrogateescape"))
            index = end
        return b"".join(parts)

    def first_index_at(self, t: float) -> int:
        """Index of the first line with timestamp >= ``t`` (``line_count`` if none yet)."""
        for seg in self._segments:
            if seg.last_time() < t:
                continue
            return seg.start + seg.first_at(t)
        return self.planned or 0

    def next_line_time(self, now: float) -> float | None:
        """When the next line after ``now`` is due; None when none is scheduled."""
        index = self.line_count(now)
        planned = self.planned
        if planned is not None and index >= planned:
            return None
        return self._segment_of(index).time(index - self._segment_of(index).start)

    async def wait(self, timeout: float | None) -> None:
        """Return when the log changed out of schedule (ended, lines appended) or on timeout."""
        if self._event is None:
            self._event = asyncio.Event()
        event = self._event
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
