"""``ApiServer``: what every handler of one sandbox API server shares.

The store, the pod runtime, the users, the faults, the request counters, the open streams and
the watch hub. ``app.make_app`` creates one per application and hands it to each handler.
"""

from __future__ import annotations

import time
from typing import Any

from kubectl_trace.kube.resources import RESOURCES
from kubectl_trace.sandbox.interfaces import PodRuntime, SandboxOptions
from kubectl_trace.sandbox.server.identity import ADMIN, VIEWER, Users
from kubectl_trace.sandbox.server.issued import IssuedCredentials
from kubectl_trace.sandbox.server.state import Faults, Metrics, StreamRegistry
from kubectl_trace.sandbox.server.watchhub import WatchHub
from kubectl_trace.sandbox.store import Store

__all__ = ["ApiServer"]


class ApiServer:
    """Everything the handlers share."""

    def __init__(
        self,
        store: Store,
        runtime: PodRuntime,
        *,
        token: str,
        options: SandboxOptions | None = None,
        issued: IssuedCredentials | None = None,
        viewer_token: str | None = None,
    ) -> None:
        self.store = store
        self.issued = issued  # short-lived tokens and client certificates (admin-issued)
        self.runtime = runtime
        self.token = token
        self.users = Users()
        self.users.add(token, ADMIN)
        if viewer_token:
            self.users.add(viewer_token, VIEWER)
        self.options = options or SandboxOptions()
        self.faults = Faults()
        self.metrics = Metrics()
        self.streams = StreamRegistry()
        self.hub = WatchHub(store)
        self.started = time.monotonic()
        self.server_address = f"{self.options.host}:{self.options.port}"
        self.exec_sessions: set[Any] = set()  # exec.ExecSession, killed at shutdown
        self.bookmark_interval = 30.0  # seconds between BOOKMARK events on watches that allow them
        self.log_flush_interval = 0.2  # least seconds between two writes to one log follower

    async def shutdown(self) -> None:
        """End every stream and kill every exec process."""
        self.streams.drop_all()
        self.hub.close()
        for session in list(self.exec_sessions):
            session.kill()

    def status(self) -> dict[str, Any]:
        """Uptime, objects per kind, open streams, request counters, faults."""
        now = time.monotonic()
        return {
            "uptimeSeconds": round(now - self.started, 3),
            "resourceVersion": str(self.store.resource_version),
            "objects": {plural: self.store.count(plural) for plural in RESOURCES},
            "streams": {"total": len(self.streams), **self.streams.counts()},
            "watchers": self.hub.count(),
            "requests": self.metrics.snapshot(),
            "faults": self.faults.describe(now),
            "options": {
                "timeScale": self.options.time_scale,
                "logRate": self.options.log_rate,
                "logBacklog": self.options.log_backlog,
                "fixture": self.options.fixture,
            },
        }
