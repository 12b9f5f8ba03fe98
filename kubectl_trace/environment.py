"""The I/O context a command runs in: streams, terminal facts, colour, clock, environment.

Commands never reach for ``sys.stdout`` or build a global console; they get an
``Environment`` and tests hand them one backed by buffers.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["Environment", "resolve_color"]


def resolve_color(mode: str, *, isatty: bool, environ: Mapping[str, str]) -> bool:
    """Decide whether to colour output.

    ``always``/``never`` win; ``auto`` colours a terminal unless ``NO_COLOR`` is set
    (any value, https://no-color.org) or ``TERM=dumb``; ``FORCE_COLOR`` colours a pipe too.
    """
    if mode == "always":
        return True
    if mode == "never":
        return False
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    return isatty and environ.get("TERM") != "dumb"


def _isatty(stream: IO[Any]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@dataclass(frozen=True)
class Environment:
    """Streams and settings of one command invocation."""

    stdin: IO[str]
    stdout: IO[str]
    stderr: IO[str]
    stdin_isatty: bool
    stdout_isatty: bool
    color: bool
    environ: Mapping[str, str] = field(default_factory=dict)
    clock: Callable[[], float] = time.time
    width: int | None = None

    @classmethod
    def from_process(cls, color_mode: str = "auto") -> Environment:
        """The real process streams."""
        out_tty = _isatty(sys.stdout)
        environ = dict(os.environ)
        return cls(
            stdin=sys.stdin,
            stdout=sys.stdout,
            stderr=sys.stderr,
            stdin_isatty=_isatty(sys.stdin),
            stdout_isatty=out_tty,
            color=resolve_color(color_mode, isatty=out_tty, environ=environ),
            environ=environ,
        )

    def with_color(self, color_mode: str) -> Environment:
        """A copy with colour decided again for ``--color MODE``."""
        return replace(
            self,
            color=resolve_color(color_mode, isatty=self.stdout_isatty, environ=self.environ),
        )

    @property
    def interactive(self) -> bool:
        """Both stdin and stdout are terminals (prompts and pickers allowed)."""
        return self.stdin_isatty and self.stdout_isatty

    def console(self, *, stderr: bool = False, width: int | None = None) -> Console:
        """A rich Console writing to this environment's stdout (or stderr).

        Its text is made visible (:mod:`kubectl_trace.textsafe`): no control character
        from the cluster reaches the terminal, whatever a renderer forgot.
        """
        from kubectl_trace.safe_console import SafeConsole

        return SafeConsole(
            file=self.stderr if stderr else self.stdout,
            force_terminal=self.color,
            no_color=not self.color,
            color_system="truecolor" if self.color else None,
            width=width or self.width,
            highlight=False,
            emoji=False,
            soft_wrap=False,
            _environ=dict(self.environ),
        )

    def binary_stdout(self) -> IO[bytes]:
        """The byte stream under stdout (flush the text layer before writing to it)."""
        buffer: IO[bytes] | None = getattr(self.stdout, "buffer", None)
        if buffer is None:
            raise RuntimeError("stdout has no binary buffer")
        return buffer

    def binary_stdin(self) -> IO[bytes]:
        """The byte stream under stdin."""
        buffer: IO[bytes] | None = getattr(self.stdin, "buffer", None)
        if buffer is None:
            raise RuntimeError("stdin has no binary buffer")
        return buffer
