"""Argument parsing shared by every command.

As in kubectl, global flags go before or after the subcommand:
``kubectl nodeapp -n production logs web`` = ``kubectl nodeapp logs web -n production``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import IO, Any, NoReturn

from kubectl_trace.cli.options import GLOBAL_VALUE_FLAGS, add_common_arguments
from kubectl_trace.cli.registry import COMMANDS, GROUPS
from kubectl_trace.errors import UsageError

__all__ = ["Split", "build_parser", "overview", "split_command"]


@dataclass(frozen=True)
class Split:
    """argv with the subcommand taken out."""

    command: str | None
    rest: list[str]


def split_command(argv: Sequence[str]) -> Split:
    """Find the subcommand: the first word that is neither a flag nor a global flag's value."""
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--":
            break
        if token.startswith("-") and token != "-":
            if token in GLOBAL_VALUE_FLAGS:
                i += 2
                continue
            i += 1
            continue
        return Split(token, [*argv[:i], *argv[i + 1 :]])
    return Split(None, list(argv))


def unknown_command(name: str) -> UsageError:
    """The error for a subcommand that does not exist, with a suggestion."""
    import difflib

    close = difflib.get_close_matches(name, list(COMMANDS), n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return UsageError(
        f'unknown command "{name}" for "kubectl nodeapp"',
        hint=f"{hint}run 'kubectl nodeapp --help' for the list of commands",
    )


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30, width=100)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``error: …`` + a hint) and help on the invocation's stdout."""

    out: IO[str] | None = None

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, hint=f"see '{self.prog} --help'")

    def print_help(self, file: Any = None) -> None:
        super().print_help(file or self.out)


def build_parser(name: str, module: ModuleType, out: IO[str] | None = None) -> argparse.ArgumentParser:
    """The parser of one subcommand: its own flags plus the global ones (help to ``out``)."""
    info = COMMANDS[name]
    examples = getattr(module, "EXAMPLES", "").strip("\n")
    parser = _Parser(
        prog=f"kubectl nodeapp {name}",
        description=getattr(module, "DESCRIPTION", info.summary),
        epilog=f"examples:\n{examples}" if examples else None,
        formatter_class=_Formatter,
        allow_abbrev=False,
    )
    parser.out = out
    module.add_arguments(parser)
    add_common_arguments(parser)
    return parser


def overview(version: str) -> str:
    """``kubectl nodeapp`` alone: the commands in the order a user needs them."""
    lines = [
        f"kubectl nodeapp {version} — everyday operations for Node.js apps on Kubernetes",
        "",
        "usage: kubectl nodeapp COMMAND [TARGET] [flags]",
        "",
    ]
    width = max(len(n) for n in COMMANDS) + 2
    for group in GROUPS:
        members = [c for c in COMMANDS.values() if c.group == group]
        if not members:
            continue
        lines.append(f"{group}:")
        lines.extend(f"  {c.name.ljust(width)}{c.summary}" for c in members)
        lines.append("")
    lines += [
        "TARGET is a pod name, deploy/NAME, an app name (trace-api → trace-api-web,",
        "trace-api-worker, …) or a regular expression on pod names; --process web|worker|clock",
        "narrows it.",
        "",
        "Global flags (before or after the command): --kubeconfig, --context, -n/--namespace,",
        "--request-timeout, --color auto|always|never, --debug, -h/--help, --version.",
        "",
        "Start here:  kubectl nodeapp demo",
        "More:        kubectl nodeapp COMMAND --help",
    ]
    return "\n".join(lines) + "\n"
