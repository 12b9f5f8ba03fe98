"""Finding the Node.js process in a container, even when PID 1 is ``npm`` or a shell.

``LIST_SCRIPT`` runs in the container through ``sh`` (exec) and prints, for every process of
the pod, its PID, ``/proc/PID/stat`` and ``/proc/PID/cmdline`` between control bytes (only
``sh``, ``printf`` and ``cat`` needed — what every image with a shell has). ``parse_processes``
and ``choose_node`` are pure: the app's node process is a ``node`` executable that is not a
package manager running under node (``npm start`` is node running npm-cli.js, and its title
says ``npm``); the lowest such PID wins (a cluster's primary before its workers).
``inspector_port`` reads ``--inspect-port`` / ``--inspect=[HOST:]PORT`` from the command
line and NODE_OPTIONS (9229 otherwise), where SIGUSR1 opens the inspector.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kubectl_trace.errors import NodeappError

__all__ = [
    "DEFAULT_INSPECTOR_PORT",
    "LIST_SCRIPT",
    "NoNodeProcess",
    "Process",
    "choose_node",
    "inspector_port",
    "parse_processes",
]

DEFAULT_INSPECTOR_PORT = 9229
LIST_SCRIPT = (
    'for d in /proc/[0-9]*; do [ -r "$d/cmdline" ] || continue; '
    "printf '\\001%s\\002' \"${d#/proc/}\"; cat \"$d/stat\" 2>/dev/null; printf '\\003'; "
    'cat "$d/cmdline" 2>/dev/null; done'
)
_WRAPPERS = frozenset({"npm", "npx", "yarn", "pnpm", "corepack", "nodemon", "pm2", "tsx", "ts-node"})
_NODE_NAME = re.compile(r"(node|nodejs)(\d+)?")
_INSPECT_FLAG = re.compile(r"--(inspect|inspect-brk|inspect-wait|inspect-port|debug-port)(=(\S*))?$")


class NoNodeProcess(NodeappError):
    """The container runs no Node.js process (or none we can signal)."""


@dataclass(frozen=True)
class Process:
    """One process of the pod."""

    pid: int
    ppid: int
    comm: str
    argv: tuple[str, ...]

    @property
    def command(self) -> str:
        """The command line as a shell would show it (shortened)."""
        text = " ".join(a.replace("\n", "\\n") for a in self.argv) if self.argv else f"[{self.comm}]"
        return text if len(text) <= 80 else text[:77] + "..."

    @property
    def program(self) -> str:
        """The basename of argv[0] (or the kernel's name for it)."""
        first = self.argv[0].split()[0] if self.argv and self.argv[0] else self.comm
        return first.rsplit("/", 1)[-1]


def parse_processes(output: bytes) -> list[Process]:
    """The processes in ``LIST_SCRIPT``'s output (records that do not parse are skipped)."""
    out: list[Process] = []
    for record in output.split(b"\x01")[1:]:
        pid_text, _, rest = record.partition(b"\x02")
        stat, _, cmdline = rest.partition(b"\x03")
        if not pid_text.isdigit():
            continue
        text = stat.decode("utf-8", "replace")
        comm = text[text.find("(") + 1 : text.rfind(")")] if "(" in text else ""
        fields = text[text.rfind(")") + 1 :].split()
        ppid = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else 0
        argv = tuple(a.decode("utf-8", "replace") for a in cmdline.rstrip(b"\x00").split(b"\x00") if a)
        out.append(Process(int(pid_text), ppid, comm, argv))
    return sorted(out, key=lambda p: p.pid)


def _is_wrapper(process: Process) -> bool:
    if process.program in _WRAPPERS:
        return True
    script = next((a for a in process.argv[1:] if not a.startswith("-")), "")
    name = script.rsplit("/", 1)[-1]
    return name in _WRAPPERS or any(name == f"{w}-cli.js" or name == f"{w}.js" for w in _WRAPPERS)


def is_node(process: Process) -> bool:
    """A Node.js process that runs the app (not a package manager or tool run by node)."""
    named = bool(_NODE_NAME.fullmatch(process.program)) or (
        process.comm == "node" and process.program not in _WRAPPERS
    )
    return named and not _is_wrapper(process)


def choose_node(processes: Sequence[Process], where: str) -> Process:
    """The app's node process; ``NoNodeProcess`` naming what runs instead."""
    nodes = sorted((p for p in processes if is_node(p)), key=lambda p: p.pid)
    if nodes:
        return nodes[0]
    first = next((p for p in processes if p.pid == 1), None)
    runs = f"; PID 1 is `{first.command}`" if first is not None else ""
    raise NoNodeProcess(
        f"no Node.js process in {where}{runs}",
        hint="inspect needs a container that runs node; pick another with --process or --pod",
    )


def _port_of(value: str | None) -> int | None:
    if not value:
        return None
    port = value.rsplit(":", 1)[-1]
    return int(port) if port.isdigit() and 0 < int(port) < 65536 else None


def inspector_port(process: Process, node_options: Iterable[str] = ()) -> int:
    """Where SIGUSR1 opens the inspector: the last port flag of NODE_OPTIONS and argv, else 9229."""
    port = DEFAULT_INSPECTOR_PORT
    words: list[str] = []
    for options in node_options:
        try:
            words += shlex.split(options)
        except ValueError:
            continue
    script_seen = False
    for arg in process.argv[1:]:
        if script_seen:
            break  # the app's own arguments are not node's
        if not arg.startswith("-"):
            script_seen = True
            continue
        words.append(arg)
    for word in words:
        found = _INSPECT_FLAG.match(word)
        if found:
            port = _port_of(found.group(3)) or port
    return port
