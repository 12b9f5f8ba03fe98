"""How the last shutdowns went, from what the cluster recorded (pure).

Facts, not guesses: a container's ``Killing`` event (when the kubelet began to stop it:
preStop hook, then SIGTERM), the instance's ``terminated`` state (exit code, ``finishedAt``) and the
pod's grace period. ``finishedAt`` minus the kill time says how long the shutdown took;
exit code 137 after a kill (not OOMKilled) means SIGKILL when the grace period ran
out (``killed after the 30s grace period``), 0 a graceful exit, 143 an exit by SIGTERM's
default action. A pod still terminating says how long it has run since SIGTERM.

The cause is named when the spec or the logs show it: ``npm``/``yarn``/``pnpm`` or
``sh -c`` as PID 1 (they do not pass SIGTERM on to node), or no SIGTERM handling seen in the
instance's last log lines (``sigterm_seen``). Once a pod is deleted its record is gone:
shutdowns of pods replaced by a rollout are visible while they terminate, and restarts in
place (liveness kills, changed containers) afterwards.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from kubectl_trace.health._common import child, children, timestamp
from kubectl_trace.health.events import EventRecord, event_record

__all__ = [
    "Shutdown",
    "by_process",
    "causes_of",
    "pid1_cause",
    "shutdown_facts",
    "sigterm_seen",
    "summarise_shutdowns",
    "with_log_cause",
]

SLOW_STOP = 5.0  # seconds after SIGTERM: a Node app that handles it has closed its server by then
_WRAPPERS = {"npm", "yarn", "pnpm", "npx"}
_SHELLS = {"sh", "bash", "ash", "dash"}
_SIGTERM_LOG = re.compile(
    r"SIGTERM|signal[\"'=: ]+(?:terminated|SIGTERM)|shutting down|graceful", re.IGNORECASE
)


@dataclass(frozen=True)
class Shutdown:
    """One container instance's stop, as recorded."""

    pod: str
    container: str
    process: str
    outcome: str  # graceful, killed, exited-on-sigterm, stopping
    seconds: float | None  # SIGTERM → exit (or → now while stopping)
    grace: int
    exit_code: int | None
    killed_at: float | None
    finished_at: float | None
    causes: tuple[str, ...] = ()
    logged_sigterm: bool | None = None  # None: logs not read
    previous: bool = False  # the instance is the container's previous one (``lastState``)

    @property
    def text(self) -> str:
        """``graceful in 1.2s``, ``killed after the 30s grace period``, …."""
        took = f"{self.seconds:.1f}s" if self.seconds is not None else "?"
        if self.outcome == "graceful":
            return f"graceful in {took}"
        if self.outcome == "killed":  # the kubelet sends SIGKILL only when the grace period ran out
            return f"killed after the {self.grace}s grace period (exit 137)"
        if self.outcome == "exited-on-sigterm":
            return f"ended by SIGTERM without a handler in {took} (exit 143)"
        return f"still running {took} after SIGTERM ({self.grace}s grace period)"

    @property
    def bad(self) -> bool:
        """SIGKILLed, or still running past most of its grace period."""
        if self.outcome == "killed":
            return True
        return (
            self.outcome == "stopping"
            and self.seconds is not None
            and self.seconds >= min(SLOW_STOP, self.grace / 2)
        )


def pid1_cause(container: Mapping[str, Any]) -> str | None:
    """Why SIGTERM would not reach node, from the container's command and args."""
    words = [str(w) for w in (container.get("command") or []) + (container.get("args") or [])]
    if not words:
        return None
    first = words[0].rsplit("/", 1)[-1]
    if first in _WRAPPERS:
        return (
            f"`{' '.join(words[:2])}` is PID 1: {first} does not pass SIGTERM on to node (run node directly)"
        )
    if first in _SHELLS and len(words) >= 3 and words[1] == "-c":
        script = words[2].strip()
        try:
            inner = shlex.split(script)
        except ValueError:
            inner = script.split()
        if inner and inner[0] == "exec":
            return None
        return f"`{first} -c` is PID 1: the shell does not pass SIGTERM on to node (use `exec node …`)"
    return None


def sigterm_seen(lines: Sequence[str]) -> bool:
    """Whether the app logged that it handles SIGTERM (``SIGTERM received``, ``shutting down``)."""
    return any(_SIGTERM_LOG.search(line) for line in lines)


def with_log_cause(shutdown: Shutdown, lines: Sequence[str]) -> Shutdown:
    """Add what the instance's last log lines say (no SIGTERM handling seen → a cause)."""
    seen = sigterm_seen(lines)
    causes = shutdown.causes
    if not seen and shutdown.bad:
        causes = (*causes, "no SIGTERM handler seen in the logs: the app keeps running until SIGKILL")
    return replace(shutdown, logged_sigterm=seen, causes=causes)


