"""``kubectl nodeapp events``: one timeline for a Deployment, its ReplicaSets and its pods.

Events are listed with field selectors on ``involvedObject.kind`` (and ``.name`` where one
object is meant), merged, scoped to the TARGET by name (a Deployment's ReplicaSets and pods,
gone ones included) and sorted by last occurrence. ``-w`` keeps one resilient watch per
selector open and prints each new or updated event as it arrives.
"""

from __future__ import annotations

import argparse
import json
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubectl_trace.cli.options import CommonOptions, PodQuery, add_pod_query_arguments, options_from
from kubectl_trace.environment import Environment
from kubectl_trace.errors import UsageError

if TYPE_CHECKING:
    from rich.text import Text

    from kubectl_trace.health.events import EventRecord, EventScope
    from kubectl_trace.kube.calls import KubeClient
    from kubectl_trace.kube.queries import Selection
    from kubectl_trace.kube.targets import Target

    # the timeline's filter: records, and the time before which none are shown (None: all)
    _Select = Callable[[Iterable[EventRecord], float | None], list[EventRecord]]

DESCRIPTION = (
    "One timeline of the events of a Deployment, its ReplicaSets and its pods (including pods\n"
    "already replaced by a rollout): time, object, type, reason, message and how often it\n"
    "happened (×12 over 3m). Warnings stand out. -w keeps following new and updated events."
)
EXAMPLES = """\
  kubectl nodeapp events trace-api -n production
  kubectl nodeapp events deploy/trace-api-web --since 10m --types Warning
  kubectl nodeapp events trace-api --process web -w
  kubectl nodeapp events -A --types Warning --since 1h"""

_TYPES = ("Normal", "Warning")
_KINDS = ("Deployment", "ReplicaSet", "Pod")


