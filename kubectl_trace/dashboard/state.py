"""The dashboard's state: an immutable snapshot of one namespace, and the inputs that change it.

A ``Snapshot`` holds the namespace's Deployments, ReplicaSets, pods, Jobs and CronJobs
(wire dicts, by name), its events (normalised ``EventRecord``s, by uid and by involved object), the state
of each watch connection, the log tail of the selected pod and the last notice (the
outcome of an action). Snapshots are never mutated: ``reducer.reduce`` returns a new one
that shares every untouched object with the old (``PMap``).

Inputs are small frozen records produced by the data feed's threads:
``WatchInput`` (one ``ResilientWatch`` event of one kind), ``LogInput`` (log tail
progress), ``NoticeInput`` (an action's outcome: the ``Notice`` itself) and ``MetricsInput`` (a poll of
``metrics.k8s.io``: CPU and memory per pod).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubectl_trace.dashboard.pmap import PMap

if TYPE_CHECKING:  # the feed imports this module before its watches start: keep it light
    from kubectl_trace.health.events import EventRecord

__all__ = [
    "BATCH_KINDS",
    "KINDS",
    "LOG_LINES",
    "WATCHED",
    "Input",
    "Link",
    "LogInput",
    "LogLine",
    "LogTail",
    "MetricsInput",
    "Notice",
    "NoticeInput",
    "Snapshot",
    "Usage",
    "WatchInput",
    "empty_snapshot",
]

# The collections the dashboard watches, one ResilientWatch each.
KINDS = ("deployments", "replicasets", "pods", "events")
# batch/v1 collections shown beside them: optional (a cluster that forbids or lacks batch/v1
# has none), so their links join the snapshot only once their watch says something.
BATCH_KINDS = ("jobs", "cronjobs")
WATCHED = KINDS + BATCH_KINDS
# Lines of the selected pod's log kept for the tail panel.
LOG_LINES = 200

Obj = dict[str, Any]


@dataclass(frozen=True)
class Link:
    """The connection state of one watch.

    ``state``: ``connecting`` (no full list yet), ``live``, ``reconnecting`` (a request
    failed; ``error`` says why, ``retry_in`` when the next attempt is), ``failed`` (the
    watch gave up: a non-retriable error such as 403).
    """

    state: str = "connecting"
    error: str = ""
    down_since: float | None = None
    retry_in: float = 0.0
    synced_at: float | None = None  # when the last full list arrived
    relists: int = 0

    @property
    def live(self) -> bool:
        """Whether the data of this kind is current."""
        return self.state == "live"


@dataclass(frozen=True)
class LogLine:
    """One line of the log tail, parsed once by the feed thread."""

    ts: float | None  # the kubelet's timestamp (epoch seconds)
    ts_text: str  # the timestamp as sent (RFC 3339, nine fractional digits)
    level: str | None  # trace … fatal for structured lines (or a plain line that says one)
    text: str  # the message (structured) or the line itself (plain)


@dataclass(frozen=True)
class LogTail:
    """The live log tail of one container of the selected pod.

    ``generation`` changes whenever the tail is pointed at another pod, so lines still in
    flight for the previous pod are ignored. ``status``: ``""`` (nothing selected),
    ``connecting``, ``streaming``, ``waiting`` (the container has not started; ``detail``
    says why), ``ended`` (the container stopped), ``error`` (``detail`` says why).
    """

    pod: str = ""
    container: str = ""
    generation: int = 0
    lines: tuple[LogLine, ...] = ()
    status: str = ""
    detail: str = ""


@dataclass(frozen=True)
class Usage:
    """The namespace's PodMetrics (``metrics.k8s.io``) as last polled, by pod name.

    ``note`` says why there are no figures (no metrics-server, an error), "" when served;
    ``at`` is None until the first answer.
    """

    by_pod: Mapping[str, Obj] = field(default_factory=dict)
    note: str = ""
    at: float | None = None


@dataclass(frozen=True)
class Notice:
    """A one-line message shown in the status line for a while (``level``: info or error).

    An action's outcome (``NoticeInput``, kept in the snapshot) or the key handler's own
    (``ui.UiNotice``, kept in the UI state).
    """

    text: str
    level: str
    at: float


@dataclass(frozen=True)
class Snapshot:
    """Everything the dashboard knows about one namespace at one moment."""

    namespace: str
    deployments: PMap[str, Obj]
    replicasets: PMap[str, Obj]
    pods: PMap[str, Obj]
    events: PMap[str, EventRecord]  # by event uid (or name)
    events_by_object: PMap[tuple[str, str], tuple[EventRecord, ...]]  # (kind, name) → records
    jobs: PMap[str, Obj] = field(default_factory=PMap.empty)
    cronjobs: PMap[str, Obj] = field(default_factory=PMap.empty)
    links: Mapping[str, Link] = field(default_factory=lambda: {k: Link() for k in KINDS})
    log: LogTail = field(default_factory=LogTail)
    usage: Usage = field(default_factory=Usage)
    notice: Notice | None = None
    version: int = 0
    updated_at: float | None = None  # when the last input arrived (the inputs' clock)

    @property
    def live(self) -> bool:
        """Every watch is connected and has listed: nothing shown is stale."""
        return all(link.live for link in self.links.values())

    @property
    def synced(self) -> bool:
        """Every kind has been listed at least once (there is a full picture, maybe stale)."""
        return all(link.synced_at is not None for link in self.links.values())

    @property
    def down(self) -> tuple[tuple[str, Link], ...]:
        """The watches that are reconnecting or failed, with their state."""
        return tuple((k, v) for k, v in self.links.items() if v.state in ("reconnecting", "failed"))

    @property
    def stale_since(self) -> float | None:
        """Since when the data has been stale (the earliest outage), None while live."""
        times = [v.down_since for _, v in self.down if v.down_since is not None]
        return min(times) if times else None

    def pod_events(self, name: str) -> tuple[EventRecord, ...]:
        """The events whose involved object is the pod ``name``."""
        return self.events_by_object.get(("Pod", name), ())

    def collection(self, kind: str) -> PMap[str, Obj]:
        """One of ``deployments``, ``replicasets``, ``pods``, ``jobs``, ``cronjobs``."""
        collection: PMap[str, Obj] = getattr(self, kind)
        return collection


def empty_snapshot(namespace: str) -> Snapshot:
    """The state before anything has been listed."""
    return Snapshot(
        namespace=namespace,
        deployments=PMap.empty(),
        replicasets=PMap.empty(),
        pods=PMap.empty(),
        events=PMap.empty(),
        events_by_object=PMap.empty(),
    )


# -- inputs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class WatchInput:
    """One event of the watch of ``kind``.

    RESET (``items``), ADDED / MODIFIED / DELETED (``object``), DISCONNECTED (``error``,
    ``retry_in``), RECONNECTED, FAILED (the watch gave up).
    """

    kind: str
    type: str
    at: float
    object: Obj | None = None
    items: tuple[Obj, ...] = ()
    error: str = ""
    retry_in: float = 0.0


@dataclass(frozen=True)
class LogInput:
    """Progress of the log tail of generation ``generation``.

    ``type``: ``open`` (a new pod/container: clears the tail), ``lines`` (append),
    ``status`` (``status``/``detail`` change).
    """

    generation: int
    type: str
    at: float
    pod: str = ""
    container: str = ""
    lines: tuple[LogLine, ...] = ()
    status: str = ""
    detail: str = ""


# An action finished (or failed): its outcome arrives as the notice to show.
NoticeInput = Notice


@dataclass(frozen=True)
class MetricsInput:
    """One poll of the namespace's PodMetrics: the items, or (``items`` None) why there are none."""

    at: float
    items: tuple[Obj, ...] | None
    note: str = ""


Input = WatchInput | LogInput | NoticeInput | MetricsInput
