"""``pods/exec`` over WebSocket (``v5.channel.k8s.io``, ``v4.channel.k8s.io``).

The command runs as a real local process with the pod's environment
(``PodRuntime.exec_target``), inside the pod's namespaces when it has a box
(``sandbox.podbox``: its own hostname, root, ``/tmp``, ``/app``, process list);
``argv[0]`` is looked up on the pod's PATH only, so a program the "image" lacks fails as
a container runtime reports it. With a TTY
the process gets a pty as its controlling terminal and window-size changes. Every
message is one channel byte plus payload: 0 stdin, 1 stdout, 2 stderr, 3 status,
4 resize, 255 close (v5). The exit status goes out on channel 3 as a ``metav1.Status``;
the process group is killed when the client goes away.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import pty
import shutil
import signal
import struct
import termios
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from kubectl_trace.sandbox.podbox import command_members, terminal_setup
from kubectl_trace.sandbox.server.channels import (
    CLOSE,
    ERROR,
    RESIZE,
    STDERR,
    STDIN,
    STDOUT,
    channel_socket,
    exit_status,
    is_websocket_upgrade,
    negotiate,
    stream_container,
    terminal_size,
)
from kubectl_trace.sandbox.server.podhttp import start_pod_listener
from kubectl_trace.sandbox.server.responses import dumps, query_bool
from kubectl_trace.sandbox.server.routes import Route
from kubectl_trace.sandbox.store import StoreError

if TYPE_CHECKING:
    from kubectl_trace.sandbox.podbox import ExecTarget
    from kubectl_trace.sandbox.server.api import ApiServer

__all__ = ["ExecSession", "serve_exec"]

_DRAIN_TIMEOUT = 2.0  # after exit, how long output may keep flowing (background children)


def _not_found_status(program: str) -> dict[str, Any]:
    exec_id = uuid.uuid4().hex
    return {
        "metadata": {},
        "status": "Failure",
        "message": (
            "Internal error occurred: error executing command in container: failed to exec in container: "
            f'failed to start exec "{exec_id}": OCI runtime exec failed: exec failed: unable to start '
            f'container process: exec: "{program}": executable file not found in $PATH: unknown'
        ),
        "reason": "InternalError",
        "code": 500,
    }


def _resolve_program(program: str, path: str) -> str | None:
    if "/" in program:
        return program if os.path.isfile(program) and os.access(program, os.X_OK) else None
    return shutil.which(program, path=path)


def _resize(fd: int, payload: bytes) -> None:
    size = terminal_size(payload)
    if size is not None and size[0] > 0 and size[1] > 0:
        cols, rows = size
        with contextlib.suppress(OSError):
            fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


class ExecSession:
    """One running exec: the process, its pipes or pty, and the WebSocket."""

    def __init__(self, ws: web.WebSocketResponse, protocol: str, argv: list[str]) -> None:
        self.ws = ws
        self.v5 = protocol.startswith("v5.")
        self.argv = argv
        self.process: asyncio.subprocess.Process | None = None
        self.master: int | None = None
        self._pty_output: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._send_lock = asyncio.Lock()

    # -- process --------------------------------------------------------------------------

    async def spawn(
        self,
        program: str,
        cwd: str,
        env: dict[str, str],
        *,
        tty: bool,
        stdin: bool,
        stdout: bool,
        stderr: bool,
        command: list[str] | None = None,
    ) -> None:
        """Start the process (with a pty as its controlling terminal when ``tty``).

        ``command`` replaces ``argv`` as what is started (the pod's ``nsenter`` prefix);
        ``program`` is then its first element's path.
        """
        argv = command or self.argv
        os.makedirs(cwd, exist_ok=True)

        async def start(**stdio: Any) -> asyncio.subprocess.Process:
            return await asyncio.create_subprocess_exec(
                argv[0], *argv[1:], executable=program, cwd=cwd, env=env, start_new_session=True, **stdio
            )

        if tty:
            master, slave = pty.openpty()
            try:
                self.process = await start(
                    stdin=slave, stdout=slave, stderr=slave, preexec_fn=terminal_setup(argv)
                )
            except BaseException:
                os.close(master)
                raise
            finally:
                os.close(slave)
            self.master = master
            os.set_blocking(master, False)
            asyncio.get_running_loop().add_reader(master, self._on_pty_readable)
        else:
            pipe = asyncio.subprocess.PIPE
            devnull = asyncio.subprocess.DEVNULL
            self.process = await start(
                stdin=pipe if stdin else devnull,
                stdout=pipe if stdout else devnull,
                stderr=pipe if stderr else devnull,
            )

    def _on_pty_readable(self) -> None:
        assert self.master is not None
        try:
            data = os.read(self.master, 65536)
        except BlockingIOError:
            return
        except OSError:  # EIO: every slave end is closed
            data = b""
        if not data:
            self._stop_pty_reader()
            self._pty_output.put_nowait(None)
        else:
            self._pty_output.put_nowait(data)

    def _stop_pty_reader(self) -> None:
        if self.master is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self.master)

    def kill(self) -> None:
        """Kill the process, its group and its whole session now (client gone, fault, shutdown).

        Background jobs of an interactive shell live in process groups of their own but in
        the session the exec process started, so the session is what gets killed.
        """
        process = self.process
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        for pid in command_members(process.pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    def close_fds(self) -> None:
        """Release the pty master."""
        if self.master is not None:
            self._stop_pty_reader()
            with contextlib.suppress(OSError):
                os.close(self.master)
            self.master = None

    # -- frames ---------------------------------------------------------------------------

    async def send(self, channel: int, payload: bytes) -> None:
        """One binary frame on ``channel`` (never a text frame: kubectl rejects them)."""
        if self.ws.closed:
            return
        async with self._send_lock:
            await self.ws.send_bytes(bytes([channel]) + payload)

    async def pump_pipe(self, reader: asyncio.StreamReader, channel: int) -> None:
        """Copy a pipe to a channel until EOF."""
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                return
            await self.send(channel, chunk)

    async def pump_pty(self) -> None:
        """Copy the pty's output to stdout until the slave side is closed."""
        while True:
            chunk = await self._pty_output.get()
            if chunk is None:
                return
            await self.send(STDOUT, chunk)

    async def write_stdin(self, data: bytes) -> None:
        """Client stdin → the process."""
        if not data:
            return
        if self.master is not None:
            view = memoryview(data)
            while view:
                try:
                    written = os.write(self.master, view)
                    view = view[written:]
                except BlockingIOError:
                    await asyncio.sleep(0.005)
                except OSError:
                    return
            return
        process = self.process
        if process is not None and process.stdin is not None and not process.stdin.is_closing():
            try:
                process.stdin.write(data)
                await process.stdin.drain()
            except (ConnectionError, BrokenPipeError, RuntimeError):
                pass

    def close_stdin(self) -> None:
        """v5 half-close of stdin: EOF for the process."""
        if self.master is not None:
            with contextlib.suppress(OSError):
                os.write(self.master, b"\x04")
            return
        process = self.process
        if process is not None and process.stdin is not None:
            with contextlib.suppress(Exception):
                process.stdin.close()

    async def read_client(self) -> None:
        """Handle client frames until the WebSocket closes."""
        async for message in self.ws:
            if message.type == WSMsgType.BINARY:
                data = bytes(message.data)
            elif message.type == WSMsgType.TEXT:
                text = message.data
                if not text:
                    continue
                data = bytes([ord(text[0]) & 0xFF]) + text[1:].encode("utf-8")
            else:
                if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                    return
                continue
            if not data:
                continue
            channel, payload = data[0], data[1:]
            if channel == STDIN:
                await self.write_stdin(payload)
            elif channel == RESIZE:
                if self.master is not None:
                    _resize(self.master, payload)
            elif channel == CLOSE and self.v5 and payload[:1] == bytes([STDIN]):
                self.close_stdin()


@dataclass(frozen=True)
class _ExecRequest:
    """What an exec request asks for, checked before the upgrade."""

    argv: list[str]
    container: str
    target: ExecTarget
    protocol: str
    tty: bool
    stdin: bool
    stdout: bool
    stderr: bool


def _exec_request(api: ApiServer, request: web.Request, route: Route) -> _ExecRequest | None:
    """The checked request; None when it is not a WebSocket upgrade (SPDY: refused)."""
    assert route.name is not None
    query = request.query
    container = stream_container(api, route, query, "exec into")
    argv = query.getall("command", [])
    if not argv:
        raise StoreError.bad_request("you must specify at least one command for the container")
    target = api.runtime.exec_target(route.namespace or "", route.name, container)
    if not is_websocket_upgrade(request):
        return None
    tty = query_bool(query, "tty")
    return _ExecRequest(
        argv=argv,
        container=container,
        target=target,
        protocol=negotiate(request),
        tty=tty,
        stdin=query_bool(query, "stdin"),
        stdout=query_bool(query, "stdout"),
        stderr=query_bool(query, "stderr") and not tty,  # a terminal has one output
    )


def _spawn_error(exc: OSError, program: str) -> dict[str, Any]:
    if exc.errno == errno.ENOENT:
        return _not_found_status(program)
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"Internal error occurred: error executing command in container: {exc.strerror}",
        "reason": "InternalError",
        "code": 500,
    }


