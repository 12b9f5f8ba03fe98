"""``pods/exec`` and ``pods/attach`` over a WebSocket: the channel protocol of ``v5.channel.k8s.io`` / ``v4``.

Two faces:

- ``open_exec(kube, …) -> ExecSession`` (and ``open_attach``): a streaming session for the
  interactive shell. One thread runs ``session.run(on_stdout, on_stderr)`` (it owns the
  socket: reads, writes, answers pings); any other thread may call ``send_stdin``,
  ``close_stdin`` and ``resize``.
- ``run_command(kube, namespace, pod, container, argv, stdin=b"", timeout=30.0)
  -> (exit_code, stdout, stderr)``: run a command to completion and collect its output.

Three parts below this module: the frame codec (``kube.frames``: WebSocket frames, the
channels, resize, the exit status), the one handshake for both clients (``kube.upgrade``)
and the session's I/O loop (``kube.exec_session``). Their public names are re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kubectl_trace.kube.exec_session import ExecError, ExecSession, ExecStreamLost
from kubectl_trace.kube.frames import (
    CHANNEL_CLOSE,
    CHANNEL_ERROR,
    CHANNEL_RESIZE,
    CHANNEL_STDERR,
    CHANNEL_STDIN,
    CHANNEL_STDOUT,
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    PROTOCOLS,
    V4_PROTOCOL,
    V5_PROTOCOL,
    ExecStatus,
    FrameDecoder,
    ProtocolError,
    encode_frame,
    encode_stdin,
    mask_payload,
    parse_status,
)
from kubectl_trace.kube.upgrade import open_websocket

if TYPE_CHECKING:
    from kubectl_trace.kube.calls import KubeClient

__all__ = [
    "CHANNEL_CLOSE",
    "CHANNEL_ERROR",
    "CHANNEL_RESIZE",
    "CHANNEL_STDERR",
    "CHANNEL_STDIN",
    "CHANNEL_STDOUT",
    "OP_BINARY",
    "OP_CLOSE",
    "OP_CONT",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "PROTOCOLS",
    "V4_PROTOCOL",
    "V5_PROTOCOL",
    "ExecError",
    "ExecSession",
    "ExecStatus",
    "ExecStreamLost",
    "FrameDecoder",
    "ProtocolError",
    "encode_frame",
    "encode_stdin",
    "exec_path",
    "mask_payload",
    "open_attach",
    "open_exec",
    "parse_status",
    "run_command",
]


def exec_path(namespace: str, pod: str) -> str:
    """The ``pods/exec`` subresource path."""
    return f"/api/v1/namespaces/{namespace}/pods/{pod}/exec"


def _query(
    command: Sequence[str], container: str | None, *, stdin: bool, stdout: bool, stderr: bool, tty: bool
) -> list[tuple[str, str]]:
    # Only true flags, as kubectl sends them; one ``command`` per argv element.
    query = [("command", arg) for arg in command]
    if container:
        query.append(("container", container))
    for name, value in (("stdin", stdin), ("stdout", stdout), ("stderr", stderr), ("tty", tty)):
        if value:
            query.append((name, "true"))
    return query


def open_exec(
    kube: KubeClient,
    namespace: str,
    pod: str,
    command: Sequence[str],
    *,
    container: str | None = None,
    stdin: bool = True,
    stdout: bool = True,
    stderr: bool = True,
    tty: bool = False,
    connect_timeout: float | None = None,
    protocols: Sequence[str] = PROTOCOLS,
    ping_interval: float = 5.0,
    read_deadline: float = 61.0,
) -> ExecSession:
    """Open ``pods/exec`` for ``command`` and return the session (not yet running).

    ``kube`` is either client: the one handshake (``kube.upgrade.open_websocket``) runs on a
    socket the client opens with its own TLS settings and token (``LiteKube`` resumes its
    TLS session; ``Kube`` follows the official client's configuration, proxy included).
    ``protocols`` are offered in order
    (v5 first; v4 has no stdin half-close). While nothing flows the session pings every
    ``ping_interval`` seconds (as kubectl does) and gives the connection up as lost after
    ``read_deadline`` seconds without hearing anything.

    Raises ``ApiError`` when the server refuses (404 pod, 400 container not running, 403)
    and ``TransportError`` when it cannot be reached.
    """
    if not command:
        raise ValueError("exec needs a command")
    query = _query(command, container, stdin=stdin, stdout=stdout, stderr=stderr, tty=tty)
    description = f"pod {namespace}/{pod}" + (f" container {container}" if container else "")
    return _open_session(
        kube,
        exec_path(namespace, pod),
        query,
        namespace,
        description,
        connect_timeout=connect_timeout,
        protocols=protocols,
        ping_interval=ping_interval,
        read_deadline=read_deadline,
    )


def open_attach(
    kube: KubeClient,
    namespace: str,
    pod: str,
    *,
    container: str | None = None,
    stdin: bool = True,
    stdout: bool = True,
    stderr: bool = False,
    tty: bool = True,
    connect_timeout: float | None = None,
    protocols: Sequence[str] = PROTOCOLS,
    ping_interval: float = 5.0,
    read_deadline: float = 61.0,
) -> ExecSession:
    """Open ``pods/attach`` to a running container's process (``kubectl attach``).

    The same channels and session as ``open_exec`` (``attach_tty`` / ``attach_pipes`` drive
    it); the server sends the process's exit status on channel 3 when it ends.
    """
    query = _query((), container, stdin=stdin, stdout=stdout, stderr=stderr, tty=tty)
    description = f"pod {namespace}/{pod}" + (f" container {container}" if container else "")
    return _open_session(
        kube,
        f"/api/v1/namespaces/{namespace}/pods/{pod}/attach",
        query,
        namespace,
        description,
        connect_timeout=connect_timeout,
        protocols=protocols,
        ping_interval=ping_interval,
        read_deadline=read_deadline,
    )


def _open_session(
    kube: KubeClient,
    path: str,
    query: list[tuple[str, str]],
    namespace: str,
    description: str,
    *,
    connect_timeout: float | None,
    protocols: Sequence[str],
    ping_interval: float,
    read_deadline: float,
) -> ExecSession:
    timeout = connect_timeout if connect_timeout is not None else (kube.conn.request_timeout or 30.0)
    ws = open_websocket(kube, path, query, protocols, timeout=timeout, namespace=namespace)
    return ExecSession(
        ws.sock,
        ws.protocol,
        description=description,
        initial=ws.initial,
        ping_interval=ping_interval,
        read_deadline=read_deadline,
    )


def run_command(
    kube: KubeClient,
    namespace: str,
    pod: str,
    container: str | None,
    argv: Sequence[str],
    stdin: bytes = b"",
    timeout: float | None = 30.0,
) -> tuple[int, bytes, bytes]:
    """Run ``argv`` in a container to completion: ``(exit_code, stdout, stderr)``.

    Stable API (used by ``status --probe``). No TTY; stdout and stderr stay apart and are
    returned as bytes. ``stdin`` (if any) is sent and then closed — a v4-only server cannot
    close stdin, so a command reading to EOF would wait for ``timeout`` there.
    ``container=None`` lets the server pick (it refuses pods with several containers).

    Raises ``ApiError`` (pod missing, container not running, forbidden), ``ExecError``
    (the command could not start, e.g. not found in the image), ``ExecStreamLost`` and
    ``TransportError`` (kind ``timeout`` after ``timeout`` seconds) — all ``KubeError``.
    """
    session = open_exec(
        kube,
        namespace,
        pod,
        list(argv),
        container=container,
        stdin=bool(stdin),
        stdout=True,
        stderr=True,
        tty=False,
        connect_timeout=timeout,
    )
    out: list[bytes] = []
    err: list[bytes] = []
    with session:
        code = session.run(out.append, err.append, stdin=stdin or None, timeout=timeout)
    return code, b"".join(out), b"".join(err)
