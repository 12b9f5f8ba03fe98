"""The remote-command channel protocol that ``exec`` and ``attach`` share.

WebSocket subprotocols ``v5.channel.k8s.io`` and ``v4.channel.k8s.io``: every message is one
channel byte plus payload (0 stdin, 1 stdout, 2 stderr, 3 status, 4 resize, 255 close in v5).
Here: the checks a pod stream request passes before the upgrade, the subprotocol choice,
the resize payload, and the exit ``metav1.Status`` that goes out on channel 3.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kubectl_trace.sandbox.server.containers import resolve_container
from kubectl_trace.sandbox.server.responses import query_bool
from kubectl_trace.sandbox.server.routes import Route
from kubectl_trace.sandbox.store import StoreError

if TYPE_CHECKING:
    from kubectl_trace.sandbox.server.api import ApiServer

__all__ = [
    "CLOSE",
    "ERROR",
    "RESIZE",
    "STDERR",
    "STDIN",
    "STDOUT",
    "SUPPORTED_PROTOCOLS",
    "channel_socket",
    "exit_status",
    "is_websocket_upgrade",
    "negotiate",
    "pick_protocol",
    "stream_container",
    "terminal_size",
]

SUPPORTED_PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255


def pick_protocol(header: str | None) -> str | None:
    """The first protocol in the client's list that the server speaks."""
    for item in (header or "").split(","):
        name = item.strip()
        if name in SUPPORTED_PROTOCOLS:
            return name
    return None


def is_websocket_upgrade(request: web.Request) -> bool:
    """A GET that asks to upgrade to WebSocket (else: SPDY, or a plain request)."""
    return request.method == "GET" and request.headers.get("Upgrade", "").lower() == "websocket"


def negotiate(request: web.Request) -> str:
    """The subprotocol of the client's list to speak; 400 when none is supported."""
    protocol = pick_protocol(request.headers.get("Sec-WebSocket-Protocol"))
    if protocol is None:
        raise StoreError.bad_request(
            "none of the requested WebSocket subprotocols is supported "
            f"(supported: {', '.join(SUPPORTED_PROTOCOLS)})"
        )
    return protocol


async def channel_socket(request: web.Request, protocol: str) -> web.WebSocketResponse:
    """Complete the upgrade: the WebSocket that carries the channels."""
    ws = web.WebSocketResponse(protocols=(protocol,), autoping=True, max_msg_size=16 * 1024 * 1024)
    await ws.prepare(request)
    return ws


def stream_container(api: ApiServer, route: Route, query: Any, verb: str) -> str:
    """The container a pod stream request (``exec``, ``attach``) is for, after its checks."""
    assert route.name is not None
    pod = api.store.get("pods", route.namespace, route.name)
    container = resolve_container(pod, query.get("container"))
    if not any(query_bool(query, k) for k in ("stdin", "stdout", "stderr")):
        raise StoreError.bad_request("you must specify at least 1 of stdin, stdout, stderr")
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        raise StoreError.bad_request(
            f"cannot {verb} a container in a completed pod; current phase is {phase}"
        )
    return container


def terminal_size(payload: bytes) -> tuple[int, int] | None:
    """(columns, rows) of a channel-4 resize message (``{"Width":80,"Height":24}``)."""
    try:
        data = json.loads(payload.decode("utf-8", "replace") or "{}")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    lowered = {str(k).lower(): v for k, v in data.items()}
    try:
        return int(lowered.get("width", 0)), int(lowered.get("height", 0))
    except (TypeError, ValueError):
        return None


def exit_status(code: int, argv: list[str]) -> dict[str, Any]:
    """The channel-3 Status for an exit code (the ExitCode cause first)."""
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"command terminated with non-zero exit code: error executing command "
        f"[{' '.join(argv)}], exit code {code}",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }
