"""Flags every command shares (spelled as kubectl spells them) and their frozen form."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from kubectl_trace.kube.settings import KubeSettings
from kubectl_trace.timeparse import parse_duration

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    from kubectl_trace.debug.pods import PodChoice
    from kubectl_trace.kube.calls import KubeClient
    from kubectl_trace.kube.targets import Target

    Options = TypeVar("Options", bound=DataclassInstance)

__all__ = [
    "GLOBAL_VALUE_FLAGS",
    "AppOptions",
    "CommonOptions",
    "FeatureOptions",
    "PodQuery",
    "add_app_argument",
    "add_command_arguments",
    "add_common_arguments",
    "add_pod_choice_arguments",
    "add_pod_query_arguments",
    "add_target_argument",
    "common_options",
    "options_from",
    "pod_choice",
    "whole_number",
]

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


@dataclass(frozen=True)
class AppOptions:
    """The options of a command on one APP (deploy, env, history, …): the global flags and APP."""

    common: CommonOptions
    app: str


Settings = TypeVar("Settings")


@dataclass(frozen=True)
class FeatureOptions(Generic[Settings]):
    """A command's options that are the global flags and the settings record its feature takes."""

    common: CommonOptions
    settings: Settings


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


def add_app_argument(parser: argparse.ArgumentParser) -> None:
    """The APP positional of the release commands (deploy, env, history, promote, restart, …)."""
    parser.add_argument(
        "app",
        metavar="APP",
        help="the app: the Deployments labelled app=APP (unlabelled APP-<process> only when none is)",
    )


def add_pod_choice_arguments(parser: argparse.ArgumentParser, *, pod_help: str) -> None:
    """APP, ``--process P`` and ``--pod NAME``: which pod of the app (forward, inspect)."""
    add_app_argument(parser)
    parser.add_argument("--process", metavar="P", help="pods of this process type (default: web)")
    parser.add_argument("--pod", metavar="NAME", help=pod_help)


def pod_choice(args: argparse.Namespace, common: CommonOptions) -> PodChoice:
    """APP, ``--process`` and ``--pod`` (checked before any request: UsageError) in ``-n``'s namespace."""
    from kubectl_trace.debug.pods import PodChoice

    if args.pod is not None:
        from kubectl_trace.kube.names import validate_name

        validate_name("pod", args.pod)
    if args.process is not None and not args.process.strip():
        from kubectl_trace.errors import UsageError

        raise UsageError("--process is empty")
    return PodChoice(args.app, common.kube.namespace, args.process, args.pod)


def add_target_argument(parser: argparse.ArgumentParser) -> None:
    """The optional TARGET positional of the pod commands (shell, logs, events, status)."""
    parser.add_argument("target", nargs="?", metavar="TARGET", help="pod, deploy/NAME, app name or pod regex")


@dataclass(frozen=True)
class PodQuery:
    """TARGET narrowed by ``--process`` and ``-l``: what ``status`` and ``events`` look at."""

    target: str | None
    process: str | None
    selector: str | None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> PodQuery:
        """TARGET, ``--process`` and ``-l``; a bad TARGET regex is a usage error now, not after connecting."""
        from kubectl_trace.kube.targets import classify

        classify(args.target)
        return cls(args.target, args.process, args.selector)

    @property
    def given(self) -> bool:
        """Whether any of TARGET, ``--process`` and ``-l`` was given."""
        return bool(self.target or self.process or self.selector)

    def resolve(self, kube: KubeClient) -> tuple[str, Target]:
        """The connection's namespace and TARGET resolved in it (``kube.targets.resolve_in_namespace``)."""
        from kubectl_trace.kube.targets import resolve_in_namespace

        return resolve_in_namespace(kube, self.target, process=self.process, label_selector=self.selector)


def add_pod_query_arguments(parser: argparse.ArgumentParser) -> None:
    """TARGET, and ``--process P`` and ``-l SELECTOR`` which narrow it (``status``, ``events``)."""
    add_target_argument(parser)
    parser.add_argument("--process", metavar="P", help="only this process type (web, worker, clock)")
    parser.add_argument("-l", "--selector", metavar="SELECTOR", help="only pods with these labels")


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


def whole_number(text: str | None, *, low: int, high: int | None = None, error: str) -> int | None:
    """A flag's whole number from ``low`` to ``high`` (None when not given; else UsageError(``error``))."""
    if text is None:
        return None
    if not text.isdigit() or int(text) < low or (high is not None and int(text) > high):
        from kubectl_trace.errors import UsageError

        raise UsageError(error)
    return int(text)


def options_from(
    cls: type[Options], args: argparse.Namespace, common: CommonOptions | None = None, **checked: Any
) -> Options:
    """A command's frozen options: ``checked`` values, else the flag of each field's name, and ``common``.

    ``checked`` holds what parse_options validated or converted; every other field whose name is a
    flag's ``dest`` takes the flag as parsed, and the rest keep their defaults.
    """
    values = {"common": common, **checked} if common is not None else dict(checked)
    for field in fields(cls):
        if field.name not in values and hasattr(args, field.name):
            values[field.name] = getattr(args, field.name)
    return cls(**values)


def split_command(argv: Sequence[str]) -> tuple[list[str], list[str] | None]:
    """Everything after the first ``--`` is a command to run, untouched by argparse (None: no ``--``)."""
    argv = list(argv)
    if "--" in argv:
        at = argv.index("--")
        return argv[:at], argv[at + 1 :]
    return argv, None


def add_command_arguments(parser: argparse.ArgumentParser, *, usage: str, no_tty_help: str) -> None:
    """``-- COMMAND [ARGS…]`` (into ``args.command``) and ``--no-tty`` (``shell``, ``run``)."""
    parser.add_argument("--no-tty", action="store_true", help=no_tty_help)
    parser.usage = usage
    take_command_after_dashdash(parser)


def take_command_after_dashdash(parser: argparse.ArgumentParser) -> None:
    """Make ``parser`` set ``args.command`` from what follows ``--`` (``shell``, ``run``).

    argparse cannot tell ``shell -- ls`` (no TARGET) from ``shell ls``: the command is taken
    out before argparse sees the rest.
    """
    parse_known = parser.parse_known_args

    def parse_known_args(args: Sequence[str] | None = None, namespace: Any = None) -> Any:
        before, command = split_command(sys.argv[1:] if args is None else args)
        parsed, extra = parse_known(before, namespace)
        parsed.command = command
        return parsed, extra

    parser.parse_known_args = parse_known_args  # type: ignore[method-assign,assignment]
