"""When a mutating command must ask first, and asking.

The rule: in a production namespace (the config file's
``production_namespaces``, default ``production`` and ``prod``) a change needs a ``y`` on a
terminal, or ``--yes`` when there is none; ``promote`` always does. ``--dry-run`` changes
nothing and never asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kubectl_trace.errors import NodeappError, UsageError

if TYPE_CHECKING:
    from kubectl_trace.environment import Environment
    from kubectl_trace.userconfig import UserConfig

__all__ = ["Decision", "confirm", "decide"]


@dataclass(frozen=True)
class Decision:
    """``proceed``, ``ask`` (a terminal is there) or ``refuse`` (``reason`` says why)."""

    action: str
    reason: str = ""


def decide(
    namespace: str,
    *,
    yes: bool,
    dry_run: bool,
    interactive: bool,
    config: UserConfig,
    always: bool = False,
) -> Decision:
    """Whether to go ahead, ask, or refuse (pure)."""
    if dry_run or yes:
        return Decision("proceed")
    production = config.is_production(namespace)
    if not (always or production):
        return Decision("proceed")
    if interactive:
        return Decision("ask")
    if production:
        where = f" ({config.path})" if config.path else ""
        reason = (
            f'namespace "{namespace}" is a production namespace{where}: without a terminal to confirm, '
            "pass --yes"
        )
    else:
        reason = "this change needs a confirmation: without a terminal to confirm, pass --yes"
    return Decision("refuse", reason)


def confirm(decision: Decision, env: Environment, question: str) -> None:
    """Act on a decision: return to go ahead; raise to stop (nothing has changed yet).

    ``refuse`` → UsageError (exit 2); ``ask`` → ``QUESTION [y/N]`` on stderr, an answer
    from stdin; anything but ``y``/``yes`` → NodeappError (exit 1).
    """
    if decision.action == "proceed":
        return
    if decision.action == "refuse":
        raise UsageError(
            f"refusing to change anything: {decision.reason}", hint="or try it first with --dry-run"
        )
    env.stderr.write(f"{question} [y/N] ")
    env.stderr.flush()
    answer = env.stdin.readline()
    if not answer.endswith("\n"):
        env.stderr.write("\n")
    if answer.strip().lower() not in ("y", "yes"):
        raise NodeappError("aborted: nothing was changed")