def _killings(events: Iterable[Mapping[str, Any] | EventRecord], pod: str) -> dict[str, list[EventRecord]]:
    out: dict[str, list[EventRecord]] = {}
    for event in events:
        record = event if isinstance(event, EventRecord) else event_record(event)
        if (
            record.reason == "Killing"
            and record.kind == "Pod"
            and record.object_name == pod
            and record.container
        ):
            out.setdefault(record.container, []).append(record)
    return out


def _kill_time(records: Sequence[EventRecord], start: float | None, end: float | None) -> float | None:
    """The latest kill time within the instance's life (SIGTERM comes before its end)."""
    best: float | None = None
    for record in records:
        for at in (record.last_at, record.first_at):
            if at is None or (start is not None and at < start - 1) or (end is not None and at > end + 1):
                continue
            best = at if best is None else max(best, at)
    return best


def _outcome(terminated: Mapping[str, Any]) -> str | None:
    code = terminated.get("exitCode")
    reason = terminated.get("reason")
    if reason == "OOMKilled":
        return None  # not a shutdown: the kernel killed it (see health.heap)
    if code == 137 or terminated.get("signal") == 9:
        return "killed"
    if code == 143:
        return "exited-on-sigterm"
    if code == 0:
        return "graceful"
    return None


def shutdown_facts(
    pods: Sequence[Mapping[str, Any]],
    events: Iterable[Mapping[str, Any] | EventRecord],
    now: float,
    *,
    process_of: Any = None,
) -> tuple[Shutdown, ...]:
    """Every recorded shutdown of the pods' containers (the last one per container).

    ``process_of(pod) -> str`` names a pod's process (default: its ``process`` label).
    """
    records = [e if isinstance(e, EventRecord) else event_record(e) for e in events]
    out: list[Shutdown] = []
    for pod in pods:
        meta = child(pod, "metadata")
        spec = child(pod, "spec")
        name = str(meta.get("name"))
        process = process_of(pod) if process_of else str((meta.get("labels") or {}).get("process", ""))
        grace_spec = spec.get("terminationGracePeriodSeconds")
        grace = int(grace_spec) if isinstance(grace_spec, int) else 30
        deleting = meta.get("deletionTimestamp") is not None
        if deleting and isinstance(meta.get("deletionGracePeriodSeconds"), int):
            grace = int(meta["deletionGracePeriodSeconds"])
        kills = _killings(records, name)
        specs = {str(c.get("name")): c for c in children(spec, "containers")}
        for status in children(child(pod, "status"), "containerStatuses"):
            container = str(status.get("name"))
            mine = kills.get(container, [])
            if not mine:
                continue
            cause = pid1_cause(specs.get(container, {}))
            causes = (cause,) if cause else ()
            running = child(child(status, "state"), "running")
            if deleting and running:
                killed = _kill_time(mine, timestamp(running.get("startedAt")), None)
                if killed is not None:
                    since = max(0.0, now - killed)
                    out.append(
                        Shutdown(
                            name, container, process, "stopping", since, grace, None, killed, None, causes
                        )
                    )
                continue
            terminated = child(child(status, "state"), "terminated")
            previous = not terminated
            if previous:
                terminated = child(child(status, "lastState"), "terminated")
            outcome = _outcome(terminated) if terminated else None
            if outcome is None:
                continue
            started, finished = (
                timestamp(terminated.get("startedAt")),
                timestamp(terminated.get("finishedAt")),
            )
            killed = _kill_time(mine, started, finished)
            if killed is None:
                continue  # it ended by itself, not stopped by the kubelet
            seconds = max(0.0, finished - killed) if finished is not None else None
            out.append(
                Shutdown(
                    name,
                    container,
                    process,
                    outcome,
                    seconds,
                    grace,
                    terminated.get("exitCode"),
                    killed,
                    finished,
                    causes if outcome != "graceful" else (),
                    previous=previous,
                )
            )
    return tuple(out)


def by_process(shutdowns: Sequence[Shutdown]) -> list[tuple[str, list[Shutdown]]]:
    """The shutdowns grouped by process (the container's name when a pod has no process), sorted."""
    groups: dict[str, list[Shutdown]] = {}
    for s in shutdowns:
        groups.setdefault(s.process or s.container, []).append(s)
    return sorted(groups.items())


def causes_of(shutdowns: Sequence[Shutdown]) -> tuple[str, ...]:
    """Every cause the shutdowns name, each once, in order."""
    causes: list[str] = []
    for s in shutdowns:
        causes.extend(c for c in s.causes if c not in causes)
    return tuple(causes)


def summarise_shutdowns(shutdowns: Sequence[Shutdown]) -> list[tuple[str, str, tuple[str, ...]]]:
    """Per process: (process, one line, causes) — the worst outcome first, counted."""
    out = []
    for process, group in by_process(shutdowns):
        bad = [s for s in group if s.bad]
        shown = bad or group
        latest = max(shown, key=lambda s: s.killed_at or 0.0)
        counted = f" ({len(shown)} of {len(group)} shutdowns)" if len(group) > 1 else ""
        out.append((process, f"{latest.text}{counted}, last in pod {latest.pod}", causes_of(shown)))
    return out
