"""The simulated app's HTTP as a byte stream: what a pod's port answers to a connection.

The simulated containers are not processes listening on sockets; their answers come from
``PodRuntime.proxy`` (the same handler as ``pods/proxy``). ``serve_http`` speaks HTTP/1.x
on one connection (keep-alive, ``Content-Length`` bodies) and answers every request with
it; port-forward streams and each pod's own listener (``wget localhost:3000`` inside the
pod) use it. A port no container serves behaves as a refused connection: closed at once.
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

__all__ = ["SOCKET_FILE", "port_open", "serve_http", "start_pod_listener"]

SOCKET_FILE = "nodeapp-http"  # in the pod's /run: the abstract socket name of its own ports
_MAX_HEAD = 64 * 1024

Write = Callable[[bytes], Awaitable[None]]


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
        length = int(headers.get("content-length", "0") or 0)
        if length > 0:
            await reader.readexactly(length)
        wanted = port
        if wanted is None:
            host = headers.get("host", "")
            wanted = host.rpartition(":")[2] if ":" in host and not host.endswith("]") else "80"
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
