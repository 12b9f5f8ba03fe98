"""``kubectl nodeapp completion bash|zsh|fish``: completion for the executables run directly."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from kubectl_trace.cli.options import CommonOptions
from kubectl_trace.environment import Environment

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
    return CompletionOptions(shell=args.shell)


def run(options: CompletionOptions, env: Environment) -> int:
    """Print the script."""
    from kubectl_trace.completion.scripts import SCRIPTS

    env.stdout.write(SCRIPTS[options.shell])
    return 0
