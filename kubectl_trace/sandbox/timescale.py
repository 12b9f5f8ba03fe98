"""Simulated time: every delay of the cluster goes through one ``TimeScale``.

``--time-scale 0.1`` makes probes, start-ups, pulls, grace periods, back-offs and progress
deadlines ten times faster. Objects still carry real wall-clock timestamps and messages
still speak in simulated seconds (``back-off 20s``), as a real cluster would print them.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Scheduler", "TimeScale", "Timer", "go_duration"]


@dataclass(frozen=True)
class TimeScale:
    """Converts simulated seconds to real seconds (``factor`` 0.1 = ten times faster)."""

    factor: float = 1.0

    def real(self, simulated: float) -> float:
        """Real seconds a simulated delay lasts."""
        return max(0.0, simulated * self.factor)

    def simulated(self, real: float) -> float:
        """Simulated seconds a real duration stands for."""
        return real / self.factor if self.factor > 0 else real


def go_duration(seconds: float) -> str:
    """Format a duration as Go's ``time.Duration.String`` does (``10s``, ``1m20s``, ``5m0s``)."""
    if seconds <= 0:
        return "0s"
    whole = round(seconds * 1000)
    if whole < 1000:
        return f"{whole}ms"
    hours, rest = divmod(whole, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs = rest / 1000
    text = f"{secs:.3f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{hours}h{minutes}m{text}"
    if minutes:
        return f"{minutes}m{text}"
    return text


@dataclass(order=True)
class Timer:
    """A scheduled callback; ``cancel()`` makes it a no-op."""

    when: float
    seq: int
    callback: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        """Do not run the callback."""
        self.cancelled = True


class Scheduler:
    """One heap of timers for the whole cluster, driven by one asyncio timer handle.

    Thousands of pods cost one loop timer, not thousands: a pod's next transition is a
    heap entry. Times are ``time.monotonic()`` seconds (asyncio's loop clock on Linux).
    """

    def __init__(self, scale: TimeScale, *, on_error: Callable[[BaseException], None] | None = None) -> None:
        self.scale = scale
        self._heap: list[Timer] = []
        self._seq = itertools.count()
        self._handle: asyncio.TimerHandle | None = None
        self._armed_for: float | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped = False
        self._on_error = on_error

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Run timers on ``loop`` (the sandbox's one loop)."""
        self._loop = loop
        self._rearm()

    def stop(self) -> None:
        """Cancel every timer."""
        self._stopped = True
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._heap.clear()

    def after(self, simulated_seconds: float, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` after a simulated delay."""
        return self.at(time.monotonic() + self.scale.real(simulated_seconds), callback)

    def after_real(self, real_seconds: float, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` after a real delay (not scaled)."""
        return self.at(time.monotonic() + max(0.0, real_seconds), callback)

    def at(self, monotonic_when: float, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` at a ``time.monotonic()`` instant."""
        timer = Timer(monotonic_when, next(self._seq), callback)
        if self._stopped:
            timer.cancelled = True
            return timer
        heapq.heappush(self._heap, timer)
        if self._armed_for is None or monotonic_when < self._armed_for:
            self._rearm()
        return timer

    def pending(self) -> int:
        """Timers not yet run (cancelled ones included until they surface)."""
        return len(self._heap)

    def _rearm(self) -> None:
        if self._loop is None or self._stopped:
            return
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if not self._heap:
            self._armed_for = None
            return
        when = self._heap[0].when
        self._armed_for = when
        delay = max(0.0, when - time.monotonic())
        self._handle = self._loop.call_later(delay, self._fire)

    def _fire(self) -> None:
        self._handle = None
        self._armed_for = None
        now = time.monotonic()
        budget = 5000  # never starve the loop: run at most this many, then yield
        while self._heap and budget > 0 and not self._stopped:
            top = self._heap[0]
            if top.when > now + 0.0005:
                break
            heapq.heappop(self._heap)
            if top.cancelled:
                continue
            top.cancelled = True  # fired: inactive from now on (owners filter on this)
            budget -= 1
            try:
                top.callback()
            except Exception as exc:  # one broken callback must not stop the cluster
                if self._on_error is not None:
                    self._on_error(exc)
        self._rearm()
