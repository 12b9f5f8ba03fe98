"""The data feed: one resilient watch per kind and a log follower, each in its own thread.

Threads never touch the snapshot: they put small frozen inputs (``state.WatchInput``,
``state.LogInput``) in an ``Inbox``; whoever draws the next frame drains it and folds the
inputs with the reducer. The inbox's ``on_put`` wakes the UI (prompt_toolkit coalesces
those wake-ups to at most ~10 redraws a second), so a burst of events costs one frame.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import KW_ONLY, InitVar, dataclass, field
from typing import TYPE_CHECKING

from kubectl_trace.dashboard.state import BATCH_KINDS, WATCHED, Input, LogInput, LogLine, WatchInput
from kubectl_trace.kube.errors import ApiError, KubeError
from kubectl_trace.kube.queries import LogQuery

if TYPE_CHECKING:
    from kubectl_trace.dashboard.usage import MetricsPoller
    from kubectl_trace.kube.calls import KubeClient, Stream
    from kubectl_trace.kube.retry import RetryPolicy
    from kubectl_trace.kube.watch import ResilientWatch

__all__ = ["Inbox", "LogFollower", "WatchFeed", "parse_log_line"]


# What a watch says first: its list, or why it has none.
_FIRST_NEWS = frozenset({"RESET", "DISCONNECTED", "FAILED"})


class Inbox:
    """A thread-safe queue of inputs with a wake-up callback."""

    def __init__(self) -> None:
        self._items: deque[Input] = deque()
        self._ready = threading.Event()
        self.on_put: Callable[[], None] | None = None
        # the kinds whose watch has listed, or failed, at least once (the pump draws the
        # first frame when every kind is here)
        self.heard: set[str] = set()

    def put(self, item: Input) -> None:
        """Add an input (any thread) and wake the consumer."""
        if isinstance(item, WatchInput) and item.type in _FIRST_NEWS:
            self.heard.add(item.kind)
        self._items.append(item)
        self._ready.set()
        callback = self.on_put
        if callback is not None:
            callback()

    @property
    def pending(self) -> bool:
        """Whether something arrived since the last ``drain``."""
        return bool(self._items)

    def drain(self) -> list[Input]:
        """Take every input that arrived so far, in order."""
        self._ready.clear()
        out = []
        items = self._items
        while True:
            try:
                out.append(items.popleft())
            except IndexError:
                return out

    def wait(self, timeout: float | None) -> bool:
        """Block until something arrives (True) or ``timeout`` passes (False)."""
        return self._ready.wait(timeout)


@dataclass(eq=False)
class WatchFeed:
    """One ``ResilientWatch`` per kind of one namespace, each in a daemon thread.

    Every watch event becomes a ``WatchInput``; a watch that gives up (a non-retriable
    error such as 403) becomes ``FAILED``, except that Jobs and CronJobs the cluster forbids
    or does not serve (403, 404 on batch/v1) are an empty list: none to show, not an outage.
    ``requests`` counts the list and watch requests sent so far (for the benchmark).
    With ``metrics_every`` seconds, a ``usage.MetricsPoller`` polls PodMetrics beside them.
    """

    kube: KubeClient
    namespace: str
    inbox: Inbox
    _: KW_ONLY
    kinds: tuple[str, ...] = WATCHED
    clock: Callable[[], float] = time.time
    policy: RetryPolicy | None = None
    timeout_seconds: int = 290
    metrics_every: InitVar[float | None] = None
    _watches: dict[str, ResilientWatch] = field(default_factory=dict, init=False, repr=False)
    _threads: list[threading.Thread] = field(default_factory=list, init=False, repr=False)
    _metrics: MetricsPoller | None = field(default=None, init=False, repr=False)

    def __post_init__(self, metrics_every: float | None) -> None:
        if metrics_every is not None:
            from kubectl_trace.dashboard.usage import MetricsPoller

            self._metrics = MetricsPoller(
                self.kube, self.namespace, self.inbox, every=metrics_every, clock=self.clock
            )

    @property
    def started(self) -> bool:
        """Whether ``start()`` was called."""
        return bool(self._threads)

    def start(self) -> None:
        """Open the watches."""
        from kubectl_trace.kube.queries import Selection
        from kubectl_trace.kube.watch import ResilientWatch

        for kind in self.kinds:
            watch = ResilientWatch(
                self.kube,
                Selection(kind, self.namespace),
                policy=self.policy,
                timeout_seconds=self.timeout_seconds,
            )
            self._watches[kind] = watch
            thread = threading.Thread(target=self._run, args=(kind, watch), name=f"watch-{kind}", daemon=True)
            self._threads.append(thread)
            thread.start()
        if self._metrics is not None:
            self._metrics.start()

    def _run(self, kind: str, watch: ResilientWatch) -> None:
        put, clock = self.inbox.put, self.clock
        try:
            for event in watch:
                put(
                    WatchInput(
                        kind,
                        event.type,
                        clock(),
                        object=event.object,
                        items=event.items,
                        error=str(event.error) if event.error is not None else "",
                        retry_in=event.retry_in,
                    )
                )
                del event  # a RESET holds the whole list: do not keep it alive until the next event
        except ApiError as exc:
            if watch.stopped:
                return
            if kind in BATCH_KINDS and exc.status in (403, 404):
                put(WatchInput(kind, "RESET", clock()))
            else:
                put(WatchInput(kind, "FAILED", clock(), error=exc.message))
        except KubeError as exc:
            if not watch.stopped:
                put(WatchInput(kind, "FAILED", clock(), error=exc.message))
        except Exception as exc:  # never let a watch thread die silently
            if not watch.stopped:
                put(WatchInput(kind, "FAILED", clock(), error=f"{type(exc).__name__}: {exc}"))

    @property
    def requests(self) -> int:
        """List and watch requests sent by every watch."""
        return sum(w.requests for w in self._watches.values())

    def stop(self, timeout: float = 2.0) -> None:
        """Close every watch and wait (briefly) for the threads."""
        for watch in self._watches.values():
            watch.stop()
        if self._metrics is not None:
            self._metrics.stop(0.0)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))


def parse_log_line(raw: bytes) -> tuple[str, LogLine]:
    """One ``timestamps=true`` log line → (its timestamp text, a parsed ``LogLine``)."""
    from kubectl_trace.logs.parse import parse_text
    from kubectl_trace.logs.render import format_fields
    from kubectl_trace.timeparse import parse_rfc3339

    line = raw.decode("utf-8", "replace").rstrip("\r")
    ts_text, sep, text = line.partition(" ")
    ts: float | None = None
    if sep and ts_text[:1].isdigit():
        try:
            ts = parse_rfc3339(ts_text)
        except ValueError:
            ts = None
    if ts is None:
        ts_text, text = "", line
    parsed = parse_text(text)
    message = parsed.message
    if parsed.structured and not message:  # the tail is narrow: fields only when there is no message
        message = format_fields(parsed.fields)
    return ts_text, LogLine(ts, ts_text, parsed.level, message.replace("\t", "    "))


@dataclass(eq=False)
class LogFollower:
    """Streams the log of the selected pod's container into the inbox.

    ``follow(pod, container)`` switches to another pod (a new generation: the reducer
    drops lines still in flight for the old one). A dropped stream or a restarted
    container is resumed with ``sinceTime`` = the last timestamp seen, skipping the lines
    already shown; a container that has not started yet is retried every few seconds.
    """

    kube: KubeClient
    namespace: str
    inbox: Inbox
    _: KW_ONLY
    tail_lines: int = 100
    clock: Callable[[], float] = time.time
    retry_delay: float = 2.0
    generation: int = field(default=0, init=False)
    target: tuple[str, str] | None = field(default=None, init=False)
    _stop: threading.Event | None = field(default=None, init=False, repr=False)
    _stream: Stream | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def follow(self, pod: str | None, container: str | None) -> None:
        """Tail ``pod``/``container`` from now on (None: tail nothing)."""
        target = (pod, container or "") if pod else None
        if target == self.target:
            return
        self.stop()
        self.target = target
        self.generation += 1
        if target is None:
            self.inbox.put(LogInput(self.generation, "open", self.clock(), status=""))
            return
        stop = threading.Event()
        self._stop = stop
        self.inbox.put(LogInput(self.generation, "open", self.clock(), pod=target[0], container=target[1]))
        thread = threading.Thread(
            target=self._run, args=(self.generation, target[0], target[1], stop), name="log-tail", daemon=True
        )
        thread.start()

    def stop(self) -> None:
        """Stop the current tail (if any)."""
        if self._stop is not None:
            self._stop.set()
        with self._lock:
            stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()

    def _status(self, generation: int, status: str, detail: str = "") -> None:
        self.inbox.put(LogInput(generation, "status", self.clock(), status=status, detail=detail))

    # Kept whole: one loop owns the stream, its resume point and the retry pace. A split into
    # open / pump / resume helpers (same logic) made the live tail through an HTTP proxy stall
    # under load in test_live_dashboard_streams_through_the_proxy, for a reason not found yet.
    def _run(self, generation: int, pod: str, container: str, stop: threading.Event) -> None:  # noqa: C901 - one loop: stream, resume point, retry pace
        last_ts = ""  # the newest timestamp delivered
        at_last = 0  # how many delivered lines carry it
        failures = 0
        while not stop.is_set():
            try:
                query = LogQuery(
                    container or None,
                    follow=True,
                    timestamps=True,
                    tail_lines=None if last_ts else self.tail_lines,
                    since_time=last_ts or None,
                )
                stream = self.kube.pod_log(self.namespace, pod, query)
            except ApiError as exc:
                if stop.is_set():
                    return
                if exc.status == 404:
                    self._status(generation, "ended", "the pod was deleted")
                    return
                waiting = exc.status == 400
                self._status(generation, "waiting" if waiting else "error", exc.message)
                failures += 1
                stop.wait(self.retry_delay if waiting else min(10.0, self.retry_delay * failures))
                continue
            except KubeError as exc:
                if stop.is_set():
                    return
                failures += 1
                self._status(generation, "error", exc.message)
                stop.wait(min(10.0, self.retry_delay * failures))
                continue
            with self._lock:
                if stop.is_set():
                    stream.close()
                    return
                self._stream = stream
            self._status(generation, "streaming")
            skip = at_last  # lines at exactly last_ts already delivered before the drop
            delivered = 0
            try:
                pending = b""
                for chunk in stream.chunks():
                    data = pending + chunk
                    cut = data.rfind(b"\n")
                    if cut < 0:
                        pending = data
                        continue
                    pending = data[cut + 1 :]
                    batch = []
                    for raw in data[:cut].split(b"\n"):
                        ts_text, line = parse_log_line(raw)
                        if ts_text and last_ts:
                            if ts_text < last_ts:
                                continue
                            if ts_text == last_ts and skip > 0:
                                skip -= 1
                                continue
                        if ts_text:
                            if ts_text == last_ts:
                                at_last += 1
                            else:
                                last_ts, at_last, skip = ts_text, 1, 0
                        batch.append(line)
                    delivered += len(batch)
                    if batch and not stop.is_set():
                        self.inbox.put(LogInput(generation, "lines", self.clock(), lines=tuple(batch)))
            except KubeError as exc:
                if stop.is_set():
                    return
                self._status(generation, "error", exc.message)
            finally:
                stream.close()
                with self._lock:
                    if self._stream is stream:
                        self._stream = None
            if stop.is_set():
                return
            # The container stopped (restart, deletion) or the stream dropped: look again soon.
            # An empty stream that ends again and again (a stopped container) is asked less often.
            failures = 0 if delivered else failures + 1
            self._status(generation, "ended", "the log stream ended; reconnecting")
            stop.wait(min(10.0, 1.0 + self.retry_delay * failures))
