"""A cluster that forbids (403) or does not serve (404) batch/v1: the dashboard shows no Jobs.

The sandbox serves batch/v1 to every user, so the 403 and 404 come from the scripted
loopback server of the client-error tests (both clients, the lean and the official one).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from kubectl_trace.dashboard.feed import Inbox, WatchFeed
from kubectl_trace.dashboard.headless import listed_snapshot
from kubectl_trace.dashboard.state import WATCHED
from tests.scripted_api import kube, status

pytestmark = pytest.mark.usefixtures("client_kind")  # both clients

NS = "production"
_CORE = {
    "deployments": "/apis/apps/v1/namespaces/production/deployments",
    "replicasets": "/apis/apps/v1/namespaces/production/replicasets",
    "pods": "/api/v1/namespaces/production/pods",
    "events": "/api/v1/namespaces/production/events",
}


def _script(scripted_server: Any) -> None:
    for path in _CORE.values():
        scripted_server.answer(
            path,
            (200, {"kind": "List", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": []}),
        )
    forbidden = 'jobs.batch is forbidden: User "dev" cannot list resource "jobs" in API group "batch"'
    scripted_server.answer(
        "/apis/batch/v1/namespaces/production/jobs", (403, status(403, "Forbidden", forbidden))
    )
    scripted_server.answer(
        "/apis/batch/v1/namespaces/production/cronjobs",
        (404, status(404, "NotFound", "the server could not find the requested resource")),
    )
    scripted_server.answer("/version", (200, {"gitVersion": "v1.37.0"}))


def test_once_lists_without_batch(scripted_server: Any, scripted_kubeconfig: str) -> None:
    _script(scripted_server)
    snapshot = listed_snapshot(kube(scripted_kubeconfig), NS, time.time())
    assert snapshot.synced and snapshot.live
    assert not snapshot.jobs and not snapshot.cronjobs
    assert set(snapshot.links) == set(WATCHED)


def test_the_watches_of_batch_end_in_an_empty_list_not_an_outage(
    scripted_server: Any, scripted_kubeconfig: str
) -> None:
    _script(scripted_server)
    inbox = Inbox()
    feed = WatchFeed(kube(scripted_kubeconfig), NS, inbox, kinds=("jobs", "cronjobs"))
    feed.start()
    try:
        deadline = time.monotonic() + 20
        while not inbox.heard.issuperset({"jobs", "cronjobs"}) and time.monotonic() < deadline:
            inbox.wait(0.5)
    finally:
        feed.stop()
    items = inbox.drain()
    assert sorted((i.kind, i.type) for i in items) == [("cronjobs", "RESET"), ("jobs", "RESET")]
    assert all(not i.items and not i.error for i in items)
