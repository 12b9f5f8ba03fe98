"""CPU and memory per pod in the dashboard: a modest poll of ``metrics.k8s.io`` and the pod cells.

``MetricsPoller`` asks for the namespace's PodMetrics (``status.resources.fetch_metrics``,
one request, no retries) every ``every`` seconds in a thread of its own and puts each
answer in the inbox as a ``MetricsInput``; a cluster without metrics-server is asked again
only every ``ABSENT_EVERY`` seconds. ``usage_cells`` is pure: a pod's CPU and memory
against its limits, or dashes when there are no figures (``usage_note`` says why, once).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Protocol

from kubectl_trace.dashboard.state import Input, MetricsInput, Usage

__all__ = ["ABSENT_EVERY", "METRICS_EVERY", "MetricsPoller", "metrics_input", "usage_cells", "usage_note"]

METRICS_EVERY = 15.0  # metrics-server itself scrapes every 15 s by default
ABSENT_EVERY = 60.0
NEAR_LIMIT = 0.9

Cell = tuple[str, str]


class Inbox(Protocol):
    """Where inputs go (``feed.Inbox``)."""

    def put(self, item: Input) -> None:
        """Queue one input."""


def metrics_input(kube: Any, namespace: str, at: float) -> MetricsInput:
    """One GET of the namespace's PodMetrics as an input (never raises for an API answer)."""
    from kubectl_trace.status.resources import fetch_metrics

    answer = fetch_metrics(kube, namespace)
    items = tuple(dict(m) for m in answer.items) if answer.items is not None else None
    return MetricsInput(at, items, answer.note)


@dataclass(eq=False)
class MetricsPoller:
    """Polls PodMetrics of one namespace into an inbox until ``stop()``."""

    kube: Any
    namespace: str
    inbox: Inbox
    _: KW_ONLY
    every: float = METRICS_EVERY
    clock: Callable[[], float] = time.time
    polls: int = field(default=0, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)

    def start(self) -> None:
        """Poll in a daemon thread (the first poll at once)."""
        self._thread = threading.Thread(target=self._run, name="metrics-poll", daemon=True)
        self._thread.start()

    def poll(self) -> MetricsInput:
        """One poll (also what the thread does each time)."""
        self.polls += 1
        return metrics_input(self.kube, self.namespace, self.clock())

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                item = self.poll()
            except Exception as exc:  # never let the thread die silently: say why, try later
                item = MetricsInput(self.clock(), None, f"metrics.k8s.io failed: {type(exc).__name__}: {exc}")
            if self._stop.is_set():
                return
            self.inbox.put(item)
            self._stop.wait(self.every if item.items is not None else max(self.every, ABSENT_EVERY))

    def stop(self, timeout: float = 2.0) -> None:
        """End the polling (a request in flight finishes on its own)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)


def usage_cells(pod: Mapping[str, Any], usage: Usage) -> tuple[Cell, Cell]:
    """The pod's CPU (``42m/500m``) and memory (``118Mi/256Mi``) cells; dashes without figures.

    Against the limit when there is one (memory at 90% of it or more is red), else the
    figure alone.
    """
    from kubectl_trace.health.quantity import format_cpu, format_memory
    from kubectl_trace.health.resources import pod_usages

    name = str((pod.get("metadata") or {}).get("name") or "")
    metrics = usage.by_pod.get(name)
    if metrics is None:
        return ("-", "grey50"), ("-", "grey50")
    found = pod_usages([pod], [metrics])
    if not found:
        return ("-", "grey50"), ("-", "grey50")
    figures = found[0]
    cpu = format_cpu(figures.cpu_m)
    if figures.cpu_limit_m:
        cpu += f"/{format_cpu(figures.cpu_limit_m)}"
    memory, style = format_memory(figures.memory), ""
    limit = figures.memory_limit
    if limit:
        memory += f"/{format_memory(limit)}"
        style = "bold red" if figures.memory >= NEAR_LIMIT * limit else ""
    return (cpu, ""), (memory, style)


def usage_note(usage: Usage) -> str:
    """One note for the pods panel when there are no figures ("" when there are, or not yet asked)."""
    if usage.note:
        return "no CPU/memory: " + usage.note.split(" (", 1)[0].split(":", 1)[0]
    return ""
