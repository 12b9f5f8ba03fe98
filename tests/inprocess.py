"""``kubectl nodeapp`` run in process on string buffers, for tests that need no sandbox."""

from __future__ import annotations

import io
from typing import Any

from kubectl_trace.cli.runner import run
from kubectl_trace.environment import Environment


def buffered_env(**overrides: Any) -> Environment:
    """An ``Environment`` on empty string buffers: no terminal, no colour, no environment variables."""
    fields: dict[str, Any] = {
        "stdin": io.StringIO(),
        "stdout": io.StringIO(),
        "stderr": io.StringIO(),
        "stdin_isatty": False,
        "stdout_isatty": False,
        "color": False,
        "environ": {},
    }
    return Environment(**(fields | overrides))


def invoke(*argv: str) -> tuple[str, str, int]:
    """``kubectl nodeapp ARGV…`` in process: (stdout, stderr, exit code)."""
    env = buffered_env()
    code = run(list(argv), env)
    return env.stdout.getvalue(), env.stderr.getvalue(), code  # type: ignore[attr-defined]
