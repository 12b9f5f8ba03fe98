"""``kubectl nodeapp completion bash|zsh|fish``, and the ``kubectl_complete-nodeapp*`` executables.

``complete_main`` is what those executables run. It hands the CLI's own command table and
parsers to ``completion.engine`` (a ``CommandLine``), so the engine never imports ``cli``.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubectl_trace.cli.options import CommonOptions, options_from
from kubectl_trace.environment import Environment

if TYPE_CHECKING:
    from kubectl_trace.completion.engine import CommandLine, Completion

__all__ = ["CompletionOptions", "add_arguments", "complete", "complete_main", "parse_options", "run"]

DESCRIPTION = (
    "Print a completion script for running kubectl-nodeapp (and kubectl-nodeapp-logs, …) directly.\n"
    "Through kubectl, `kubectl nodeapp <TAB>` already completes once the kubectl_complete-nodeapp\n"
    "executables that install.sh links are on your PATH and kubectl's completion is loaded\n"
    "(source <(kubectl completion bash)). Completes commands, flags, namespaces, contexts, apps,\n"
    "deployments and pods of the current context."
)
EXAMPLES = """\
  source <(kubectl-nodeapp completion bash)
  kubectl-nodeapp completion zsh > "${fpath[1]}/_kubectl-nodeapp"
  kubectl-nodeapp completion fish | source
  kubectl __complete nodeapp logs -n production trace     # what kubectl asks the completer"""


@dataclass(frozen=True)
class CompletionOptions:
    """Options of ``completion``."""

    shell: str


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``completion``."""
    parser.add_argument("shell", choices=("bash", "zsh", "fish"), help="the shell to print a script for")


def parse_options(args: argparse.Namespace, common: CommonOptions) -> CompletionOptions:
    """Validate the flags."""
    return options_from(CompletionOptions, args)


def run(options: CompletionOptions, env: Environment) -> int:
    """Print the script."""
    from kubectl_trace.completion.scripts import SCRIPTS

    env.stdout.write(SCRIPTS[options.shell])
    return 0


# -- the completer executables ------------------------------------------------------------

_PREFIX = "kubectl_complete-nodeapp"


def _split(argv: Sequence[str]) -> tuple[str | None, list[str]]:
    from kubectl_trace.cli.parser import split_command

    split = split_command(argv)
    return split.command, split.rest


def _parser(command: str | None) -> argparse.ArgumentParser:
    if command is None:  # global flags before a command
        from kubectl_trace.cli.options import add_common_arguments

        parser = argparse.ArgumentParser(add_help=False)
        add_common_arguments(parser)
        return parser
    import importlib

    from kubectl_trace.cli.parser import build_parser
    from kubectl_trace.cli.registry import COMMANDS

    return build_parser(command, importlib.import_module(COMMANDS[command].module))


def command_line() -> CommandLine:
    """The CLI as the completion engine sees it: the command table and each command's parser."""
    from kubectl_trace.cli.registry import COMMANDS
    from kubectl_trace.completion.engine import CommandLine

    return CommandLine(
        summaries={info.name: info.summary for info in COMMANDS.values()}, split=_split, parser=_parser
    )


def complete(
    command: str | None, words: Sequence[str], environ: Mapping[str, str], names: Any = None
) -> Completion:
    """Complete the last of ``words`` after ``kubectl nodeapp [COMMAND]`` (``names``: the cluster)."""
    from kubectl_trace.completion.engine import complete as complete_words

    return complete_words(command_line(), command, words, environ, names)


def complete_main(argv: Sequence[str]) -> None:
    """``PROGRAM ARGS…`` → candidates on stdout, never a loud failure (it would break the shell).

    PROGRAM is ``kubectl_complete-nodeapp`` (ARGS start with the subcommand) or
    ``kubectl_complete-nodeapp-logs`` and friends (ARGS are the subcommand's own), because
    kubectl looks for the completer of the executable it would run.
    """
    import os
    import sys

    args = list(argv)
    program = args.pop(0) if args else _PREFIX
    command = None
    if program.startswith(_PREFIX):
        command = program[len(_PREFIX) :].lstrip("-") or None
    if args and args[0] == "__complete":
        args.pop(0)
    try:
        from kubectl_trace.completion.engine import render

        sys.stdout.write(render(complete(command, args, os.environ)))
    except Exception:
        sys.stdout.write(":4\n")
