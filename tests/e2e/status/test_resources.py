"""status: CPU and memory from metrics.k8s.io, OOM advice and shutdown facts, against the sandbox."""

from __future__ import annotations

import re
import uuid
from typing import Any

from tests.e2e.pods import has_running_container, live_pods
from tests.factories import deployment_manifest, process_container

from .helpers import REPO, own_namespace, status_json

MI = 2**20


def _deployment(
    name: str, namespace: str, tag: str, *, grace: int = 30, limit: str = "256Mi", replicas: int = 1
) -> dict[str, Any]:
    web = process_container(
        tag=tag, resources={"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": limit}}
    )
    labels = {"app": name, "process": "web"}
    return deployment_manifest(
        name, namespace, labels, [web], replicas=replicas, terminationGracePeriodSeconds=grace
    )


def _running_pods(kube: Any, namespace: str, app: str) -> list[dict[str, Any]]:
    return live_pods(kube, namespace, f"app={app}", has_running_container)


def test_status_json_carries_cpu_and_memory_per_pod(sandbox: Any, invoke: Any, eventually: Any) -> None:
    def measured() -> dict[str, Any] | None:
        doc, _code = status_json(invoke, sandbox.kubeconfig, "trace-api", "-n", "production")
        return doc if doc["resources"]["pods"] else None

    doc = eventually(measured, timeout=30, message="status never showed CPU and memory")
    resources = doc["resources"]
    assert resources["metrics"] == {"available": True, "note": None}
    report_pods = {p["name"] for d in doc["deployments"] for p in d["pods"] if p["verdict"] == "healthy"}
    by_pod = {u["pod"]: u for u in resources["pods"]}
    assert report_pods <= set(by_pod)
    for usage in by_pod.values():
        assert usage["cpu_millicores"] > 0 and usage["memory_bytes"] > 16 * MI
        assert usage["memory_limit_bytes"] and usage["memory_bytes"] < usage["memory_limit_bytes"]
        assert usage["containers"][0]["memory_request_bytes"]
    assert {p["process"] for p in resources["processes"]} == {"web", "worker", "clock"}

    pretty = invoke("status", "trace-api", "-n", "production", kubeconfig=sandbox.kubeconfig)
    assert "resource use (metrics.k8s.io)" in pretty.stdout
    assert re.search(r"web \(\d+ pods?\): CPU \d+m avg", pretty.stdout), pretty.stdout


def test_oom_kill_says_the_limit_the_heap_and_what_to_change(
    sandbox: Any, kube: Any, invoke: Any, eventually: Any
) -> None:
    namespace = own_namespace(kube, "oom")
    kube.create("deployments", _deployment("hungry", namespace, "3f9c2a1", limit="256Mi"), namespace)
    (pod,) = eventually(lambda: _running_pods(kube, namespace, "hungry"), timeout=30)
    sandbox.admin("POST", "faults/kill", {"namespace": namespace, "pod": pod["metadata"]["name"]})

    def advised() -> dict[str, Any] | None:
        doc, _code = status_json(invoke, sandbox.kubeconfig, "hungry", "-n", namespace)
        return doc if doc["resources"]["oom"] else None

    doc = eventually(advised, timeout=30, message="status gave no OOM advice")
    (advice,) = doc["resources"]["oom"]
    assert advice["memory_limit"] == 256 * MI and advice["heap_limit"] == 256 * MI
    assert advice["heap_source"] == "Node's default for that limit"
    assert "--max-old-space-size=192" in advice["fix"]
    pretty = invoke("status", "hungry", "-n", namespace, kubeconfig=sandbox.kubeconfig, width=200)
    assert "OOMKilled" in pretty.stdout and "fix: set NODE_OPTIONS=--max-old-space-size=192" in pretty.stdout


def test_sigterm_ignoring_image_killed_after_grace_period_and_why(
    sandbox: Any, kube: Any, kubectl: Any, invoke: Any, eventually: Any
) -> None:
    namespace = own_namespace(kube, "deaf")
    tag = uuid.uuid4().hex[:7]
    sandbox.admin("POST", "images/mark", {"tag": tag, "fault": "ignore-sigterm"})
    try:
        # in place: a new image for the running pod restarts its container; SIGTERM is ignored
        kube.create("deployments", _deployment("deaf", namespace, tag, grace=20), namespace)
        (pod,) = eventually(lambda: _running_pods(kube, namespace, "deaf"), timeout=30)
        name = pod["metadata"]["name"]
        kubectl("set", "image", f"pod/{name}", f"web={REPO}:3f9c2a1", "-n", namespace, check=True)

        def killed() -> dict[str, Any] | None:
            doc, _code = status_json(invoke, sandbox.kubeconfig, "deaf", "-n", namespace)
            return next((s for s in doc["resources"]["shutdowns"] if s["outcome"] == "killed"), None)

        shutdown = eventually(killed, timeout=30, message="status never reported the kill")
        assert shutdown["text"] == "killed after the 20s grace period (exit 137)"
        assert shutdown["exit_code"] == 137 and shutdown["pod"] == name
        assert shutdown["logged_sigterm"] is False
        assert shutdown["causes"] == [
            "no SIGTERM handler seen in the logs: the app keeps running until SIGKILL"
        ]

        # a rollout away from the image: the old pods run on after SIGTERM for their grace period
        kube.create("deployments", _deployment("deaf2", namespace, tag, grace=600, replicas=1), namespace)
        eventually(lambda: _running_pods(kube, namespace, "deaf2"), timeout=30)
        kubectl("set", "image", "deploy/deaf2", f"web={REPO}:3f9c2a1", "-n", namespace, check=True)

        def stuck() -> dict[str, Any] | None:
            doc, _code = status_json(invoke, sandbox.kubeconfig, "deaf2", "-n", namespace)
            return next((s for s in doc["resources"]["shutdowns"] if s["bad"]), None)

        stopping = eventually(stuck, timeout=30, message="status never reported the slow stop")
        assert stopping["outcome"] == "stopping" and stopping["grace"] == 600
        assert stopping["text"].startswith("still running ") and "(600s grace period)" in stopping["text"]
        assert "no SIGTERM handler seen in the logs" in stopping["causes"][0]
        pretty = invoke("status", "deaf2", "-n", namespace, kubeconfig=sandbox.kubeconfig, width=200)
        assert "last shutdowns" in pretty.stdout and "why: no SIGTERM handler seen" in pretty.stdout
    finally:
        sandbox.admin("POST", "images/unmark", {"tag": tag})
        kubectl("delete", "pods", "--all", "-n", namespace, "--grace-period=0", "--force", "--wait=false")


def test_probe_flags_a_process_whose_logs_are_not_json(sandbox: Any, invoke: Any) -> None:
    doc, _code = status_json(invoke, sandbox.kubeconfig, "trace-api", "-n", "production", "--probe")
    flags = doc["resources"]["flags"]
    assert any(f.startswith("clock: logs are not JSON") for f in flags), flags
    assert not any(f.startswith(("web:", "worker:")) for f in flags), flags
