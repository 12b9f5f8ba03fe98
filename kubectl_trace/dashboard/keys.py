"""Key handling as a pure function: ``(UiState, Frame, key) → (UiState, Action | None)``.

Key names are prompt_toolkit's (``up``, ``down``, ``pageup``, ``pagedown``, ``home``,
``end``, ``enter``, ``tab``, ``s-tab``, ``escape``, ``backspace``, ``c-c``, ``c-u``) or
the character typed. The app binds every key to this function; tests call it directly.
"""

from __future__ import annotations

from dataclasses import replace

from kubectl_trace.dashboard.derive import Frame
from kubectl_trace.dashboard.ui import Action, Confirm, UiNotice, UiState
from kubectl_trace.health import RolloutState

__all__ = ["PRODUCTION_NAMESPACES", "handle_key", "previous_revision"]

# Namespaces where every mutating key asks first (the deploy/rollback confirmation rule).
PRODUCTION_NAMESPACES = frozenset({"production", "prod"})

_MOVES = {"up": -1, "k": -1, "down": 1, "j": 1}


def previous_revision(rollout: RolloutState) -> tuple[int, str] | None:
    """The revision ``kubectl rollout undo`` goes back to (the second highest) and its tags."""
    known = sorted(
        (rs for rs in rollout.history if rs.revision is not None), key=lambda r: -(r.revision or 0)
    )
    if len(known) < 2:
        return None
    rs = known[1]
    return rs.revision or 0, ",".join(rs.tags)


def _notice(ui: UiState, text: str, now: float, level: str = "error") -> UiState:
    return replace(ui, notice=UiNotice(text, level, now))


def _move_pod(ui: UiState, frame: Frame, delta: int, page: int) -> UiState:
    rows = frame.pods
    if not rows:
        return ui
    current = frame.pod_index if frame.pod_index is not None else -1
    target = max(0, min(len(rows) - 1, current + delta)) if current >= 0 else 0
    offset = ui.pod_offset
    if target < offset:
        offset = target
    elif target >= offset + page:
        offset = target - page + 1
    return replace(ui.select_pod(rows[target].name), pod_offset=max(0, offset))


def _move_deployment(ui: UiState, frame: Frame, delta: int) -> UiState:
    names = frame.deployment_names
    if not names:
        return ui
    current = frame.deployment_index if frame.deployment_index is not None else 0
    target = max(0, min(len(names) - 1, current + delta))
    return ui.select_deployment(names[target])


def _confirm_undo(ui: UiState, frame: Frame, now: float) -> UiState:
    rollout = frame.selected
    if rollout is None:
        return _notice(ui, "no deployment selected", now)
    if rollout.state == "paused":
        return _notice(ui, f"{rollout.name} is paused: resume it (p) before rolling back", now)
    previous = previous_revision(rollout)
    if previous is None:
        return _notice(ui, f"{rollout.name} has no previous revision to roll back to", now)
    revision, tags = previous
    current = ",".join(rollout.tags)
    action = Action("undo", frame.snapshot.namespace, rollout.name, revision=revision)
    return replace(
        ui,
        confirm=Confirm(
            action,
            f"Undo {rollout.name} only (kubectl rollout undo)?",
            (
                f"namespace {frame.snapshot.namespace}",
                f"from revision {rollout.revision} ({current})",
                f"to revision {revision} ({tags})",
                "the app's other processes are left as they are",
            ),
        ),
    )


def _confirm_app_rollback(ui: UiState, frame: Frame, now: float) -> UiState:
    rollout = frame.selected
    if rollout is None:
        return _notice(ui, "no deployment selected", now)
    namespace = frame.snapshot.namespace
    action = Action("app-rollback", namespace, rollout.name)
    return replace(
        ui,
        confirm=Confirm(
            action,
            f"Roll back the whole app of {rollout.name}?",
            (
                f"namespace {namespace}",
                "every process back to the app's last release whose rollout completed healthy",
                "recorded as a new release (kubectl nodeapp history APP shows it)",
                "U undoes this one Deployment only",
            ),
        ),
    )


