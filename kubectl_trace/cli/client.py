"""The API client a command runs with: connected from the global flags, closed when the command ends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kubectl_trace.cli.options import CommonOptions
    from kubectl_trace.environment import Environment
    from kubectl_trace.kube.calls import KubeClient

__all__ = ["connected"]


@contextmanager
def connected(common: CommonOptions, env: Environment) -> Iterator[KubeClient]:
    """``kube.client.connect_best`` for ``common.kube`` (the lean client where it can), closed at the end."""
    from kubectl_trace.kube.client import connect_best

    kube = connect_best(common.kube, env.environ)
    try:
        yield kube
    finally:
        kube.close()
