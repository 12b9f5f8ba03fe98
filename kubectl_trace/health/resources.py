"""CPU and memory per pod and per process against requests and limits (pure).

``pod_usages(pods, pod_metrics)`` joins the pods (their container requests and limits)
with the ``PodMetrics`` items of ``metrics.k8s.io/v1beta1``; ``process_usages`` sums them
up per process type (``web``, ``worker``…). CPU is in millicores, memory in bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubectl_trace.health._common import child, children
from kubectl_trace.health.quantity import format_cpu, format_memory, parse_cpu, parse_memory

__all__ = ["ContainerUsage", "PodUsage", "ProcessUsage", "pod_process", "pod_usages", "process_usages"]


@dataclass(frozen=True)
class ContainerUsage:
    """One container's usage now, with what its spec asks for and allows."""

    container: str
    cpu_m: float
    memory: int
    cpu_request_m: float | None
    cpu_limit_m: float | None
    memory_request: int | None
    memory_limit: int | None

    @property
    def memory_of_limit(self) -> float | None:
        """Memory used as a fraction of the limit (None without a limit)."""
        return self.memory / self.memory_limit if self.memory_limit else None


def _sum(values: Sequence[float | int | None]) -> float | None:
    """The sum, or None when any is missing (a pod without a limit has no pod limit)."""
    if not values or any(v is None for v in values):
        return None
    return float(sum(v for v in values if v is not None))


@dataclass(frozen=True)
class PodUsage:
    """A pod's usage: its containers and their totals."""

    pod: str
    process: str
    containers: tuple[ContainerUsage, ...]
    timestamp: str = ""

    @property
    def cpu_m(self) -> float:
        """CPU of every container (millicores)."""
        return sum(c.cpu_m for c in self.containers)

    @property
    def memory(self) -> int:
        """Memory of every container (bytes)."""
        return sum(c.memory for c in self.containers)

    @property
    def cpu_request_m(self) -> float | None:
        """The pod's CPU request (None if a container has none)."""
        return _sum([c.cpu_request_m for c in self.containers])

    @property
    def cpu_limit_m(self) -> float | None:
        """The pod's CPU limit (None if a container has none)."""
        return _sum([c.cpu_limit_m for c in self.containers])

    @property
    def memory_request(self) -> int | None:
        """The pod's memory request (None if a container has none)."""
        total = _sum([c.memory_request for c in self.containers])
        return None if total is None else int(total)

    @property
    def memory_limit(self) -> int | None:
        """The pod's memory limit (None if a container has none)."""
        total = _sum([c.memory_limit for c in self.containers])
        return None if total is None else int(total)

    def cpu_text(self) -> str:
        """``42m of 100m requested, limit 500m``."""
        return _against(format_cpu(self.cpu_m), self.cpu_request_m, self.cpu_limit_m, format_cpu)

    def memory_text(self) -> str:
        """``118Mi of 128Mi requested, limit 256Mi (46%)``."""
        text = _against(format_memory(self.memory), self.memory_request, self.memory_limit, format_memory)
        limit = self.memory_limit
        return f"{text} ({self.memory / limit:.0%} of limit)" if limit else text

    def as_json(self) -> dict[str, Any]:
        """The pod's figures for ``-o json``."""
        return {
            "pod": self.pod,
            "process": self.process,
            "timestamp": self.timestamp,
            "cpu_millicores": round(self.cpu_m, 1),
            "cpu_request_millicores": self.cpu_request_m,
            "cpu_limit_millicores": self.cpu_limit_m,
            "memory_bytes": self.memory,
            "memory_request_bytes": self.memory_request,
            "memory_limit_bytes": self.memory_limit,
            "containers": [
                {
                    "name": c.container,
                    "cpu_millicores": round(c.cpu_m, 1),
                    "memory_bytes": c.memory,
                    "cpu_request_millicores": c.cpu_request_m,
                    "cpu_limit_millicores": c.cpu_limit_m,
                    "memory_request_bytes": c.memory_request,
                    "memory_limit_bytes": c.memory_limit,
                }
                for c in self.containers
            ],
        }


def _against(used: str, request: float | None, limit: float | None, fmt: Any) -> str:
    parts = [used]
    if request is not None:
        parts.append(f"of {fmt(request)} requested")
    if limit is not None:
        parts.append(f"limit {fmt(limit)}")
    else:
        parts.append("no limit")
    return ", ".join([" ".join(parts[:2]), *parts[2:]]) if request is not None else ", ".join(parts)


