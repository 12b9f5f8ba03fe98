"""Follow rollouts to the end: watches in, one ``Snapshot`` per change out.

``progress_of`` (pure) decides, for one Deployment, whether its rollout is still running,
complete, or failed — and why — from the Deployment, its ReplicaSets, the pods of the new
ReplicaSet and their events, using the shared ``health`` module:

- complete: the controller observed our change (``observedGeneration`` ≥ the generation
  our PATCH produced) and ``kubectl rollout status`` would say "successfully rolled out";
- failed: the progress deadline passed (``ProgressDeadlineExceeded``); a new pod crash-loops
  or cannot pull its image (or cannot be configured); the Deployment is paused or deleted;
- otherwise running (a readiness probe failing is not a failure yet: the deadline decides).

``Follower`` runs one resilient watch per kind (Deployments, ReplicaSets, pods, events of
the namespace) in background threads, folds their events into a cache and calls back with a
fresh Snapshot after changes (at most every ``interval`` seconds, and every ``idle`` seconds
without any) until every rollout is complete, one failed, or the timeout passed.

With ``linger`` it then follows on while old pods of the complete rollouts still stop (at
most their grace period + 2 s, and 60 s): the cache keeps the last state of deleted pods
(the kubelet writes the final ``terminated`` state before the pod goes, so the DELETED event
carries it), reads the last log lines of a pod slow to stop while it still exists, and the
final Snapshot's ``stops`` hold what ``health.shutdown`` needs to say how they ended.
Ctrl-C during that wait ends it quietly: the release is done.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from kubectl_trace.health import (
    EventIndex,
    EventRecord,
    EventScope,
    PodHealth,
    RolloutState,
    deployment_pods,
    deployment_rollout,
    event_record,
    index_events,
    pod_health,
)
from kubectl_trace.health.pods import START_FAILURE_REASONS
from kubectl_trace.release.history import equal_ignoring_hash

if TYPE_CHECKING:
    from kubectl_trace.kube.calls import KubeClient

__all__ = [
    "FATAL_CODES",
    "DeploymentProgress",
    "Follower",
    "Snapshot",
    "Stops",
    "Tracked",
    "old_pods",
    "progress_of",
    "waiting_text",
]

MAX_LINGER = 60.0  # seconds to wait for old pods to stop after a complete rollout
LOG_AFTER = 1.0  # seconds after SIGTERM: a Node app that handles it has usually exited by then
MAX_STOP_LOGS = 3
STOP_LOG_TAIL = 20

# Problems of a new pod that a rollout does not recover from by waiting.
FATAL_CODES = START_FAILURE_REASONS | {"CrashLoopBackOff"}


Obj = Mapping[str, Any]


@dataclass(frozen=True)
class Tracked:
    """A Deployment to follow, and the generation our change gave it."""

    name: str
    generation: int = 0
    label: str = ""  # what is rolling out, for the view: "3f9c2a1 → a41c9e7"


@dataclass(frozen=True)
class DeploymentProgress:
    """One Deployment's rollout at one moment."""

    name: str
    label: str
    rollout: RolloutState | None
    pods: tuple[PodHealth, ...]  # pods of the new ReplicaSet
    old_pods: int  # pods of older ReplicaSets still there
    outcome: str  # running, complete, failed
    reason: str
    short: str = ""  # the failure in a few words, for the final summary ("CrashLoopBackOff (exit 1)")

    @property
    def desired(self) -> int:
        """spec.replicas."""
        return self.rollout.desired if self.rollout is not None else 0


@dataclass(frozen=True)
class Stops:
    """The old pods of complete rollouts (deleted ones' last state, any still stopping) and what they left."""

    pods: tuple[Obj, ...]
    events: tuple[EventRecord, ...]
    logs: Mapping[tuple[str, str], tuple[str, ...]]  # (pod, container) → last lines, read while it stopped
    interrupted: bool = False  # Ctrl-C ended the wait


