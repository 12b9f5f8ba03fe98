"""The single writer: tailer output → group → filter → merge → render → one buffered stdout.

Tailer threads put tuples on one queue; only the thread that runs ``Pipeline.run_loop``
touches the output. While following, output is flushed at most ``flush_interval`` after
it was produced, so ``… | grep`` sees lines live.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from kubectl_trace.errors import ExitStatus, NodeappError
from kubectl_trace.logs.filters import EntryFilter
from kubectl_trace.logs.group import Grouper
from kubectl_trace.logs.merge import TimeMerger
from kubectl_trace.logs.options import LogsOptions
from kubectl_trace.logs.output import BufferedOutput
from kubectl_trace.logs.record import Entry, Marker, Source
from kubectl_trace.logs.render import make_renderer
from kubectl_trace.textsafe import visible

if TYPE_CHECKING:
    from kubectl_trace.kube.calls import KubeClient

__all__ = ["Pipeline", "run_logs", "short_time", "strip_timestamps"]


def short_time(ts: str) -> str:
    """``2026-01-02T03:09:14.130000000Z`` → ``03:09:14.13`` (the kubelet's time, to 1/100 s)."""
    _, sep, clock = ts.partition("T")
    return clock[:11] if sep and len(clock) >= 11 else ts


def strip_timestamps(data: bytes) -> bytes:
    """Complete kubelet lines without their timestamps (everything up to the first space)."""
    lines = data.split(b"\n")
    lines.pop()
    lines = [line[line.find(b" ") + 1 :] for line in lines]
    lines.append(b"")
    return b"\n".join(lines)


class Pipeline:
    """Turns the queue's items into output (single-threaded; the tailers only enqueue)."""

    def __init__(
        self,
        options: LogsOptions,
        stdout: IO[str],
        stderr: IO[str],
        *,
        color: bool,
        terminal: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.options = options
        self.stderr = stderr
        self.clock = clock
        self.queue: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        # -o raw is byte-exact into a pipe or a file; on a terminal it is shown safely
        # (control characters visible) unless --raw-bytes asks for the bytes.
        safe_raw = terminal and not options.raw_bytes
        self.renderer = make_renderer(
            options.output,
            color=color,
            timestamps=options.timestamps,
            highlight=options.highlight,
            safe_raw=safe_raw,
        )
        self.filter = EntryFilter(
            level=options.level,
            include=options.include,
            exclude=options.exclude,
            parse=self.renderer.parse,
        )
        self.out = BufferedOutput(stdout)
        self.merger = (
            TimeMerger(self._emit, delay=options.order_delay, follow=options.follow)
            if options.order == "time"
            else None
        )
        self.grouper = Grouper(self._grouped, hold=options.group_hold)
        direct = not self.filter.active and self.merger is None
        self.fast_raw = direct and options.output == "raw" and not safe_raw
        self.direct = direct
        self.lines_in = 0
        self.entries_out = 0
        self.gaps = 0
        self.ended = False
        self.waiting_text = "no running containers match yet"

    # -- input ------------------------------------------------------------------------

    def put(self, item: tuple[Any, ...]) -> None:
        """The tailers' sink (thread-safe)."""
        self.queue.put(item)

    def handle(self, item: tuple[Any, ...]) -> None:
        """Process one queued item."""
        kind = item[0]
        if kind == "data":
            self._data(item[1], item[2], item[3])
        elif kind == "open":
            if self.merger is not None:
                self.merger.open(item[1])
        elif kind == "close":
            source = item[1]
            self.grouper.flush_source(source)
            if self.merger is not None:
                self.merger.close(source)
        elif kind == "marker":
            marker: Marker = item[1]
            self.grouper.flush_source(marker.source)
            if self.merger is not None:
                self.merger.add(marker)
            else:
                self._emit(marker)
        elif kind == "notice":
            self.notice(item[1])
        elif kind == "gap":
            self._gap(item[1], item[2])
        elif kind == "listed":
            if item[1] == 0:
                self.notice(f"{self.waiting_text}; waiting for them (Ctrl-C to stop)")
        elif kind == "fatal":
            raise item[1]
        elif kind == "end":
            self.ended = True

    def _data(self, source: Source, data: bytes, arrival: float) -> None:
        if self.fast_raw:
            self.out.write_bytes(data if self.options.timestamps else strip_timestamps(data), arrival)
            return
        text = data.decode("utf-8", "replace")
        lines = text.split("\n")
        lines.pop()
        self.lines_in += len(lines)
        if self.direct:
            self._direct(source, lines, arrival)
            return
        add = self.grouper.add
        for line in lines:
            ts, _, rest = line.partition(" ")
            add(Entry(source, ts, rest, arrival))

    def _direct(self, source: Source, lines: list[str], arrival: float) -> None:
        """Arrival order, nothing filtered: group and render in one loop (the hot path)."""
        grouper = self.grouper
        render_line = self.renderer.line
        render_entry = self.renderer.entry
        max_lines = grouper.max_lines
        parts: list[str] = []
        held = grouper.take(source)
        for line in lines:
            ts, _, text = line.partition(" ")
            first = text[:1]
            if first == "{":
                if held is not None:
                    parts.append(render_entry(held))
                    held = None
                parts.append(render_line(source, ts, text))
            elif held is not None and (first == " " or first == "\t"):
                more = held.more
                if more is None:
                    held.more = [(ts, text)]
                else:
                    more.append((ts, text))
                    if len(more) >= max_lines:
                        parts.append(render_entry(held))
                        held = None
            else:
                if held is not None:
                    parts.append(render_entry(held))
                held = Entry(source, ts, text, arrival)
        if held is not None:
            grouper.hold_entry(held)
        if parts:
            self.out.write("".join(parts), arrival)

    def _gap(self, source: Source, last_ts: str) -> None:
        """Lines of a deleted pod that could not be read: one warning, and a record in -o json."""
        self.grouper.flush_source(source)
        self.gaps += 1
        after = f"lines after {short_time(last_ts)}" if last_ts else "its lines"
        self.notice(
            f"warning: pod {source.label} was deleted before its log could be resumed; {after} may be missing"
        )
        record = self.renderer.gap(source, last_ts)
        if record:
            self.out.write(record, self.clock())

    # -- stages -----------------------------------------------------------------------

    def _grouped(self, entry: Entry) -> None:
        if self.filter.active and not self.filter.accepts(entry):
            return
        if self.merger is not None:
            self.merger.add(entry)
        else:
            self._emit(entry)

    def _emit(self, item: Any) -> None:
        if type(item) is Entry:
            self.out.write(self.renderer.entry(item), item.arrival)
            self.entries_out += 1
            return
        text, to_stderr = self.renderer.marker(item)
        if to_stderr:
            self.out.flush()
            self._stderr(text)
        else:
            self.out.write(text, item.arrival)

    # -- output -----------------------------------------------------------------------

    def notice(self, text: str) -> None:
        """A line for stderr (warnings, waiting notes), after what stdout already has."""
        self.out.flush()
        self._stderr(visible(text) + "\n")

    def _stderr(self, text: str) -> None:
        try:
            self.stderr.write(text)
            self.stderr.flush()
        except (OSError, ValueError):
            pass

    def tick(self, now: float) -> float | None:
        """Timed work (held lines, the time merge, flushes); return the next deadline."""
        follow = self.options.follow
        due: float | None = None
        if follow and self.grouper.pending:
            due = self.grouper.flush_due(now)
        if self.merger is not None:
            merge_due = self.merger.release(now)
            if merge_due is not None and (due is None or merge_due < due):
                due = merge_due
        out = self.out
        if out.pending:
            if out.size >= out.limit:
                out.flush()
            elif follow:
                since = out.since if out.since is not None else now
                flush_at = since + self.options.flush_interval
                if flush_at <= now:
                    out.flush()
                elif due is None or flush_at < due:
                    due = flush_at
        return due

    def finish(self) -> None:
        """Emit everything held and flush (end of input, or interrupted)."""
        self.grouper.flush_all()
        if self.merger is not None:
            self.merger.flush_all()
        self.out.flush()

    def run_loop(self, *, idle: float = 1.0, batch: float = 0.01) -> None:
        """Consume the queue until an ``end`` item (without -f) or an interrupt.

        While following, after each wake-up the loop pauses ``batch`` seconds so that lines
        of many streams are handled (and written) together: one wake-up per batch instead
        of one per line.
        """
        q = self.queue
        get = q.get
        get_nowait = q.get_nowait
        empty = q.empty
        clock = self.clock
        pause = batch if self.options.follow else 0.0
        due: float | None = None
        while not self.ended:
            timeout = idle if due is None else max(0.0, min(idle, due - clock()))
            try:
                item = get(timeout=timeout)
            except queue.Empty:
                item = None
            if item is not None:
                self.handle(item)
                while not self.ended and not empty():
                    self.handle(get_nowait())
            due = self.tick(clock())
            if pause and item is not None:
                time.sleep(pause)
        self.finish()


def _resolve(kube: KubeClient, options: LogsOptions) -> Any:
    from kubectl_trace.kube.targets import resolve

    return resolve(kube, options.target, options.pods, process=options.process)


class _Background:
    """Run a call on a thread; ``result()`` waits and returns it (or raises its exception)."""

    def __init__(self, call: Callable[[], Any]) -> None:
        self._call = call
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="list pods", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._call()
        except BaseException as exc:
            self._error = exc

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def _list_pods(kube: KubeClient, options: LogsOptions) -> list[dict[str, Any]]:
    return list(kube.list_selection(options.pods).items)


def run_logs(options: LogsOptions, env: Any, *, kube: KubeClient | None = None) -> int:
    """Run ``kubectl nodeapp logs`` with ``env``'s streams; return the exit status."""
    from kubectl_trace.kube.client import connect_best
    from kubectl_trace.logs.follow import Supervisor

    own_kube = kube is None
    if kube is None:
        kube = connect_best(options.kube)
    configuration = getattr(getattr(kube, "conn", None), "configuration", None)
    if configuration is not None and "api_client" not in kube.__dict__:
        # One pooled connection per stream, or urllib3 discards (and warns about) the extras.
        configuration.connection_pool_maxsize = max(
            getattr(configuration, "connection_pool_maxsize", 0) or 0, options.max_streams + 8
        )
    pipeline = Pipeline(options, env.stdout, env.stderr, color=env.color, terminal=env.stdout_isatty)
    supervisor: Supervisor | None = None
    try:
        namespace = options.kube.namespace or kube.namespace
        where = "in all namespaces" if options.all_namespaces else f'in namespace "{namespace}"'
        # Without -f the pod list does not depend on TARGET (pods are matched here): ask for
        # it while TARGET is resolved, one round trip less before the first line.
        listing = None if options.follow else _Background(lambda: _list_pods(kube, options))
        target = _resolve(kube, options)
        pipeline.waiting_text = f"no running containers of {target.description} {where} yet"
        supervisor = Supervisor(kube, target, options, pipeline.put, clock=pipeline.clock)
        if options.follow:
            if not options.all_namespaces:
                kube.require_namespace(namespace)
            supervisor.follow()
        else:
            assert listing is not None
            started = supervisor.list_once(listing.result())
            if started == 0:
                if not options.all_namespaces:
                    kube.require_namespace(namespace)
                if options.previous and supervisor.no_previous:
                    raise NodeappError(
                        f"no container of {target.description} {where} has restarted: "
                        "there is no previous log to show",
                        "drop --previous to see the current logs",
                    )
                raise NodeappError(
                    f"no containers with logs for {target.description} {where}",
                    "list them with: kubectl get pods"
                    + ("" if options.all_namespaces else f" -n {namespace}")
                    + ", or follow with -f to wait for them",
                )
        try:
            pipeline.run_loop()
        except KeyboardInterrupt:
            supervisor.stop(timeout=0.3)
            pipeline.finish()
            return ExitStatus.INTERRUPTED
        if options.previous and supervisor.no_previous:
            pipeline.notice(
                f"note: {supervisor.no_previous} container(s) never restarted: no previous log for them"
            )
        return ExitStatus.OK
    finally:
        if supervisor is not None:
            supervisor.stop(timeout=0.5)
        if own_kube:
            kube.close()
