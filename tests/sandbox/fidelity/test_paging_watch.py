"""Paging with ``limit``/``continue`` and the watch window with 410 Expired: the real
kubectl, the official Python client, our ResilientWatch and ``events -w``."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest

from kubectl_trace.sandbox.process import SandboxHandle
from tests.e2e.status.test_events import _event, _follow_json, _LineReader, _stop


def _raw(kubectl: Callable[..., Any], path: str) -> dict[str, Any]:
    return json.loads(kubectl("get", "--raw", path, check=True).stdout)


def test_limit_and_continue_with_kubectl(kubectl: Callable[..., Any]) -> None:
    everything = [p["metadata"]["name"] for p in _raw(kubectl, "/api/v1/pods")["items"]]
    assert len(everything) > 2
    first = _raw(kubectl, "/api/v1/pods?limit=2")
    assert len(first["items"]) == 2
    assert first["metadata"]["remainingItemCount"] == len(everything) - 2
    names = [p["metadata"]["name"] for p in first["items"]]
    token = first["metadata"]["continue"]
    while token:
        chunk = _raw(kubectl, f"/api/v1/pods?limit=2&continue={token}")
        assert chunk["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
        names += [p["metadata"]["name"] for p in chunk["items"]]
        token = chunk["metadata"].get("continue")
    assert names == everything
    chunked = kubectl("get", "pods", "-A", "--chunk-size=3", check=True).stdout.splitlines()
    whole = kubectl("get", "pods", "-A", "--chunk-size=0", check=True).stdout.splitlines()
    assert [line.split()[1] for line in chunked] == [line.split()[1] for line in whole]
    selected = _raw(kubectl, "/api/v1/pods?limit=1&labelSelector=app")
    assert "continue" in selected["metadata"] and "remainingItemCount" not in selected["metadata"]
    garbage = kubectl("get", "--raw", "/api/v1/pods?limit=2&continue=garbage")
    assert garbage.returncode == 1 and "continue key is not valid" in garbage.stderr


def test_list_with_limit_through_the_official_client(official: Any) -> None:
    from kubernetes import client

    core = client.CoreV1Api(official)
    everything = [p.metadata.name for p in core.list_pod_for_all_namespaces().items]
    page = core.list_pod_for_all_namespaces(limit=2)
    names = [p.metadata.name for p in page.items]
    assert len(names) == 2 and page.metadata.remaining_item_count == len(everything) - 2
    while page.metadata._continue:
        page = core.list_pod_for_all_namespaces(limit=2, _continue=page.metadata._continue)
        names += [p.metadata.name for p in page.items]
    assert names == everything


@pytest.fixture
def empty(sandbox_factory: Callable[..., SandboxHandle]) -> SandboxHandle:
    return sandbox_factory(fixture="empty")


def test_expired_continue_token_and_watch_answer_410(
    empty: SandboxHandle, kubectl_for: Callable[..., Any]
) -> None:
    from kubernetes import client, config, watch
    from kubernetes.client.rest import ApiException

    kubectl = kubectl_for(empty)
    for i in range(3):
        kubectl("create", "configmap", f"cm-{i}", "-n", "default", check=True)
    first = _raw(kubectl, "/api/v1/namespaces/default/configmaps?limit=1")
    token = first["metadata"]["continue"]
    rv = first["metadata"]["resourceVersion"]
    assert _raw(kubectl, f"/api/v1/namespaces/default/configmaps?limit=1&continue={token}")["items"]
    kubectl("create", "configmap", "cm-3", "-n", "default", check=True)
    empty.admin("POST", "compact")  # the version of the token is compacted away
    expired = kubectl("get", "--raw", f"/api/v1/namespaces/default/configmaps?limit=1&continue={token}")
    assert expired.returncode == 1
    assert "The provided continue parameter is too old" in expired.stderr
    # a watch from before the window: one ERROR event with a Status of reason Expired
    raw_watch = kubectl("get", "--raw", f"/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={rv}")
    event = json.loads(raw_watch.stdout.splitlines()[0])
    assert event["type"] == "ERROR"
    assert event["object"]["reason"] == "Expired" and event["object"]["code"] == 410
    api = config.new_client_from_config(config_file=empty.kubeconfig)
    try:
        core = client.CoreV1Api(api)
        with pytest.raises(ApiException) as info:
            for _ in watch.Watch().stream(
                core.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=5
            ):
                pass
        assert info.value.status == 410
        # a watch from the list's own resourceVersion still works after the compaction
        listed = core.list_namespaced_config_map("default")
        core.create_namespaced_config_map("default", {"metadata": {"name": "later"}})
        seen = [
            e["object"].metadata.name
            for e in watch.Watch().stream(
                core.list_namespaced_config_map,
                "default",
                resource_version=listed.metadata.resource_version,
                timeout_seconds=1,
            )
        ]
        assert seen == ["later"]
    finally:
        api.close()


def test_resilient_watch_relists_after_410(
    empty: SandboxHandle, kube_for: Callable[..., Any], eventually: Callable[..., Any]
) -> None:
    from kubectl_trace.kube.queries import Selection
    from kubectl_trace.kube.retry import Backoff
    from kubectl_trace.kube.watch import ResilientWatch

    kube = kube_for(empty)

    def cm(name: str) -> dict[str, Any]:
        return {"metadata": {"name": name, "labels": {"t": "w"}}}

    kube.create("configmaps", cm("before"), "default")
    watch = ResilientWatch(
        kube, Selection("configmaps", "default", label_selector="t=w"), policy=Backoff(initial=0.01, jitter=0)
    )
    events: list[Any] = []

    def pump() -> None:
        for event in watch:
            events.append(event)

    def names(event: Any) -> list[str]:
        return [i["metadata"]["name"] for i in event.items]

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    try:
        eventually(lambda: events, message="no RESET")
        assert events[0].type == "RESET" and names(events[0]) == ["before"]
        kube.create("configmaps", cm("during"), "default")
        eventually(lambda: any(e.type == "ADDED" for e in events), message="the watch saw nothing")
        # the history the watch would resume from is compacted, then its stream drops
        kube.create("configmaps", cm("missed"), "default")
        eventually(lambda: len([e for e in events if e.type == "ADDED"]) == 2)
        kube.create("configmaps", {"metadata": {"name": "other"}}, "default")  # moves the version on
        empty.admin("POST", "compact")
        empty.admin("POST", "faults/drop-streams")
        eventually(lambda: watch.relists == 1, message="the watch did not relist after 410")
        resets = eventually(lambda: [e for e in events if e.type == "RESET"][1:])
        assert names(resets[-1]) == ["before", "during", "missed"]
    finally:
        watch.stop()
        thread.join(5)


def _event_lists(handle: SandboxHandle) -> int:
    return int(handle.status()["requests"]["byVerbResource"].get("list events", 0))


def test_events_follow_survives_a_410(empty: SandboxHandle, kube_for: Callable[..., Any]) -> None:
    """``kubectl nodeapp events -w`` keeps printing new events after its watch expired."""
    kube = kube_for(empty)
    kube.create("events", _event("default", "web-1", "Started", "Started container web"), "default")
    proc = _follow_json(empty, "kubectl-nodeapp-events", "-n", "default")
    try:
        reader = _LineReader(proc.stdout)
        assert reader.until(lambda e: e["reason"] == "Started", timeout=30) is not None
        lists_before = _event_lists(empty)
        kube.create("configmaps", {"metadata": {"name": "moves-the-version-on"}}, "default")
        empty.admin("POST", "compact")
        empty.admin("POST", "faults/drop-streams")
        kube.create("events", _event("default", "web-1", "Killing", "Stopping container web"), "default")
        seen = reader.until(lambda e: e["reason"] == "Killing", timeout=20)
        assert seen is not None, "no event printed after the watch expired"
        assert _event_lists(empty) > lists_before  # it relisted after the 410
        assert proc.poll() is None
    finally:
        _stop(proc)
