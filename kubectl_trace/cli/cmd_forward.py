"""``kubectl nodeapp forward APP [LOCAL:]REMOTE [--process P] [--pod NAME]``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from kubectl_trace.cli.options import CommonOptions, FeatureOptions, add_pod_choice_arguments, pod_choice
from kubectl_trace.environment import Environment

if TYPE_CHECKING:
    from kubectl_trace.debug.forward import ForwardSettings

DESCRIPTION = (
    "Forward a local port to a port of a ready pod of APP, as `kubectl port-forward` does, and\n"
    "keep forwarding through rollouts: when the pod goes away (deleted, terminating, not ready)\n"
    "new connections go to another ready pod of the app, and the move is said on stderr. The\n"
    "local port listens on 127.0.0.1 only. PORTS is [LOCAL:]REMOTE: 3000 listens on 3000,\n"
    "0:3000 or :3000 on a free port (printed), 8080:http on 8080 to the container port named http."
)
EXAMPLES = """\
  kubectl nodeapp forward trace-api 0:3000 -n production
  kubectl nodeapp forward trace-api 8080:3000 --process web -n staging
  kubectl nodeapp forward trace-api 3000 --pod trace-api-web-7d9f-x2k -n production"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``forward``."""
    add_pod_choice_arguments(parser, pod_help="start with this pod of the app")
    parser.add_argument("ports", metavar="[LOCAL:]REMOTE", help="ports, e.g. 0:3000 (a free local port)")


def parse_options(args: argparse.Namespace, common: CommonOptions) -> FeatureOptions[ForwardSettings]:
    """Validate the flags."""
    from kubectl_trace.debug.forward import ForwardSettings
    from kubectl_trace.debug.pods import parse_ports

    ports = parse_ports(args.ports)  # a bad spec is a usage error before any request
    return FeatureOptions(common, ForwardSettings(pod_choice(args, common), ports))


def run(options: FeatureOptions[ForwardSettings], env: Environment) -> int:
    """Resolve the app, pick a pod, forward until Ctrl-C."""
    from kubectl_trace.cli.client import connected
    from kubectl_trace.debug.forward import run_forward

    with connected(options.common, env) as kube:
        return run_forward(kube, options.settings, env)
