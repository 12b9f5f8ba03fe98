"""After an OOMKill: what the memory limit was, what the V8 heap was allowed, what to change (pure).

How big Node's old space (the V8 heap that ``--max-old-space-size`` sets) may grow:

- ``--max-old-space-size=N`` (or ``--max_old_space_size``) in the container's ``NODE_OPTIONS``
  or its command/args: N MiB.
- Otherwise Node ≥ 12 sizes it from the memory it may use (nodejs/node#25576, "src:
  properly configure default heap limits": ``ResourceConstraints::ConfigureDefaults`` with
  the total memory; libuv's ``uv_get_constrained_memory`` makes that the cgroup limit in
  a container). V8's ``Heap::HeapSizeFromPhysicalMemory`` takes a quarter of that memory
  times ``kHeapLimitMultiplier`` (2 on 64-bit builds without pointer compression, as
  Node's are): **half the limit**, as reported in nodejs/node#35573 ("node only using half
  of the available memory"), clamped to at least 256 MiB (V8's minimum old generation
  on 64-bit: a 256 MiB container gets a ~262 MB heap limit, nodejs/node#64646) and at
  most 4 GiB. So a container limit at or under 512 MiB lets the heap grow to (or past)
  half of it and small limits leave no room for the rest of the process.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubectl_trace.health._common import child, children, timestamp
from kubectl_trace.health.quantity import format_memory, parse_memory

__all__ = [
    "HeapLimit",
    "OomAdvice",
    "heap_limit",
    "max_old_space_mib",
    "node_default_old_space",
    "oom_advice",
]

_MIB = 2**20
_FLAG = re.compile(r"^--max[-_]old[-_]space[-_]size(?:=(\d+))?$")
_MIN_OLD_SPACE = 256 * _MIB
_MAX_OLD_SPACE = 4096 * _MIB


def _flag_value(words: Sequence[str]) -> int | None:
    found: int | None = None
    for i, word in enumerate(words):
        match = _FLAG.match(word)
        if not match:
            continue
        value = match.group(1) or (words[i + 1] if i + 1 < len(words) else "")
        if str(value).isdigit():
            found = int(value)  # the last one wins, as in node
    return found


def max_old_space_mib(container: Mapping[str, Any]) -> tuple[int, str] | None:
    """``--max-old-space-size`` of a container spec: (MiB, where it was found) or None."""
    words = [str(w) for w in (container.get("command") or []) + (container.get("args") or [])]
    split: list[str] = []
    for word in words:  # "sh -c 'node --max-old-space-size=200 app.js'" hides it in one word
        try:
            split.extend(shlex.split(word) if " " in word else [word])
        except ValueError:
            split.append(word)
    in_args = _flag_value(split)
    if in_args is not None:
        return in_args, "the container's command"
    for env in children(container, "env"):
        if env.get("name") == "NODE_OPTIONS" and isinstance(env.get("value"), str):
            try:
                value = _flag_value(shlex.split(env["value"]))
            except ValueError:
                value = None
            if value is not None:
                return value, "NODE_OPTIONS"
    return None


def node_default_old_space(limit: int) -> int:
    """Node's default old-space size (bytes) in a container limited to ``limit`` bytes (see above)."""
    return max(_MIN_OLD_SPACE, min(_MAX_OLD_SPACE, limit // 2))


@dataclass(frozen=True)
class HeapLimit:
    """How far the V8 heap may grow in a container."""

    size: int  # bytes
    source: str  # "NODE_OPTIONS", "the container's command" or "Node's default"


def heap_limit(container: Mapping[str, Any], memory_limit: int | None) -> HeapLimit | None:
    """The heap limit of a container spec (None: no flag and no memory limit to size from)."""
    flag = max_old_space_mib(container)
    if flag is not None:
        return HeapLimit(flag[0] * _MIB, f"--max-old-space-size={flag[0]} in {flag[1]}")
    if memory_limit is None:
        return None
    return HeapLimit(node_default_old_space(memory_limit), "Node's default for that limit")


@dataclass(frozen=True)
class OomAdvice:
    """One OOM-killed container: the facts and what to change."""

    pod: str
    container: str
    memory_limit: int | None
    heap_limit: int | None
    heap_source: str
    finished_at: float | None
    message: str
    fix: str


def _advise(memory_limit: int | None, heap: HeapLimit | None) -> tuple[str, str]:
    if memory_limit is None:
        return (
            "OOMKilled with no memory limit: the node itself ran out of memory",
            "set resources.limits.memory (and requests.memory) from observed use",
        )
    limit_text = format_memory(memory_limit)
    suggested = max(64, int(memory_limit * 0.75 / _MIB))
    assert heap is not None
    heap_text = f"{format_memory(heap.size)} ({heap.source})"
    if heap.size >= memory_limit * 0.7:
        return (
            f"OOMKilled at the {limit_text} memory limit; the V8 heap was allowed {heap_text}, "
            "too close to the limit for Node's GC to act before the kernel kills the process",
            f"set NODE_OPTIONS=--max-old-space-size={suggested} (about 75% of the limit) so the heap "
            "stays inside the container, or raise resources.limits.memory if the app needs more",
        )
    return (
        f"OOMKilled at the {limit_text} memory limit while the V8 heap was capped at {heap_text}, "
        "so the JS heap alone could not fill it (a full heap ends in 'JavaScript heap out of memory', "
        "exit 134): memory outside it (Buffers, native modules, child processes) went over",
        "raise resources.limits.memory, or look for Buffer/stream growth (a heap snapshot will not show it)",
    )


def oom_advice(pod: Mapping[str, Any]) -> list[OomAdvice]:
    """Advice for each container of the pod whose current or last instance was OOMKilled."""
    meta = child(pod, "metadata")
    specs = {str(c.get("name")): c for c in children(child(pod, "spec"), "containers")}
    out: list[OomAdvice] = []
    for status in children(child(pod, "status"), "containerStatuses"):
        name = str(status.get("name"))
        terminated = child(child(status, "state"), "terminated")
        if terminated.get("reason") != "OOMKilled":
            terminated = child(child(status, "lastState"), "terminated")
        if terminated.get("reason") != "OOMKilled":
            continue
        spec = specs.get(name, {})
        memory_limit = parse_memory(child(child(spec, "resources"), "limits").get("memory"))
        heap = heap_limit(spec, memory_limit)
        message, fix = _advise(memory_limit, heap)
        out.append(
            OomAdvice(
                pod=str(meta.get("name")),
                container=name,
                memory_limit=memory_limit,
                heap_limit=heap.size if heap else None,
                heap_source=heap.source if heap else "",
                finished_at=timestamp(terminated.get("finishedAt")),
                message=message,
                fix=fix,
            )
        )
    return out
