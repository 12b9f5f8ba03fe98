"""The Chrome DevTools Protocol over a forwarded inspector port: targets, profiles, snapshots.

``list_targets(port)`` reads ``/json/list`` of a Node inspector reachable on
127.0.0.1:PORT (a forward); the target's WebSocket and DevTools URLs name the port inside
the pod, ``local_urls`` rewrites them to the forward. ``CdpSession`` sends commands over
websocket-client and hands the events that arrive meanwhile to a callback.
``cpu_profile`` (Profiler.enable/start/stop) and ``heap_snapshot``
(HeapProfiler.takeHeapSnapshot, the ``addHeapSnapshotChunk`` events written as they come)
produce the files Chrome DevTools opens; ``close_inspector`` ends the inspector the way
Node's own ``process._debugEnd`` does, after the answer has been sent.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from kubectl_trace.errors import NodeappError

__all__ = [
    "CLOSE_EXPRESSION",
    "CdpError",
    "CdpSession",
    "InspectorUrls",
    "close_inspector",
    "cpu_profile",
    "heap_snapshot",
    "list_targets",
    "local_urls",
]

# Scheduled so that the answer to Runtime.evaluate goes out before the inspector closes.
CLOSE_EXPRESSION = (
    "setImmediate(() => { if (typeof process._debugEnd === 'function') process._debugEnd(); "
    "else if (process.mainModule) process.mainModule.require('inspector').close(); }); 'closing'"
)
_WS_PATH = re.compile(r"^wss?://[^/]+/(.+)$")


class CdpError(NodeappError):
    """The inspector refused a command, or its connection failed."""


def list_targets(port: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    """``GET /json/list`` of the inspector on 127.0.0.1:PORT. Raises OSError-derived errors."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/json/list")
        answer = conn.getresponse()
        body = answer.read()
        if answer.status != 200:
            raise ConnectionError(f"/json/list answered {answer.status}")
    except http.client.HTTPException as exc:
        raise ConnectionError(str(exc) or type(exc).__name__) from None
    finally:
        conn.close()
    try:
        targets = json.loads(body)
    except ValueError:
        raise ConnectionError("/json/list did not answer JSON") from None
    if not isinstance(targets, list):
        raise ConnectionError("/json/list did not answer a list")
    return [t for t in targets if isinstance(t, dict)]


@dataclass(frozen=True)
class InspectorUrls:
    """How to reach one target through the local forward."""

    websocket: str  # ws://127.0.0.1:PORT/UUID
    devtools: str  # devtools://devtools/bundled/js_app.html?v8only=true&ws=127.0.0.1:PORT/UUID
    title: str


def local_urls(target: dict[str, Any], port: int) -> InspectorUrls:
    """The target's URLs with the pod's inspector address replaced by 127.0.0.1:PORT."""
    found = _WS_PATH.match(str(target.get("webSocketDebuggerUrl") or ""))
    path = found.group(1) if found else str(target.get("id") or "")
    if not path:
        raise CdpError("the inspector listed a target without a WebSocket address")
    address = f"127.0.0.1:{port}/{path}"
    devtools = f"devtools://devtools/bundled/js_app.html?v8only=true&ws={address}"  # v8only: Node's panels
    return InspectorUrls(f"ws://{address}", devtools, str(target.get("title") or target.get("url") or ""))


Event = Callable[[str, dict[str, Any]], None]


class CdpSession:
    """One DevTools Protocol connection (websocket-client; loopback only)."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        import websocket

        if not url.startswith("ws://127.0.0.1:"):
            raise CdpError(f"refusing to connect to a non-loopback inspector address {url!r}")
        try:
            self._ws = websocket.create_connection(
                url, timeout=timeout, suppress_origin=True, skip_utf8_validation=True
            )
        except (OSError, websocket.WebSocketException) as exc:
            raise CdpError(f"cannot connect to the inspector at {url}: {exc}") from None
        self._next = 0

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        on_event: Event | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Send ``method`` and wait for its answer; events meanwhile go to ``on_event``."""
        import websocket

        self._next += 1
        ident = self._next
        try:
            if timeout is not None:
                self._ws.settimeout(timeout)
            self._ws.send(json.dumps({"id": ident, "method": method, "params": params or {}}))
            while True:
                message = json.loads(self._ws.recv() or "null")
                if not isinstance(message, dict):
                    raise CdpError(f"the inspector closed the connection during {method}")
                if message.get("id") == ident:
                    break
                if on_event is not None and "method" in message:
                    on_event(str(message["method"]), message.get("params") or {})
        except (OSError, ValueError, websocket.WebSocketException) as exc:
            raise CdpError(f"{method} failed: {exc or type(exc).__name__}") from None
        if "error" in message:
            error = message["error"] or {}
            raise CdpError(f"{method} failed: {error.get('message', error)}")
        result = message.get("result") or {}
        return result if isinstance(result, dict) else {}

    def close(self) -> None:
        """Close the connection."""
        with contextlib.suppress(Exception):
            self._ws.close()

    def __enter__(self) -> CdpSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def cpu_profile(session: CdpSession, wait: Callable[[], object], out: IO[bytes]) -> dict[str, int]:
    """Profile while ``wait()`` runs (it sleeps for the duration; Ctrl-C in it ends early).

    Writes the ``Profile`` (``nodes``, ``startTime``, ``endTime``, ``samples``,
    ``timeDeltas``) as JSON to ``out``; returns counts of nodes and samples.
    """
    session.call("Profiler.enable")
    session.call("Profiler.start")
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: stop now and keep what was sampled
        wait()
    profile = session.call("Profiler.stop", timeout=120.0).get("profile")
    session.call("Profiler.disable")
    if not isinstance(profile, dict) or "nodes" not in profile:
        raise CdpError("Profiler.stop returned no profile")
    out.write(json.dumps(profile, separators=(",", ":")).encode("utf-8"))
    return {"nodes": len(profile.get("nodes") or ()), "samples": len(profile.get("samples") or ())}


def heap_snapshot(session: CdpSession, out: IO[bytes], *, timeout: float = 600.0) -> int:
    """Take a heap snapshot, writing its chunks to ``out`` as they arrive; returns the bytes written."""
    written = 0

    def chunk(method: str, params: dict[str, Any]) -> None:
        nonlocal written
        if method == "HeapProfiler.addHeapSnapshotChunk":
            data = str(params.get("chunk") or "").encode("utf-8")
            out.write(data)
            written += len(data)

    session.call("HeapProfiler.enable")
    session.call(
        "HeapProfiler.takeHeapSnapshot",
        {"reportProgress": False, "captureNumericValue": False},
        on_event=chunk,
        timeout=timeout,
    )
    session.call("HeapProfiler.disable")
    if not written:
        raise CdpError("HeapProfiler.takeHeapSnapshot sent no data")
    return written


def close_inspector(session: CdpSession) -> None:
    """Ask Node to close its inspector (every session, ours included, ends)."""
    session.call("Runtime.evaluate", {"expression": CLOSE_EXPRESSION})
