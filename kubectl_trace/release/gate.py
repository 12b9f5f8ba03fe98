"""Is the source of a promotion healthy? Its rollouts complete, its pods not failing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kubectl_trace.health import deployment_pods, deployment_rollout, index_events, pod_health
from kubectl_trace.release.app import App

if TYPE_CHECKING:
    from kubectl_trace.kube.calls import KubeClient

__all__ = ["app_problems", "source_problems"]


def app_problems(
    deployments: Sequence[Mapping[str, Any]],
    replicasets: Sequence[Mapping[str, Any]],
    pods: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    now: float,
) -> list[str]:
    """One line per problem (pure): a rollout not complete or with errors, an unhealthy pod."""
    index = index_events(events)
    out: list[str] = []
    for d in deployments:
        rollout = deployment_rollout(d, replicasets, now)
        if rollout.state != "complete":
            out.append(f"{rollout.name}: {rollout.summary}")
        elif not rollout.ok:
            out.append(
                f"{rollout.name}: {next(p.message for p in rollout.problems if p.severity == 'error')}"
            )
        for pod in deployment_pods(d, pods):
            health = pod_health(pod, index, now)
            if health.verdict == "unhealthy":
                out.append(f"pod {health.name}: {health.summary}")
    return out


def source_problems(kube: KubeClient, app: App, now: float) -> list[str]:
    """Read the source namespace's ReplicaSets, pods and events, and list what is wrong."""
    ns = app.namespace
    replicasets = kube.list("replicasets", ns).items
    pods = kube.list("pods", ns).items
    events = kube.list("events", ns).items
    return app_problems(app.deployments, replicasets, pods, events, now)
