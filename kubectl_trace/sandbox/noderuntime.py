"""Real Node.js containers: the demo images' app (``nodeapp/server.js``) as a process in its pod.

With ``--containers node`` a container of a demo image (``trace-api``, ``trace-ui``) runs
``node dist/server.js`` (``worker.js``, ``clock.js`` per process type; the shipped app,
copied into the pod's ``/app``) through ``podbox.spawn_in_pod`` like every command of a
pod, inside ``unshare --pid --mount --mount-proc``: a PID namespace (and ``/proc``) of the
container's own, so node is PID 1 as in a real container, an ``exec`` into the container
enters that namespace (``ExecTarget.enter_pid``) and ``kill -USR1 1`` reaches node. As PID 1
it also gets the kernel's PID-1 signal rule for free: a SIGTERM without a handler is
dropped (the ``ignore-sigterm`` image).

Its stdout and stderr are the container log (``CommandProcess``); its exit status the
terminated state (SIGKILL: 137). SIGTERM and SIGUSR1 go to node alone (its host pid, found
in ``/proc`` below the process started), SIGKILL to everything the container runs.

**Network.** Pods share the host's network (no network namespace: an unprivileged user
cannot connect one to the host). Each pod gets a loopback address of its own,
``127.A.B.C`` (checked free on port 3000 and 9229), and its app listens there on the port
the spec names (``PORT``, 3000): two pods never collide, every pod keeps ``containerPort``
3000, and the inspector (``--inspect-port=ADDR:9229``, opened by SIGUSR1) listens on
9229 of the same address. Port-forward, the pod's own ``localhost`` ports and probes
connect to ``ADDR:PORT`` (``pod_address``).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import os
import random
import shutil
import signal
import socket
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kubectl_trace.sandbox.command import CommandProcess
from kubectl_trace.sandbox.images import ImageProfile
from kubectl_trace.sandbox.loggen import InstanceLog

if TYPE_CHECKING:
    from kubectl_trace.sandbox.nodejs import NodeBinary

__all__ = ["APP_SOURCE", "INSPECTOR_PORT", "NodeContainers", "NodeProcess", "find_node_pid", "http_probe"]

APP_SOURCE = Path(__file__).parent / "nodeapp" / "server.js"
INSPECTOR_PORT = 9229
_SCRIPTS = {"web": "server", "worker": "worker", "clock": "clock"}
_SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError, ValueError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as handle:
                found.extend(int(word) for word in handle.read().split())
    return found


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as handle:
            return handle.read().strip()
    except OSError:
        return ""


def find_node_pid(root: int) -> int | None:
    """The host pid of the first ``node`` at or below ``root`` (breadth first), None when gone."""
    queue = [root]
    seen: set[int] = set()
    while queue:
        pid = queue.pop(0)
        if pid in seen:
            continue
        seen.add(pid)
        if _comm(pid) == "node":
            return pid
        queue.extend(_children(pid))
    return None


async def http_probe(host: str, port: int, path: str, timeout: float) -> tuple[int | None, str]:
    """GET ``path`` like the kubelet's prober: (status, "") or (None, why it failed)."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (TimeoutError, OSError) as exc:
        return None, "connect: connection refused" if isinstance(exc, ConnectionRefusedError) else str(exc)
    try:
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: kube-probe/1.37\r\n"
            "Accept: */*\r\nConnection: close\r\n\r\n".encode("latin-1")
        )
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout)
    except (TimeoutError, OSError):
        return None, "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
    parts = line.decode("latin-1").split()
    if len(parts) < 2 or not parts[1].isdigit():
        return None, "malformed HTTP response"
    return int(parts[1]), ""