@dataclass(frozen=True)
class ProcessUsage:
    """One process type over its pods: average and highest, against one pod's request/limit."""

    process: str
    pods: int
    cpu_avg_m: float
    cpu_max_m: float
    memory_avg: float
    memory_max: int
    cpu_request_m: float | None
    cpu_limit_m: float | None
    memory_request: int | None
    memory_limit: int | None

    def line(self) -> str:
        """``web (3 pods): CPU 45m avg, 58m max of 100m requested, limit 500m; memory …``."""
        cpu = _against(
            f"{format_cpu(self.cpu_avg_m)} avg, {format_cpu(self.cpu_max_m)} max",
            self.cpu_request_m,
            self.cpu_limit_m,
            format_cpu,
        )
        memory = _against(
            f"{format_memory(self.memory_avg)} avg, {format_memory(self.memory_max)} max",
            self.memory_request,
            self.memory_limit,
            format_memory,
        )
        if self.memory_limit:
            memory += f" (highest {self.memory_max / self.memory_limit:.0%} of limit)"
        plural = "pod" if self.pods == 1 else "pods"
        return f"{self.process} ({self.pods} {plural}): CPU {cpu}; memory {memory}"


def pod_process(
    pod: Mapping[str, Any], process_label: str = "process", process_env: str = "PROCESS_TYPE"
) -> str:
    """The pod's process type: its label, else the env of its first container, else its name."""
    labels = child(pod, "metadata").get("labels") or {}
    if labels.get(process_label):
        return str(labels[process_label])
    containers = children(child(pod, "spec"), "containers")
    for env in children(containers[0], "env") if containers else []:
        if env.get("name") == process_env and env.get("value"):
            return str(env["value"])
    return str(containers[0].get("name", "")) if containers else ""


def pod_usages(
    pods: Sequence[Mapping[str, Any]],
    pod_metrics: Sequence[Mapping[str, Any]],
    *,
    process_label: str = "process",
    process_env: str = "PROCESS_TYPE",
) -> tuple[PodUsage, ...]:
    """Join pods with their PodMetrics (pods without metrics are left out), sorted by pod name."""
    by_name = {str(child(m, "metadata").get("name")): m for m in pod_metrics}
    out: list[PodUsage] = []
    for pod in pods:
        name = str(child(pod, "metadata").get("name"))
        metrics = by_name.get(name)
        if metrics is None:
            continue
        specs = {str(c.get("name")): c for c in children(child(pod, "spec"), "containers")}
        containers = []
        for item in children(metrics, "containers"):
            usage = child(item, "usage")
            spec = specs.get(str(item.get("name")), {})
            resources = child(spec, "resources")
            requests, limits = child(resources, "requests"), child(resources, "limits")
            containers.append(
                ContainerUsage(
                    container=str(item.get("name")),
                    cpu_m=parse_cpu(usage.get("cpu")) or 0.0,
                    memory=parse_memory(usage.get("memory")) or 0,
                    cpu_request_m=parse_cpu(requests.get("cpu")),
                    cpu_limit_m=parse_cpu(limits.get("cpu")),
                    memory_request=parse_memory(requests.get("memory")),
                    memory_limit=parse_memory(limits.get("memory")),
                )
            )
        out.append(
            PodUsage(
                pod=name,
                process=pod_process(pod, process_label, process_env),
                containers=tuple(containers),
                timestamp=str(metrics.get("timestamp") or ""),
            )
        )
    return tuple(sorted(out, key=lambda u: u.pod))


def process_usages(usages: Sequence[PodUsage]) -> tuple[ProcessUsage, ...]:
    """Per process type, sorted by name."""
    groups: dict[str, list[PodUsage]] = {}
    for usage in usages:
        groups.setdefault(usage.process, []).append(usage)
    out = []
    for process, group in sorted(groups.items()):
        first = group[0]
        out.append(
            ProcessUsage(
                process=process,
                pods=len(group),
                cpu_avg_m=sum(u.cpu_m for u in group) / len(group),
                cpu_max_m=max(u.cpu_m for u in group),
                memory_avg=sum(u.memory for u in group) / len(group),
                memory_max=max(u.memory for u in group),
                cpu_request_m=first.cpu_request_m,
                cpu_limit_m=first.cpu_limit_m,
                memory_request=first.memory_request,
                memory_limit=first.memory_limit,
            )
        )
    return tuple(out)
