"""A pod's containers as the kubelet keeps them: slots across instances, runs, probes, back-off.

A ``Slot`` is one container of the pod spec across its restarts; each start is a ``Run`` (the
simulated process answers HTTP through ``Run.respond``); ``Backoff`` is the kubelet's
``flowcontrol.Backoff`` for crash loops and image pulls.
"""

from __future__ import annotations

import json
import re
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubectl_trace.sandbox.command import CommandProcess
from kubectl_trace.sandbox.images import ImageProfile
from kubectl_trace.sandbox.loggen import APP_VERSION, InstanceLog, LogStyle
from kubectl_trace.sandbox.noderuntime import NodeProcess
from kubectl_trace.sandbox.timescale import Timer

__all__ = ["Backoff", "NodeInfo", "Probe", "Run", "Slot", "listen_port", "prestop_seconds"]

Obj = dict[str, Any]

BACKOFF_INITIAL = 10.0
BACKOFF_MAX = 300.0


@dataclass(frozen=True)
class NodeInfo:
    """A sandbox node: its name, address and pod IP range."""

    name: str
    host_ip: str
    pod_prefix: tuple[int, int]  # 10.244.<a+>.<b>: first two octets after 10.


class Backoff:
    """``flowcontrol.Backoff`` for one container (simulated seconds, monotonic instants)."""

    __slots__ = ("last_update", "value")

    def __init__(self) -> None:
        self.value = 0.0
        self.last_update: float | None = None

    def _expired(self, ts: float, real: Callable[[float], float]) -> bool:
        return self.last_update is not None and ts - self.last_update > real(2 * BACKOFF_MAX)

    def in_backoff_since(self, ts: float, now: float, real: Callable[[float], float]) -> bool:
        """Whether a restart at ``now`` after a failure at ``ts`` must still wait."""
        if self.last_update is None or self._expired(ts, real):
            return False
        return now - ts < real(self.value)

    def next(self, ts: float, real: Callable[[float], float]) -> None:
        """Another failure at ``ts``: the first wait, or double the last one (up to the maximum)."""
        if self.last_update is None or self._expired(ts, real):
            self.value = BACKOFF_INITIAL
        else:
            self.value = min(self.value * 2, BACKOFF_MAX)
        self.last_update = ts


@dataclass
class Run:
    """One container instance."""

    instance: int
    profile: ImageProfile
    style: LogStyle
    log: InstanceLog
    started_wall: float
    started_mono: float
    env: dict[str, str]
    listen_mono: float = float("inf")  # when the server accepts connections (inf: never)
    healthy_mono: float | None = None  # when /healthz answers 200 (None: never)
    listen_port: int | None = None
    container_id: str = field(default_factory=lambda: secrets.token_hex(32))
    finished_wall: float | None = None
    finished_mono: float | None = None
    exit_code: int | None = None
    reason: str | None = None
    closed: bool = False  # the server stopped accepting (SIGTERM)
    process: CommandProcess | None = None  # a command that runs for real (command.py)
    message: str | None = None  # the terminated state's message

    @property
    def finished(self) -> bool:
        """The process has exited."""
        return self.finished_wall is not None

    def finish(self, wall: float, mono: float, code: int, reason: str) -> None:
        """The process ended with ``code``: record it and close the log."""
        self.finished_wall = wall
        self.finished_mono = mono
        self.exit_code = code
        self.reason = reason
        self.log.finish()

    def respond(self, port: int, path: str, method: str, now: float) -> tuple[int, bytes, str] | None:
        """What the process answers on ``port``; None when the connection is refused."""
        if isinstance(self.process, NodeProcess):  # real Node.js: ask it
            return None if self.finished else self.process.respond(port, path, method)
        if self.finished or self.closed or self.listen_port is None or port != self.listen_port:
            return None
        if now < self.listen_mono:
            return None
        route = path.split("?", 1)[0] or "/"
        if route != "/healthz" or method.upper() not in ("GET", "HEAD"):
            body = (
                '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n'
                f"</head>\n<body>\n<pre>Cannot {method.upper()} {route}</pre>\n</body>\n</html>\n"
            )
            return 404, body.encode(), "text/html; charset=utf-8"
        uptime = round(max(0.0, now - self.started_mono), 1)
        if self.healthy_mono is None:
            payload: Obj = {"status": "error", "checks": {"db": "connect ECONNREFUSED 10.96.112.7:5432"}}
            return 503, json.dumps(payload).encode(), "application/json; charset=utf-8"
        if now < self.healthy_mono:
            payload = {"status": "starting", "checks": {"cache": "warming"}}
            return 503, json.dumps(payload).encode(), "application/json; charset=utf-8"
        payload = {
            "status": "ok",
            "version": APP_VERSION,
            "commit": self.profile.ref.tag,
            "node": f"v{self.profile.node_version}",
            "uptime": uptime,
        }
        return 200, json.dumps(payload).encode(), "application/json; charset=utf-8"

    def health_settled(self, now: float) -> bool:
        """What the process answers will not change any more (until it stops)."""
        if isinstance(self.process, NodeProcess) or now < self.listen_mono:
            return False
        return self.healthy_mono is None or now >= self.healthy_mono


