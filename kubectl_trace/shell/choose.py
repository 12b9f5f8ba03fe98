"""Which pod the shell goes into, decided from the resolved TARGET and the pods (pure).

- A pod named outright: that pod (with an explanation and a hint when it cannot take an
  exec, unless ``--any``).
- Otherwise the candidates are the matching pods that are running and ready (all of them
  with ``--any``). When they all belong to one Deployment (``deploy/NAME``, an app narrowed
  by ``--process``) the best one is taken, as ``kubectl exec deploy/NAME`` does — unless
  ``--pick``. With no TARGET, or candidates spanning several Deployments, the caller asks
  (a picker on a terminal, an error listing the candidates otherwise).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubectl_trace.errors import NodeappError
from kubectl_trace.kube.targets import Target
from kubectl_trace.shell.pods import (
    container_names,
    container_state,
    default_container,
    is_ready,
    is_terminating,
    not_runnable,
    owner_deployment,
    restarts,
    status_reason,
)

__all__ = ["PodChoice", "candidates_error", "choose_pod", "pick_container", "rank_pods"]

Pod = Mapping[str, Any]


@dataclass(frozen=True)
class PodChoice:
    """The outcome: a pod (``pod``), or candidates to ask the user about (``candidates``)."""

    pod: Pod | None = None
    candidates: tuple[Pod, ...] = ()
    automatic: bool = False  # taken among several without asking

    @property
    def must_ask(self) -> bool:
        """Several candidates and nothing decided: pick one interactively or fail."""
        return self.pod is None


def _name(pod: Pod) -> str:
    return str((pod.get("metadata") or {}).get("name", ""))


def _usable(pod: Pod, container: str | None) -> bool:
    if is_terminating(pod) or not is_ready(pod):
        return False
    names = [container] if container else container_names(pod)
    return all(container_state(pod, c)[0] == "running" for c in names)


def _ready_since(pod: Pod) -> str:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return str(condition.get("lastTransitionTime") or "")
    return ""


def rank_pods(pods: Sequence[Pod]) -> list[Pod]:
    """Most suitable first, as kubectl picks for ``exec deploy/NAME``.

    Running and ready, ready the longest, fewest restarts, oldest; then by name.
    """

    def key(pod: Pod) -> tuple[Any, ...]:
        phase = str((pod.get("status") or {}).get("phase") or "")
        since = _ready_since(pod) or "~"  # RFC 3339 strings sort by time; none = last
        created = str((pod.get("metadata") or {}).get("creationTimestamp") or "~")
        return (
            is_terminating(pod),
            phase != "Running",
            not is_ready(pod),
            since,
            restarts(pod),
            created,
            _name(pod),
        )

    return sorted(pods, key=key)


def _summary(pods: Sequence[Pod]) -> str:
    counts = Counter(status_reason(p) if status_reason(p) != "Running" else "not ready" for p in pods)
    return ", ".join(f"{n} {reason}" for reason, n in counts.most_common())


def choose_pod(
    target: Target,
    pods: Sequence[Pod],
    *,
    container: str | None = None,
    any_state: bool = False,
    pick: bool = False,
) -> PodChoice:
    """Decide from ``pods`` (the namespace's pods, any order).

    Raises NodeappError with a hint when no pod will do.
    """
    where = f' in namespace "{target.namespace}"' if target.namespace else ""
    matched = target.select(pods)
    if target.kind == "pod":
        if not matched:
            raise NodeappError(
                f"pod {target.pod_name} does not match"
                + (f" --process {target.process}" if target.process else "")
                + (f" -l {target.label_selector}" if target.label_selector else ""),
                "drop the filter, or name a pod that has it",
            )
        pod = matched[0]
        chosen_container = pick_container(pod, container)  # an unknown -c fails first
        if not any_state:
            problem = not_runnable(pod, chosen_container)
            if problem is not None:
                raise problem
        return PodChoice(pod=pod)
    if not matched:
        raise NodeappError(
            f"no pods match {target.description}{where}",
            "list them with: kubectl get pods" + (f" -n {target.namespace}" if target.namespace else ""),
        )
    if container is not None:
        having = [p for p in matched if container in container_names(p)]
        if not having:
            names = sorted({n for p in matched for n in container_names(p)})
            raise NodeappError(
                f'no pod of {target.description}{where} has a container "{container}" '
                f"(containers: {', '.join(names)})"
            )
        matched = having
    usable = [p for p in matched if any_state or _usable(p, container)]
    if not usable:
        if len(matched) == 1:
            pod = matched[0]
            problem = not_runnable(pod, container or default_container(pod) or "")
            if problem is not None:
                raise problem
            raise NodeappError(
                f"pod {_name(pod)} is running but not ready",
                f"pass --any to use it anyway, or see why: kubectl nodeapp events {_name(pod)}",
            )
        crashing = [p for p in matched if status_reason(p) == "CrashLoopBackOff"]
        hint = "pass --any to try one of them anyway"
        if crashing:
            hint = f"see why: kubectl nodeapp logs {_name(crashing[0])} --previous; or pass --any"
        raise NodeappError(
            f"none of the {len(matched)} pods of {target.description}{where} is running and ready "
            f"({_summary(matched)})",
            hint,
        )
    ranked = rank_pods(usable)
    deployments = {owner_deployment(p) for p in usable}
    one_deployment = len(deployments) == 1 and None not in deployments
    if len(ranked) == 1 and not pick:
        return PodChoice(pod=ranked[0], automatic=target.kind != "all")
    if target.kind != "all" and one_deployment and not pick:
        return PodChoice(pod=ranked[0], automatic=True)
    return PodChoice(candidates=tuple(sorted(usable, key=_name)))


def candidates_error(target: Target, candidates: Sequence[Pod], limit: int = 8) -> NodeappError:
    """The error when several pods would do and there is no terminal to ask on."""
    names = [_name(p) for p in candidates]
    shown = ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")
    deployments = sorted({d for d in (owner_deployment(p) for p in candidates) if d})
    spread = f" of {len(deployments)} deployments" if len(deployments) > 1 else ""
    what = "pods in the namespace" if target.kind == "all" else f"pods of {target.description}"
    return NodeappError(
        f"{len(names)} {what}{spread} would do, and there is no terminal to pick one on: {shown}",
        "name one (kubectl nodeapp shell POD), use deploy/NAME, or narrow with --process",
    )


def pick_container(pod: Pod, wanted: str | None) -> str:
    """``-c CONTAINER`` checked against the pod, else the pod's default container."""
    names = container_names(pod)
    if wanted is not None:
        if wanted not in names:
            raise NodeappError(
                f'container "{wanted}" not found in pod {_name(pod)} (containers: {", ".join(names)})'
            )
        return wanted
    chosen = default_container(pod)
    if chosen is None:
        raise NodeappError(f"pod {_name(pod)} has no containers")
    return chosen
