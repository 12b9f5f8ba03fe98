"""``forward``: a local port to a ready pod of the app, moving to another one when it goes away.

``run_forward`` picks the pod (``debug.pods``), listens on 127.0.0.1 (``kube.portforward``),
prints the URL and then follows the app's pods through a watch: ``PodFollower`` folds the
events into the current pods and points new connections at another ready pod when the one
in use is deleted, terminating or no longer ready — saying so on stderr. The local listener
stays up throughout; connections already open end with their pod.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubectl_trace.debug.pods import AppPods, PodChoice, PortSpec, next_pod, pod_name
from kubectl_trace.debug.say import say

if TYPE_CHECKING:
    from kubectl_trace.environment import Environment
    from kubectl_trace.kube.errors import KubeError
    from kubectl_trace.kube.watch import WatchEvent

__all__ = ["ForwardSettings", "PodFollower", "run_forward"]


@dataclass(frozen=True)
class ForwardSettings:
    """What to forward: the pod chosen (APP, ``--process``, ``--pod``) and ``[LOCAL:]REMOTE``."""

    choice: PodChoice
    ports: PortSpec


class PodFollower:
    """The app's pods as the watch tells them, and which one new connections go to.

    ``apply(event)`` folds one watch event in; when the pod in use is no longer ready it
    calls ``on_move(old, new, why)`` (``new`` None: no ready pod right now).
    """

    def __init__(
        self, app: AppPods, current: str | None, on_move: Callable[[str | None, str | None, str], None]
    ) -> None:
        self.app = app
        self.current = current
        self.pods: dict[str, Mapping[str, Any]] = {}
        self._on_move = on_move

    def apply(self, event: WatchEvent) -> None:
        """Fold in one event of the pods watch."""
        if event.type == "RESET":
            self.pods = {pod_name(p): p for p in self.app.select(event.items)}
        elif event.type in ("ADDED", "MODIFIED") and event.object is not None:
            if self.app.owns(event.object):
                self.pods[pod_name(event.object)] = event.object
        elif event.type == "DELETED" and event.object is not None:
            self.pods.pop(pod_name(event.object), None)
        else:
            return
        chosen = next_pod(self.current, self.pods.values())
        if chosen != self.current:
            old, self.current = self.current, chosen
            self._on_move(old, chosen, self._why(old))

    def _why(self, old: str | None) -> str:
        if old is None:
            return ""
        pod = self.pods.get(old)
        if pod is None:
            return "deleted"
        if (pod.get("metadata") or {}).get("deletionTimestamp"):
            return "terminating"
        return "not ready"


def _move_message(app: AppPods, old: str | None, new: str | None, why: str) -> str:
    if new is None:
        return f"pod {old} is {why}; no ready pod of {app.description} right now, waiting for one"
    if old is None:
        return f"forwarding to {new} now"
    return f"pod {old} is {why}; forwarding to {new} now"


def _error_message(pod: str | None, error: KubeError, port: int) -> str:
    from kubectl_trace.kube.portforward import PortRefused

    if pod is None:
        return "connection closed: no ready pod to forward to right now"
    if isinstance(error, PortRefused):
        return f"pod {pod} refused port {port}: {error.message}"
    return f"connection to {pod} failed: {error.message}"


def run_forward(kube: Any, settings: ForwardSettings, env: Environment, *, config: Any = None) -> int:
    """Forward until Ctrl-C (or SIGTERM); exit status 0."""
    from kubectl_trace.debug.interrupt import terminate_as_interrupt
    from kubectl_trace.debug.pods import choose_pod, remote_port
    from kubectl_trace.kube.forwarder import Forwarder
    from kubectl_trace.kube.queries import Selection
    from kubectl_trace.kube.watch import ResilientWatch
    from kubectl_trace.textsafe import visible

    app, pod = choose_pod(kube, settings.choice, config)
    name = pod_name(pod)
    port = remote_port(settings.ports, pod)
    local = port if settings.ports.local is None else settings.ports.local
    forwarder = Forwarder(
        kube,
        app.namespace,
        port,
        pod=name,
        local_port=local,
        on_error=lambda p, e: say(env, _error_message(p, e, port)),
    )
    watch = ResilientWatch(kube, Selection("pods", app.namespace, label_selector=app.label_selector))

    def moved(old: str | None, new: str | None, why: str) -> None:
        forwarder.pod = new
        say(env, _move_message(app, old, new, why))

    follower = PodFollower(app, name, moved)
    try:
        bound = forwarder.start()
        # the pod's name comes from the cluster
        env.stdout.write(
            visible(f"Forwarding http://127.0.0.1:{bound} -> {name}:{port} (Ctrl-C to stop)") + "\n"
        )
        env.stdout.flush()
        with terminate_as_interrupt():
            _follow(watch, follower, env)
    except KeyboardInterrupt:
        pass
    finally:
        watch.stop()
        forwarder.close()
    return 0


def _follow(watch: Any, follower: PodFollower, env: Environment) -> None:
    """Fold the watch into ``follower``; an outage of the watch is said once, and its end."""
    down = False
    for event in watch:
        if event.type == "DISCONNECTED" and not down:
            down = True
            detail = event.error.message if event.error is not None else "disconnected"
            say(env, f"lost the watch of the app's pods ({detail}); retrying, still forwarding")
        elif event.type in ("RECONNECTED", "RESET") and down:
            down = False
            say(env, "watching the app's pods again")
        follower.apply(event)
