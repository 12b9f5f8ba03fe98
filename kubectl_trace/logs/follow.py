"""Pods → tailers: which container instances to stream, started and replaced as pods change.

Following, a ``ResilientWatch`` on pods feeds ``update``/``removed``: pods present at the
start are read from ``--tail``/``--since``; pods and container instances that appear later
(rollouts, scale-ups, restarts) from their first line, a restart with a marker first.
Without ``-f`` the pods are listed once. At most ``max_streams`` tailers run at once; the
others wait their turn and a warning says how many.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, replace
from typing import TYPE_CHECKING, Any

from kubectl_trace.kube.queries import LogQuery
from kubectl_trace.logs.instances import ContainerView, container_names, container_view, pod_uid
from kubectl_trace.logs.options import LogsOptions
from kubectl_trace.logs.record import Marker, Source
from kubectl_trace.logs.tailer import Sink, Tailer
from kubectl_trace.timeparse import format_rfc3339_nano, parse_rfc3339

if TYPE_CHECKING:
    from kubectl_trace.kube.calls import KubeClient

__all__ = ["Supervisor"]

_UNSEEN = object()


def _nano(ts: str | None) -> str:
    if not ts:
        return ""
    try:
        return format_rfc3339_nano(parse_rfc3339(ts))
    except ValueError:
        return ts


@dataclass(eq=False)
class Supervisor:
    """Decides which instances are tailed and runs their tailers."""

    kube: KubeClient
    target: Any
    options: LogsOptions
    sink: Sink
    _: KW_ONLY
    clock: Callable[[], float] = time.time
    make_tailer: Callable[..., Tailer] = Tailer
    grace: float = 5.0

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._tracked: dict[tuple[str, str], Any] = {}
        self._pods: dict[str, Mapping[str, Any]] = {}
        self._active: dict[int, Tailer] = {}
        self._waiting: deque[Tailer] = deque()
        self._all: list[Tailer] = []
        self._warned_waiting = 0
        self._last_warning = 0.0
        self._watch: Any = None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self._timers: list[threading.Timer] = []
        self._no_previous = 0
        self._gate = threading.BoundedSemaphore(16)  # streams being opened at once
        self.started = 0
        self.launched = 0
        self.finished_listing = False

    # -- queries ----------------------------------------------------------------------

    @property
    def active(self) -> int:
        """Tailers running now."""
        with self._lock:
            return len(self._active)

    @property
    def waiting(self) -> int:
        """Tailers waiting for a free stream slot."""
        with self._lock:
            return len(self._waiting)

    @property
    def tailers(self) -> list[Tailer]:
        """The tailers not finished yet (running or waiting)."""
        with self._lock:
            return list(self._all)

    @property
    def no_previous(self) -> int:
        """Containers skipped by ``--previous`` because they never restarted."""
        return self._no_previous

    # -- decisions --------------------------------------------------------------------

    def _pod_selected(self, pod: Mapping[str, Any]) -> bool:
        if not self.target.matches(pod):
            return False
        exclude = self.options.exclude_pod
        return not (exclude is not None and exclude.search((pod.get("metadata") or {}).get("name", "")))

    def _source(self, pod: Mapping[str, Any], name: str, total: int, instance: str) -> Source:
        meta = pod.get("metadata") or {}
        ns, pod_name = str(meta.get("namespace") or self.kube.namespace), str(meta.get("name"))
        label = pod_name if total == 1 else f"{pod_name}/{name}"
        if self.options.all_namespaces:
            label = f"{ns}/{label}"
        return Source(ns, pod_name, name, instance, label)

    def update(self, pod: Mapping[str, Any], *, initial: bool) -> None:
        """A pod as the API shows it now: start tailers for instances not yet tailed."""
        self._update(pod, initial=initial)
        with self._lock:
            self._warn_waiting()

    def _update(self, pod: Mapping[str, Any], *, initial: bool) -> None:
        if not self._pod_selected(pod):
            return
        uid = pod_uid(pod)
        opts = self.options
        with self._lock:
            self._pods[uid] = pod
            if (pod.get("metadata") or {}).get("deletionTimestamp"):
                for tailer in self._all:  # its log is served only until the pod is removed
                    if tailer.uid == uid:
                        tailer.terminating()
            names, total = container_names(pod, opts.container, opts.exclude_container)
            for name in names:
                view = container_view(pod, name)
                key = (uid, name)
                known = self._tracked.get(key, _UNSEEN)
                if opts.previous:
                    if known is _UNSEEN:
                        self._tracked[key] = view.previous
                        self._start_previous(pod, view, total)
                    continue
                if view.instance is None:
                    if known is _UNSEEN:
                        self._tracked[key] = None
                    continue
                if known == view.instance:
                    continue
                self._tracked[key] = view.instance
                from_start = not (initial and known is _UNSEEN)
                marker = None
                if known is not _UNSEEN and known is not None:
                    marker = Marker(
                        self._source(pod, name, total, view.instance),
                        _nano(view.started_at),
                        "restarted",
                        view.last_exit_code,
                        view.last_reason,
                        single_container=total == 1,
                        arrival=self.clock(),
                    )
                self._start(pod, view, total, from_start=from_start, marker=marker)

    def _window(self, *, follow: bool, previous: bool) -> LogQuery:
        """A request for the lines ``--tail`` / ``--since`` ask for."""
        opts = self.options
        return LogQuery(
            follow=follow,
            previous=previous,
            tail_lines=opts.tail,
            since_seconds=opts.since_seconds,
            since_time=opts.since_time,
        )

    def _start_previous(self, pod: Mapping[str, Any], view: ContainerView, total: int) -> None:
        if view.previous is None:
            self._no_previous += 1
            return
        self._launch(pod, view.name, total, view.previous, self._window(follow=False, previous=True), None)

    def _start(
        self,
        pod: Mapping[str, Any],
        view: ContainerView,
        total: int,
        *,
        from_start: bool,
        marker: Marker | None,
    ) -> None:
        opts = self.options
        assert view.instance is not None
        # A crash-looping container waits with its last run in lastState: that log is "previous".
        previous = not view.running and view.instance == view.previous
        follow = opts.follow and view.running
        if from_start:
            request = LogQuery(follow=follow, previous=previous)
        else:
            request = self._window(follow=follow, previous=previous)
        self._launch(pod, view.name, total, view.instance, request, marker)

    def _launch(
        self,
        pod: Mapping[str, Any],
        name: str,
        total: int,
        instance: str,
        request: LogQuery,
        marker: Marker | None,
    ) -> None:
        source = self._source(pod, name, total, instance)
        if marker is not None:
            marker = replace(marker, source=source)
        tailer = self.make_tailer(
            self.kube,
            source,
            uid=pod_uid(pod),
            request=request,
            sink=self.sink,
            marker=marker,
            clock=self.clock,
            on_done=self._done,
            gate=self._gate,
        )
        self._all.append(tailer)
        self.launched += 1
        if len(self._active) < self.options.max_streams:
            self._active[id(tailer)] = tailer
            self.started += 1
            tailer.start()
        else:
            self._waiting.append(tailer)

    def _warn_waiting(self) -> None:
        if not self.options.follow:
            return  # without -f every container is read, max_streams at a time
        count = len(self._waiting)
        now = time.monotonic()
        if count > self._warned_waiting and (
            count - self._warned_waiting >= 10 or now - self._last_warning > 5
        ):
            self._warned_waiting = count
            self._last_warning = now
            total = count + len(self._active)
            verb = "is" if count == 1 else "are"
            self.sink(
                (
                    "notice",
                    f"warning: {total} containers match but --max-streams is {self.options.max_streams}: "
                    f"{count} {verb} not followed (raise --max-streams to see them all)",
                )
            )

    def _done(self, tailer: Tailer) -> None:
        with self._lock:
            self._active.pop(id(tailer), None)
            if tailer in self._all:
                self._all.remove(tailer)
            while (
                self._waiting and len(self._active) < self.options.max_streams and not self._stopped.is_set()
            ):
                nxt = self._waiting.popleft()
                self._active[id(nxt)] = nxt
                self.started += 1
                nxt.start()
            if len(self._waiting) < self._warned_waiting:
                self._warned_waiting = len(self._waiting)
            finished = not self._active and not self._waiting
        if finished and self.finished_listing and not self.options.follow:
            self.sink(("end",))

    def removed(self, pod: Mapping[str, Any]) -> None:
        """A pod was deleted: its tailers read their streams to the end, then stop.

        At the latest ``grace`` seconds later they are stopped (reporting a gap when their
        log may hold lines they could not read).
        """
        uid = pod_uid(pod)
        with self._lock:
            self._pods.pop(uid, None)
            for key in [k for k in self._tracked if k[0] == uid]:
                del self._tracked[key]
            doomed = [t for t in self._all if t.uid == uid]
            self._waiting = deque(t for t in self._waiting if t.uid != uid)
        if doomed:

            def stop_doomed() -> None:
                for tailer in doomed:
                    tailer.abandon()

            timer = threading.Timer(self.grace, stop_doomed)
            timer.daemon = True
            self._timers.append(timer)
            timer.start()

    def reset(self, items: tuple[Mapping[str, Any], ...], *, initial: bool) -> None:
        """A full list (the watch's first, or a relist after expiry)."""
        present = {pod_uid(p) for p in items}
        if not initial:
            with self._lock:
                gone = [p for uid, p in self._pods.items() if uid not in present]
            for pod in gone:
                self.removed(pod)
        for pod in sorted(items, key=lambda p: (p.get("metadata") or {}).get("name", "")):
            self._update(pod, initial=initial)
        with self._lock:
            self._warn_waiting()

    # -- running ----------------------------------------------------------------------

    def list_once(self, pods: Sequence[Mapping[str, Any]] | None = None) -> int:
        """Without ``-f``: list the pods (unless given), start their tailers; return how many."""
        if pods is None:
            pods = self.kube.list_selection(self.target.pods).items
        self.reset(tuple(pods), initial=True)
        with self._lock:
            self.finished_listing = True
            count = self.launched
            finished = not self._active and not self._waiting
        if count and finished:
            self.sink(("end",))
        return count

    def follow(self) -> None:
        """Start watching pods on a thread; events go to ``update``/``removed``."""
        from kubectl_trace.kube.watch import ResilientWatch

        self._watch = ResilientWatch(self.kube, self.target.pods)
        self._thread = threading.Thread(target=self._watch_loop, name="watch pods", daemon=True)
        self._thread.start()

    def _watch_loop(self) -> None:
        first = True
        down = False
        failures = 0
        try:
            for event in self._watch:
                kind = event.type
                if kind == "RESET":
                    self.reset(event.items, initial=first)
                    if first:
                        first = False
                        self.sink(("listed", self.launched))
                elif kind in ("ADDED", "MODIFIED"):
                    if event.object is not None:
                        self.update(event.object, initial=False)
                elif kind == "DELETED":
                    if event.object is not None:
                        self.removed(event.object)
                elif kind == "DISCONNECTED":
                    # A dropped watch is resumed at once; say so only when that fails too.
                    failures += 1
                    if failures >= 2 and not down and event.error is not None:
                        down = True
                        self.sink(("notice", f"warning: watching pods: {event.error.message}; retrying"))
                elif kind == "RECONNECTED":
                    failures = 0
                    if down:
                        down = False
                        self.sink(("notice", "note: watching pods again"))
        except Exception as exc:  # a KubeError, or a bug: neither may leave the user waiting for ever
            if not self._stopped.is_set():
                self.sink(("fatal", exc))

    def stop(self, timeout: float = 1.0) -> None:
        """Stop the watch and every tailer, and wait (briefly) for their threads."""
        self._stopped.set()
        if self._watch is not None:
            self._watch.stop()
        for timer in self._timers:
            timer.cancel()
        with self._lock:
            tailers = list(self._all)
            self._waiting.clear()
        for tailer in tailers:
            tailer.stop()
        deadline = time.monotonic() + timeout
        for tailer in tailers:
            tailer.join(max(0.0, deadline - time.monotonic()))
        if self._thread is not None:
            self._thread.join(max(0.0, deadline - time.monotonic()))
