"""Connect a release command: the client, the user config and the flags for pasteable hints."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kubectl_trace.cli.options import CommonOptions
    from kubectl_trace.environment import Environment
    from kubectl_trace.release.flow import Context


def connect(common: CommonOptions, env: Environment) -> Context:
    """Load the kubeconfig and the user config."""
    import shlex

    from kubectl_trace.kube.client import connect_best
    from kubectl_trace.release.flow import Context
    from kubectl_trace.userconfig import load_user_config

    flags = ""
    if common.kube.context:
        flags += f" --context {shlex.quote(common.kube.context)}"
    if common.kube.kubeconfig:
        flags += f" --kubeconfig {shlex.quote(str(common.kube.kubeconfig))}"
    return Context(connect_best(common.kube, env.environ), env, load_user_config(env.environ), flags)
