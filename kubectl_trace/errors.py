"""Exceptions that the CLI runner turns into one-line messages and exit codes."""

from __future__ import annotations

__all__ = ["ExitStatus", "InsecureConnectionWarning", "NodeappError", "UsageError"]


class ExitStatus:
    """Exit codes shared by every command."""

    OK = 0
    FAILURE = 1
    USAGE = 2
    INTERRUPTED = 130


class NodeappError(Exception):
    """An error the user can act on: printed as ``error: MESSAGE`` (and a hint line)."""

    exit_code = ExitStatus.FAILURE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class InsecureConnectionWarning(UserWarning):
    """TLS verification is off for the cluster (``insecure-skip-tls-verify``).

    The client layer never prints: it warns, and the CLI runner shows it once, in one line.
    """


class UsageError(NodeappError):
    """Bad flags or arguments: exit status 2."""

    exit_code = ExitStatus.USAGE
