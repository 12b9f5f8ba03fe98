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
from kubectl_trace.release.history import equal_ignoring_hash

if TYPE_CHECKING:
    from kubectl_trace.kube.calls import KubeClient

__all__ = [
    "FATAL_CODES",
    "DeploymentProgress",
    "Follower",
    "Snapshot",
    "Tracked",
    "progress_of",
]

# Problems of a new pod that a rollout does not recover from by waiting.
FATAL_CODES = frozenset(
    {
        "CrashLoopBackOff",
        "ImagePullBackOff",
        "ErrImagePull",
        "InvalidImageName",
        "ErrImageNeverPull",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
    }
)

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
class Snapshot:
    """Every followed rollout at one moment, plus the Warning events seen since the start."""

    at: float
    elapsed: float
    items: tuple[DeploymentProgress, ...]
    warnings: tuple[EventRecord, ...] = ()
    connection: str = ""  # "" while the watches are live, else why not
    timed_out: bool = False

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

    def _make_watch(self, kind: str) -> Any:
        if self._watch_factory is not None:
            return self._watch_factory(self.kube, kind, self.namespace)
        from kubectl_trace.kube.watch import ResilientWatch

        return ResilientWatch(self.kube, kind, self.namespace)

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
        cutoff = self.since - 1.0
        records = [
            r
            for r in (event_record(e) for e in objects["events"].values())
            if self._scope.matches(r) and r.at >= cutoff
        ]
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
        try:
            while True:
                wait = self.interval
                if deadline is not None:
                    wait = max(0.0, min(wait, deadline - time.monotonic()))
                batch = self._next_batch(wait)
                for kind, event in batch:
                    if kind == "error":
                        raise event
                    if event.type == "DISCONNECTED":
                        connection = f"reconnecting to the API server ({event.error})"
                    elif event.type in ("RECONNECTED", "RESET"):
                        connection = ""
                    self._cache.fold(kind, event)
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
                if snap.done:
                    final = snap
                    break
                on_update(snap)
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
