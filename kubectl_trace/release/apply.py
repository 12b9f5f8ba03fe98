"""Guarded apply: send a patch built from the object as read, and on conflict re-read and rebuild.

``apply_guarded`` patches one Deployment: the builder sees the object as it is now; a 409
Conflict (stale resourceVersion) or a failed JSON-patch ``test`` means the object changed
between read and write, so it is read again and the patch rebuilt — a status update by the
controller costs one retry, a real change by someone else is either merged (the builder
keeps it) or stops the change (the builder raises Drift).

``apply_all`` applies one patch per Deployment in order and never leaves a half-done change
silently: when one fails, the Deployments already changed are put back (``revert_all``) and
the error says exactly which were changed, put back, or could not be.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubectl_trace.errors import ExitStatus, NodeappError
from kubectl_trace.kube.errors import ApiError, KubeError
from kubectl_trace.release.patches import Drift, Patch, restore_patch

if TYPE_CHECKING:
    from kubectl_trace.kube.calls import KubeClient

__all__ = [
    "Applied",
    "Builder",
    "ChangeFailed",
    "ChangeInterrupted",
    "Outcome",
    "Reverted",
    "Step",
    "apply_all",
    "apply_guarded",
    "is_conflict",
    "revert_all",
]

Builder = Callable[[Mapping[str, Any]], "Patch | None"]
ConflictHook = Callable[[str, int], None]
FIELD_MANAGER = "kubectl-nodeapp"


@dataclass(frozen=True)
class Applied:
    """One Deployment changed: as read just before (``before``) and as the PATCH left it."""

    namespace: str
    name: str
    patch: Patch
    before: Mapping[str, Any]
    after: Mapping[str, Any]
    conflicts: int = 0


@dataclass(frozen=True)
class Step:
    """One Deployment to change: ``build`` makes its patch from the object as read."""

    namespace: str
    name: str
    build: Builder
    current: Mapping[str, Any] | None = None


@dataclass
class Outcome:
    """What ``apply_all`` did: the changed Deployments, and those already as wanted."""

    applied: list[Applied] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Reverted:
    """The result of putting one Deployment back."""

    name: str
    ok: bool
    detail: str = ""
    after: Mapping[str, Any] | None = None


class ChangeFailed(NodeappError):
    """A multi-Deployment change stopped part-way; the message lists what was changed and undone."""

    def __init__(self, message: str, hint: str | None, reverted: Sequence[Reverted]) -> None:
        super().__init__(message, hint)
        self.reverted = list(reverted)


class ChangeInterrupted(ChangeFailed):
    """Ctrl-C part-way through a multi-Deployment change (what was changed has been put back)."""

    exit_code = ExitStatus.INTERRUPTED


def is_conflict(error: BaseException, patch: Patch | None = None) -> bool:
    """A 409 Conflict, or a JSON patch whose ``test`` failed (422)."""
    if not isinstance(error, ApiError):
        return False
    if error.conflict:
        return True
    text = f"{error.message} {error.body.get('message', '')}".lower()
    return error.status == 422 and (patch is None or patch.type == "json") and "test failed" in text


def apply_guarded(
    kube: KubeClient,
    namespace: str,
    name: str,
    build: Builder,
    *,
    current: Mapping[str, Any] | None = None,
    attempts: int = 10,
    on_conflict: ConflictHook | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Applied | None:
    """Patch one Deployment; None when the builder finds nothing to change.

    Raises Drift (from the builder), KubeError, or NodeappError after ``attempts`` conflicts.
    """
    conflicts = 0
    while True:
        if current is None:
            current = kube.get("deployments", name, namespace)
        patch = build(current)
        if patch is None:
            return None
        try:
            after = kube.patch(
                "deployments", name, patch.body, namespace, patch_type=patch.type, field_manager=FIELD_MANAGER
            )
        except ApiError as exc:
            if not is_conflict(exc, patch):
                raise
            conflicts += 1
            if conflicts >= attempts:
                raise NodeappError(
                    f"deployment {name} kept changing while it was being patched "
                    f"({conflicts} conflicts in a row)",
                    hint="someone (or a controller) is writing it continuously; run the command again",
                ) from None
            if on_conflict is not None:
                on_conflict(name, conflicts)
            sleep(min(0.5, 0.02 * conflicts))
            current = None
            continue
        return Applied(namespace, name, patch, before=current, after=after, conflicts=conflicts)


def _why(exc: BaseException) -> str:
    return str(exc).rstrip(".")


def revert_all(
    kube: KubeClient,
    applied: Sequence[Applied],
    *,
    on_conflict: ConflictHook | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Reverted]:
    """Put back every changed Deployment (newest change first), guarded like any change.

    A Deployment someone else changed after us is left alone and reported (``ok`` False).
    """
    out: list[Reverted] = []
    for a in reversed(applied):

        def build(cur: Mapping[str, Any], a: Applied = a) -> Patch | None:
            return restore_patch(a.before, a.after, cur)

        try:
            done = apply_guarded(
                kube,
                a.namespace,
                a.name,
                build,
                on_conflict=on_conflict,
                sleep=sleep,
            )
        except (Drift, KubeError, NodeappError) as exc:
            out.append(Reverted(a.name, False, _why(exc)))
            continue
        out.append(Reverted(a.name, True, "", done.after if done is not None else None))
    out.reverse()
    return out


def apply_all(
    kube: KubeClient,
    steps: Sequence[Step],
    *,
    on_conflict: ConflictHook | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Apply every step in order; on a failure put back what was changed and raise ChangeFailed.

    A failure of the very first change raises its own error (nothing was changed).
    """
    outcome = Outcome()
    for index, step in enumerate(steps):
        try:
            done = apply_guarded(
                kube,
                step.namespace,
                step.name,
                step.build,
                current=step.current,
                on_conflict=on_conflict,
                sleep=sleep,
            )
        except KeyboardInterrupt:
            if not outcome.applied:
                raise
            reverted = revert_all(kube, outcome.applied, on_conflict=on_conflict, sleep=sleep)
            message, hint = _partial_message(
                step.name, KeyboardInterrupt("interrupted"), reverted, steps[index + 1 :], step.namespace
            )
            raise ChangeInterrupted(message, hint, reverted) from None
        except (Drift, KubeError, NodeappError) as exc:
            if not outcome.applied:
                if isinstance(exc, Drift):
                    raise NodeappError(
                        f"{exc}; nothing was changed", hint="look at the app again and rerun the command"
                    ) from None
                raise
            reverted = revert_all(kube, outcome.applied, on_conflict=on_conflict, sleep=sleep)
            raise ChangeFailed(
                *_partial_message(step.name, exc, reverted, steps[index + 1 :], step.namespace), reverted
            ) from None
        if done is None:
            outcome.unchanged.append(step.name)
        else:
            outcome.applied.append(done)
    return outcome


def _partial_message(
    failed: str, exc: BaseException, reverted: Sequence[Reverted], rest: Sequence[Step], namespace: str = ""
) -> tuple[str, str | None]:
    back = [r.name for r in reverted if r.ok]
    stuck = [r for r in reverted if not r.ok]
    if isinstance(exc, KeyboardInterrupt):
        parts = [f"interrupted before deployment {failed} was changed"]
    else:
        parts = [f"could not change deployment {failed}: {_why(exc)}"]
    if back:
        parts.append(f"already changed and put back: {', '.join(back)}")
    if stuck:
        parts.append("changed and NOT put back: " + "; ".join(f"{r.name} ({r.detail})" for r in stuck))
    if rest:
        parts.append(f"not attempted: {', '.join(s.name for s in rest)}")
    hint = (
        "the Deployments listed as NOT put back run the new change; check them with: kubectl get deployments "
        f"-n {namespace}"
        if stuck
        else "no Deployment is left changed; fix the cause and run the command again"
    )
    return ". ".join(parts), hint
