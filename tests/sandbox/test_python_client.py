"""The official Python client (kubernetes 37) against the API server: typed calls, watch,
log follow, exec with ``returncode``, and strict validation of everything served."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.sandbox.harness import InProcessServer, ScriptedLog, make_deployment
from tests.sandbox.modelcheck import validate


@pytest.fixture
def api(server: InProcessServer) -> Iterator[Any]:
    from kubernetes import config

    client = config.new_client_from_config(config_file=server.kubeconfig)
    yield client
    client.close()


def test_typed_list_get_create_patch_delete(server: InProcessServer, api: Any) -> None:
    from kubernetes import client

    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    server.add_pod("web-1")
    pods = core.list_namespaced_pod("default")
    assert [p.metadata.name for p in pods.items] == ["web-1"]
    assert pods.items[0].status.container_statuses[0].ready is True
    created = apps.create_namespaced_deployment(
        "default", make_deployment("web", "default", image="reg/app:1")
    )
    assert created.metadata.generation == 1 and created.spec.strategy.type == "RollingUpdate"
    patched = apps.patch_namespaced_deployment(
        "web",
        "default",
        {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "reg/app:2"}]}}}},
    )
    assert patched.spec.template.spec.containers[0].image == "reg/app:2"
    assert patched.metadata.generation == 2
    undo = apps.patch_namespaced_deployment(
        "web",
        "default",
        [{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "reg/app:1"}],
    )
    assert undo.spec.template.spec.containers[0].image == "reg/app:1"
    scale = apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 4}})
    assert scale.spec.replicas == 4 and scale.status.selector == "app=web"
    assert apps.read_namespaced_deployment_scale("web", "default").spec.replicas == 4
    status = apps.delete_namespaced_deployment("web", "default")
    assert status["status"] == "Success"
    deleted = core.delete_namespaced_pod("web-1", "default")
    assert deleted.metadata.deletion_timestamp is not None
    version = client.VersionApi(api).get_code()
    assert version.major == "1" and version.git_version.startswith("v1.")
    assert {"apps", "batch", "events.k8s.io", "metrics.k8s.io"} <= {
        g.name for g in client.ApisApi(api).get_api_versions().groups
    }
    resources = client.CoreV1Api(api).get_api_resources()
    assert {"pods", "pods/log", "pods/exec", "namespaces"} <= {r.name for r in resources.resources}


def test_watch_sees_changes(server: InProcessServer, api: Any) -> None:
    from kubernetes import client, watch

    server.add_pod("web-1")
    core = client.CoreV1Api(api)
    w = watch.Watch()
    seen: list[tuple[str, str, str]] = []
    for event in w.stream(core.list_namespaced_pod, "default", timeout_seconds=20):
        seen.append(
            (event["type"], event["object"].metadata.name, event["object"].metadata.labels.get("v", ""))
        )
        if len(seen) == 1:
            # The watch is open (its first event arrived): change the pods it is watching.
            server.call(
                lambda: server.store.mutate(
                    "pods", "default", "web-1", lambda d: d["metadata"]["labels"].update(v="2")
                )
            )
            server.add_pod("web-2")
        if len(seen) == 3:
            w.stop()
    assert seen == [("ADDED", "web-1", ""), ("MODIFIED", "web-1", "2"), ("ADDED", "web-2", "")]


def test_read_log_follow(server: InProcessServer, api: Any) -> None:
    from kubernetes import client

    server.add_pod("web-1")
    log = server.add_log("default", "web-1", "app", ScriptedLog(time.time(), 20, backlog=5))
    core = client.CoreV1Api(api)
    text = core.read_namespaced_pod_log("web-1", "default", tail_lines=2)
    assert len(text.splitlines()) == 2
    response = core.read_namespaced_pod_log(
        "web-1", "default", follow=True, _preload_content=False, timestamps=True
    )
    lines: list[str] = []
    for raw in response.stream(4096, decode_content=False):
        lines.extend(raw.decode().splitlines())
        if len(lines) >= 12:
            server.call(log.finish)
    response.release_conn()
    numbers = [int(line.rsplit(" ", 1)[1]) for line in lines]
    assert numbers == list(range(len(numbers))) and len(numbers) >= 12


def test_stream_exec_returncode(server: InProcessServer, api: Any) -> None:
    from kubernetes import client
    from kubernetes.stream import stream

    server.add_pod("web-1")
    core = client.CoreV1Api(api)

    def exec_web_1(command: list[str], *, stdin: bool = False, **options: Any) -> Any:
        return stream(
            core.connect_get_namespaced_pod_exec,
            "web-1",
            "default",
            command=command,
            stderr=True,
            stdin=stdin,
            stdout=True,
            tty=False,
            **options,
        )

    assert exec_web_1(["sh", "-c", "echo hi"]) == "hi\n"
    resp = exec_web_1(["sh", "-c", "echo out; echo err >&2; exit 3"], _preload_content=False)
    resp.run_forever(timeout=20)
    assert resp.returncode == 3
    assert resp.read_stdout() == "out\n" and resp.read_stderr() == "err\n"
    resp.close()
    interactive = exec_web_1(["cat"], stdin=True, _preload_content=False)
    interactive.write_stdin("ping\n")
    interactive.close_channel(0)  # v5 half-close: cat sees EOF and exits 0
    deadline = time.monotonic() + 20
    out = ""
    while interactive.is_open() and time.monotonic() < deadline:
        interactive.update(timeout=1)
        out += interactive.read_stdout()
    out += interactive.read_stdout()
    assert out == "ping\n" and interactive.returncode == 0


def test_everything_served_validates_against_the_client_models(server: InProcessServer, skube: Any) -> None:
    from kubectl_trace.kube.resources import RESOURCES

    server.create("namespaces", {"metadata": {"name": "prod"}})
    server.create("deployments", make_deployment("web", "prod", image="reg/app:1"))
    server.add_pod("web-1", namespace="prod", containers=("app", "side"))
    server.create("secrets", {"metadata": {"name": "db", "namespace": "prod"}, "data": {"url": "eA=="}})
    server.create("configmaps", {"metadata": {"name": "cfg", "namespace": "prod"}, "data": {"a": "1"}})
    server.create(
        "services",
        {
            "metadata": {"name": "web", "namespace": "prod"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
        },
    )
    checked = 0
    for resource in RESOURCES.values():
        listing = skube.request("GET", resource.path())
        validate(listing)
        for item in listing["items"]:
            validate(item)
            checked += 1
    assert checked >= 6
    for path in ("/version", "/api", "/apis", "/api/v1", "/apis/apps/v1"):
        validate(skube.request("GET", path), {"/version": "VersionInfo"}.get(path))
    validate(skube.request("GET", "/apis/apps/v1/namespaces/prod/deployments/web/scale"))
    validate(skube.delete("configmaps", "cfg", "prod"))
    validate(skube.delete("services", "web", "prod"))
