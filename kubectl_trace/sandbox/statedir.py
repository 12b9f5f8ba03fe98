"""A sandbox's state directory next to its kubeconfig, as the server writes it and ``process`` reads it.

``state.json`` says where the server listens (and its pid), ``server.log`` is its output; the
kubeconfig is removed on shutdown only while it is still the one the sandbox wrote.
"""

from __future__ import annotations

import contextlib
import hashlib
import os

__all__ = ["LOG_FILE", "STATE_FILE", "file_sha256", "remove_own_kubeconfig", "state_dir_for"]

STATE_FILE = "state.json"
LOG_FILE = "server.log"


def state_dir_for(kubeconfig: str) -> str:
    """The state directory of the sandbox that writes ``kubeconfig``."""
    return os.path.abspath(os.path.expanduser(kubeconfig)) + ".sandbox"


def file_sha256(path: str) -> str | None:
    """The SHA-256 of a file's content (None when it cannot be read)."""
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return None


def remove_own_kubeconfig(kubeconfig: str, sha: str | None) -> None:
    """Remove ``kubeconfig`` if it still is what the sandbox wrote (content hash ``sha``)."""
    if sha and file_sha256(kubeconfig) == sha:
        with contextlib.suppress(OSError):
            os.unlink(kubeconfig)
