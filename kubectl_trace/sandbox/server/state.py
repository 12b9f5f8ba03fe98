"""What the API server keeps while it runs: faults, counters, open streams."""

from __future__ import annotations

import contextlib
import itertools
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CLIENT_GONE", "Faults", "Metrics", "OpenStream", "StreamRegistry"]

# what writing a streamed answer raises once the client has gone (aiohttp: RuntimeError)
CLIENT_GONE = (ConnectionError, RuntimeError)


@dataclass
class Faults:
    """Injected misbehaviour, each with an end time (monotonic seconds)."""

    error_rate: float = 0.0
    error_until: float = 0.0
    latency_ms: float = 0.0
    latency_until: float = 0.0
    _error_credit: float = 0.0
    _error_count: int = 0

    def set_api_errors(self, rate: float, seconds: float, now: float) -> None:
        """Fail ``rate`` of API requests for ``seconds`` (rate 0 ends the fault)."""
        self.error_rate = max(0.0, min(1.0, rate))
        self.error_until = now + seconds if rate > 0 else 0.0
        self._error_credit = 0.0

    def set_latency(self, ms: float, seconds: float, now: float) -> None:
        """Delay every API request by ``ms`` for ``seconds``."""
        self.latency_ms = max(0.0, ms)
        self.latency_until = now + seconds if ms > 0 else 0.0

    def next_error(self, now: float) -> int | None:
        """503 or 429 when this request must fail, else None.

        Deterministic: exactly ``rate`` of the requests fail (error diffusion), alternating
        503 and 429 so that clients see both.
        """
        if self.error_rate <= 0 or now >= self.error_until:
            return None
        self._error_credit += self.error_rate
        if self._error_credit < 1.0 - 1e-9:
            return None
        self._error_credit -= 1.0
        self._error_count += 1
        return 503 if self._error_count % 2 else 429

    def delay(self, now: float) -> float:
        """Seconds to wait before answering this request."""
        if self.latency_ms <= 0 or now >= self.latency_until:
            return 0.0
        return self.latency_ms / 1000.0

    def describe(self, now: float) -> dict[str, Any]:
        """The active faults, for the status endpoint."""
        out: dict[str, Any] = {}
        if self.error_rate > 0 and now < self.error_until:
            out["apiErrors"] = {"rate": self.error_rate, "remainingSeconds": round(self.error_until - now, 1)}
        if self.latency_ms > 0 and now < self.latency_until:
            out["latency"] = {"ms": self.latency_ms, "remainingSeconds": round(self.latency_until - now, 1)}
        return out


@dataclass
class Metrics:
    """Request counters: by verb, by resource, and by both."""

    total: int = 0
    by_verb: Counter[str] = field(default_factory=Counter)
    by_resource: Counter[str] = field(default_factory=Counter)
    by_verb_resource: Counter[str] = field(default_factory=Counter)
    by_code: Counter[str] = field(default_factory=Counter)

    def count(self, verb: str, resource: str) -> None:
        """Record one API request."""
        self.total += 1
        self.by_verb[verb] += 1
        self.by_resource[resource] += 1
        self.by_verb_resource[f"{verb} {resource}"] += 1

    def count_code(self, code: int) -> None:
        """Record the status code of an answer."""
        self.by_code[str(code)] += 1

    def snapshot(self) -> dict[str, Any]:
        """JSON-ready counters."""
        return {
            "total": self.total,
            "byVerb": dict(self.by_verb),
            "byResource": dict(self.by_resource),
            "byVerbResource": dict(self.by_verb_resource),
            "byCode": dict(self.by_code),
        }


@dataclass
class OpenStream:
    """One long-lived answer (watch, log follow, exec) that a fault may cut."""

    id: int
    kind: str  # "watch", "log", "exec", "proxy"
    description: str
    close: Callable[[], None]
    opened: float = field(default_factory=time.monotonic)


class StreamRegistry:
    """Every open stream, so that ``drop-streams`` can end them all at once."""

    def __init__(self) -> None:
        self._streams: dict[int, OpenStream] = {}
        self._ids = itertools.count(1)

    def open(self, kind: str, description: str, close: Callable[[], None]) -> OpenStream:
        """Register a stream; call ``release`` when it ends."""
        stream = OpenStream(next(self._ids), kind, description, close)
        self._streams[stream.id] = stream
        return stream

    def release(self, stream: OpenStream) -> None:
        """Forget a stream that ended."""
        self._streams.pop(stream.id, None)

    @contextlib.contextmanager
    def held(self, kind: str, description: str, close: Callable[[], None]) -> Iterator[OpenStream]:
        """A stream registered for the length of a ``with`` block."""
        stream = self.open(kind, description, close)
        try:
            yield stream
        finally:
            self.release(stream)

    def drop_all(self) -> int:
        """End every open stream now; returns how many there were."""
        streams = list(self._streams.values())
        self._streams.clear()
        for stream in streams:
            with contextlib.suppress(Exception):  # one half-gone stream must not stop the others
                stream.close()
        return len(streams)

    def counts(self) -> dict[str, int]:
        """Open streams by kind."""
        out: Counter[str] = Counter(s.kind for s in self._streams.values())
        return dict(out)

    def __len__(self) -> int:
        return len(self._streams)
