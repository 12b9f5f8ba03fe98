"""A local TCP listener on 127.0.0.1 whose connections each get a port-forward tunnel of their own.

``Forwarder`` accepts in a thread; every connection opens ``kube.portforward.open_tunnel``
to the pod it is pointed at now (``pod`` may change at any time: new connections follow it)
and ``pump`` copies both ways in a thread of its own. Failures go to ``on_error`` — the
client layer never prints.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from kubectl_trace.kube.errors import KubeError
from kubectl_trace.kube.portforward import PortRefused, close_local, open_tunnel, pump

__all__ = ["Forwarder", "ListenError", "OnError"]

_IN = select.POLLIN


class ListenError(KubeError):
    """The local port cannot be listened on (in use, not allowed)."""


OnError = Callable[[str | None, KubeError], None]


@dataclass(eq=False)
class Forwarder:
    """A TCP listener on 127.0.0.1; every accepted connection gets a tunnel of its own.

    ``pod`` (None = no pod to forward to) names where new connections go: it may be set
    from any thread (one reference, read once per connection); open connections stay on
    their pod until it ends them. ``on_error(pod, error)`` hears about connections that
    could not be forwarded (pod gone, port refused, tunnel lost) and ``on_connection(pod)``
    about each accepted one; both run on the connection's thread. ``close()`` stops
    listening and ends every open connection.
    """

    kube: Any
    namespace: str
    remote_port: int
    _: KW_ONLY
    pod: str | None = None
    local_port: int = 0  # 0: a free one
    on_error: OnError | None = None
    on_connection: Callable[[str], None] | None = None
    connect_timeout: float | None = None
    connections: int = field(default=0, init=False)  # accepted so far

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._open: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._wake_r, self._wake_w = -1, -1

    @property
    def port(self) -> int:
        """The local port (after ``start``)."""
        if self._listener is None:
            raise RuntimeError("the forwarder is not listening")
        return int(self._listener.getsockname()[1])

    def start(self) -> int:
        """Listen on 127.0.0.1 (``local_port``; 0 picks a free one) and accept in a thread."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.local_port))
            listener.listen(128)
        except OSError as exc:
            listener.close()
            raise ListenError(
                f"cannot listen on 127.0.0.1:{self.local_port}: {exc.strerror or exc}",
                "pick another local port, or 0 for a free one (LOCAL:REMOTE, e.g. 0:3000)",
            ) from None
        self._listener = listener
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._accept_loop, name="portforward-accept", daemon=True)
        self._thread.start()
        return self.port

    def _accept_loop(self) -> None:
        listener = self._listener
        assert listener is not None
        poller = select.poll()
        poller.register(listener.fileno(), _IN)
        poller.register(self._wake_r, _IN)
        while not self._stop.is_set():
            events = dict(poller.poll())
            if self._stop.is_set() or self._wake_r in events:
                return
            try:
                conn, _addr = listener.accept()
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                return
            with self._lock:
                self._open.add(conn)
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), name="portforward-conn", daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        pod = self.pod
        try:
            if pod is None:
                self._report(None, KubeError("no pod to forward to right now"))
                return
            if self.on_connection is not None:
                self.on_connection(pod)
            try:
                timeout = self.connect_timeout
                tunnel = open_tunnel(self.kube, self.namespace, pod, self.remote_port, timeout=timeout)
            except KubeError as exc:
                self._report(pod, exc)
                return
            try:
                refused = pump(tunnel, conn, stop=self._stop)
            except KubeError as exc:
                self._report(pod, exc)
                return
            if refused:
                self._report(pod, PortRefused(refused))
        finally:
            close_local(conn)
            with self._lock:
                self._open.discard(conn)

    def _report(self, pod: str | None, error: KubeError) -> None:
        if self.on_error is not None and not self._stop.is_set():
            self.on_error(pod, error)

    def close(self) -> None:
        """Stop listening and end the open connections."""
        self._stop.set()
        if self._wake_w >= 0:
            with contextlib.suppress(OSError):
                os.write(self._wake_w, b"x")
        if self._thread is not None:
            self._thread.join(5.0)
        with self._lock:
            open_now = list(self._open)
        for conn in open_now:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.close()
        for fd in (self._wake_r, self._wake_w):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._wake_r = self._wake_w = -1

    def __enter__(self) -> Forwarder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
