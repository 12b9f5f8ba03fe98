"""Containers that run their command for real (Job pods and other run-to-completion pods).

A container of a pod whose ``restartPolicy`` is ``Never`` or ``OnFailure`` and that
names a ``command`` (or ``args``) runs that command as a local process through the same
door as ``kubectl exec`` (``podbox.spawn_in_pod``): inside the pod's box (its own
hostname, ``/tmp``, ``/app``, home and process list; the host system read-only), or in
the pod's directories where namespaces are unavailable, with the environment
``execenv.exec_environment`` builds, programs looked up on the image's PATH only. Its
stdout and stderr become the container log line by line (with the time each line
arrived) and its exit status the container's terminated state. SIGTERM and
SIGKILL go to its whole process group (and its session inside the pod).

A container with ``tty: true`` gets a pty as its controlling terminal (stdin, stdout and
stderr), which ``pods/attach`` sessions share (``server/attach.py``): they receive what it
prints from the moment they attach and type into it.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import pty
import signal
import struct
import termios
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kubectl_trace.sandbox.instancelog import InstanceLog
from kubectl_trace.sandbox.podbox import command_members, spawn_in_pod

if TYPE_CHECKING:
    from kubectl_trace.sandbox.podbox import ExecTarget

__all__ = ["CommandProcess", "container_argv", "not_found_message", "runs_for_real"]

Obj = dict[str, Any]


def container_argv(spec: Obj) -> list[str]:
    """What a container runs: ``command`` + ``args`` (the images' entrypoint execs ``args``)."""
    return [str(part) for part in [*(spec.get("command") or []), *(spec.get("args") or [])]]


def runs_for_real(pod_spec: Obj, container: Obj) -> bool:
    """Whether a container's command runs as a local process (instead of the simulated app)."""
    return pod_spec.get("restartPolicy", "Always") != "Always" and bool(container_argv(container))


def not_found_message(program: str) -> str:
    """The runtime's message when the program is not in the image."""
    return (
        "failed to create containerd task: failed to create shim task: OCI runtime create failed: "
        "runc create failed: unable to start container process: error during container init: "
        f'exec: "{program}": executable file not found in $PATH: unknown'
    )


class CommandProcess:
    """One container process: started at once, its output appended to ``log``."""

    def __init__(self, log: InstanceLog, on_exit: Callable[[int], None], *, tty: bool = False) -> None:
        self.log = log
        self.on_exit = on_exit
        self.tty = tty
        self.process: asyncio.subprocess.Process | None = None
        self.master: int | None = None  # the pty (tty containers)
        self.exit_code: int | None = None
        self.listeners: set[Callable[[bytes | None], None]] = set()  # attached: output, None at exit
        self._task: asyncio.Task[None] | None = None
        self._killed = False

    def start(self, target: ExecTarget, argv: list[str]) -> None:
        """Start ``argv`` in the pod of ``target`` (``spawn_in_pod``) on the running event loop."""
        self._task = asyncio.get_running_loop().create_task(self._run(target, argv))

    # -- the terminal (tty containers) ------------------------------------------------------

    def write(self, data: bytes) -> None:
        """What an attached client typed."""
        if self.master is None or not data:
            return
        with contextlib.suppress(OSError):
            os.write(self.master, data)

    def resize(self, width: int, height: int) -> None:
        """The attached client's window size."""
        if self.master is not None and width > 0 and height > 0:
            with contextlib.suppress(OSError):
                fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))

    def _emit(self, data: bytes | None) -> None:
        for listener in list(self.listeners):
            with contextlib.suppress(Exception):
                listener(data)

    async def _run_tty(self, target: ExecTarget, argv: list[str]) -> int:
        master, slave = pty.openpty()
        # the terminal exists from now on: what is typed and the window size while the pod's
        # box is still starting wait in it for the process
        self.master = master
        try:
            self.process = await spawn_in_pod(target, argv, terminal=slave)
        except BaseException:
            self.master = None
            os.close(master)
            raise
        finally:
            os.close(slave)
        os.set_blocking(master, False)
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        pending = [b""]

        def readable() -> None:
            try:
                data = os.read(master, 65536)
            except BlockingIOError:
                return
            except OSError:  # EIO: the process and its children closed the terminal
                data = b""
            if data:
                self._emit(data)
                pending[0] = self._append(pending[0] + data)
                return
            loop.remove_reader(master)
            if not done.done():
                done.set_result(None)

        loop.add_reader(master, readable)
        try:
            if self._killed:
                self.signal(signal.SIGKILL)
            returncode = await self.process.wait()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(done), 2.0)  # what it printed last
        finally:
            with contextlib.suppress(Exception):
                loop.remove_reader(master)
            os.close(master)
            self.master = None
        if pending[0]:
            self._lines([pending[0]])
        return returncode if returncode >= 0 else 128 - returncode

    async def _run(self, target: ExecTarget, argv: list[str]) -> None:
        code = 128
        try:
            if self.tty:
                code = await self._run_tty(target, argv)
                return
            self.process = await spawn_in_pod(
                target,
                argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
            if self._killed:
                self.signal(signal.SIGKILL)
            assert self.process.stdout is not None
            pending = b""
            while True:
                chunk = await self.process.stdout.read(65536)
                if not chunk:
                    break
                pending = self._append(pending + chunk)
            if pending:
                self._lines([pending])
            returncode = await self.process.wait()
            code = returncode if returncode >= 0 else 128 - returncode
        except OSError as err:
            self._lines([str(err).encode()])
        finally:
            self.exit_code = code
            self._emit(None)
            with contextlib.suppress(Exception):
                self.on_exit(code)

    def _append(self, data: bytes) -> bytes:
        *complete, rest = data.split(b"\n")
        if complete:
            self._lines(complete)
        return rest

    def _lines(self, raw: list[bytes]) -> None:
        if self.log.finished:
            return
        texts = [line.rstrip(b"\r").decode("utf-8", "replace") for line in raw]
        if not texts:
            return
        now = time.time()
        self.log.append_at([now] * len(texts), lambda k, t, seq: texts[k])

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the process group."""
        if sig == signal.SIGKILL:
            self._killed = True
        process = self.process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        for pid in command_members(process.pid):  # inside the pod: a session of its own (tty)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
