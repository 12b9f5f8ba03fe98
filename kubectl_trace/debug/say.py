"""A line for the user on stderr (forward and inspect say what happens while they run)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kubectl_trace.environment import Environment

__all__ = ["say"]


def say(env: Environment, text: str) -> None:
    """``text`` as one line, made visible (pod names come from the cluster); a closed stderr is ignored."""
    from kubectl_trace.textsafe import visible

    try:
        env.stderr.write(visible(text) + "\n")
        env.stderr.flush()
    except (OSError, ValueError):
        pass
