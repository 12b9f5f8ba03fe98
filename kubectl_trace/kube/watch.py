"""A watch that survives drops and expiry.

List, then watch from the list's resourceVersion; after a dropped stream resume from the
last resourceVersion seen; relist only on 410 Expired.

Consumers get ``RESET`` (the full current list: replace your state), then ``ADDED`` /
``MODIFIED`` / ``DELETED``, and ``DISCONNECTED`` / ``RECONNECTED`` so a UI can show a
banner while the API is unreachable. Retries follow the injected policy.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kubectl_trace.kube.calls import KubeClient, ObjectList, Stream
from kubectl_trace.kube.errors import ApiError, KubeError
from kubectl_trace.kube.queries import Selection
from kubectl_trace.kube.retry import NO_RETRY, Backoff, RetryPolicy
from kubectl_trace.kube.stream import StreamStop

__all__ = ["ResilientWatch", "WatchEvent"]


@dataclass(frozen=True)
class WatchEvent:
    """One thing that happened to the watched collection, or to the connection."""

    type: str  # RESET, ADDED, MODIFIED, DELETED, DISCONNECTED, RECONNECTED
    object: dict[str, Any] | None = None
    items: tuple[dict[str, Any], ...] = field(default=())
    error: KubeError | None = None
    retry_in: float = 0.0


class ResilientWatch:
    """Iterate the events of what ``selection`` selects until ``stop()`` (callable from any thread)."""

    def __init__(
        self,
        kube: KubeClient,
        selection: Selection,
        *,
        policy: RetryPolicy | None = None,
        timeout_seconds: int = 290,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.kube = kube
        self.selection = selection
        self.policy: RetryPolicy = policy or Backoff(max_attempts=None, cap=3.0)
        self.timeout_seconds = timeout_seconds
        self.resource_version: str | None = None
        self.relists = 0
        self.requests = 0
        self._clock = clock
        self._stop = StreamStop()

    def stop(self) -> None:
        """End the iteration (closes the open stream so a blocked read returns)."""
        self._stop.stop()

    @property
    def stopped(self) -> bool:
        """Whether ``stop()`` was called."""
        return self._stop.stopped

    def __iter__(self) -> Iterator[WatchEvent]:
        """Events until stopped; raises the error the policy gives up on."""
        need_list = True
        failures = 0
        disconnected = False
        while not self.stopped:
            try:
                if need_list:
                    listed = self._list()
                    need_list = False
                    if disconnected:
                        disconnected = False
                        yield WatchEvent("RECONNECTED")
                    failures = 0
                    items = tuple(listed.items)
                    del listed  # the generator would otherwise hold the whole list until the next relist
                    yield WatchEvent("RESET", items=items)
                    del items
                    if self.stopped:
                        break
                stream, events = self._open_watch()
                if self.stopped:  # reading() closed it
                    break
                if disconnected:
                    disconnected = False
                    yield WatchEvent("RECONNECTED")
                failures = 0
                yield from self._events(stream, events)
            except KubeError as exc:
                if isinstance(exc, ApiError) and exc.expired:
                    self.relists += 1
                    need_list = True
                    continue
                if self.stopped:
                    break
                failures += 1
                decision = self.policy(exc, failures)
                if not decision.retry:
                    raise
                disconnected = True
                yield WatchEvent("DISCONNECTED", error=exc, retry_in=decision.delay)
                self._stop.wait(decision.delay)

    def _list(self) -> ObjectList:
        self.requests += 1
        listed = self.kube.list_selection(self.selection, retry=NO_RETRY)
        self.resource_version = listed.resource_version
        return listed

    def _open_watch(self) -> tuple[Stream, Iterator[dict[str, Any]]]:
        self.requests += 1
        stream, events = self.kube.watch_stream(
            self.selection, resource_version=self.resource_version, timeout_seconds=self.timeout_seconds
        )
        return self._stop.reading(stream), events

    def _events(self, stream: Stream, events: Iterator[dict[str, Any]]) -> Iterator[WatchEvent]:
        """The events of one watch request, remembering where it got to (bookmarks included)."""
        opened = self._clock()
        count = 0
        try:
            for event in events:
                obj = event.get("object") or {}
                rv = (obj.get("metadata") or {}).get("resourceVersion")
                if rv:
                    self.resource_version = str(rv)
                count += 1
                if event.get("type") == "BOOKMARK":
                    continue
                yield WatchEvent(str(event.get("type")), obj)
                if self.stopped:
                    break
        finally:  # also when the stream fails (410 Expired, an ERROR event, a dropped connection)
            self._stop.release(stream)
        # The server ended the stream (timeout, restart, dropped): resume from the
        # last resourceVersion. A stream that ends at once, repeatedly, gets a pause.
        if not self.stopped and count == 0 and self._clock() - opened < 1.0:
            self._stop.wait(0.2)