@dataclass(frozen=True)
class Snapshot:
    """Every followed rollout at one moment, plus the Warning events seen since the start."""

    at: float
    elapsed: float
    items: tuple[DeploymentProgress, ...]
    warnings: tuple[EventRecord, ...] = ()
    connection: str = ""  # "" while the watches are live, else why not
    timed_out: bool = False
    waiting: tuple[int, float | None, int] | None = None  # old pods stopping: (count, since SIGTERM, grace)
    stops: Stops | None = None  # with ``linger``, in the final Snapshot of complete rollouts

    @property
    def complete(self) -> bool:
        """Every rollout is complete."""
        return all(i.outcome == "complete" for i in self.items)

    @property
    def failed(self) -> tuple[DeploymentProgress, ...]:
        """The failed rollouts."""
        return tuple(i for i in self.items if i.outcome == "failed")

    @property
    def done(self) -> bool:
        """Nothing more to wait for: every rollout ended (complete or failed), or time is up."""
        return all(i.outcome in ("complete", "failed") for i in self.items) or self.timed_out


def _short(pod: PodHealth, code: str, container: str | None) -> str:
    """``CrashLoopBackOff (exit 1)``, ``ImagePullBackOff``."""
    for c in pod.containers + pod.init_containers:
        if container is not None and c.name != container:
            continue
        t = c.termination or c.last_termination
        if t is not None and t.exit_code:
            return f"{code} (exit {t.exit_code})"
    return code


def _fatal(pods: Iterable[PodHealth]) -> tuple[str, str]:
    """The first new pod that failed for good: (reason, short reason), else ("", "").

    A crash-looping container, an image that cannot be pulled, and also a container of a
    new pod that already exited with an error (it restarted, or ended non-zero): a pod
    without a readiness probe is "available" the moment it starts, before it crashes.
    """
    for pod in pods:
        if pod.verdict == "terminating":
            continue
        for problem in pod.problems:
            if problem.severity == "error" and problem.code in FATAL_CODES:
                return f"pod {pod.name}: {problem.message}", _short(pod, problem.code, problem.container)
        for c in pod.containers:
            t = c.termination if c.state == "terminated" else c.last_termination
            if t is not None and (t.exit_code or t.signal) and t.reason != "Completed":
                code = "CrashLoopBackOff" if c.restarts > 0 else "crashed"
                return (
                    f"pod {pod.name}: container {c.name} exited with code {t.exit_code}"
                    + (f" ({t.reason})" if t.reason else "")
                    + f"; {c.restarts} restart{'s' if c.restarts != 1 else ''}",
                    _short(pod, code, c.name),
                )
    return "", ""


def progress_of(
    tracked: Tracked,
    deployment: Obj | None,
    replicasets: Sequence[Obj],
    pods: Sequence[Obj],
    events: EventIndex | Iterable[Obj | EventRecord] | None,
    now: float,
) -> DeploymentProgress:
    """The state of one followed rollout (pure)."""
    if deployment is None:
        return DeploymentProgress(
            tracked.name, tracked.label, None, (), 0, "failed", "the deployment was deleted"
        )
    rollout = deployment_rollout(deployment, replicasets, now)
    own = deployment_pods(deployment, pods)
    index = events if isinstance(events, EventIndex) else index_events(events or ())
    new_hash = rollout.new.template_hash if rollout.new is not None else None
    new_pods = tuple(
        pod_health(p, index, now)
        for p in own
        if new_hash is not None
        and ((p.get("metadata") or {}).get("labels") or {}).get("pod-template-hash") == new_hash
    )
    old_pods = sum(
        1 for p in own if ((p.get("metadata") or {}).get("labels") or {}).get("pod-template-hash") != new_hash
    )
    generation = int(((deployment.get("status") or {}).get("observedGeneration")) or 0)
    seen = generation >= tracked.generation and rollout.observed
    outcome, reason, short = "running", "", ""
    counts_done = rollout.updated >= rollout.desired and rollout.current <= rollout.updated
    counts_done = counts_done and rollout.available >= rollout.updated
    if rollout.state == "paused":
        # A paused Deployment still scales, but a new template does not roll out.
        new_rs = next(
            (rs for rs in replicasets if rollout.new is not None and _name(rs) == rollout.new.name), None
        )
        template = (deployment.get("spec") or {}).get("template")
        if new_rs is None or not equal_ignoring_hash((new_rs.get("spec") or {}).get("template"), template):
            outcome, reason = (
                "failed",
                "the deployment is paused: the change will not roll out until it is resumed",
            )
        elif seen and counts_done:
            outcome = "complete"
        else:
            reason = "paused: scaling only"
    elif not seen:
        reason = "waiting for the deployment controller to see the change"
    elif rollout.state == "stalled":
        deadline = rollout.progress_deadline_seconds
        outcome = "failed"
        reason = f"progress deadline ({deadline}s) exceeded" + (
            f": {rollout.message}" if rollout.message else ""
        )
        _, pod_short = _fatal(new_pods)
        short = pod_short or f"progress deadline ({deadline}s) exceeded"
    else:
        fatal, fatal_short = _fatal(new_pods)
        if fatal:
            outcome, reason, short = "failed", fatal, fatal_short
        elif rollout.state == "complete":
            outcome = "complete"
    return DeploymentProgress(
        tracked.name, tracked.label, rollout, new_pods, old_pods, outcome, reason, short or reason
    )