@dataclass(frozen=True)
class EventsOptions:
    """Options of ``events``."""

    common: CommonOptions
    query: PodQuery
    watch: bool
    since: str | None
    types: tuple[str, ...] | None
    output: str
    all_namespaces: bool = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``events``."""
    parser.add_argument("-w", "--watch", action="store_true", help="after the timeline, follow new events")
    parser.add_argument(
        "--since", metavar="D", help="only events seen in the last D (5m, 1h) or since a time"
    )
    parser.add_argument(
        "--types", metavar="T", help="comma-separated event types to show: Normal, Warning (default: both)"
    )
    parser.add_argument("-o", "--output", choices=("pretty", "json"), default="pretty", help="output format")
    add_pod_query_arguments(parser)
    parser.add_argument(
        "-A", "--all-namespaces", action="store_true", help="the events of every namespace (no TARGET)"
    )


def parse_options(args: argparse.Namespace, common: CommonOptions) -> EventsOptions:
    """Validate the flags."""
    from kubectl_trace.timeparse import parse_since

    query = PodQuery.from_args(args)
    if args.all_namespaces and query.given:
        raise UsageError(
            "-A shows every namespace's events and takes no TARGET, --process or -l",
            hint="name the namespace instead: -n NAMESPACE",
        )
    if args.since is not None:
        parse_since(args.since, now=time.time())
    types: tuple[str, ...] | None = None
    if args.types is not None:
        chosen = []
        for part in args.types.split(","):
            name = part.strip().capitalize()
            if name not in _TYPES:
                raise UsageError(
                    f"invalid --types {args.types!r}: expected Normal, Warning or both (comma-separated)"
                )
            chosen.append(name)
        types = tuple(dict.fromkeys(chosen))
    return options_from(EventsOptions, args, common, query=query, types=types)


# -- which events ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """The event queries for a target, and the scope that filters their answers."""

    scope: EventScope
    selectors: tuple[str | None, ...]  # field selectors; None = every event of the namespace
    description: str


def plan_for(kube: KubeClient, target: Target) -> _Plan:
    """Decide the field selectors and the scope for a resolved TARGET (lists pods when needed)."""
    from kubectl_trace.health.events import EventScope

    kind_only = tuple(f"involvedObject.kind={k}" for k in _KINDS)
    if target.kind == "pod" and target.pod_name:
        name = target.pod_name
        return _Plan(
            EventScope.of(pods=[name]),
            (f"involvedObject.kind=Pod,involvedObject.name={name}",),
            target.description,
        )
    narrowed = target.process is not None or bool(target.labels)
    if target.kind in ("deployment", "app") and not target.labels:
        names = [str(d["metadata"]["name"]) for d in target.deployments]
        if len(names) == 1:
            selectors: tuple[str | None, ...] = (
                f"involvedObject.kind=Deployment,involvedObject.name={names[0]}",
                *kind_only[1:],
            )
        else:
            selectors = kind_only
        return _Plan(EventScope.of(deployments=names), selectors, target.description)
    if target.kind == "all" and not narrowed:
        return _Plan(EventScope.of(everything=True), (None,), f"namespace {target.namespace}")
    # Narrowed by labels or process (or a regex): the pods that match now, and their owners.
    pods = target.select(kube.list("pods", target.namespace, label_selector=target.label_selector).items)
    pod_names = [str(p["metadata"]["name"]) for p in pods]
    owners = [
        str(ref.get("name"))
        for p in pods
        for ref in p["metadata"].get("ownerReferences") or []
        if ref.get("kind") == "ReplicaSet"
    ]
    deployments = [str(d["metadata"]["name"]) for d in target.deployments] if not target.labels else []
    pattern = target.pod_regex if target.kind == "regex" and not narrowed else None
    return _Plan(
        EventScope.of(pods=pod_names, replicasets=owners, deployments=deployments, name_pattern=pattern),
        kind_only,
        target.description,
    )


# -- rendering -----------------------------------------------------------------------------


def _clock_text(at: float, now: float) -> str:
    local = time.localtime(at)
    if now - at >= 20 * 3600:
        return time.strftime("%m-%d %H:%M", local)
    return time.strftime("%H:%M:%S", local)


def event_json(record: EventRecord) -> dict[str, Any]:
    """One event as a JSON object (``-o json`` prints one per line)."""
    from kubectl_trace.health import to_json

    data: dict[str, Any] = to_json(record)
    data["object"] = record.object_ref
    data["span"] = record.span
    return data


class _Printer:
    """Writes event lines: aligned text with Warnings highlighted, or JSON lines."""

    def __init__(
        self, env: Environment, output: str, object_width: int = 40, *, namespaces: bool = False
    ) -> None:
        self.env = env
        self.output = output
        self.object_width = object_width
        self.reason_width = 17
        # -A: a NAMESPACE column (0 = none)
        self.namespace_width = 12 if namespaces else 0
        self.console = env.console() if output == "pretty" else None

    def fit(self, records: Sequence[EventRecord]) -> None:
        """Size the columns for these records."""
        if records:
            self.object_width = min(60, max(len(r.object_ref) for r in records))
            self.reason_width = min(28, max(17, *(len(r.reason) for r in records)))
            if self.namespace_width:
                self.namespace_width = min(40, max(9, *(len(r.namespace) for r in records)))

    def header(self) -> None:
        """The column titles (pretty output only)."""
        if self.console is None:
            return
        from rich.text import Text

        namespace = f"{'NAMESPACE':<{self.namespace_width}}  " if self.namespace_width else ""
        head = (
            f"{'LAST SEEN':<8}  {namespace}{'TYPE':<10}{'OBJECT':<{self.object_width}}  "
            f"{'REASON':<{self.reason_width}}  MESSAGE"
        )
        self.console.print(Text(head, style="bold"), soft_wrap=True)

    def line(self, record: EventRecord, now: float) -> Text:
        """One event as a rich Text line (cluster text shown safely: ``textsafe``)."""
        from rich.text import Text

        from kubectl_trace.textsafe import safe_text, visible

        text = Text()
        text.append(f"{_clock_text(record.at, now):<8}  ", style="dim")
        if self.namespace_width:
            text.append(f"{record.namespace:<{self.namespace_width}}  ", style="blue")
        if record.warning:
            text.append(f"{'⚠ Warning':<10}", style="bold yellow")
        else:
            text.append(f"{'  ' + (record.type or 'Normal'):<10}", style="dim")
        text.append(f"{visible(record.object_ref):<{self.object_width}}  ", style="cyan")
        reason = visible(record.reason)
        text.append(f"{reason:<{self.reason_width}}  ", style="bold red" if record.warning else "bold")
        text.append(safe_text(record.message), style="yellow" if record.warning else "")
        if record.span:
            text.append(f"  {record.span}", style="magenta")
        return text

    def emit(self, records: Iterable[EventRecord], now: float) -> int:
        """Print records; flush so a pipe sees them at once. Returns how many."""
        count = 0
        for record in records:
            if self.console is not None:
                self.console.print(self.line(record, now), soft_wrap=True)
            else:
                self.env.stdout.write(json.dumps(event_json(record)) + "\n")
            count += 1
        self.env.stdout.flush()
        return count


# -- running ---------------------------------------------------------------------------------


def _events_in(namespace: str | None, selector: str | None) -> Selection:
    """The events of ``namespace`` (None: every namespace) that the field ``selector`` matches."""
    from kubectl_trace.kube.queries import Selection

    return Selection("events", namespace, all_namespaces=namespace is None, field_selector=selector)


def _collect(
    kube: KubeClient, namespace: str | None, selectors: Sequence[str | None]
) -> list[dict[str, Any]]:
    """The events the selectors match, once each (``namespace`` None: every namespace)."""
    items: dict[str, dict[str, Any]] = {}
    for selector in selectors:
        listed = kube.list_selection(_events_in(namespace, selector))
        for event in listed.items:
            meta = event.get("metadata") or {}
            items[str(meta.get("uid") or f"{meta.get('namespace')}/{meta.get('name')}")] = event
    return list(items.values())


def run(options: EventsOptions, env: Environment) -> int:
    """List (and with -w, follow) the events of the TARGET."""
    from kubectl_trace.cli.client import connected
    from kubectl_trace.health.events import EventScope, event_record, timeline
    from kubectl_trace.timeparse import parse_since

    # The lean client when the kubeconfig allows it: ~0.5 s sooner than the official one.
    with connected(options.common, env) as kube:
        namespace: str | None
        if options.all_namespaces:
            namespace = None
            plan = _Plan(EventScope.of(everything=True), (None,), "any object")
        else:
            namespace, target = options.query.resolve(kube)
            plan = plan_for(kube, target)
        since_at = parse_since(options.since, now=env.clock()) if options.since else None
        printer = _Printer(env, options.output, namespaces=options.all_namespaces)

        def select(records: Iterable[EventRecord], since: float | None) -> list[EventRecord]:
            return timeline(
                (r for r in records if plan.scope.matches(r)), since_at=since, types=options.types
            )

        if not options.watch:
            records = select((event_record(e) for e in _collect(kube, namespace, plan.selectors)), since_at)
            if not records:
                where = "any namespace" if namespace is None else f"namespace {namespace}"
                env.stderr.write(f"No events for {plan.description} in {where}.\n")
                return 0
            printer.fit(records)
            printer.header()
            printer.emit(records, env.clock())
            return 0
        return _follow(kube, namespace, plan, printer, select, since_at, env)


class _Timeline:
    """What ``events -w`` shows: the merged first lists once every watch has one, then what changed."""

    def __init__(
        self, printer: _Printer, select: _Select, since_at: float | None, watches: int, env: Environment
    ) -> None:
        self.printer = printer
        self.select = select
        self.since_at = since_at
        self.watches = watches
        self.env = env
        self.printed: dict[str, tuple[int, float]] = {}  # event uid → (count, last) already shown
        self.initial: dict[int, list[EventRecord]] = {}
        self.started = False
        self.disconnected = False

    def _fresh(self, records: Iterable[EventRecord]) -> list[EventRecord]:
        out = []
        for r in records:
            mark = (r.count, r.at)
            if self.printed.get(r.uid) != mark:
                self.printed[r.uid] = mark
                out.append(r)
        return out

    def _emit(self, records: Iterable[EventRecord]) -> None:
        self.printer.emit(self._fresh(self.select(records, None)), self.env.clock())

    def listed(self, index: int, records: list[EventRecord]) -> None:
        """Watch ``index`` (re)listed: the start once all have, later what changed meanwhile."""
        if self.started:  # a relist after expiry
            self._emit(records)
            return
        self.initial[index] = records
        if len(self.initial) < self.watches:
            return
        self.started = True
        merged = {r.uid: r for batch in self.initial.values() for r in batch}
        first = self._fresh(self.select(merged.values(), self.since_at))
        self.printer.fit(first)
        if self.printer.output == "pretty":
            self.printer.header()
        self.printer.emit(first, self.env.clock())

    def changed(self, index: int, record: EventRecord) -> None:
        """An event was added or changed (kept for the start until every watch has listed)."""
        if self.started:
            self._emit([record])
        else:
            self.initial.setdefault(index, []).append(record)

    def connection(self, up: bool, error: str) -> None:
        """Say once that the watch lost the API server, and once that it is back."""
        if not up and not self.disconnected:
            from kubectl_trace.textsafe import visible

            self.env.stderr.write(visible(f"reconnecting to the API server… ({error})") + "\n")
        elif up and self.disconnected:
            self.env.stderr.write("reconnected\n")
        else:
            return
        self.disconnected = not up
        self.env.stderr.flush()


def _follow(
    kube: KubeClient,
    namespace: str | None,
    plan: _Plan,
    printer: _Printer,
    select: _Select,
    since_at: float | None,
    env: Environment,
) -> int:
    """Print the timeline, then every new or changed event until interrupted."""
    from kubectl_trace.health.events import event_record
    from kubectl_trace.kube.watch import ResilientWatch

    inbox: queue.Queue[tuple[int, Any]] = queue.Queue()
    watches = [
        ResilientWatch(kube, _events_in(namespace, selector), timeout_seconds=290)
        for selector in plan.selectors
    ]

    def pump(index: int, watch: ResilientWatch) -> None:
        try:
            for event in watch:
                inbox.put((index, event))
        except BaseException as exc:  # handed to the main thread, which reports it
            inbox.put((index, exc))

    threads = [
        threading.Thread(target=pump, args=(i, w), name=f"events-watch-{i}", daemon=True)
        for i, w in enumerate(watches)
    ]
    for thread in threads:
        thread.start()
    timeline = _Timeline(printer, select, since_at, len(watches), env)
    try:
        while True:
            try:
                index, item = inbox.get(timeout=0.5)
            except queue.Empty:
                continue
            if isinstance(item, BaseException):
                raise item
            if item.type == "RESET":
                timeline.listed(index, [event_record(o) for o in item.items])
            elif item.type in ("ADDED", "MODIFIED") and item.object is not None:
                timeline.changed(index, event_record(item.object))
            elif item.type in ("DISCONNECTED", "RECONNECTED"):
                timeline.connection(item.type == "RECONNECTED", str(item.error))
    finally:
        for watch in watches:
            watch.stop()
        for thread in threads:
            thread.join(timeout=2)
