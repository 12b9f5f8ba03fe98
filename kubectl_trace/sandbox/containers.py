"""The kubelet's container runtime: how one container instance starts and is probed.

A container is simulated (``loggen`` plans its log and its timing; ``Run.respond`` answers
its HTTP), a command that runs for real (``command.py``), or the demo app as a real Node.js
process (``noderuntime.py``). ``simulated_run`` and ``printing_run`` make their ``Run``;
``probe_simulated`` and ``probe_node`` answer a probe the way the kubelet
reports it (``probe_node`` makes a real request).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubectl_trace.sandbox.images import ImageProfile
from kubectl_trace.sandbox.loggen import InstanceLog, LogStyle, echo_lines, plan_instance, process_kind
from kubectl_trace.sandbox.noderuntime import NodeProcess, http_probe
from kubectl_trace.sandbox.podslots import Run, Slot, listen_port
from kubectl_trace.sandbox.timescale import TimeScale

__all__ = ["LogSettings", "printing_run", "probe_node", "probe_simulated", "resolve_port", "simulated_run"]

Obj = dict[str, Any]
PortOf = Callable[[Any], "int | None"]

SLOW_START_READY = 40.0  # simulated seconds a slow-start image answers 503


@dataclass(frozen=True)
class LogSettings:
    """How much simulated containers log: lines a second, history lines, when the history ends."""

    rate: float
    backlog: int
    backlog_until: float


def simulated_run(
    slot: Slot,
    profile: ImageProfile,
    env: dict[str, str],
    *,
    namespace: str,
    pod: str,
    now_wall: float,
    scale: TimeScale,
    logs: LogSettings,
) -> tuple[Run, float | None]:
    """A simulated instance and when it exits by itself (simulated seconds; None: never)."""
    process = "init" if slot.is_init else process_kind(profile.app, env, slot.name)
    style = LogStyle(profile.app, process, profile.fault)
    now_mono = time.monotonic()
    log, plan = plan_instance(
        style,
        namespace=namespace,
        pod=pod,
        container=slot.name,
        instance=slot.restart_count,
        started_at=now_wall,
        rate=logs.rate,
        backlog=logs.backlog,
        scale=scale.factor,
        node_version=profile.node_version,
        backlog_until=logs.backlog_until,
        echo=echo_lines(env),
    )
    port = listen_port(slot.spec, env) if process in ("web", "worker") and not slot.is_init else None
    listen = now_mono + scale.real(plan.listen_after) if plan.listen_after != float("inf") else float("inf")
    if profile.fault == "unready":
        healthy: float | None = None
    elif profile.fault == "slow-start":
        healthy = now_mono + scale.real(SLOW_START_READY)
    else:
        healthy = listen
    run = Run(
        instance=slot.restart_count,
        profile=profile,
        style=style,
        log=log,
        started_wall=now_wall,
        started_mono=now_mono,
        env=env,
        listen_mono=listen,
        healthy_mono=healthy,
        listen_port=port,
    )
    return run, plan.exits_after


def printing_run(
    slot: Slot, profile: ImageProfile, env: dict[str, str], process: str, now_wall: float
) -> Run:
    """An instance of a real process (a command or Node.js): its log is what it prints."""
    return Run(
        instance=slot.restart_count,
        profile=profile,
        style=LogStyle(profile.app, process, profile.fault),
        log=InstanceLog(now_wall),
        started_wall=now_wall,
        started_mono=time.monotonic(),
        env=env,
    )


def resolve_port(slots: list[Slot], port: Any) -> int | None:
    """A probe's or a proxy's port: a number, or the name of a port some container declares."""
    if isinstance(port, int):
        return port
    text = str(port)
    if text.isdigit():
        return int(text)
    for slot in slots:
        for declared in slot.spec.get("ports") or []:
            if declared.get("name") == text:
                return int(declared.get("containerPort", 0))
    return None


def _http_verdict(code: int) -> tuple[bool, str]:
    if 200 <= code < 400:
        return True, ""
    return False, f"HTTP probe failed with statuscode: {code}"


def _missing_port(check: Obj) -> tuple[bool, str]:
    return False, f'port "{check.get("port")}" not found in the container\'s ports'


def probe_simulated(run: Run, spec: Obj, pod_ip: str, port_of: PortOf) -> tuple[bool, str]:
    """A probe against a simulated process: what ``Run.respond`` answers now."""
    now = time.monotonic()
    if "httpGet" in spec:
        http = spec["httpGet"] or {}
        port = port_of(http.get("port"))
        path = http.get("path") or "/"
        scheme = (http.get("scheme") or "HTTP").lower()
        host = http.get("host") or pod_ip
        if port is None:
            return _missing_port(http)
        url = f"{scheme}://{host}:{port}{path}"
        answer = run.respond(port, path, "GET", now)
        if answer is None:
            return False, f'Get "{url}": dial tcp {host}:{port}: connect: connection refused'
        return _http_verdict(answer[0])
    if "tcpSocket" in spec or "grpc" in spec:
        target = spec.get("tcpSocket") or spec.get("grpc") or {}
        port = port_of(target.get("port"))
        if port is None or run.respond(port, "/", "GET", now) is None:
            return False, f"dial tcp {pod_ip}:{port}: connect: connection refused"
        return True, ""
    return (not run.finished), ""  # exec probes: the command runs while the process does


async def probe_node(run: Run, spec: Obj, pod_ip: str, port_of: PortOf) -> tuple[bool, str]:
    """A probe against the real process (``noderuntime``): HTTP GET, TCP connect, exec."""
    assert isinstance(run.process, NodeProcess)
    timeout = max(1.0, float(spec.get("timeoutSeconds") or 1))
    check = spec.get("httpGet") or spec.get("tcpSocket") or spec.get("grpc")
    if check is None:
        return (not run.finished), ""
    port = port_of(check.get("port"))
    if port is None:
        return _missing_port(check)
    if "httpGet" not in spec:
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(run.process.address, port), timeout)
        except (TimeoutError, OSError):
            return False, f"dial tcp {pod_ip}:{port}: connect: connection refused"
        writer.close()
        return True, ""
    path = check.get("path") or "/"
    url = f"{(check.get('scheme') or 'HTTP').lower()}://{pod_ip}:{port}{path}"
    code, why = await http_probe(run.process.address, port, path, timeout)
    if code is None:
        return False, f'Get "{url}": dial tcp {pod_ip}:{port}: {why}'
    return _http_verdict(code)