def _name(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


def _hash(pod: Obj) -> str | None:
    return ((pod.get("metadata") or {}).get("labels") or {}).get("pod-template-hash")


def old_pods(
    names: Iterable[str],
    deployments: Mapping[str, Obj],
    replicasets: Sequence[Obj],
    live: Sequence[Obj],
    gone: Sequence[Obj],
    now: float,
) -> tuple[list[Obj], list[Obj]]:
    """The old pods of the named Deployments (pure): (still stopping, deleted), by pod-template-hash."""
    stopping: list[Obj] = []
    ended: list[Obj] = []
    for name in names:
        deployment = deployments.get(name)
        if deployment is None:
            continue
        rollout = deployment_rollout(deployment, replicasets, now)
        new_hash = rollout.new.template_hash if rollout.new is not None else None
        for pod in deployment_pods(deployment, live):
            if _hash(pod) != new_hash and (pod.get("metadata") or {}).get("deletionTimestamp"):
                stopping.append(pod)
        ended.extend(p for p in deployment_pods(deployment, gone) if _hash(p) != new_hash)
    return stopping, ended


def pod_grace(pod: Obj) -> int:
    """The grace period a pod is stopped with (its deletion's, else its spec's, else 30 s)."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    for value in (meta.get("deletionGracePeriodSeconds"), spec.get("terminationGracePeriodSeconds")):
        if isinstance(value, int):
            return value
    return 30


def waiting_text(waiting: tuple[int, float | None, int]) -> str:
    """``waiting for 3 old pods to stop (SIGTERM 4s ago, grace period 30s; Ctrl-C stops waiting, …)``."""
    count, since, grace = waiting
    pods = f"{count} old pod{'s' if count != 1 else ''}"
    sigterm = f"SIGTERM {since:.0f}s ago, " if since is not None else ""
    return (
        f"waiting for {pods} to stop ({sigterm}grace period {grace}s; "
        "Ctrl-C stops waiting, the release is done)"
    )


class _Cache:
    """Objects by kind and name (events by uid), folded from watch events."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, dict[str, Any]]] = {
            "deployments": {},
            "replicasets": {},
            "pods": {},
            "events": {},
        }
        self.synced: set[str] = set()
        self.deleted: dict[str, dict[str, Any]] = {}  # pods: their last state before they went

    @staticmethod
    def _key(kind: str, obj: Obj) -> str:
        meta = obj.get("metadata") or {}
        return str(meta.get("uid") or meta.get("name")) if kind == "events" else str(meta.get("name"))

    def fold(self, kind: str, event: Any) -> None:
        table = self.objects[kind]
        if event.type == "RESET":
            table.clear()
            for obj in event.items:
                table[self._key(kind, obj)] = obj
            self.synced.add(kind)
        elif event.type in ("ADDED", "MODIFIED") and event.object is not None:
            table[self._key(kind, event.object)] = event.object
        elif event.type == "DELETED" and event.object is not None:
            table.pop(self._key(kind, event.object), None)
            if kind == "pods":
                self.deleted[self._key(kind, event.object)] = event.object


