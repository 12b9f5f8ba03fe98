"""The UI state (what the user has selected, typed and opened) and the actions keys ask for.

All frozen: ``keys.handle_key`` returns a new ``UiState`` and maybe an ``Action``; the app
performs actions (API calls, suspending the screen for a subprocess) outside the pure core.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from kubectl_trace.dashboard.state import Notice

__all__ = ["Action", "Confirm", "UiNotice", "UiState"]


@dataclass(frozen=True)
class Action:
    """Something a key asks the app to do.

    ``kind``: ``quit``, ``logs`` and ``shell`` (``pod``), ``app-rollback`` (the app of
    ``deployment``), ``undo`` (``deployment``, ``revision`` to roll back to), ``pause``,
    ``resume``, ``restart`` (``deployment``).
    """

    kind: str
    namespace: str = ""
    deployment: str | None = None
    pod: str | None = None
    revision: int | None = None


@dataclass(frozen=True)
class Confirm:
    """A question waiting for y/n before ``action`` runs."""

    action: Action
    title: str
    lines: tuple[str, ...]


# A message from the key handler itself (e.g. nothing to roll back to).
UiNotice = Notice


@dataclass(frozen=True)
class UiState:
    """What the user looks at.

    ``pod`` is the selected pod (its log is tailed); ``pod_auto`` means the dashboard chose
    it and may move it to a more interesting pod; an explicit choice (arrows) sticks.
    ``pod_offset`` is the first visible pod row (views keep the selection in view).
    """

    deployment: str | None = None
    pod: str | None = None
    pod_auto: bool = True
    focus: str = "deployments"  # deployments, pods
    pod_offset: int = 0
    filter: str = ""
    editing_filter: bool = False
    help: bool = False
    confirm: Confirm | None = None
    notice: UiNotice | None = None

    def select_deployment(self, name: str | None) -> UiState:
        """Another Deployment: the pod choice starts again."""
        if name == self.deployment:
            return self
        return replace(self, deployment=name, pod=None, pod_auto=True, pod_offset=0)

    def select_pod(self, name: str | None, *, auto: bool = False) -> UiState:
        """Select a pod (``auto``: chosen by the dashboard, not the user)."""
        return replace(self, pod=name, pod_auto=auto)