def _deployment_action(ui: UiState, frame: Frame, kind: str, now: float) -> tuple[UiState, Action | None]:
    rollout = frame.selected
    if rollout is None:
        return _notice(ui, "no deployment selected", now), None
    namespace = frame.snapshot.namespace
    if kind == "pause" and rollout.state == "paused":
        kind = "resume"
    if kind == "restart" and rollout.state == "paused":
        return _notice(ui, f"{rollout.name} is paused: resume it (p) before restarting", now), None
    action = Action(kind, namespace, rollout.name)
    if namespace not in PRODUCTION_NAMESPACES:
        return ui, action
    question = {
        "pause": f"Pause the rollout of {rollout.name}?",
        "resume": f"Resume the rollout of {rollout.name}?",
        "restart": f"Restart every pod of {rollout.name}?",
    }[kind]
    return replace(ui, confirm=Confirm(action, question, (f"namespace {namespace}",))), None


def _pod_action(ui: UiState, frame: Frame, kind: str, now: float) -> tuple[UiState, Action | None]:
    if frame.log_pod is None:
        return _notice(ui, "no pod selected", now), None
    return ui, Action(kind, frame.snapshot.namespace, pod=frame.log_pod)


def _editing(ui: UiState, key: str) -> UiState | None:
    """Keys while typing a filter; None when the key is not the filter's."""
    if key == "enter":
        return replace(ui, editing_filter=False)
    if key == "escape":
        return replace(ui, editing_filter=False, filter="", pod_offset=0)
    if key == "backspace":
        return replace(ui, filter=ui.filter[:-1], pod_offset=0)
    if key == "c-u":
        return replace(ui, filter="", pod_offset=0)
    if len(key) == 1 and key.isprintable():
        return replace(ui, filter=ui.filter + key, pod_offset=0)
    return None


def _answer(ui: UiState, confirm: Confirm, key: str, now: float) -> tuple[UiState, Action | None]:
    """Keys while a confirmation is asked: y runs the action, the usual ways out cancel it."""
    if key in ("y", "Y"):
        return replace(ui, confirm=None), confirm.action
    if key in ("n", "N", "escape", "q", "enter", "c-c"):
        return _notice(replace(ui, confirm=None), "cancelled", now, "info"), None
    return ui, None


def _navigate(ui: UiState, frame: Frame, key: str, page: int) -> UiState | None:
    """Keys that move the focus, the selection or the filter; None when the key is not one of them."""
    if key == "?":
        return replace(ui, help=True)
    if key == "/":
        return replace(ui, editing_filter=True, focus="pods")
    if key == "escape":
        if ui.filter:
            return replace(ui, filter="", pod_offset=0)
        return replace(ui, focus="deployments")
    if key in ("tab", "s-tab"):
        return replace(ui, focus="pods" if ui.focus == "deployments" else "deployments")
    if key == "enter":
        if ui.focus == "deployments":
            return replace(ui, focus="pods")
        return ui.select_pod(frame.log_pod)  # pin the pod: the tail stops moving
    if key in _MOVES or key in ("pageup", "pagedown", "home", "end"):
        if ui.focus == "pods":
            steps = {"pageup": -page, "pagedown": page, "home": -(10**9), "end": 10**9}
            return _move_pod(ui, frame, _MOVES.get(key, steps.get(key, 0)), page)
        steps = {"pageup": -5, "pagedown": 5, "home": -(10**9), "end": 10**9}
        return _move_deployment(ui, frame, _MOVES.get(key, steps.get(key, 0)))
    return None


def _command(ui: UiState, frame: Frame, key: str, now: float) -> tuple[UiState, Action | None]:
    """Keys that act on the cluster (perhaps after a confirmation); other keys do nothing."""
    if key in ("l", "s"):
        return _pod_action(ui, frame, "logs" if key == "l" else "shell", now)
    if key == "u":
        return _confirm_app_rollback(ui, frame, now), None
    if key == "U":
        return _confirm_undo(ui, frame, now), None
    if key in ("p", "r"):
        return _deployment_action(ui, frame, "pause" if key == "p" else "restart", now)
    return ui, None


def handle_key(
    ui: UiState, frame: Frame, key: str, *, page: int = 10, now: float = 0.0
) -> tuple[UiState, Action | None]:
    """Apply one key press. ``page`` is how many pod rows are visible (PageUp/PageDown)."""
    if ui.confirm is not None:
        return _answer(ui, ui.confirm, key, now)
    if ui.help:
        return replace(ui, help=False), None
    if ui.editing_filter:
        edited = _editing(ui, key)
        if edited is not None:
            return edited, None
        ui = replace(ui, editing_filter=False)
    if key in ("q", "c-c"):
        return ui, Action("quit")
    moved = _navigate(ui, frame, key, page)
    if moved is not None:
        return moved, None
    return _command(ui, frame, key, now)
