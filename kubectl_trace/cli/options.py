"""Flags every command shares (spelled as kubectl spells them) and their frozen form."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from kubectl_trace.kube.settings import KubeSettings
from kubectl_trace.timeparse import parse_duration

__all__ = ["GLOBAL_VALUE_FLAGS", "CommonOptions", "add_common_arguments", "common_options"]

# Flags that take a value, accepted before the subcommand too (kubectl nodeapp -n prod logs).
GLOBAL_VALUE_FLAGS = frozenset(
    {
        "--kubeconfig",
        "--context",
        "-n",
        "--namespace",
        "--request-timeout",
        "--color",
        "-l",
        "--selector",
        "-o",
        "--output",
    }
)


@dataclass(frozen=True)
class CommonOptions:
    """The global flags, validated."""

    kube: KubeSettings
    color: str = "auto"
    debug: bool = False


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the global flags to a command's parser."""
    group = parser.add_argument_group("global flags")
    group.add_argument("--kubeconfig", metavar="FILE", help="path to the kubeconfig file to use")
    group.add_argument("--context", metavar="NAME", help="the kubeconfig context to use")
    group.add_argument(
        "-n",
        "--namespace",
        metavar="NS",
        help="namespace (default: the context's namespace, else 'default')",
    )
    group.add_argument(
        "--request-timeout",
        metavar="DURATION",
        default=None,
        help="give up on a single API request after this long (e.g. 10s; 0 = never)",
    )
    group.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default=None,
        help="colour output: auto (terminals, unless NO_COLOR is set), always, never "
        "(default: the config file's color, else auto)",
    )
    group.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")


def common_options(args: argparse.Namespace) -> CommonOptions:
    """Turn the parsed global flags into CommonOptions (UsageError on bad values)."""
    from kubectl_trace.userconfig import load_user_config

    if args.namespace:  # checked before any request: a name that cannot exist is a usage error
        from kubectl_trace.kube.names import validate_namespace

        validate_namespace(args.namespace)
    timeout: float | None = None
    if args.request_timeout not in (None, ""):
        timeout = parse_duration(args.request_timeout, flag="--request-timeout") or None
    return CommonOptions(
        kube=KubeSettings(
            kubeconfig=args.kubeconfig,
            context=args.context,
            namespace=args.namespace,
            request_timeout=timeout,
        ),
        color=args.color or load_user_config().color,
        debug=bool(args.debug),
    )