async def _start(api: ApiServer, route: Route, session: ExecSession, asked: _ExecRequest) -> bool:
    """Start the process (in the pod's box when it has one); False when it could not start."""
    argv, box = asked.argv, asked.target.box
    env = dict(asked.target.env)
    if asked.tty:
        env.setdefault("TERM", "xterm")
    if box is not None:
        program = box.host_program(argv[0], env.get("PATH", ""))
    else:
        program = _resolve_program(argv[0], env.get("PATH", ""))
    if program is None:
        await session.send(ERROR, dumps(_not_found_status(argv[0])))
        return False
    cwd, command = asked.target.cwd, None
    if box is not None:
        with contextlib.suppress(OSError):  # without it only wget/curl inside lose their target
            await start_pod_listener(api.runtime, route.namespace or "", route.name or "", box)
        command, cwd, env = await box.command(
            argv, env, env.get("PATH", ""), tty=asked.tty, enter_pid=asked.target.enter_pid
        )
        program = command[0] if command[0].startswith("/") else program
    try:
        await session.spawn(
            program,
            cwd,
            env,
            tty=asked.tty,
            stdin=asked.stdin,
            stdout=asked.stdout,
            stderr=asked.stderr,
            command=command,
        )
    except OSError as exc:
        await session.send(ERROR, dumps(_spawn_error(exc, argv[0])))
        return False
    return True


