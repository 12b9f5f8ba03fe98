"""The local terminal: raw mode that is always undone, window size, and signals.

``raw_mode(fd)`` saves the terminal's attributes and restores exactly those on every way
out (normal exit, exception, a signal turned into an exception). ``signal_handlers``
installs handlers for the duration of a block and puts the previous ones back.
``Terminated`` is what SIGTERM/SIGHUP become, so that ``finally`` blocks run.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import termios
import threading
import tty
from collections.abc import Callable, Iterator, Mapping
from types import FrameType
from typing import Any

from kubectl_trace.errors import NodeappError

__all__ = ["Terminated", "raw_mode", "restore", "signal_handlers", "terminal_size", "terminate_on_signals"]


class Terminated(NodeappError):
    """The process got SIGTERM or SIGHUP: unwind (restoring the terminal) and exit 128+N."""

    def __init__(self, signum: int) -> None:
        name = signal.Signals(signum).name
        super().__init__(f"terminated by {name}")
        self.signum = signum
        self.exit_code = 128 + signum


@contextlib.contextmanager
def raw_mode(fd: int) -> Iterator[list[Any]]:
    """Put the terminal on ``fd`` in raw mode; restore its saved attributes on exit.

    Yields the saved attributes (``termios.tcgetattr`` form).
    """
    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd, termios.TCSANOW)
        yield saved
    finally:
        restore(fd, saved)


def restore(fd: int, saved: list[Any]) -> None:
    """Put back terminal attributes (never raises; safe to call twice)."""
    for _ in range(5):
        try:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
            return
        except termios.error as exc:
            if exc.args and exc.args[0] == errno.EINTR:
                continue
            return
        except (OSError, ValueError):
            return


def terminal_size(fd: int) -> tuple[int, int] | None:
    """``(columns, rows)`` of the terminal on ``fd``, or None when it is not a terminal."""
    try:
        size = os.get_terminal_size(fd)
    except OSError:
        return None
    if size.columns <= 0 or size.lines <= 0:
        return None
    return size.columns, size.lines


Handler = Callable[[int, FrameType | None], Any]


@contextlib.contextmanager
def signal_handlers(handlers: Mapping[int, Handler]) -> Iterator[None]:
    """Install ``handlers`` (signal number → handler) for the block, then put back the old.

    Outside the main thread signals cannot be handled: nothing is installed.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {}
    try:
        for signum, handler in handlers.items():
            previous[signum] = signal.signal(signum, handler)
        yield
    finally:
        for signum, handler in previous.items():
            with contextlib.suppress(OSError, ValueError, TypeError):
                signal.signal(signum, handler)


class _Terminator:
    """Raise ``Terminated`` at the first SIGTERM/SIGHUP, after ``before_raise``.

    ``before_raise`` puts the terminal back, so it is restored even if the signal lands
    inside a clean-up; later signals are ignored so that clean-up is not interrupted twice.
    """

    def __init__(self, before_raise: Callable[[], None] | None) -> None:
        self.fired = False
        self._before_raise = before_raise

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.fired:
            return
        self.fired = True
        if self._before_raise is not None:
            self._before_raise()
        raise Terminated(signum)


def terminate_on_signals(before_raise: Callable[[], None] | None = None) -> dict[int, Handler]:
    """Handlers that turn SIGTERM and SIGHUP into ``Terminated`` (for ``signal_handlers``)."""
    handler = _Terminator(before_raise)
    return {signal.SIGTERM: handler, signal.SIGHUP: handler}
