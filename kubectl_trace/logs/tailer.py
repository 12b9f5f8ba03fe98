"""One tailer per container instance: stream its log, resume after drops, know when it ended.

The tailer always asks for ``timestamps=true``. When the stream ends it GETs the pod to
learn why: the same instance still running means the stream was dropped (resume with
``sinceTime``, the ``LineCutter`` drops what was already delivered); an instance that
ended is read to its end once more (the current log, or the previous one after a restart);
a pod that is gone ends the tailer.

A terminating pod's log is served until the pod object is removed (then the API server
answers 404, as a real one does): while the pod is being deleted, reads are retried
quickly (not waiting out ``Retry-After``), so its last lines (the shutdown) arrive. When
they could not be read before the pod went away — the stream had been cut, and every try
since failed — the tailer says so with a ``gap`` item: never silence.

Everything it produces goes to ``sink`` as tuples: ``("open", source)``,
``("data", source, bytes, arrival)``, ``("marker", marker)``, ``("notice", text)``,
``("gap", source, last_ts)`` (``last_ts``: the kubelet timestamp of the last line read, or
``""``), ``("close", source)``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from kubectl_trace.kube.errors import ApiError, KubeError
from kubectl_trace.kube.queries import LogQuery
from kubectl_trace.kube.retry import NO_RETRY, Backoff, RetryPolicy
from kubectl_trace.kube.stream import StreamStop
from kubectl_trace.logs.instances import InstanceCheck, check_instance
from kubectl_trace.logs.record import Marker, Source
from kubectl_trace.logs.resume import LineCutter, ResumePoint

if TYPE_CHECKING:
    from kubectl_trace.kube.calls import KubeClient, Stream

__all__ = ["Tailer"]

Sink = Callable[[tuple[Any, ...]], None]
_TERMINATING_RETRY = 0.1  # seconds between tries to read a terminating pod's log


@dataclass(eq=False)
class Tailer:
    """Streams one container instance into ``sink`` on its own thread.

    ``request`` is the first request's (``--tail``, ``--since``, previous, follow); ``marker``
    is said before the first line. ``gate`` is entered to open a stream: opening many at
    once (TLS handshakes) costs memory and CPU in a burst, so a shared semaphore lets a few
    open at a time.
    """

    kube: KubeClient
    source: Source
    _: KW_ONLY
    uid: str
    request: LogQuery
    sink: Sink
    marker: Marker | None = None
    policy: RetryPolicy = field(default_factory=lambda: Backoff(max_attempts=None, cap=2.0))
    clock: Callable[[], float] = time.time
    on_done: Callable[[Tailer], None] | None = None
    gate: Any = field(default_factory=contextlib.nullcontext)

    def __post_init__(self) -> None:
        self.point: ResumePoint | None = None
        self.delivered = 0
        self.skipped = 0
        self.requests = 0
        self.resumes = 0
        self.gaps = 0
        # The log may hold lines we have not read: a stream was opened and has not been read
        # to its clean end (it was cut). Cleared when a stream ends cleanly.
        self._unread = False
        self._terminating = False  # the pod is being deleted: retry without waiting long
        self._abandoned = False
        self._stop = StreamStop()
        self._thread: threading.Thread | None = None

    # -- control ----------------------------------------------------------------------

    def start(self) -> None:
        """Start streaming on a daemon thread."""
        self._thread = threading.Thread(
            target=self.run, name=f"tail {self.source.pod}/{self.source.container}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop now (from any thread): the open stream is closed so a blocked read returns."""
        self._stop.stop()

    def terminating(self) -> None:
        """The pod is being deleted (from any thread): retry reads without long waits."""
        self._terminating = True

    def abandon(self) -> None:
        """Stop because the pod was deleted a while ago: report a gap if lines were unread."""
        self._abandoned = True
        self._stop.stop()

    @property
    def stopped(self) -> bool:
        """Whether ``stop()`` was called."""
        return self._stop.stopped

    def join(self, timeout: float | None = None) -> None:
        """Wait for the thread."""
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        """Whether the thread still runs."""
        return self._thread is not None and self._thread.is_alive()

    # -- the loop ---------------------------------------------------------------------

    def run(self) -> None:
        """Stream until the instance's log is read to its end, the pod is gone, or stop()."""
        source = self.source
        self.sink(("open", source))
        try:
            if self.marker is not None:
                self.sink(("marker", self.marker))
            self._loop()
            if self._abandoned and self._unread:
                self._gap()
        except Exception as exc:  # never let a thread die silently
            if not self.stopped:
                self.sink(("notice", f"warning: stopped reading {source.pod}/{source.container}: {exc}"))
        finally:
            self.sink(("close", source))
            if self.on_done is not None:
                self.on_done(self)

    def _loop(self) -> None:
        request = self.request
        follow = request.follow
        previous = request.previous
        failures = 0
        empty = 0  # streams in a row that delivered nothing: resume more slowly
        racing_restart = False  # the instance ended but may restart before its last read
        while not self.stopped:
            cutter = LineCutter(self.point)
            try:
                stream = self._open(follow=follow, previous=previous)
            except KubeError as exc:
                next_step = self._open_failed(exc, failures + 1)
                if next_step == "stop":
                    return
                if next_step == "retry":
                    failures += 1
                    continue
                modes = self._recheck(follow, previous)
                if modes is None:
                    return
                follow, previous = modes
                continue
            failures = 0
            self._unread = True
            # The last read of an ended instance's *current* log races its restart: once the
            # next instance starts, "current" is the new one's log. Hold that read until a
            # fresh look at the pod says the instance is still the current one.
            hold: list[bytes] | None = [] if racing_restart and not previous else None
            ended_cleanly = self._pump(stream, cutter, hold)
            if self.stopped:
                return
            empty = empty + 1 if cutter.delivered == 0 else 0
            if not follow:
                if ended_cleanly:
                    outcome = self._finish_read(cutter, hold)
                    if outcome != "previous":
                        return
                    previous = True  # restarted meanwhile: read the instance's own log
                    self.resumes += 1
                    continue
                self.resumes += 1
                self._pause(empty)
                continue
            # A followed stream ended: dropped, or the instance stopped? (A follow ends
            # cleanly when the instance has exited and every line was sent.)
            self._unread = not ended_cleanly
            check = self._check()
            if check is None or self.stopped:
                return
            self._terminating = self._terminating or check.terminating
            if check.verdict == "running":
                self._unread = True  # it was a drop: the instance writes on
                self.resumes += 1
                self._pause(empty)
                continue
            if check.verdict == "gone":
                self._gone()
                return
            # Ended: read to the end once more without following (nothing is lost between
            # the last line we saw and the instance's end); then done.
            follow = False
            previous = previous or check.previous
            racing_restart = True
            self.resumes += 1

    def _finish_read(self, cutter: LineCutter, hold: list[bytes] | None) -> str:
        """The last read ended cleanly: deliver it (``done``) or read ``previous`` instead.

        ``previous`` when the read was held and the instance restarted meanwhile: what was
        held is the new instance's log.
        """
        if hold is not None:
            confirm = self._check()
            if confirm is None:
                return "done"
            if confirm.previous:
                return "previous"
        self._unread = False
        for data in hold or ():
            self.sink(("data", self.source, data, self.clock()))
        if hold:
            self.point = cutter.point
            self.delivered += cutter.delivered
        self._deliver(cutter.finish())
        return "done"

    def _open_failed(self, exc: KubeError, failures: int) -> str:
        """After a failed open: ``retry`` (after the back-off), ``recheck`` the instance, or ``stop``."""
        if isinstance(exc, ApiError):
            outcome = self._on_open_error(exc)
            if outcome == "done":
                if exc.status == 404:
                    self._gone()
                return "stop"
            if outcome == "recheck":
                return "recheck"
        return "retry" if self._backoff(exc, failures) else "stop"

    def _recheck(self, follow: bool, previous: bool) -> tuple[bool, bool] | None:
        """Look at the instance again: how to open its log now (follow, previous), or None when done."""
        check = self._check()
        if check is None:
            return None
        if check.verdict == "gone":
            self._gone()
            return None
        self._stop.wait(0.2)
        return follow and check.verdict == "running", previous or check.previous

    def _gone(self) -> None:
        """The pod (or this instance's log) is gone: a gap when lines may be unread."""
        if self._unread and not self.stopped:
            self._gap()

    def _gap(self) -> None:
        self._unread = False
        self.gaps += 1
        ts = self.point.since_time if self.point is not None else ""
        self.sink(("gap", self.source, ts))

    def _pause(self, empty: int) -> None:
        """A stream that ends again and again with nothing in it must not become a busy loop."""
        if empty:
            self._stop.wait(min(2.0, 0.05 * 2 ** (empty - 1)))

    def _open(self, *, follow: bool, previous: bool) -> Stream:
        with self.gate:
            return self._open_now(follow=follow, previous=previous)

    def _open_now(self, *, follow: bool, previous: bool) -> Stream:
        self.requests += 1
        start = self.request  # the first request's --tail / --since
        if self.point is not None:  # resuming: from the last line read
            start = LogQuery(since_time=self.point.since_time)
        source = self.source
        query = replace(start, container=source.container, follow=follow, previous=previous, timestamps=True)
        return self._stop.reading(self.kube.pod_log(source.namespace, source.pod, query))

    def _pump(self, stream: Stream, cutter: LineCutter, hold: list[bytes] | None = None) -> bool:
        """Read the stream to its end; True when it ended cleanly (not by an error).

        With ``hold`` the lines are collected there instead of delivered (and the resume
        point is not moved): the caller decides whether they belong to this instance.
        """
        sink = self.sink
        source = self.source
        clock = self.clock
        try:
            for chunk in stream.chunks():
                data = cutter.feed(chunk)
                if not data:
                    continue
                if hold is not None:
                    hold.append(data)
                    continue
                sink(("data", source, data, clock()))
                self.point = cutter.point
            return True
        except KubeError:
            return False
        finally:
            if hold is None:
                self.delivered += cutter.delivered
            self.skipped += cutter.skipped
            self._stop.release(stream)

    def _deliver(self, data: bytes) -> None:
        if data:
            self.sink(("data", self.source, data, self.clock()))
            self.delivered += data.count(b"\n")

    def _on_open_error(self, exc: ApiError) -> str:
        """``done``, ``recheck`` (look at the pod again) or ``retry``."""
        if exc.status == 404:
            return "done"
        if exc.status == 400:
            message = exc.message
            if (
                "waiting to start" in message
                or "ContainerCreating" in message
                or "PodInitializing" in message
            ):
                return "recheck"
            if not self.stopped:
                src = self.source
                self.sink(("notice", f"warning: {src.pod}/{src.container}: {message}"))
            return "done"
        if exc.retriable:
            return "retry"
        if not self.stopped:
            self.sink(("notice", f"warning: {self.source.pod}/{self.source.container}: {exc.message}"))
        return "done"

    def _backoff(self, exc: KubeError, failures: int) -> bool:
        decision = self.policy(exc, failures)
        if not decision.retry:
            if not self.stopped:
                src = self.source
                self.sink(("notice", f"warning: giving up on {src.pod}/{src.container}: {exc.message}"))
                if self._unread:
                    self._gap()
            return False
        delay = decision.delay
        if self._terminating:
            # The log is served only until the pod object is removed: no time to wait out a
            # Retry-After (the failed requests are cheap; the lost lines are not).
            delay = min(delay, _TERMINATING_RETRY)
        self._stop.wait(delay)
        return not self.stopped

    def _check(self) -> InstanceCheck | None:
        """GET the pod (retrying) and decide what became of this instance; None when stopped."""
        failures = 0
        source = self.source
        while not self.stopped:
            try:
                pod = self.kube.request(
                    "GET",
                    f"/api/v1/namespaces/{source.namespace}/pods/{source.pod}",
                    namespace=source.namespace,
                    retry=NO_RETRY,
                )
            except ApiError as exc:
                if exc.status == 404:
                    pod = None
                else:
                    failures += 1
                    if not self._backoff(exc, failures):
                        return None
                    continue
            except KubeError as exc:
                failures += 1
                if not self._backoff(exc, failures):
                    return None
                continue
            check = check_instance(pod, self.uid, source.container, source.instance)
            self._terminating = self._terminating or check.terminating
            return check
        return None
