"""The one WebSocket handshake (RFC 6455, the client's side) for the streaming subresources.

``open_websocket(kube, path, query, protocols, …)`` asks the API server to switch
``GET path?query`` to a WebSocket speaking one of ``protocols`` (offered in order) and
checks its answer: a 101 with the right ``Sec-WebSocket-Accept`` and one of the offered
subprotocols, else a one-line ``KubeError`` (the server's own refusal — 404 pod, 400
container not running, 403 — as ``ApiError``). What differs between the two clients is
only how the socket is opened and the request sent — ``open_upgrade`` on ``LiteKube`` (its
kept-alive TLS session resumed) and on ``Kube`` (the official client's configuration) —
so exec, attach and port-forward share this whole path, whichever client carries them.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote, urlencode

from kubectl_trace.kube.errors import TransportError, api_error

if TYPE_CHECKING:
    from kubectl_trace.kube.config import Connection

__all__ = ["Upgrader", "WebSocket", "open_websocket"]

_WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Upgrader(Protocol):
    """A client that can send an upgrade request on a socket of its own (both clients can)."""

    @property
    def conn(self) -> Connection:
        """Where and as whom the client talks."""
        ...

    def open_upgrade(
        self, target: str, headers: Mapping[str, str], *, timeout: float
    ) -> tuple[socket.socket, int, dict[str, str], bytes]:
        """Send ``GET target`` asking to switch protocols: ``(socket, status, headers, rest)``."""
        ...


@dataclass(frozen=True)
class WebSocket:
    """An open WebSocket: its socket, the agreed subprotocol, and frames that came with the answer."""

    sock: socket.socket
    protocol: str
    initial: bytes = b""


def accept_key(key: str) -> str:
    """The ``Sec-WebSocket-Accept`` a server must answer to ``Sec-WebSocket-Key: key``."""
    digest = hashlib.sha1((key + _WEBSOCKET_GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def open_websocket(
    kube: Upgrader,
    path: str,
    query: Sequence[tuple[str, str]],
    protocols: Sequence[str],
    *,
    timeout: float,
    namespace: str | None = None,
    purpose: str = "exec",
) -> WebSocket:
    """Open a WebSocket to the API path ``path?query`` speaking one of ``protocols``.

    ``timeout`` bounds connecting and the handshake; the socket comes back blocking, without
    a timeout (the caller's loop decides). ``purpose`` names the feature in messages
    (``exec``, ``port-forward``). Raises ``ApiError`` when the server refuses the upgrade,
    ``TransportError`` when it cannot be reached or answers with a broken handshake.
    """
    key = base64.b64encode(os.urandom(16)).decode("ascii")
    headers = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": key,
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Protocol": ",".join(protocols),
    }
    target = f"{path}?{urlencode(list(query), quote_via=quote)}" if query else path
    conn = kube.conn
    sock, status, answer, rest = kube.open_upgrade(target, headers, timeout=timeout)
    if status != 101:
        raise api_error(status, rest, answer, server=conn.server, context=conn.context, namespace=namespace)
    protocol = answer.get("sec-websocket-protocol", "").strip()
    if answer.get("upgrade", "").lower() != "websocket" or answer.get("sec-websocket-accept") != accept_key(
        key
    ):
        sock.close()
        raise TransportError(
            f"the API server at {conn.server} answered the {purpose} upgrade "
            "with an invalid WebSocket handshake",
            kind="protocol",
        )
    if protocol not in protocols:
        sock.close()
        raise TransportError(
            f"the API server at {conn.server} did not agree on a protocol for {purpose} "
            f"(offered {', '.join(protocols)}; got {protocol or 'none'})",
            f"the cluster may be too old for WebSocket {purpose}; try: kubectl {purpose}",
            kind="protocol",
        )
    sock.settimeout(None)
    return WebSocket(sock, protocol, rest)