_KINDS = ("deployments", "replicasets", "pods", "events")


class Follower:
    """Follow the rollouts of some Deployments of one namespace until they end."""

    def __init__(
        self,
        kube: KubeClient,
        namespace: str,
        tracked: Sequence[Tracked],
        *,
        since: float,
        clock: Callable[[], float] = time.time,
        interval: float = 0.1,
        idle: float = 0.5,
        settle: float = 1.0,
        watch_factory: Callable[..., Any] | None = None,
        linger: bool = False,
    ) -> None:
        self.kube = kube
        self.namespace = namespace
        self.tracked = list(tracked)
        self.since = since
        self.clock = clock
        self.interval = interval
        self.idle = idle
        self.settle = settle
        self._complete_since: dict[str, float] = {}
        self._watch_factory = watch_factory
        self._cache = _Cache()
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._scope = EventScope.of(deployments=[t.name for t in tracked])
        self.linger = linger
        self._linger_until: float | None = None
        self._logs: dict[tuple[str, str], tuple[str, ...]] = {}
        self._logged: set[str] = set()  # processes one of whose stopping pods' logs were read

    def _make_watch(self, kind: str) -> Any:
        if self._watch_factory is not None:
            return self._watch_factory(self.kube, kind, self.namespace)
        from kubectl_trace.kube.queries import Selection
        from kubectl_trace.kube.watch import ResilientWatch

        return ResilientWatch(self.kube, Selection(kind, self.namespace))

    def _pump(self, kind: str, watch: Any) -> None:
        try:
            for event in watch:
                self._queue.put((kind, event))
        except Exception as exc:  # a watch the retry policy gave up on
            self._queue.put(("error", exc))

    def snapshot(self, *, timed_out: bool = False, connection: str = "") -> Snapshot:
        """The current state of every followed rollout."""
        now = self.clock()
        objects = self._cache.objects
        records = [r for r in self._records() if self._scope.matches(r)]
        index = index_events(records)
        replicasets = list(objects["replicasets"].values())
        pods = list(objects["pods"].values())
        items = tuple(
            self._settled(
                progress_of(t, objects["deployments"].get(t.name), replicasets, pods, index, now), now
            )
            for t in self.tracked
        )
        warnings = tuple(sorted((r for r in records if r.warning), key=lambda r: r.at))
        return Snapshot(now, now - self.since, items, warnings, connection, timed_out)

    def _records(self) -> list[EventRecord]:
        cutoff = self.since - 1.0
        return [
            r for r in (event_record(e) for e in self._cache.objects["events"].values()) if r.at >= cutoff
        ]

    def _old(self) -> tuple[list[Obj], list[Obj]]:
        objects = self._cache.objects
        return old_pods(
            [t.name for t in self.tracked],
            objects["deployments"],
            list(objects["replicasets"].values()),
            list(objects["pods"].values()),
            list(self._cache.deleted.values()),
            self.clock(),
        )

    def _stopping(self, snap: Snapshot) -> Snapshot | None:
        """While old pods of complete rollouts still stop (and time is left): the Snapshot to show."""
        if not self.linger or not snap.complete or snap.timed_out:
            return None
        stopping, facts = self._watch_stops()
        if not stopping:
            return None
        grace = max(pod_grace(p) for p in stopping)
        if self._linger_until is None:
            self._linger_until = time.monotonic() + min(MAX_LINGER, grace + 2.0)
        if time.monotonic() >= self._linger_until:
            return None
        since = max((f.seconds for f in facts if f.seconds is not None), default=None)
        return replace(snap, waiting=(len(stopping), since, grace))

    def _watch_stops(self) -> tuple[list[Obj], tuple[Any, ...]]:
        """The old pods still stopping and their facts; reads the logs of slow ones while they exist."""
        from kubectl_trace.health.shutdown import shutdown_facts

        stopping, _ = self._old()
        if not stopping:
            return stopping, ()
        facts = shutdown_facts(stopping, self._records(), self.clock())
        self._read_logs(facts)
        return stopping, facts

    def _read_logs(self, facts: Sequence[Any]) -> None:
        """The last lines of old pods slow to stop, while they still exist (one request each, a few)."""
        from kubectl_trace.kube.errors import KubeError
        from kubectl_trace.kube.resources import lookup

        for f in facts:  # one pod of each process (its cause names the process's)
            key = (f.pod, f.container)
            slow = (f.seconds or 0.0) >= LOG_AFTER
            if not slow or f.process in self._logged or len(self._logged) >= MAX_STOP_LOGS:
                continue
            self._logged.add(f.process)
            try:
                _, body = self.kube.get_raw(
                    lookup("pods").path(self.namespace, f.pod, "log"),
                    query={"container": f.container, "tailLines": STOP_LOG_TAIL},
                    namespace=self.namespace,
                )
            except KubeError:
                continue
            self._logs[key] = tuple(body.decode("utf-8", "replace").splitlines())

    def _stops(self, *, interrupted: bool = False) -> Stops:
        stopping, ended = self._old()
        return Stops(tuple(ended + stopping), tuple(self._records()), dict(self._logs), interrupted)

    def _fold(self, batch: Sequence[tuple[str, Any]], connection: str) -> str:
        """Fold a batch of watch events into the cache; returns the connection note."""
        for kind, event in batch:
            if kind == "error":
                raise event
            if event.type == "DISCONNECTED":
                connection = f"reconnecting to the API server ({event.error})"
            elif event.type in ("RECONNECTED", "RESET"):
                connection = ""
            self._cache.fold(kind, event)
        return connection

    def _final(self, snap: Snapshot) -> Snapshot:
        """The last Snapshot: with ``linger`` and complete rollouts, with the old pods' stops."""
        if not self.linger or not snap.complete:
            return snap
        return replace(snap, waiting=None, timed_out=False, stops=self._stops())

    def _settled(self, item: DeploymentProgress, now: float) -> DeploymentProgress:
        """A rollout counts as complete once its new unprobed containers have run ``settle`` seconds.

        New pods without a readiness probe are available as soon as they start: a process that
        crashes a moment later must fail the rollout, not pass it (a readiness probe already
        proved the others are up, and a pod that crashes later is the dashboard's concern, as
        with ``kubectl rollout status``). The wait ends when the
        youngest new container started ``settle`` (+1) seconds ago (by the cluster's clock), or when
        the rollout has looked complete for that long (by ours).
        """
        if item.outcome != "complete":
            self._complete_since.pop(item.name, None)
            return item
        unprobed = [c for p in item.pods for c in p.containers if c.readiness.state == "none"]
        if not unprobed:
            return item
        since = self._complete_since.setdefault(item.name, now)
        starts = [c.started_at for c in unprobed if c.started_at is not None]
        # start times have whole seconds: one more second makes sure the container ran long enough
        if now - since >= self.settle or (starts and now - max(starts) >= self.settle + 1.0):
            return item
        return replace(item, outcome="running", reason="checking that the new pods stay up")

    def _next_batch(self, wait: float) -> list[tuple[str, Any]]:
        """What the watches delivered: at least one item if one comes within ``wait`` seconds."""
        try:
            batch = [self._queue.get(timeout=wait)]
        except queue.Empty:
            return []
        while True:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                return batch

    def run(self, on_update: Callable[[Snapshot], None], *, timeout: float | None = None) -> Snapshot:
        """Watch until every rollout is complete, one fails, or ``timeout`` seconds pass.

        ``on_update`` gets a new Snapshot after changes (at most every ``interval`` seconds), every
        ``idle`` seconds without changes (clocks move), and the final one.
        """
        watches = {kind: self._make_watch(kind) for kind in _KINDS}
        threads = [
            threading.Thread(target=self._pump, args=(kind, w), name=f"follow-{kind}", daemon=True)
            for kind, w in watches.items()
        ]
        for t in threads:
            t.start()
        started = time.monotonic()
        deadline = started + timeout if timeout is not None else None
        connection = ""
        last_emit = 0.0
        dirty = False
        final: Snapshot | None = None
        waiting: Snapshot | None = None  # the rollouts are complete; old pods still stop
        try:
            while True:
                if waiting is not None:  # the rollouts ended: the wait for old pods has its own limit
                    deadline = self._linger_until
                wait = self.interval
                if deadline is not None:
                    wait = max(0.0, min(wait, deadline - time.monotonic()))
                batch = self._next_batch(wait)
                connection = self._fold(batch, connection)
                dirty = dirty or bool(batch)
                synced = self._cache.synced.issuperset(_KINDS)
                now = time.monotonic()
                timed_out = deadline is not None and now >= deadline
                if not synced and not timed_out:
                    continue
                since_emit = now - last_emit
                if not (timed_out or (dirty and since_emit >= self.interval) or since_emit >= self.idle):
                    continue
                snap = self.snapshot(timed_out=timed_out, connection=connection)
                dirty, last_emit = False, now
                if self.linger and not snap.done:  # old pods replaced along the way: their logs
                    self._watch_stops()
                if snap.done:
                    waiting = self._stopping(snap)
                    if waiting is None:
                        final = self._final(snap)
                        break
                    snap = waiting
                on_update(snap)
        except KeyboardInterrupt:
            if waiting is None:
                raise
            final = replace(waiting, waiting=None, stops=self._stops(interrupted=True))
        finally:
            for w in watches.values():
                w.stop()
            for t in threads:
                t.join(timeout=2.0)
        assert final is not None
        on_update(final)
        return final


