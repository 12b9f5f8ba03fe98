"""Entry of the completion executables: ``PROGRAM ARGS…`` → candidates on stdout.

PROGRAM is ``kubectl_complete-nodeapp`` (ARGS start with the subcommand) or
``kubectl_complete-nodeapp-logs`` and friends (ARGS are the subcommand's own), because
kubectl looks for the completer of the executable it would run.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

__all__ = ["main"]

_PREFIX = "kubectl_complete-nodeapp"


def main(argv: Sequence[str]) -> None:
    """Print the completions; never fail loudly (a broken completer must not break the shell)."""
    args = list(argv)
    program = args.pop(0) if args else _PREFIX
    command = None
    if program.startswith(_PREFIX):
        command = program[len(_PREFIX) :].lstrip("-") or None
    if args and args[0] == "__complete":
        args.pop(0)
    try:
        from kubectl_trace.completion.engine import complete, render

        sys.stdout.write(render(complete(command, args, os.environ)))
    except Exception:
        sys.stdout.write(":4\n")
