"""The simulated app's HTTP as a byte stream: what a pod's port answers to a connection.

The simulated containers are not processes listening on sockets; their answers come from
``PodRuntime.proxy`` (the same handler as ``pods/proxy``). ``serve_http`` speaks HTTP/1.x
on one connection (keep-alive, ``Content-Length`` bodies) and answers every request with
it; port-forward streams and each pod's own listener (``wget localhost:3000`` inside the
pod) use it. A port no container serves behaves as a refused connection: closed at once.

A pod whose containers are real Node.js processes (``noderuntime``) has a loopback address
of its own (``PodRuntime.pod_address``): there the bytes go to the real socket instead
(``open_real`` and ``relay``), whatever the port (the app's 3000, the inspector's 9229).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING

from kubectl_trace.sandbox.store import StoreError

if TYPE_CHECKING:
    from kubectl_trace.sandbox.interfaces import PodRuntime
    from kubectl_trace.sandbox.podbox import PodBox

__all__ = ["SOCKET_FILE", "open_real", "port_open", "relay", "serve_http", "start_pod_listener"]

SOCKET_FILE = "nodeapp-http"  # in the pod's /run: the abstract socket name of its own ports
_MAX_HEAD = 64 * 1024

Write = Callable[[bytes], Awaitable[None]]


def pod_address(runtime: PodRuntime, namespace: str, pod: str) -> str | None:
    """The pod's loopback address when its containers are real processes (else None)."""
    lookup = getattr(runtime, "pod_address", None)
    if lookup is None:
        return None
    try:
        address = lookup(namespace, pod)
    except StoreError:
        return None
    return address if isinstance(address, str) else None


async def open_real(
    runtime: PodRuntime, namespace: str, pod: str, port: int
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
    """A connection to the pod's real process on ``port``; None when the pod is simulated.

    ``ConnectionRefusedError`` when the pod is real but nothing listens on ``port``.
    """
    address = pod_address(runtime, namespace, pod)
    if address is None:
        return None
    try:
        return await asyncio.wait_for(asyncio.open_connection(address, port), 10.0)
    except (TimeoutError, OSError) as exc:
        raise ConnectionRefusedError(f"dial tcp {address}:{port}: {exc}") from None


async def relay(
    client: asyncio.StreamReader,
    write: Write,
    app: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    first: bytes = b"",
) -> None:
    """Copy bytes both ways between a client stream and the real app until the app closes."""
    reader, writer = app

    async def upstream() -> None:
        if first:
            writer.write(first)
        while True:
            chunk = await client.read(65536)
            if not chunk:
                break
            writer.write(chunk)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()

    up = asyncio.get_running_loop().create_task(upstream())
    try:
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                break
            await write(chunk)
    finally:
        up.cancel()
        with contextlib.suppress(BaseException):
            await up
        writer.close()


def port_open(runtime: PodRuntime, namespace: str, pod: str, port: str) -> bool:
    """Whether a container of the pod answers on ``port`` (a refused connection otherwise)."""
    try:
        runtime.proxy(namespace, pod, port, "/", "HEAD")
    except StoreError:
        return False
    return True


async def _read_head(reader: asyncio.StreamReader) -> list[str] | None:
    lines: list[str] = []
    size = 0
    while True:
        line = await reader.readline()
        if not line:
            return None
        size += len(line)
        if size > _MAX_HEAD:
            return None
        text = line.decode("latin-1").rstrip("\r\n")
        if not text:
            if lines:
                return lines
            continue  # stray CRLF between requests
        lines.append(text)


async def serve_http(
    runtime: PodRuntime,
    namespace: str,
    pod: str,
    port: str | None,
    reader: asyncio.StreamReader,
    write: Write,
) -> None:
    """Answer HTTP requests read from ``reader`` until the client or the app closes.

    ``port`` None: the port is taken from each request's ``Host`` header (default 80).
    """
    while True:
        head = await _read_head(reader)
        if head is None:
            return
        parts = head[0].split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            await write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        method, target, version = parts
        headers: dict[str, str] = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        wanted = port
        if wanted is None:
            host = headers.get("host", "")
            wanted = host.rpartition(":")[2] if ":" in host and not host.endswith("]") else "80"
        if port is None and wanted.isdigit():  # the pod's own listener: a real app answers itself
            try:
                app = await open_real(runtime, namespace, pod, int(wanted))
            except ConnectionRefusedError:
                return
            if app is not None:
                head_bytes = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
                await relay(reader, write, app, head_bytes)
                return
        length = int(headers.get("content-length", "0") or 0)
        if length > 0:
            await reader.readexactly(length)
        path = target if target.startswith("/") else "/" + target.split("/", 3)[-1]
        try:
            answer = runtime.proxy(namespace, pod, wanted, path, method)
        except StoreError:
            return  # nothing listens there: the connection is refused / reset
        keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
        try:
            reason = HTTPStatus(answer.status).phrase
        except ValueError:
            reason = "Unknown"
        body = b"" if method.upper() == "HEAD" else answer.body
        out = (
            f"{version if version in ('HTTP/1.0', 'HTTP/1.1') else 'HTTP/1.1'} {answer.status} {reason}\r\n"
            f"Content-Type: {answer.content_type}\r\nContent-Length: {len(answer.body)}\r\n"
            f"X-Powered-By: Express\r\nConnection: {'keep-alive' if keep else 'close'}\r\n\r\n"
        ).encode("latin-1")
        await write(out + body)
        if not keep:
            return


async def start_pod_listener(runtime: PodRuntime, namespace: str, pod: str, box: PodBox) -> None:
    """The pod's own ports for commands inside it: an abstract Unix socket named in /run."""
    if box.listener is not None:
        return

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def write(data: bytes) -> None:
            writer.write(data)
            await writer.drain()

        try:
            await serve_http(runtime, namespace, pod, None, reader, write)
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    name = f"nodeapp-{secrets.token_hex(8)}"
    box.listener = await asyncio.start_unix_server(handle, path="\0" + name)
    Path(box.run, SOCKET_FILE).write_text(name + "\n")
