"""``scale`` arguments as ``heroku ps:scale`` takes them: ``web=3 worker=2``, ``web+1`` (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kubectl_trace.errors import UsageError

__all__ = ["MAX_REPLICAS", "ScaleRequest", "parse_scale", "resolve_scale"]

MAX_REPLICAS = 1000
_ITEM = re.compile(r"(?P<process>[a-z0-9]([-a-z0-9]*[a-z0-9])?)(?P<op>=|\+|-)(?P<count>\d+)")


@dataclass(frozen=True)
class ScaleRequest:
    """One ``PROCESS=N`` (``op`` ``=``) or ``PROCESS+N`` / ``PROCESS-N`` (relative)."""

    process: str
    op: str
    count: int

    def target(self, current: int) -> int:
        """The replica count this asks for, given the current one (never below zero)."""
        if self.op == "+":
            return current + self.count
        if self.op == "-":
            return max(0, current - self.count)
        return self.count


def parse_scale(items: Sequence[str]) -> list[ScaleRequest]:
    """Parse ``web=3 worker+1 …``; each process at most once. UsageError on anything else."""
    out: dict[str, ScaleRequest] = {}
    for item in items:
        match = _ITEM.fullmatch(item.strip())
        if match is None:
            if ":" in item:
                raise UsageError(
                    f"{item!r}: dyno sizes do not exist here; set resources in the Deployment instead"
                )
            raise UsageError(
                f"{item!r}: expected PROCESS=COUNT, PROCESS+COUNT or PROCESS-COUNT (e.g. web=3 worker+1)"
            )
        process, op, count = match["process"], match["op"], int(match["count"])
        if count > MAX_REPLICAS:
            raise UsageError(
                f"{item!r}: {count} replicas is more than the {MAX_REPLICAS} this command allows"
            )
        if process in out:
            raise UsageError(f"process {process} is given twice")
        out[process] = ScaleRequest(process, op, count)
    return list(out.values())


def resolve_scale(requests: Sequence[ScaleRequest], current: Mapping[str, int]) -> dict[str, int]:
    """Process → wanted replicas; UsageError naming the app's processes for an unknown one."""
    unknown = [r.process for r in requests if r.process not in current]
    if unknown:
        have = ", ".join(current) or "none"
        raise UsageError(f"no process {', '.join(unknown)} in this app (its processes: {have})")
    out = {}
    for r in requests:
        if r.op == "-" and r.count > current[r.process]:
            raise UsageError(
                f"{r.process}-{r.count}: {r.process} has {current[r.process]} pod"
                f"{'s' if current[r.process] != 1 else ''}, it cannot lose {r.count} "
                f"(to stop it say {r.process}=0; a process named {r.process}-{r.count} does not exist)"
            )
        wanted = r.target(current[r.process])
        if wanted > MAX_REPLICAS:
            raise UsageError(
                f"{r.process}: {wanted} replicas is more than the {MAX_REPLICAS} this command allows"
            )
        out[r.process] = wanted
    return out
