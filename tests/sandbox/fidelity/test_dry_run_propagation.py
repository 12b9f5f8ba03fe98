"""Dry-run from the query and the DeleteOptions body for every verb, and propagation policies
Orphan / Background / Foreground, with the real kubectl and the
official Python client."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.sandbox.fidelity.conftest import deployment


def _create(kubectl: Callable[..., Any], ns: str, manifest: dict[str, Any]) -> None:
    kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(manifest), check=True)


def _ready_pods(kubectl: Callable[..., Any], ns: str, selector: str) -> list[str]:
    out = kubectl("get", "pods", "-n", ns, "-l", selector, "-o", "json", check=True).stdout
    return [
        p["metadata"]["name"]
        for p in json.loads(out)["items"]
        if p.get("status", {}).get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")
    ]


def _running_deployment(
    kubectl: Callable[..., Any], eventually: Callable[..., Any], ns: str, name: str, replicas: int
) -> list[str]:
    """Apply Deployment NAME (label app=NAME); the names of its pods once ``replicas`` run."""
    _create(kubectl, ns, deployment(name, replicas=replicas))

    def running() -> list[str] | None:
        pods = _ready_pods(kubectl, ns, f"app={name}")
        return pods if len(pods) == replicas else None

    pods: list[str] = eventually(running)
    return pods


def test_server_dry_run_delete_of_a_pod_and_of_a_collection_leaves_them(
    kubectl: Callable[..., Any], namespace: str, eventually: Callable[..., Any]
) -> None:
    pods = _running_deployment(kubectl, eventually, namespace, "web", 2)
    one = kubectl("delete", "pod", pods[0], "-n", namespace, "--dry-run=server", check=True)
    assert "(server dry run)" in one.stdout
    every = kubectl("delete", "pods", "--all", "-n", namespace, "--dry-run=server", check=True)
    assert every.stdout.count("(server dry run)") == 2
    deploy = kubectl("delete", "deploy", "web", "-n", namespace, "--dry-run=server", check=True)
    assert "(server dry run)" in deploy.stdout
    assert sorted(_ready_pods(kubectl, namespace, "app=web")) == sorted(pods)
    kubectl("get", "deploy", "web", "-n", namespace, check=True)


def test_dry_run_in_the_delete_options_body(sandbox: Any, official: Any, namespace: str) -> None:
    from kubernetes import client

    core = client.CoreV1Api(official)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "cm", "labels": {"k": "v"}}})
    status = core.delete_namespaced_config_map("cm", namespace, body=client.V1DeleteOptions(dry_run=["All"]))
    assert status["status"] == "Success"
    core.delete_collection_namespaced_config_map(
        namespace, label_selector="k=v", body=client.V1DeleteOptions(dry_run=["All"])
    )
    assert core.read_namespaced_config_map("cm", namespace).metadata.name == "cm"


def test_dry_run_create_and_update_answer_like_a_real_write(official: Any, namespace: str) -> None:
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    apps = client.AppsV1Api(official)
    preview = apps.create_namespaced_deployment(namespace, deployment("dry"), dry_run="All")
    assert preview.metadata.uid and preview.metadata.generation == 1
    assert preview.metadata.creation_timestamp is not None and not preview.metadata.resource_version
    assert preview.spec.strategy.type == "RollingUpdate"  # defaults applied
    assert preview.spec.template.spec.containers[0].image_pull_policy == "IfNotPresent"
    with pytest.raises(ApiException) as missing:  # a dry-run create stores nothing
        apps.read_namespaced_deployment("dry", namespace)
    assert missing.value.status == 404
    apps.create_namespaced_deployment(namespace, deployment("real"))
    changed = apps.patch_namespaced_deployment("real", namespace, {"spec": {"replicas": 3}}, dry_run="All")
    assert changed.spec.replicas == 3 and changed.metadata.generation == 2
    stored = apps.read_namespaced_deployment("real", namespace)
    assert stored.spec.replicas == 1 and stored.metadata.generation == 1
    # a dry run is still validated
    with pytest.raises(ApiException) as invalid:
        apps.patch_namespaced_deployment("real", namespace, {"spec": {"replicas": -3}}, dry_run="All")
    assert invalid.value.status == 422


def test_cascade_orphan_leaves_the_replicaset_and_its_pods(
    kubectl: Callable[..., Any], namespace: str, eventually: Callable[..., Any]
) -> None:
    _running_deployment(kubectl, eventually, namespace, "orph", 2)
    kubectl("delete", "deploy", "orph", "-n", namespace, "--cascade=orphan", check=True)

    def released() -> Any:
        out = kubectl("get", "rs", "-n", namespace, "-l", "app=orph", "-o", "json", check=True).stdout
        items = json.loads(out)["items"]
        return items if items and "ownerReferences" not in items[0]["metadata"] else None

    items = eventually(released, message="the ReplicaSet was not released")
    assert len(items) == 1
    assert kubectl("get", "deploy", "orph", "-n", namespace).returncode == 1
    assert len(_ready_pods(kubectl, namespace, "app=orph")) == 2


def test_cascade_foreground_keeps_the_owner_until_its_dependents_are_gone(
    official: Any, kubectl: Callable[..., Any], namespace: str, eventually: Callable[..., Any]
) -> None:
    from kubernetes import client

    _running_deployment(kubectl, eventually, namespace, "fg", 2)
    rs = json.loads(kubectl("get", "rs", "-n", namespace, "-l", "app=fg", "-o", "json", check=True).stdout)
    rs_name = rs["items"][0]["metadata"]["name"]
    # a finalizer of someone else's holds the ReplicaSet, and so its owner, until it is removed
    hold = json.dumps({"metadata": {"finalizers": ["example.com/hold"]}})
    kubectl("patch", "rs", rs_name, "-n", namespace, "--type=merge", "-p", hold, check=True)
    answer = client.AppsV1Api(official).delete_namespaced_deployment(
        "fg", namespace, propagation_policy="Foreground", _preload_content=False
    )
    owner = json.loads(answer.data)
    assert owner["kind"] == "Deployment" and owner["metadata"]["deletionTimestamp"]
    assert owner["metadata"]["finalizers"] == ["foregroundDeletion"]

    def held() -> Any:
        out = kubectl("get", "rs", rs_name, "-n", namespace, "-o", "json", check=True).stdout
        meta = json.loads(out)["metadata"]
        pods = kubectl("get", "pods", "-n", namespace, "-l", "app=fg", "-o", "name").stdout.strip()
        return meta if meta.get("deletionTimestamp") and not pods else None

    meta = eventually(held, message="the ReplicaSet was not deleted in the foreground")
    assert meta["finalizers"] == ["example.com/hold"]  # foregroundDeletion done: its pods are gone
    waiting = json.loads(kubectl("get", "deploy", "fg", "-n", namespace, "-o", "json", check=True).stdout)
    assert waiting["metadata"]["finalizers"] == ["foregroundDeletion"]
    kubectl(
        "patch",
        "rs",
        rs_name,
        "-n",
        namespace,
        "--type=merge",
        "-p",
        '{"metadata":{"finalizers":null}}',
        check=True,
    )
    eventually(
        lambda: kubectl("get", "deploy,rs", "-n", namespace, "-o", "name").stdout.strip() == "",
        message="the owner did not go after its last dependent",
    )


def test_background_is_the_default_and_takes_the_dependents(
    kubectl: Callable[..., Any], namespace: str, eventually: Callable[..., Any]
) -> None:
    _running_deployment(kubectl, eventually, namespace, "bg", 1)
    kubectl("delete", "deploy", "bg", "-n", namespace, "--wait=false", check=True)
    assert kubectl("get", "deploy", "bg", "-n", namespace).returncode == 1
    eventually(
        lambda: kubectl("get", "rs,pods", "-n", namespace, "-l", "app=bg", "-o", "name").stdout.strip() == ""
    )
    bad = kubectl("delete", "--raw", f"/api/v1/namespaces/{namespace}/configmaps?propagationPolicy=Sideways")
    assert 'Unsupported value: "Sideways"' in bad.stderr
