"""``python -m kubectl_trace.completion PROGRAM ARGS…`` — the completion executables run this.

PROGRAM is ``kubectl_complete-nodeapp`` (ARGS start with the subcommand) or
``kubectl_complete-nodeapp-logs`` and friends (ARGS are the subcommand's own), because
kubectl looks for the completer of the executable it would run.
"""

import os
import sys


def main() -> None:
    """Print the completions; never fail loudly."""
    args = sys.argv[1:]
    program = args.pop(0) if args else "kubectl_complete-nodeapp"
    prefix = "kubectl_complete-nodeapp"
    command = None
    if program.startswith(prefix):
        command = program[len(prefix) :].lstrip("-") or None
    if args and args[0] == "__complete":
        args.pop(0)
    try:
        from kubectl_trace.completion.engine import complete, render

        sys.stdout.write(render(complete(command, args, os.environ)))
    except Exception:
        sys.stdout.write(":4\n")


main()