class NodeProcess(CommandProcess):
    """A container whose process is real Node.js; ``address`` is the pod's loopback address."""

    def __init__(self, log: InstanceLog, on_exit: Callable[[int], None], *, address: str) -> None:
        super().__init__(log, on_exit)
        self.address = address
        self._node_pid: int | None = None

    def node_pid(self) -> int | None:
        """The host pid of node (PID 1 of the container), None before it starts or once it ended."""
        process = self.process
        if process is None or process.returncode is not None:
            return None
        if self._node_pid is not None and _comm(self._node_pid) == "node":
            return self._node_pid
        self._node_pid = find_node_pid(process.pid)
        return self._node_pid

    def signal(self, sig: int) -> None:
        """SIGKILL: everything the container runs; other signals: node alone (what a runtime does)."""
        if sig == signal.SIGKILL:
            super().signal(sig)
            return
        pid = self.node_pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)

    def respond(self, port: int, path: str, method: str) -> tuple[int, bytes, str] | None:
        """One blocking request to the app (``pods/proxy``); None when the connection is refused."""
        if self.node_pid() is None:
            return None
        conn = http.client.HTTPConnection(self.address, port, timeout=2.0)
        try:
            conn.request(method.upper(), path, headers={"User-Agent": "kubectl-nodeapp-sandbox-proxy"})
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            return None
        finally:
            conn.close()
        return response.status, body, response.getheader("Content-Type") or "text/plain"


def _port_free(address: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((address, port))
        except OSError:
            return False
    return True


class NodeContainers:
    """What a kubelet needs to run real Node.js containers."""

    def __init__(self, node: NodeBinary, *, time_scale: float, log_rate: float) -> None:
        self.node = node
        self.time_scale = time_scale
        self.log_rate = log_rate
        self._addresses: dict[str, str] = {}  # pod uid → its loopback address
        self._random = random.Random()

    @staticmethod
    def runs(profile: ImageProfile, is_init: bool) -> bool:
        """Whether a container of this image runs real Node.js (the demo apps' images)."""
        return not is_init and profile.app in ("trace-api", "trace-ui")

    def address(self, uid: str) -> str:
        """The pod's loopback address (allocated on first use, free on 3000 and 9229)."""
        found = self._addresses.get(uid)
        if found is not None:
            return found
        taken = set(self._addresses.values())
        for _ in range(200):
            candidate = (
                f"127.{self._random.randint(20, 250)}.{self._random.randint(0, 255)}."
                f"{self._random.randint(2, 254)}"
            )
            if candidate in taken:
                continue
            if _port_free(candidate, 3000) and _port_free(candidate, INSPECTOR_PORT):
                self._addresses[uid] = candidate
                return candidate
        raise OSError("no free loopback address for a pod")

    def release(self, uid: str) -> None:
        """The pod is gone."""
        self._addresses.pop(uid, None)

    def pod_address(self, uid: str) -> str | None:
        """The pod's loopback address when it has one."""
        return self._addresses.get(uid)

    @staticmethod
    def install_app(workdir: str) -> None:
        """Put the app into the pod's ``/app/dist`` (``server.js``, ``worker.js``, ``clock.js``)."""
        dist = Path(workdir) / "dist"
        dist.mkdir(parents=True, exist_ok=True)
        source = APP_SOURCE.read_text(encoding="utf-8")
        for script in _SCRIPTS.values():
            target = dist / f"{script}.js"
            if not target.is_file() or target.read_text(encoding="utf-8") != source:
                target.write_text(source, encoding="utf-8")

    def argv(
        self,
        profile: ImageProfile,
        process: str,
        *,
        namespace: str,
        address: str,
        isolated: bool,
    ) -> list[str]:
        """What the container runs (inside its own PID namespace when the pod is isolated)."""
        script = f"dist/{_SCRIPTS.get(process, 'server')}.js"
        command = [
            "node",
            f"--inspect-port={address}:{INSPECTOR_PORT}",
            script,
            "--app",
            profile.app,
            "--process",
            process,
            "--fault",
            profile.fault or "",
            "--commit",
            profile.ref.tag,
            "--host",
            address,
            "--time-scale",
            repr(self.time_scale),
            "--log-rate",
            repr(self.log_rate),
            "--namespace",
            namespace,
        ]
        unshare = shutil.which("unshare", path=_SYSTEM_PATH)
        if not isolated or unshare is None:
            return command
        return [unshare, "--pid", "--fork", "--mount", "--mount-proc", "--kill-child", *command]
