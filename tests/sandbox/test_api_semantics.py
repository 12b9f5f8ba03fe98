"""The API calls behind kubectl's rollout commands, CRUD bookkeeping, watch semantics.

Against the in-process server (no controllers): the test plays the controller's part by
writing status and ReplicaSets itself, so each request kubectl makes is checked on its own.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubectl_trace.kube.errors import ApiError
from tests.factories import controller_ref
from tests.sandbox.harness import InProcessServer, make_deployment, streaming

NS = "prod"


def _setup(server: InProcessServer, *, revisions: tuple[str, ...] = ("1",)) -> dict[str, Any]:
    """Deployment ``web`` at the last revision, one ReplicaSet per revision (image reg/app:N)."""
    server.create("namespaces", {"metadata": {"name": NS}})
    body = make_deployment("web", NS, image=f"reg/app:{revisions[-1]}", replicas=2)
    body["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": str(len(revisions))}
    dep = server.create("deployments", body)
    for number, tag in enumerate(revisions, start=1):
        rs = make_deployment(f"web-{tag}", NS, image=f"reg/app:{tag}", replicas=0, labels={"app": "web"})
        rs["kind"] = "ReplicaSet"
        for labels in (
            rs["metadata"]["labels"],
            rs["spec"]["selector"]["matchLabels"],
            rs["spec"]["template"]["metadata"]["labels"],
        ):
            labels["pod-template-hash"] = tag
        rs["metadata"]["annotations"] = {
            "deployment.kubernetes.io/revision": str(number),
            "kubernetes.io/change-cause": f"deploy {tag}",
        }
        rs["metadata"]["ownerReferences"] = controller_ref("Deployment", "web", dep["metadata"]["uid"])
        server.create("replicasets", rs)
    return dep


def _deployment(server: InProcessServer) -> dict[str, Any]:
    return server.call(lambda: server.store.get("deployments", NS, "web"))


def _complete(server: InProcessServer) -> None:
    """What the controller would write once the rollout is done."""

    def status(draft: dict[str, Any]) -> None:
        replicas = draft["spec"]["replicas"]
        draft["status"] = {
            "observedGeneration": draft["metadata"]["generation"],
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
            ],
        }

    server.call(lambda: server.store.mutate("deployments", NS, "web", status))


def test_set_image_is_a_strategic_merge_patch_that_bumps_generation(
    server: InProcessServer, skubectl: Any
) -> None:
    _setup(server)
    before = _deployment(server)
    skubectl("set", "image", "-n", NS, "deployment/web", "app=reg/app:2", check=True)
    after = _deployment(server)
    assert after["spec"]["template"]["spec"]["containers"][0]["image"] == "reg/app:2"
    assert after["metadata"]["generation"] == before["metadata"]["generation"] + 1
    assert int(after["metadata"]["resourceVersion"]) > int(before["metadata"]["resourceVersion"])
    stats = server.call(server.api.status)
    assert stats["requests"]["byVerbResource"]["patch deployments"] == 1


def test_rollout_status_uses_watch_list_and_sees_progress(server: InProcessServer, skubectl: Any) -> None:
    _setup(server)
    with streaming(
        [*skubectl.argv_prefix, "rollout", "status", "-n", NS, "deployment/web", "--timeout", "60s"]
    ) as (proc, out):
        out.wait_for(
            lambda line: "Waiting for deployment spec update to be observed" in line or "Waiting for" in line
        )
        _complete(server)
        out.wait_for(lambda line: line == 'deployment "web" successfully rolled out')
        assert proc.wait(20) == 0
    stats = server.call(server.api.status)
    assert stats["requests"]["byVerbResource"].get("watch deployments", 0) >= 1
    assert stats["requests"]["byCode"].get("410", 0) == 0


def test_rollout_history_lists_revisions_by_selector(server: InProcessServer, skubectl: Any) -> None:
    _setup(server, revisions=("a1", "b2", "c3"))
    result = skubectl("rollout", "history", "-n", NS, "deployment/web", check=True)
    rows = [re.split(r"\s{2,}", line.strip()) for line in result.stdout.strip().splitlines()[1:]]
    assert rows[0] == ["REVISION", "CHANGE-CAUSE"]
    assert rows[1:] == [["1", "deploy a1"], ["2", "deploy b2"], ["3", "deploy c3"]]


def test_rollout_undo_is_a_json_patch_back_to_the_previous_template(
    server: InProcessServer, skubectl: Any
) -> None:
    _setup(server, revisions=("a1", "b2"))
    before = _deployment(server)
    result = skubectl("rollout", "undo", "-n", NS, "deployment/web", check=True)
    assert result.stdout.strip() == "deployment.apps/web rolled back"
    after = _deployment(server)
    template = after["spec"]["template"]
    assert template["spec"]["containers"][0]["image"] == "reg/app:a1"
    assert "pod-template-hash" not in template["metadata"]["labels"]
    assert after["metadata"]["generation"] == before["metadata"]["generation"] + 1
    assert after["metadata"]["annotations"]["kubernetes.io/change-cause"] == "deploy a1"
    stats = server.call(server.api.status)
    assert stats["requests"]["byVerbResource"]["patch deployments"] == 1


def test_scale_uses_the_scale_subresource(server: InProcessServer, skubectl: Any, skube: Any) -> None:
    _setup(server)
    skubectl("scale", "-n", NS, "deployment/web", "--replicas", "5", check=True)
    assert _deployment(server)["spec"]["replicas"] == 5
    assert _deployment(server)["metadata"]["generation"] == 2
    scale = skube.request("GET", f"/apis/apps/v1/namespaces/{NS}/deployments/web/scale")
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"] == {"replicas": 5}
    assert scale["status"]["selector"] == "app=web"
    wrong = skubectl("scale", "-n", NS, "deployment/web", "--current-replicas", "2", "--replicas", "1")
    assert wrong.returncode == 1 and "Expected replicas to be 2, was 5" in wrong.stderr
    skubectl("scale", "-n", NS, "rs/web-1", "--replicas", "1", check=True)
    assert server.call(lambda: server.store.get("replicasets", NS, "web-1"))["spec"]["replicas"] == 1
    stale = {**scale, "spec": {"replicas": 3}, "metadata": {**scale["metadata"], "resourceVersion": "1"}}
    with pytest.raises(ApiError) as conflict:
        skube.request("PUT", f"/apis/apps/v1/namespaces/{NS}/deployments/web/scale", body=stale)
    assert conflict.value.status == 409
    stats = server.call(server.api.status)
    assert stats["requests"]["byResource"].get("deployments/scale", 0) >= 2


def test_pause_resume_restart(server: InProcessServer, skubectl: Any) -> None:
    _setup(server, revisions=("a1", "b2"))
    skubectl("rollout", "pause", "-n", NS, "deployment/web", check=True)
    assert _deployment(server)["spec"]["paused"] is True
    undo = skubectl("rollout", "undo", "-n", NS, "deployment/web")
    assert undo.returncode == 1 and "paused" in undo.stderr
    skubectl("rollout", "resume", "-n", NS, "deployment/web", check=True)
    assert not _deployment(server)["spec"].get("paused")
    generation = _deployment(server)["metadata"]["generation"]
    skubectl("rollout", "restart", "-n", NS, "deployment/web", check=True)
    after = _deployment(server)
    assert "kubectl.kubernetes.io/restartedAt" in after["spec"]["template"]["metadata"]["annotations"]
    assert after["metadata"]["generation"] == generation + 1


def test_optimistic_concurrency_and_status_errors(server: InProcessServer, skube: Any) -> None:
    _setup(server)
    current = skube.get("deployments", "web", NS)
    stale = json.loads(json.dumps(current))
    current["spec"]["replicas"] = 4
    skube.replace("deployments", current)
    stale["spec"]["replicas"] = 7
    with pytest.raises(ApiError) as conflict:
        skube.replace("deployments", stale)
    assert conflict.value.status == 409
    assert conflict.value.reason == "Conflict"
    assert 'Operation cannot be fulfilled on deployments.apps "web"' in str(conflict.value)
    with pytest.raises(ApiError) as exists:
        skube.create("deployments", make_deployment("web", NS, image="x:1"))
    assert (exists.value.status, exists.value.reason) == (409, "AlreadyExists")
    with pytest.raises(ApiError) as missing:
        skube.get("deployments", "nope", NS)
    assert missing.value.status == 404
    assert server.call(lambda: server.store.get("deployments", NS, "web"))["spec"]["replicas"] == 4


def test_not_found_status_body_is_exact(server: InProcessServer) -> None:
    import base64
    import http.client
    import ssl

    import yaml

    config = yaml.safe_load(Path(server.kubeconfig).read_text())
    ca = base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"]).decode()
    conn = http.client.HTTPSConnection(
        "127.0.0.1", server.port, context=ssl.create_default_context(cadata=ca)
    )
    conn.request(
        "GET",
        "/apis/apps/v1/namespaces/default/deployments/x",
        headers={"Authorization": f"Bearer {server.token}"},
    )
    response = conn.getresponse()
    body = json.loads(response.read())
    conn.close()
    assert response.status == 404 and response.getheader("Content-Type") == "application/json"
    assert body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'deployments.apps "x" not found',
        "reason": "NotFound",
        "details": {"name": "x", "group": "apps", "kind": "deployments"},
        "code": 404,
    }


def test_generation_and_status_subresource(server: InProcessServer, skube: Any) -> None:
    _setup(server)
    dep = skube.get("deployments", "web", NS)
    assert dep["metadata"]["generation"] == 1
    skube.patch("deployments", "web", {"metadata": {"labels": {"team": "a"}}}, NS)
    assert skube.get("deployments", "web", NS)["metadata"]["generation"] == 1  # metadata only
    skube.patch("deployments", "web", {"spec": {"replicas": 3}}, NS, patch_type="merge")
    assert skube.get("deployments", "web", NS)["metadata"]["generation"] == 2
    patched = skube.patch(
        "deployments",
        "web",
        {"status": {"observedGeneration": 2, "replicas": 3}},
        NS,
        patch_type="merge",
        subresource="status",
    )
    assert patched["status"] == {"observedGeneration": 2, "replicas": 3}
    assert patched["metadata"]["generation"] == 2
    ignored = skube.patch("deployments", "web", {"status": {"replicas": 99}}, NS, patch_type="merge")
    assert ignored["status"]["replicas"] == 3  # the main resource does not write status


def test_pod_deletion_is_graceful_when_bound(server: InProcessServer, skube: Any) -> None:
    server.add_pod("bound-1")
    server.add_pod("loose-1", node=None, phase="Pending")
    server.add_pod("forced-1")
    gone = skube.request("DELETE", "/api/v1/namespaces/default/pods/bound-1", body={"gracePeriodSeconds": 20})
    assert gone["metadata"]["deletionGracePeriodSeconds"] == 20 and gone["metadata"]["deletionTimestamp"]
    still = skube.get("pods", "bound-1", "default")
    assert still["metadata"]["deletionTimestamp"] == gone["metadata"]["deletionTimestamp"]
    shorter = skube.request(
        "DELETE", "/api/v1/namespaces/default/pods/bound-1", query={"gracePeriodSeconds": "5"}
    )
    assert shorter["metadata"]["deletionGracePeriodSeconds"] == 5
    skube.delete("pods", "loose-1", "default")
    skube.request("DELETE", "/api/v1/namespaces/default/pods/forced-1", query={"gracePeriodSeconds": "0"})
    names = {p["metadata"]["name"] for p in skube.list("pods", "default").items}
    assert names == {"bound-1"}


def test_delete_answers_status_for_deployments(server: InProcessServer, skube: Any) -> None:
    _setup(server)
    answer = skube.delete("deployments", "web", NS)
    assert answer["kind"] == "Status" and answer["status"] == "Success"
    assert answer["details"]["name"] == "web" and answer["details"]["group"] == "apps"


def test_label_and_field_selectors_on_lists(server: InProcessServer, skube: Any) -> None:
    server.add_pod("a", labels={"app": "web", "tier": "front"})
    server.add_pod("b", labels={"app": "web"})
    server.add_pod("c", labels={"app": "worker"}, phase="Pending", node=None)

    def names(**kw: Any) -> list[str]:
        return [p["metadata"]["name"] for p in skube.list("pods", "default", **kw).items]

    assert names(label_selector="app=web") == ["a", "b"]
    assert names(label_selector="app in (web,worker),!tier") == ["b", "c"]
    assert names(label_selector="tier") == ["a"]
    assert names(field_selector="status.phase=Running") == ["a", "b"]
    assert names(field_selector="spec.nodeName=") == ["c"]
    assert names(field_selector="metadata.name!=a", label_selector="app=web") == ["b"]
    with pytest.raises(ApiError) as bad:
        skube.list("pods", "default", field_selector="spec.image=x")
    assert bad.value.status == 400 and "field label not supported: spec.image" in str(bad.value)


# -- watch ------------------------------------------------------------------------------


def _watch(skube: Any, path: str, **query: Any) -> tuple[Any, Iterator[dict[str, Any]]]:
    stream = skube.open("GET", path, query={"watch": "true", **query}, timeout=(10, 60))

    def events() -> Iterator[dict[str, Any]]:
        for line in stream.lines():
            if line.strip():
                yield json.loads(line)

    return stream, events()


def test_watch_list_sends_initial_events_then_a_bookmark_then_changes(
    server: InProcessServer, skube: Any
) -> None:
    server.add_pod("a")
    server.add_pod("b")
    stream, events = _watch(
        skube,
        "/api/v1/namespaces/default/pods",
        sendInitialEvents="true",
        resourceVersionMatch="NotOlderThan",
        allowWatchBookmarks="true",
        resourceVersion="1",
    )
    try:
        first = [next(events) for _ in range(3)]
        assert [(e["type"], e["object"]["metadata"].get("name")) for e in first[:2]] == [
            ("ADDED", "a"),
            ("ADDED", "b"),
        ]
        bookmark = first[2]
        assert bookmark["type"] == "BOOKMARK"
        assert bookmark["object"]["kind"] == "Pod" and bookmark["object"]["apiVersion"] == "v1"
        assert bookmark["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
        assert bookmark["object"]["metadata"]["resourceVersion"] == str(server.resource_version())
        server.label_pod("a", x="1")
        change = next(events)
        assert (change["type"], change["object"]["metadata"]["name"]) == ("MODIFIED", "a")
    finally:
        stream.close()


def test_watch_list_without_bookmarks_is_rejected_with_422(server: InProcessServer, skube: Any) -> None:
    with pytest.raises(ApiError) as error:
        skube.open("GET", "/api/v1/pods", query={"watch": "true", "sendInitialEvents": "true"})
    assert error.value.status == 422


def test_watch_from_a_resource_version_replays_and_selectors_translate(
    server: InProcessServer, skube: Any
) -> None:
    server.add_pod("a", labels={"app": "web"})
    rv = server.resource_version()
    server.add_pod("b", labels={"app": "web"})  # after rv: replayed
    stream, events = _watch(
        skube, "/api/v1/namespaces/default/pods", resourceVersion=str(rv), labelSelector="app=web"
    )
    try:
        replayed = next(events)
        assert (replayed["type"], replayed["object"]["metadata"]["name"]) == ("ADDED", "b")
        # a stops matching → DELETED (its last matching state, with the new resourceVersion)
        server.label_pod("a", app="x")
        left = next(events)
        assert left["type"] == "DELETED" and left["object"]["metadata"]["labels"]["app"] == "web"
        assert left["object"]["metadata"]["resourceVersion"] == str(server.resource_version())
        # and starts matching again → ADDED
        server.label_pod("a", app="web")
        back = next(events)
        assert (back["type"], back["object"]["metadata"]["name"]) == ("ADDED", "a")
        server.add_pod("other", labels={"app": "db"})
        server.call(lambda: server.store.remove("pods", "default", "b"))
        gone = next(events)
        assert (gone["type"], gone["object"]["metadata"]["name"]) == ("DELETED", "b")
    finally:
        stream.close()


def test_watch_without_resource_version_starts_with_synthetic_added(
    server: InProcessServer, skube: Any
) -> None:
    server.add_pod("a")
    stream, events = _watch(skube, "/api/v1/pods", resourceVersion="0")
    try:
        first = next(events)
        assert first["type"] == "ADDED" and first["object"]["kind"] == "Pod"
    finally:
        stream.close()


def test_compacted_resource_version_gets_410_expired(tmp_path: Any) -> None:
    from kubectl_trace.kube.client import connect
    from kubectl_trace.kube.settings import KubeSettings

    small = InProcessServer(str(tmp_path), history_limit=5).start()
    try:
        for i in range(10):
            small.add_pod(f"p{i}")
        client = connect(KubeSettings(kubeconfig=small.kubeconfig))
        stream, events = _watch(client, "/api/v1/pods", resourceVersion="2")
        event = next(events)
        assert event["type"] == "ERROR"
        assert event["object"]["code"] == 410 and event["object"]["reason"] == "Expired"
        assert re.fullmatch(r"too old resource version: 2 \(\d+\)", event["object"]["message"])
        assert list(events) == []  # and the stream ends
        stream.close()
        # a watch-list request never gets 410, however old its resourceVersion
        stream, events = _watch(
            client,
            "/api/v1/pods",
            resourceVersion="2",
            sendInitialEvents="true",
            resourceVersionMatch="NotOlderThan",
            allowWatchBookmarks="true",
        )
        kinds = [next(events)["type"] for _ in range(11)]
        assert kinds == ["ADDED"] * 10 + ["BOOKMARK"]
        stream.close()
        client.close()
    finally:
        small.stop()


def test_watch_timeout_and_bookmarks(server: InProcessServer, skube: Any) -> None:
    server.call(lambda: setattr(server.api, "bookmark_interval", 0.3))
    started = time.monotonic()
    stream, events = _watch(
        skube,
        "/api/v1/pods",
        timeoutSeconds="2",
        allowWatchBookmarks="true",
        resourceVersion=str(server.resource_version()),
    )
    received = list(events)
    elapsed = time.monotonic() - started
    stream.close()
    assert 1.5 <= elapsed < 10
    assert received and all(e["type"] == "BOOKMARK" for e in received)
    assert received[-1]["object"]["metadata"]["resourceVersion"] == str(server.resource_version())


def test_kubectl_apply_and_diff(server: InProcessServer, skubectl: Any, tmp_path: Path) -> None:
    manifest = make_deployment("cfg", "default", image="reg/app:1")
    manifest["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "A", "value": "1"}]
    path = tmp_path / "deployment.json"
    path.write_text(json.dumps(manifest))
    assert skubectl("apply", "-f", str(path), check=True).stdout.strip() == "deployment.apps/cfg created"
    manifest["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = "2"
    path.write_text(json.dumps(manifest))
    diff = skubectl("diff", "-f", str(path))
    assert diff.returncode == 1  # differences found
    assert re.search(r'^-\s+value: "1"$', diff.stdout, re.M) and re.search(
        r'^\+\s+value: "2"$', diff.stdout, re.M
    )
    assert skubectl("apply", "-f", str(path), check=True).stdout.strip() == "deployment.apps/cfg configured"
    stored = server.call(lambda: server.store.get("deployments", "default", "cfg"))
    assert stored["spec"]["template"]["spec"]["containers"][0]["env"] == [{"name": "A", "value": "2"}]
    assert stored["metadata"]["generation"] == 2
    assert "kubectl.kubernetes.io/last-applied-configuration" in stored["metadata"]["annotations"]
