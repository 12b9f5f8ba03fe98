"""Plausible CPU and memory figures of simulated containers (pure; what metrics.k8s.io serves).

A simulated container has no process to measure, so its usage is a smooth, deterministic
function of what the pod says about it: its requests and limits, what it runs (web,
worker, clock), the sandbox log rate (a busier container burns more CPU) and the time
since it started. Figures move slowly (a few slow sine waves seeded by the pod and
container) so that two reads a few seconds apart differ a little, as real ones do.

An image marked ``leak`` grows its memory from the usual baseline towards 97% of its
limit (or 1 GiB without one) over about ten simulated minutes.

A real Node.js container (``noderuntime``) is measured instead (``ProcessSampler``): CPU
from the change of ``utime + stime`` in ``/proc/PID/stat`` between two reads (the first
read: the average since the process started), memory from ``VmRSS``.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from dataclasses import dataclass

from kubectl_trace.health.quantity import parse_cpu, parse_memory

__all__ = ["ProcessSampler", "Usage", "container_usage"]

_MI = 2**20
_LEAK_MINUTES = 10.0


@dataclass(frozen=True)
class Usage:
    """CPU in millicores and memory (working set) in bytes."""

    cpu_millicores: float
    memory_bytes: int


def _seed(*parts: str) -> float:
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


def _wave(seed: float, t: float, period: float) -> float:
    """A value in [-1, 1] that changes slowly with ``t``."""
    return math.sin(2 * math.pi * (t / period + seed))


def container_usage(
    *,
    key: str,
    resources: dict[str, object] | None,
    process: str,
    log_rate: float,
    now: float,
    started: float,
    fault: str | None = None,
    time_factor: float = 1.0,
) -> Usage:
    """The usage of one running container ``now`` (epoch seconds).

    ``key`` identifies the container (pod uid and name); ``started`` is when it started;
    ``time_factor`` is the sandbox time scale (0.1: simulated time runs ten times faster).
    """
    resources = resources or {}
    requests = resources.get("requests") if isinstance(resources.get("requests"), dict) else {}
    limits = resources.get("limits") if isinstance(resources.get("limits"), dict) else {}
    assert isinstance(requests, dict) and isinstance(limits, dict)
    seed = _seed(key)
    sim_age = max(0.0, now - started) / (time_factor if time_factor > 0 else 1.0)

    cpu_request = parse_cpu(requests.get("cpu"))
    cpu_limit = parse_cpu(limits.get("cpu"))
    base_cpu = {"web": 0.30, "worker": 0.45, "clock": 0.08}.get(process, 0.2) * (cpu_request or 150.0)
    cpu = base_cpu + 2.5 * max(0.0, log_rate)
    cpu *= 1.0 + 0.25 * _wave(seed, now, 47.0) + 0.1 * _wave(seed * 7, now, 13.0)
    if sim_age < 20:  # start-up: compiling and loading modules
        cpu += (cpu_limit or cpu_request or 500.0) * 0.6 * (1 - sim_age / 20)
    if cpu_limit:
        cpu = min(cpu, cpu_limit * 0.98)
    cpu = max(1.0, cpu)

    mem_request = parse_memory(requests.get("memory"))
    mem_limit = parse_memory(limits.get("memory"))
    typical = {"web": 95, "worker": 120, "clock": 60}.get(process, 80) * _MI
    if mem_request:
        typical = min(typical, int(mem_request * 0.8))
    elif mem_limit:
        typical = min(typical, int(mem_limit * 0.6))
    typical = max(typical, 32 * _MI)
    warm = min(1.0, 0.55 + sim_age / 60.0)  # the heap fills up over the first minute
    memory = typical * warm * (1.0 + 0.04 * _wave(seed * 3, now, 90.0))
    if fault == "leak":
        ceiling = (mem_limit or 1024 * _MI) * 0.97
        grown = 1.0 - math.exp(-sim_age / (_LEAK_MINUTES * 60.0 / 3.0))
        memory = memory + max(0.0, ceiling - memory) * grown
    if mem_limit:
        memory = min(memory, mem_limit * 0.99)
    return Usage(round(cpu, 3), int(memory))


class ProcessSampler:
    """CPU and memory of real processes from ``/proc``, remembering the last read of each."""

    def __init__(self) -> None:
        self._last: dict[int, tuple[float, float]] = {}  # pid → (monotonic time, CPU seconds)
        self._tick = float(os.sysconf("SC_CLK_TCK")) if hasattr(os, "sysconf") else 100.0

    def _cpu_seconds(self, pid: int) -> tuple[float, float] | None:
        """(CPU seconds used, seconds since the process started)."""
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            with open("/proc/uptime", encoding="ascii") as handle:
                uptime = float(handle.read().split()[0])
        except (OSError, IndexError, ValueError):
            return None
        # after the command: state is fields[0], so utime (14th) is fields[11], stime fields[12],
        # starttime (22nd) fields[19]
        used = (int(fields[11]) + int(fields[12])) / self._tick
        age = max(0.001, uptime - int(fields[19]) / self._tick)
        return used, age

    @staticmethod
    def _rss(pid: int) -> int | None:
        try:
            with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024
        except (OSError, IndexError, ValueError):
            return None
        return None

    def usage(self, pid: int) -> Usage | None:
        """The process's usage now; None when it is gone."""
        cpu = self._cpu_seconds(pid)
        rss = self._rss(pid)
        if cpu is None or rss is None:
            self._last.pop(pid, None)
            return None
        used, age = cpu
        now = time.monotonic()
        last = self._last.get(pid)
        if last is not None and now - last[0] >= 0.05 and used >= last[1]:
            cores = (used - last[1]) / (now - last[0])
        else:
            cores = used / age
        self._last[pid] = (now, used)
        if len(self._last) > 4096:
            self._last = {pid: self._last[pid]}
        return Usage(round(cores * 1000.0, 3), rss)
