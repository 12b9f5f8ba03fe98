"""Entry points of the executables (console scripts and the ``bin/`` wrappers)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import NoReturn

__all__ = ["events_main", "logs_main", "main", "main_for_program", "rollout_main", "shell_main"]

_PREFIX = "kubectl-nodeapp"


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """``kubectl-nodeapp ARGS…``."""
    from kubectl_trace.cli.runner import run

    sys.exit(run(list(sys.argv[1:] if argv is None else argv)))


def main_for_program(args: Sequence[str]) -> NoReturn:
    """``python -m kubectl_trace [kubectl-nodeapp[-CMD]] ARGS…``: the program name picks the command.

    kubectl runs ``kubectl-nodeapp-logs ARGS`` for ``kubectl nodeapp logs ARGS`` when that
    executable is on PATH, else ``kubectl-nodeapp logs ARGS``; both end up here identically.
    """
    argv = list(args)
    if argv and argv[0].startswith(_PREFIX):
        program = argv.pop(0)
        suffix = program[len(_PREFIX) :].lstrip("-")
        if suffix:
            argv.insert(0, suffix)
    main(argv)


def _sub(name: str) -> NoReturn:
    main([name, *sys.argv[1:]])


def logs_main() -> NoReturn:
    """``kubectl-nodeapp-logs``."""
    _sub("logs")


def shell_main() -> NoReturn:
    """``kubectl-nodeapp-shell``."""
    _sub("shell")


def events_main() -> NoReturn:
    """``kubectl-nodeapp-events``."""
    _sub("events")


def rollout_main() -> NoReturn:
    """``kubectl-nodeapp-rollout``."""
    _sub("rollout")
