"""events.k8s.io/v1 beside core Events, the ``default`` ServiceAccount in every namespace,
and 409 Status bodies as the API server writes them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest


def test_events_k8s_io_serves_the_same_events(
    official: Any, kubectl: Callable[..., Any], namespace: str
) -> None:
    from kubernetes import client

    core, events = client.CoreV1Api(official), client.EventsV1Api(official)
    core.create_namespaced_event(
        namespace,
        {
            "metadata": {"name": "old-style"},
            "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": namespace},
            "reason": "Started",
            "message": "Started container web",
            "type": "Normal",
            "count": 2,
            "source": {"component": "kubelet"},
            # the official client cannot read an events.k8s.io Event without one (as with a
            # real API server: kubernetes-client/python#1221); the raw read below shows null
            "eventTime": "2026-01-01T00:00:00.000000Z",
        },
    )
    events.create_namespaced_event(
        namespace,
        {
            "metadata": {"name": "new-style"},
            "eventTime": "2026-01-01T00:00:00.000000Z",
            "regarding": {"kind": "Pod", "name": "web-2", "namespace": namespace},
            "reason": "Killing",
            "note": "Stopping container web",
            "type": "Normal",
            "action": "Killing",
            "reportingController": "kubelet",
            "reportingInstance": "node-1",
        },
    )
    as_v1 = {e.metadata.name: e for e in events.list_namespaced_event(namespace).items}
    as_core = {e.metadata.name: e for e in core.list_namespaced_event(namespace).items}
    assert set(as_v1) == set(as_core) == {"old-style", "new-style"}
    assert as_v1["old-style"].note == "Started container web"
    assert as_v1["old-style"].regarding.name == "web-1" and as_v1["old-style"].deprecated_count == 2
    assert as_core["new-style"].message == "Stopping container web"
    assert as_core["new-style"].involved_object.name == "web-2"
    assert as_core["new-style"].reporting_component == "kubelet"
    assert as_v1["new-style"].metadata.uid == as_core["new-style"].metadata.uid
    patched = events.patch_namespaced_event("new-style", namespace, {"note": "changed"})
    assert (
        patched.note == "changed" and core.read_namespaced_event("new-style", namespace).message == "changed"
    )
    core.create_namespaced_event(
        namespace,
        {"metadata": {"name": "no-time"}, "involvedObject": {"kind": "Pod", "name": "web-3"}, "reason": "R"},
    )
    raw = kubectl("get", "--raw", f"/apis/events.k8s.io/v1/namespaces/{namespace}/events/no-time", check=True)
    assert json.loads(raw.stdout)["eventTime"] is None
    listed = kubectl("get", "events.v1.events.k8s.io", "-n", namespace, "-o", "json", check=True).stdout
    assert {i["apiVersion"] for i in json.loads(listed)["items"]} == {"events.k8s.io/v1"}
    by_regarding = events.list_namespaced_event(namespace, field_selector="regarding.name=web-2")
    assert [e.metadata.name for e in by_regarding.items] == ["new-style"]
    versions = kubectl("api-versions", check=True).stdout.split()
    assert "events.k8s.io/v1" in versions
    watched = kubectl(
        "get",
        "--raw",
        f"/apis/events.k8s.io/v1/namespaces/{namespace}/events?watch=1&timeoutSeconds=1",
        check=True,
    ).stdout
    first = json.loads(watched.splitlines()[0])
    assert first["type"] == "ADDED" and first["object"]["apiVersion"] == "events.k8s.io/v1"
    assert "note" in first["object"] and "message" not in first["object"]


def test_a_new_events_k8s_io_event_needs_its_event_time(kubectl: Callable[..., Any], namespace: str) -> None:
    body = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "t"}, "reason": "X"}
    refused = kubectl(
        "create",
        "--raw",
        f"/apis/events.k8s.io/v1/namespaces/{namespace}/events",
        "-f",
        "-",
        input=json.dumps(body),
    )
    assert refused.returncode == 1
    assert refused.stderr.strip() == 'The Event "t" is invalid: eventTime: Required value'


def test_every_namespace_has_a_default_service_account(
    official: Any, kubectl: Callable[..., Any], namespace: str, eventually: Callable[..., Any]
) -> None:
    from kubernetes import client

    core = client.CoreV1Api(official)
    namespaces = {n.metadata.name for n in core.list_namespace().items}
    accounts = {
        (sa.metadata.namespace, sa.metadata.name)
        for sa in core.list_service_account_for_all_namespaces().items
    }
    active = {
        n.metadata.name for n in core.list_namespace().items if not n.metadata.deletion_timestamp
    } & namespaces
    assert {(ns, "default") for ns in active if ns == namespace or not ns.startswith("fid-")} <= accounts
    eventually(lambda: core.read_namespaced_service_account("default", namespace))
    kubectl("delete", "serviceaccount", "default", "-n", namespace, check=True)
    eventually(
        lambda: kubectl("get", "sa", "default", "-n", namespace).returncode == 0,
        message="the default ServiceAccount was not recreated",
    )
    table = kubectl("get", "sa", "-n", namespace, check=True).stdout.split()
    assert table[:3] == ["NAME", "SECRETS", "AGE"] and table[3:5] == ["default", "0"]


def test_409_bodies_as_the_api_server_writes_them(
    official: Any, kubectl: Callable[..., Any], namespace: str
) -> None:
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    apps = client.AppsV1Api(official)
    body = {
        "metadata": {"name": "dup"},
        "spec": {
            "selector": {"matchLabels": {"app": "dup"}},
            "template": {
                "metadata": {"labels": {"app": "dup"}},
                "spec": {"containers": [{"name": "app", "image": "reg/app:1"}]},
            },
        },
    }
    created = apps.create_namespaced_deployment(namespace, body)
    with pytest.raises(ApiException) as info:
        apps.create_namespaced_deployment(namespace, body)
    assert info.value.status == 409
    assert list(json.loads(info.value.body).items()) == [
        ("kind", "Status"),
        ("apiVersion", "v1"),
        ("metadata", {}),
        ("status", "Failure"),
        ("message", 'deployments.apps "dup" already exists'),
        ("reason", "AlreadyExists"),
        ("details", {"name": "dup", "group": "apps", "kind": "deployments"}),
        ("code", 409),
    ]
    stale = client.V1Deployment(metadata=created.metadata, spec=created.spec)
    apps.patch_namespaced_deployment("dup", namespace, {"metadata": {"labels": {"v": "2"}}})
    with pytest.raises(ApiException) as info:
        apps.replace_namespaced_deployment("dup", namespace, stale)
    conflict = json.loads(info.value.body)
    assert conflict["reason"] == "Conflict" and conflict["code"] == 409
    assert conflict["message"] == (
        'Operation cannot be fulfilled on deployments.apps "dup": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    again = kubectl("create", "configmap", "c", "-n", namespace)
    assert again.returncode == 0
    twice = kubectl("create", "configmap", "c", "-n", namespace)
    assert twice.stderr.strip() == 'error: failed to create configmap: configmaps "c" already exists'