def plain_line(item: DeploymentProgress) -> str:
    """One line for a non-terminal: ``trace-api-web  3f9c2a1 → a41c9e7  2/3 updated, 1 available``."""
    label = f"  {item.label}" if item.label else ""
    r = item.rollout
    if item.outcome == "complete" and r is not None:
        return f"{item.name}{label}  rolled out: {r.available}/{r.desired} available"
    if item.outcome == "failed":
        return f"{item.name}{label}  FAILED: {item.reason}"
    if r is None:
        return f"{item.name}{label}  waiting"
    text = f"{item.name}{label}  {r.updated}/{r.desired} updated, {r.ready} ready, {r.available} available"
    if item.old_pods:
        text += f", {item.old_pods} old pod{'s' if item.old_pods != 1 else ''}"
    if item.reason:
        text += f" ({item.reason})"
    else:
        notes = [pod_note(p) for p in item.pods if p.verdict == "unhealthy"]
        if notes:
            text += f" ({notes[0]})"
    return text


def pod_note(pod: PodHealth) -> str:
    """What is wrong with a pod, in words that do not change every second (for plain lines)."""
    for problem in pod.problems:
        if problem.severity != "error":
            continue
        code = problem.code
        if code.endswith("ProbeFailing"):
            kind = code[: -len("ProbeFailing")].lower()
            probe = pod.probe(kind)
            detail = probe.short.split("(", 1)[-1].rstrip(")") if "(" in probe.short else ""
            return f"{pod.name}: {kind} probe failing" + (f" ({detail})" if detail else "")
        return f"{pod.name}: {code}"
    return f"{pod.name}: {pod.status}"


@dataclass
class PlainPrinter:
    """Prints a line per Deployment whenever its line changes (for pipes and CI logs)."""

    write: Callable[[str], None]
    last: dict[str, str] = field(default_factory=dict)

    def __call__(self, snap: Snapshot) -> None:
        """Print what changed since the previous snapshot."""
        if snap.connection and self.last.get("") != snap.connection:
            self.last[""] = snap.connection
            self.write(f"[{snap.elapsed:6.1f}s] {snap.connection}\n")
        for item in snap.items:
            line = plain_line(item)
            if self.last.get(item.name) != line:
                self.last[item.name] = line
                self.write(f"[{snap.elapsed:6.1f}s] {line}\n")
        count = str(snap.waiting[0]) if snap.waiting is not None else ""
        if snap.waiting is not None and self.last.get("\0waiting") != count:  # once per count, not per second
            self.write(f"[{snap.elapsed:6.1f}s] {waiting_text(snap.waiting)}\n")
        self.last["\0waiting"] = count
