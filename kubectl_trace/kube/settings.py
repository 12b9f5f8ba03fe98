"""What the user asked for on the command line about the cluster connection."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KubeSettings"]


@dataclass(frozen=True)
class KubeSettings:
    """``--kubeconfig``, ``--context``, ``-n`` and ``--request-timeout``, as given (or None)."""

    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None
    request_timeout: float | None = None