def _output_pumps(session: ExecSession, tty: bool) -> list[asyncio.Task[None]]:
    process = session.process
    assert process is not None
    if tty:
        return [asyncio.create_task(session.pump_pty())]
    pumps = []
    if process.stdout is not None:
        pumps.append(asyncio.create_task(session.pump_pipe(process.stdout, STDOUT)))
    if process.stderr is not None:
        pumps.append(asyncio.create_task(session.pump_pipe(process.stderr, STDERR)))
    return pumps


async def _until_exit(session: ExecSession, reader: asyncio.Task[None], tty: bool) -> int | None:
    """The exit code once the output is drained; None when the client went away first."""
    process = session.process
    assert process is not None
    pumps = _output_pumps(session, tty)
    exited = asyncio.create_task(process.wait())
    done, _ = await asyncio.wait({reader, exited}, return_when=asyncio.FIRST_COMPLETED)
    if exited not in done:
        # the client went away (or the stream was dropped): kill, and stop quietly
        session.kill()
        for task in pumps:
            task.cancel()
        with contextlib.suppress(BaseException):
            await exited
        return None
    code = exited.result()
    if pumps:
        _, pending = await asyncio.wait(pumps, timeout=_DRAIN_TIMEOUT)
        for task in pending:
            task.cancel()
    return 128 - code if code < 0 else code


async def serve_exec(api: ApiServer, request: web.Request, route: Route) -> web.StreamResponse:
    """GET (WebSocket upgrade) ``/api/v1/namespaces/NS/pods/NAME/exec``."""
    asked = _exec_request(api, request, route)
    if asked is None:
        raise StoreError.bad_request(
            "the sandbox speaks exec over WebSocket only (v5.channel.k8s.io, v4.channel.k8s.io); "
            "SPDY is not supported (unset KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false)"
        )
    ws = await channel_socket(request, asked.protocol)
    session = ExecSession(ws, asked.protocol, asked.argv)

    def drop() -> None:
        session.kill()
        if request.transport is not None:
            request.transport.close()

    what = f"{route.namespace}/{route.name}/{asked.container}: {' '.join(asked.argv)}"
    stream = api.streams.open("exec", what, drop)
    api.exec_sessions.add(session)
    reader: asyncio.Task[None] | None = None
    try:
        if not await _start(api, route, session, asked):
            await ws.close()
            return ws
        reader = asyncio.create_task(session.read_client())
        code = await _until_exit(session, reader, asked.tty)
        if code is None:
            return ws
        session.kill()  # leftover background children
        with contextlib.suppress(ConnectionError, RuntimeError):
            await session.send(ERROR, dumps(exit_status(code, asked.argv)))
            await ws.close()
        return ws
    except (ConnectionResetError, ConnectionError):
        session.kill()
        return ws
    finally:
        if reader is not None and not reader.done():
            reader.cancel()
        session.kill()
        session.close_fds()
        api.exec_sessions.discard(session)
        api.streams.release(stream)
