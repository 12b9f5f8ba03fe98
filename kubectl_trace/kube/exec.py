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
and the session's I/O loop (``kube.exec_session``); what callers of exec need of them is
re-exported here (the protocols, the session, its errors).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kubectl_trace.kube.exec_session import ExecError, ExecSession, ExecStreamLost, SessionLimits
from kubectl_trace.kube.frames import PROTOCOLS, V4_PROTOCOL, V5_PROTOCOL, ExecStatus
from kubectl_trace.kube.upgrade import open_websocket

if TYPE_CHECKING:
    from kubectl_trace.kube.calls import KubeClient

__all__ = [
    "PROTOCOLS",
    "V4_PROTOCOL",
    "V5_PROTOCOL",
    "ExecError",
    "ExecSession",
    "ExecStatus",
    "ExecStreamLost",
    "open_attach",
    "open_exec",
    "open_stream",
    "run_command",
]


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


if TYPE_CHECKING:
    from typing import TypedDict, Unpack

    class SessionOptions(TypedDict, total=False):
        """What ``open_exec`` and ``open_attach`` take besides the pod (see ``open_stream``)."""

        container: str | None
        stdin: bool
        stdout: bool
        stderr: bool
        tty: bool
        connect_timeout: float | None
        protocols: Sequence[str]
        ping_interval: float
        read_deadline: float


def open_exec(
    kube: KubeClient, namespace: str, pod: str, command: Sequence[str], **options: Unpack[SessionOptions]
) -> ExecSession:
    """Open ``pods/exec`` for ``command`` and return the session (not yet running): see ``open_stream``."""
    if not command:
        raise ValueError("exec needs a command")
    return open_stream(kube, "exec", namespace, pod, command, **options)


def open_attach(kube: KubeClient, namespace: str, pod: str, **options: Unpack[SessionOptions]) -> ExecSession:
    """Open ``pods/attach`` to a running container's process (``kubectl attach``).

    The same channels and session as ``open_exec`` (``attach_tty`` / ``attach_pipes`` drive
    it); a terminal with stdin unless told otherwise. The server sends the process's exit
    status on channel 3 when it ends.
    """
    options.setdefault("stderr", False)
    options.setdefault("tty", True)
    return open_stream(kube, "attach", namespace, pod, (), **options)


def open_stream(
    kube: KubeClient,
    subresource: str,
    namespace: str,
    pod: str,
    command: Sequence[str] = (),
    *,
    container: str | None = None,
    stdin: bool = True,
    stdout: bool = True,
    stderr: bool = True,
    tty: bool = False,
    connect_timeout: float | None = None,
    protocols: Sequence[str] = PROTOCOLS,
    ping_interval: float = SessionLimits.ping_interval,
    read_deadline: float = SessionLimits.read_deadline,
) -> ExecSession:
    """Open ``pods/exec`` or ``pods/attach`` (``subresource``) and return the session.

    ``kube`` is either client: the one handshake (``kube.upgrade.open_websocket``) runs on a
    socket the client opens with its own TLS settings and token (``LiteKube`` resumes its
    TLS session; ``Kube`` follows the official client's configuration, proxy included).
    ``protocols`` are offered in order (v5 first; v4 has no stdin half-close). While
    nothing flows the session pings every ``ping_interval`` seconds (as kubectl does) and
    gives the connection up as lost after ``read_deadline`` seconds without hearing anything.

    Raises ``ApiError`` when the server refuses (404 pod, 400 container not running, 403)
    and ``TransportError`` when it cannot be reached.
    """
    query = _query(command, container, stdin=stdin, stdout=stdout, stderr=stderr, tty=tty)
    timeout = connect_timeout if connect_timeout is not None else (kube.conn.request_timeout or 30.0)
    path = f"/api/v1/namespaces/{namespace}/pods/{pod}/{subresource}"
    ws = open_websocket(kube, path, query, protocols, timeout=timeout, namespace=namespace)
    return ExecSession(
        ws,
        description=f"pod {namespace}/{pod}" + (f" container {container}" if container else ""),
        limits=SessionLimits(ping_interval, read_deadline),
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
