"""``ResilientWatch`` against a private sandbox: API errors and a server that goes away.

The watch must say DISCONNECTED (with the error and the pause before the next try) when a
stream breaks, while the API answers 503/429 and while it refuses connections, RECONNECTED once it answers again, and
carry on from where it was without losing an event; ``stop()`` ends it from another thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from kubectl_trace.kube.errors import ApiError, TransportError
from kubectl_trace.kube.queries import Selection
from kubectl_trace.kube.retry import Backoff
from kubectl_trace.kube.watch import ResilientWatch, WatchEvent
from kubectl_trace.sandbox.process import SandboxHandle

QUICK = Backoff(initial=0.05, cap=0.2, jitter=0, max_attempts=None)


class Watching:
    """A ResilientWatch of the configmaps of one namespace, iterated in a thread."""

    def __init__(self, kube: Any, namespace: str) -> None:
        self.watch = ResilientWatch(
            kube, Selection("configmaps", namespace), policy=QUICK, timeout_seconds=30
        )
        self.events: list[WatchEvent] = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for event in self.watch:
                self.events.append(event)
        except BaseException as exc:  # the test reads it: a watch that gives up is a failure
            self.error = exc

    def types(self) -> list[str]:
        return [e.type for e in self.events]

    def names(self, kind: str) -> list[str]:
        return [str((e.object or {}).get("metadata", {}).get("name")) for e in self.events if e.type == kind]

    def stop(self) -> None:
        self.watch.stop()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "stop() did not end the watch"


def _configmap(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "data": {"k": "v"}}


@pytest.fixture
def private(sandbox_factory: Callable[..., SandboxHandle], kube_for: Callable[[SandboxHandle], Any]) -> Any:
    handle = sandbox_factory(fixture="empty")
    kube = kube_for(handle)
    kube.create("namespaces", {"metadata": {"name": "w"}})
    return handle, kube


def test_api_errors_disconnect_then_the_watch_reconnects_and_loses_nothing(private, eventually):
    handle, kube = private
    kube.create("configmaps", _configmap("before"), "w")
    watching = Watching(kube, "w")
    try:
        eventually(lambda: "RESET" in watching.types(), timeout=30, message="the first list")
        handle.admin("POST", "faults/api-errors", {"rate": 1.0, "seconds": 1.5})
        handle.admin("POST", "faults/drop-streams")  # the re-watch meets the errors
        # the dropped stream ends mid-response (a transport error); the tries after it meet the errors
        eventually(lambda: "RECONNECTED" in watching.types(), timeout=30, message="RECONNECTED")
        gone = [e for e in watching.events if e.type == "DISCONNECTED"]
        assert any(isinstance(e.error, ApiError) and e.error.status in (429, 503) for e in gone), gone
        assert all(e.retry_in > 0 for e in gone)
        kube.create("configmaps", _configmap("after"), "w")
        eventually(lambda: "after" in watching.names("ADDED"), timeout=30, message="the new object")
        assert watching.error is None, watching.error
        types = watching.types()
        assert types.index("DISCONNECTED") < types.index("RECONNECTED") < len(types) - 1
        first = next(e for e in watching.events if e.type == "RESET")
        assert [o["metadata"]["name"] for o in first.items] == ["before"]
    finally:
        watching.stop()


def test_a_server_that_goes_away_is_a_transport_disconnect_until_stopped(private, eventually):
    handle, kube = private
    watching = Watching(kube, "w")
    try:
        eventually(lambda: "RESET" in watching.types(), timeout=30, message="the first list")
        handle.stop()
        eventually(lambda: "DISCONNECTED" in watching.types(), timeout=30, message="DISCONNECTED")
        gone = next(e for e in watching.events if e.type == "DISCONNECTED")
        assert isinstance(gone.error, TransportError), gone.error
        assert "RECONNECTED" not in watching.types()
    finally:
        watching.stop()
    assert watching.error is None, watching.error  # stopped, not given up
