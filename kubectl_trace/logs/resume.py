"""Resuming a dropped log stream with no line lost and none repeated (pure, bytes in and out).

Logs are requested with ``timestamps=true``: every line starts with the kubelet's
RFC 3339 timestamp with nine fractional digits, so timestamps compare as bytes. The
stream remembers the timestamp of the last line it delivered and how many delivered
lines carry exactly that timestamp. After a drop it asks again with ``sinceTime`` = that
timestamp and drops, from the new stream, every line older than it and the first
``count`` lines that carry it. A server that rounds ``sinceTime`` down to the second only
sends more to drop.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LineCutter", "ResumePoint", "last_timestamp_run"]


@dataclass(frozen=True)
class ResumePoint:
    """The last delivered timestamp (bytes, as the kubelet wrote it) and how many lines had it."""

    ts: bytes
    count: int

    @property
    def since_time(self) -> str:
        """The ``sinceTime`` query value."""
        return self.ts.decode("ascii", "replace")


def _ts_of(data: bytes, start: int, end: int) -> bytes:
    space = data.find(b" ", start, end)
    return data[start:space] if space >= 0 else data[start:end]


def last_timestamp_run(data: bytes) -> tuple[bytes, int, bool]:
    """The last line's timestamp, how many lines at the end carry it, and whether all do.

    ``data`` holds complete lines (it ends in a newline).
    """
    end = len(data) - 1
    start = data.rfind(b"\n", 0, end) + 1
    ts = _ts_of(data, start, end)
    head = ts + b" "
    n = 1
    while start > 0:
        prev = data.rfind(b"\n", 0, start - 1) + 1
        if data.startswith(head, prev):
            n += 1
            start = prev
        else:
            return ts, n, False
    return ts, n, True


class LineCutter:
    """Cuts a byte stream into complete timestamped lines, skipping what was delivered before.

    ``feed(chunk)`` returns the complete lines (bytes ending in a newline) to deliver, or
    ``b""``; ``point`` is where to resume from after a drop.
    """

    __slots__ = ("_pending", "_skip_count", "_skip_ts", "delivered", "point", "skipped")

    def __init__(self, resume: ResumePoint | None = None) -> None:
        self.point = resume
        self._pending = b""
        self._skip_ts = resume.ts if resume is not None else None
        self._skip_count = resume.count if resume is not None else 0
        self.delivered = 0  # lines delivered by this cutter
        self.skipped = 0  # lines dropped as already delivered

    def feed(self, chunk: bytes) -> bytes:
        """Take the next bytes of the stream; return the complete new lines among them."""
        if self._pending:
            chunk = self._pending + chunk
        cut = chunk.rfind(b"\n") + 1
        if cut == 0:
            self._pending = chunk
            return b""
        if cut == len(chunk):
            data = chunk
            self._pending = b""
        else:
            data = chunk[:cut]
            self._pending = chunk[cut:]
        return self._deliver(data)

    def finish(self) -> bytes:
        """The stream ended: an unterminated last line (with a newline added), or ``b""``.

        Only for a stream that ended for good: after a drop the partial line comes again.
        """
        rest, self._pending = self._pending, b""
        if not rest:
            return b""
        return self._deliver(rest + b"\n")

    def _deliver(self, data: bytes) -> bytes:
        """Complete lines: without those read before a drop, and counted as read."""
        if self._skip_ts is not None:
            data = self._skip(data)
            if not data:
                return b""
        self._advance(data)
        return data

    def _advance(self, data: bytes) -> None:
        ts, n, whole = last_timestamp_run(data)
        point = self.point
        if whole and point is not None and point.ts == ts:
            n += point.count
        self.point = ResumePoint(ts, n)
        self.delivered += data.count(b"\n")

    def _skip(self, data: bytes) -> bytes:
        """Drop the lines at the start of ``data`` that were delivered before the resume."""
        skip_ts = self._skip_ts
        assert skip_ts is not None
        start = 0
        size = len(data)
        while start < size:
            end = data.find(b"\n", start) + 1
            ts = _ts_of(data, start, end - 1)
            if ts < skip_ts:
                self.skipped += 1
            elif ts == skip_ts and self._skip_count > 0:
                self._skip_count -= 1
                self.skipped += 1
            else:
                self._skip_ts = None
                return data[start:] if start else data
            start = end
        return b""
