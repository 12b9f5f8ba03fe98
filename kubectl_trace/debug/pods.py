"""Which pod of an app a debugging command talks to, and the port it means (pure parts + one LIST).

``AppPods`` says which Deployments of the app count (``--process``; ``web`` when the app has
several and none is named); ``ready_pods`` and ``next_pod`` are pure and decide on every
watch event; ``parse_ports`` reads ``[LOCAL:]REMOTE`` as kubectl port-forward does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubectl_trace.errors import NodeappError, UsageError

__all__ = [
    "AppPods",
    "PodChoice",
    "PortSpec",
    "choose_pod",
    "is_ready",
    "list_app_pods",
    "load_app_pods",
    "next_pod",
    "parse_ports",
    "pick_pod",
    "pod_name",
    "ready_pods",
    "remote_port",
]

DEFAULT_PROCESS = "web"
_PORT_NAME = re.compile(r"[a-z]([-a-z0-9]{0,13}[a-z0-9])?")  # a container port's name (IANA_SVC_NAME)


@dataclass(frozen=True)
class PortSpec:
    """``[LOCAL:]REMOTE``: ``local`` 0 picks a free port; ``remote`` a number or a port name."""

    local: int | None  # None: the same number as the remote port
    remote: str


def _port_number(text: str, what: str, spec: str, *, zero: bool) -> int:
    if not text.isdigit() or not (0 if zero else 1) <= int(text) <= 65535:
        low = "0" if zero else "1"
        raise UsageError(f"invalid {what} port {text!r} in {spec!r} (a number {low}-65535)")
    return int(text)


def parse_ports(spec: str) -> PortSpec:
    """``3000`` (local 3000), ``8080:3000``, ``0:3000`` or ``:3000`` (a free local port), ``8080:http``."""
    text = spec.strip()
    local_text, sep, remote = text.rpartition(":")
    if not sep:
        local_text, remote = "", text
    if not remote:
        raise UsageError(f"invalid port spec {spec!r}: no remote port (expected [LOCAL:]REMOTE, e.g. 0:3000)")
    if not remote.isdigit():
        if not _PORT_NAME.fullmatch(remote):
            what = "a number or a port name like http"
            raise UsageError(f"invalid remote port {remote!r} in {spec!r} ({what})")
    else:
        _port_number(remote, "remote", spec, zero=False)
    if not sep:
        return PortSpec(None, remote)
    local = 0 if local_text == "" else _port_number(local_text, "local", spec, zero=True)
    return PortSpec(local, remote)


def is_ready(pod: Mapping[str, Any]) -> bool:
    """Running, Ready and not being deleted."""
    meta = pod.get("metadata") or {}
    status = pod.get("status") or {}
    if meta.get("deletionTimestamp") or status.get("phase") != "Running":
        return False
    conditions = status.get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def pod_name(pod: Mapping[str, Any]) -> str:
    """The pod's ``metadata.name`` ("" when it has none)."""
    return str((pod.get("metadata") or {}).get("name") or "")