@dataclass
class Probe:
    """One probe of a running instance: its consecutive results and its next tick."""

    kind: str  # readiness, liveness, startup
    spec: Obj
    successes: int = 0
    failures: int = 0
    timer: Timer | None = None


@dataclass
class Slot:
    """A container of the pod across its instances."""

    name: str
    spec: Obj
    is_init: bool
    state: str = "waiting"  # waiting, running, terminated
    reason: str = "ContainerCreating"
    message: str | None = None
    runs: deque[Run] = field(default_factory=lambda: deque(maxlen=2))
    restart_count: int = 0
    ready: bool = False
    started: bool = False
    done: bool = False  # init container completed
    crash_backoff: Backoff = field(default_factory=Backoff)
    pull_backoff: Backoff = field(default_factory=Backoff)
    timers: list[Timer] = field(default_factory=list)
    probes: dict[str, Probe] = field(default_factory=dict)
    stopping: bool = False

    @property
    def current(self) -> Run | None:
        """The latest instance (running or not)."""
        return self.runs[-1] if self.runs else None

    @property
    def running(self) -> Run | None:
        """The latest instance while it runs."""
        run = self.current
        return run if run is not None and self.state == "running" and not run.finished else None

    @property
    def field_path(self) -> str:
        """The container in an event's ``involvedObject.fieldPath``."""
        return f"spec.{'initContainers' if self.is_init else 'containers'}{{{self.name}}}"

    def cancel_timers(self) -> None:
        """Cancel the slot's pending steps (its probes go on)."""
        for timer in self.timers:
            timer.cancel()
        self.timers.clear()

    def drop_cancelled_timers(self) -> None:
        """Forget the timers that were cancelled (they no longer hold the slot busy)."""
        self.timers = [t for t in self.timers if not t.cancelled]

    def stop_probes(self) -> None:
        """Cancel and forget the instance's probes."""
        for probe in self.probes.values():
            if probe.timer is not None:
                probe.timer.cancel()
        self.probes.clear()

    def begin(self, run: Run) -> None:
        """The slot's new instance is running (simulated process and real command alike)."""
        self.runs.append(run)
        self.state = "running"
        self.reason = ""
        self.message = None
        self.stopping = False
        self.drop_cancelled_timers()

    def wait(self, reason: str, message: str | None = None) -> None:
        """The container is waiting (not ready) for ``reason``."""
        self.state = "waiting"
        self.reason = reason
        self.message = message
        self.ready = False


def prestop_seconds(spec: Obj) -> float:
    """How long a container's preStop hook runs (simulated seconds)."""
    hook = ((spec.get("lifecycle") or {}).get("preStop")) or {}
    if not hook:
        return 0.0
    if "sleep" in hook:
        return float((hook.get("sleep") or {}).get("seconds") or 0)
    command = " ".join(str(part) for part in (hook.get("exec") or {}).get("command") or [])
    match = re.search(r"\bsleep\s+(\d+(?:\.\d+)?)", command)
    if match:
        return float(match.group(1))
    return 0.1


def listen_port(spec: Obj, env: dict[str, str]) -> int:
    """The port the demo app listens on: ``$PORT``, else the first declared port, else 3000."""
    value = env.get("PORT")
    if value and value.isdigit():
        return int(value)
    for port in spec.get("ports") or []:
        if port.get("containerPort"):
            return int(port["containerPort"])
    return 3000
