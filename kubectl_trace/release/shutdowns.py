"""How the old pods of a rollout stopped, per process (pure): what deploy prints and the release keeps.

After a rollout the replaced pods are deleted and a cluster keeps nothing that says how
they ended (the kubelet emits ``Killing`` at SIGTERM and nothing at SIGKILL). The release
flow watched them end (``follow.Follower`` keeps the last state of deleted pods), so it
sums their ``health.shutdown`` facts up per process here and records them in the release:
``status`` shows them once the pods are gone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubectl_trace.health.shutdown import by_process, causes_of

if TYPE_CHECKING:
    from kubectl_trace.health.events import EventRecord
    from kubectl_trace.health.shutdown import Shutdown

__all__ = ["ProcessShutdowns", "rollout_stops", "summarise_stops"]

GRACEFUL = "graceful"


@dataclass(frozen=True)
class ProcessShutdowns:
    """The stops of one process's old pods in one rollout."""

    process: str
    text: str  # "killed after the 30s grace period (exit 137)", "stopped gracefully in 0.4–1.1s"
    causes: tuple[str, ...]
    killed: int  # the bad ones (SIGKILLed, or still running long after SIGTERM)
    total: int
    outcome: str  # the worst outcome: killed, stopping, exited-on-sigterm, graceful

    @property
    def notable(self) -> bool:
        """Not every stop was graceful."""
        return self.outcome != GRACEFUL

    @property
    def counted(self) -> str:
        """`` (3 of 3 shutdowns)`` when there was more than one and not all were graceful."""
        if self.total <= 1 or not self.notable:
            return ""
        shown = self.killed if self.killed else self.total
        return f" ({shown} of {self.total} shutdowns)"

    def line(self) -> str:
        """The line ``deploy`` prints: ``! web: old pods killed after … (3 of 3 shutdowns) — why``."""
        if not self.notable:
            return f"{self.process}: old pods {self.text}"
        why = f" — {'; '.join(self.causes)}" if self.causes else ""
        return f"! {self.process}: old pods {self.text}{self.counted}{why}"

    def status_text(self, release: int) -> str:
        """For ``status``: ``killed after the 30s grace period (exit 137) (3 of 3), in the rollout of v4``."""
        counted = self.counted.replace(" shutdowns)", ")")
        return f"{self.text}{counted}, in the rollout of v{release}"

    def to_json(self) -> dict[str, Any]:
        """``{process, text, causes, killed, total, outcome}``."""
        return {
            "process": self.process,
            "text": self.text,
            "causes": list(self.causes),
            "killed": self.killed,
            "total": self.total,
            "outcome": self.outcome,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProcessShutdowns:
        """Read a stored entry (KeyError/TypeError/ValueError on a malformed one)."""
        return cls(
            str(data["process"]),
            str(data["text"]),
            tuple(str(c) for c in data.get("causes") or ()),
            int(data.get("killed") or 0),
            int(data.get("total") or 0),
            str(data.get("outcome") or GRACEFUL),
        )


_WORST = ("killed", "stopping", "exited-on-sigterm", GRACEFUL)


def _graceful_text(group: Sequence[Shutdown]) -> str:
    took = sorted(s.seconds for s in group if s.seconds is not None)
    if not took:
        return "stopped gracefully"
    if len(took) == 1 or f"{took[0]:.1f}" == f"{took[-1]:.1f}":
        return f"stopped gracefully in {took[0]:.1f}s"
    return f"stopped gracefully in {took[0]:.1f}–{took[-1]:.1f}s"


def _summary(process: str, group: Sequence[Shutdown]) -> ProcessShutdowns:
    outcomes = {s.outcome for s in group}
    worst = next(o for o in (*_WORST, *sorted(outcomes)) if o in outcomes)
    bad = [s for s in group if s.bad]
    if worst == GRACEFUL:
        return ProcessShutdowns(process, _graceful_text(group), (), 0, len(group), GRACEFUL)
    shown = [s for s in group if s.outcome == worst]
    latest = max(shown, key=lambda s: s.killed_at or 0.0)
    return ProcessShutdowns(process, latest.text, causes_of(bad or shown), len(bad), len(group), worst)


def summarise_stops(shutdowns: Sequence[Shutdown]) -> tuple[ProcessShutdowns, ...]:
    """Per process (sorted): how its old pods stopped, the worst outcome named and counted."""
    return tuple(_summary(process, group) for process, group in by_process(shutdowns))


def rollout_stops(
    pods: Sequence[Mapping[str, Any]],
    events: Sequence[EventRecord],
    logs: Mapping[tuple[str, str], Sequence[str]],
    now: float,
    process_of: Any = None,
) -> tuple[ProcessShutdowns, ...]:
    """How the old pods of a rollout stopped, per process, from what the release flow watched.

    ``pods``: their last states (``follow.Stops``); ``logs``: (pod, container) → lines read while it stopped.
    """
    from kubectl_trace.health.shutdown import shutdown_facts, with_log_cause

    facts = shutdown_facts(pods, events, now, process_of=process_of)
    read = [
        with_log_cause(s, logs[(s.pod, s.container)]) if (s.pod, s.container) in logs else s for s in facts
    ]
    return summarise_stops(read)