def ready_pods(pods: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The ready pods, newest first (the one a rollout replaces last), then by name."""
    ready = [p for p in pods if is_ready(p)]
    ready.sort(key=pod_name)
    ready.sort(key=lambda p: str((p.get("metadata") or {}).get("creationTimestamp") or ""), reverse=True)
    return ready


def next_pod(current: str | None, pods: Iterable[Mapping[str, Any]]) -> str | None:
    """Where to forward now: ``current`` while it is ready, else the newest ready pod (or None)."""
    ready = ready_pods(pods)
    if current is not None and any(pod_name(p) == current for p in ready):
        return current
    return pod_name(ready[0]) if ready else None


@dataclass(frozen=True)
class AppPods:
    """The pods a debugging command may talk to: those of these Deployments."""

    app: str
    namespace: str
    process: str | None
    deployments: tuple[Mapping[str, Any], ...]
    label_selector: str | None  # for LIST/WATCH; None: list all and filter

    @property
    def description(self) -> str:
        """``app trace-api (web) in production``."""
        scope = f" ({self.process})" if self.process else ""
        return f"app {self.app}{scope} in {self.namespace}"

    def owns(self, pod: Mapping[str, Any]) -> bool:
        """Whether ``pod`` belongs to one of the Deployments (by their selectors)."""
        from kubectl_trace.kube.selectors import match_label_selector_object

        labels = (pod.get("metadata") or {}).get("labels") or {}
        selectors = [(d.get("spec") or {}).get("selector") for d in self.deployments]
        return any(match_label_selector_object(s, labels) for s in selectors)

    def select(self, pods: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """The pods of ``pods`` that belong to the app's Deployments."""
        return [p for p in pods if self.owns(p)]


def _selector_text(deployments: Sequence[Mapping[str, Any]]) -> str | None:
    if len(deployments) != 1:
        return None
    selector = (deployments[0].get("spec") or {}).get("selector") or {}
    labels = selector.get("matchLabels") or {}
    if selector.get("matchExpressions") or not labels:
        return None
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def load_app_pods(kube: Any, app: str, *, namespace: str, process: str | None, config: Any = None) -> AppPods:
    """Resolve APP strictly (``kube.targets.resolve_app``) to the Deployments of one process.

    Without ``--process`` an app of several processes means its ``web`` process; with no
    ``web`` either, a UsageError names the processes to choose from.
    """
    from kubectl_trace.kube.targets import deployment_process, resolve_app

    if config is None:
        from kubectl_trace.userconfig import load_user_config

        config = load_user_config()
    found = resolve_app(kube, app, namespace=namespace, process=process, config=config)
    label, env = config.process_label, config.process_env
    chosen = process
    if process is None:
        kinds = sorted({deployment_process(d, label=label, env=env) or "" for d in found})
        if len(kinds) > 1:
            if DEFAULT_PROCESS not in kinds:
                names = ", ".join(k or "(none)" for k in kinds)
                raise UsageError(f"app {app!r} has several processes ({names}); pick one with --process")
            chosen = DEFAULT_PROCESS
            found = tuple(d for d in found if deployment_process(d, label=label, env=env) == chosen)
        elif kinds and kinds[0]:
            chosen = kinds[0]
    return AppPods(app, namespace, chosen, tuple(found), _selector_text(found))


@dataclass(frozen=True)
class PodChoice:
    """Which pod a debugging command talks to: of APP, ``--process`` and ``--pod`` (else the newest ready)."""

    app: str
    namespace: str | None  # None: the kubeconfig context's namespace
    process: str | None = None
    pod: str | None = None


def choose_pod(kube: Any, choice: PodChoice, config: Any = None) -> tuple[AppPods, Mapping[str, Any]]:
    """The app's pods (``load_app_pods``) and the one chosen among them (``pick_pod``)."""
    namespace = choice.namespace or kube.namespace
    app = load_app_pods(kube, choice.app, namespace=namespace, process=choice.process, config=config)
    return app, pick_pod(kube, app, choice.pod)


def list_app_pods(kube: Any, app: AppPods) -> list[Mapping[str, Any]]:
    """The app's pods now (one LIST)."""
    items = kube.list("pods", app.namespace, label_selector=app.label_selector).items
    return app.select(items)


def pick_pod(kube: Any, app: AppPods, wanted: str | None) -> Mapping[str, Any]:
    """``--pod NAME`` (a ready pod of the app), else the newest ready pod of the app."""
    pods = list_app_pods(kube, app)
    if wanted is not None:
        pod = next((p for p in pods if pod_name(p) == wanted), None)
        if pod is None:
            raise NodeappError(
                f"pod {wanted} is not a pod of {app.description}",
                hint=f"list them with: kubectl nodeapp status {app.app} -n {app.namespace}",
            )
        if not is_ready(pod):
            raise NodeappError(f"pod {wanted} of {app.description} is not running and ready")
        return pod
    ready = ready_pods(pods)
    if not ready:
        raise NodeappError(
            f"no ready pod of {app.description}" + (f" ({len(pods)} not ready)" if pods else ""),
            hint=f"see why with: kubectl nodeapp status {app.app} -n {app.namespace}",
        )
    return ready[0]


def remote_port(spec: PortSpec, pod: Mapping[str, Any]) -> int:
    """The remote port as a number (a port name is looked up in the pod's containers)."""
    if spec.remote.isdigit():
        return int(spec.remote)
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == spec.remote and port.get("containerPort"):
                return int(port["containerPort"])
    raise NodeappError(f"pod {pod_name(pod)} has no port named {spec.remote!r}")
