"""``status`` against the sandbox: healthy production, then broken releases made with the real kubectl.

What ``status`` must show: badc0de stalls with a failing readiness probe (503, with a count) and
exit 1, ``--probe`` shows 503 for the new pods and 200 for the old; c0ffee1 crash-loops
with exit code 1 and the previous instance's "Cannot find module" lines; 0000000 cannot be
pulled; a healthy production exits 0 with practice findings only.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.factories import deployment_manifest

from .helpers import REPO, own_namespace, rollout_of, set_image, shorten_deadline, status_json

PRACTICE_CODES = {
    "no-readiness-probe",
    "liveness-equals-readiness",
    "no-prestop",
    "short-grace-period",
    "image-tag-latest",
    "literal-credential",
    "single-replica-production",
    "no-resource-requests",
}


def _complete(doc):
    return doc["deployments"] and all(d["rollout"]["state"] == "complete" for d in doc["deployments"])


def test_healthy_production_exits_0_with_practice_findings_only(sandbox, invoke, eventually):
    doc = eventually(
        lambda: (lambda d: d if d[1] == 0 and _complete(d[0]) else None)(
            status_json(invoke, sandbox.kubeconfig, "trace-api", "-n", "production")
        ),
        timeout=60,
        message="production healthy",
    )[0]
    assert doc["healthy"] is True and doc["problems"] == []
    names = {d["rollout"]["name"] for d in doc["deployments"]}
    assert {"trace-api-web", "trace-api-worker", "trace-api-clock"} <= names
    web = rollout_of(doc, "trace-api-web")
    assert web["rollout"]["desired"] == 3 and len(web["pods"]) == 3
    assert all(p["verdict"] == "healthy" for p in web["pods"])
    assert {f["code"] for f in doc["findings"]} <= PRACTICE_CODES
    # the one-screen form says the same
    result = invoke("status", "trace-api", "-n", "production", kubeconfig=sandbox.kubeconfig)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "✓ healthy" in result.stdout and "✗" not in result.stdout
    assert "deploy/trace-api-web" in result.stdout and "Complete" in result.stdout


def test_status_through_kubectl_plugin_lookup(sandbox, kubectl, eventually):
    """``kubectl nodeapp status`` (kubectl finds the plugin on PATH) behaves as the direct call.

    kubectl refuses its own flags before a plugin name, so ``--kubeconfig`` goes after.
    """
    kubectl_bin = kubectl.argv_prefix[0]
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env["PATH"] = str(Path(kubectl_bin).parent) + os.pathsep + env.get("PATH", "")
    argv = [kubectl_bin, "nodeapp", "status", "trace-api", "-n", "production", "-o", "json"]

    def run():
        result = subprocess.run(
            [*argv, "--kubeconfig", sandbox.kubeconfig], capture_output=True, text=True, env=env, timeout=60
        )
        return result if result.returncode == 0 else None

    result = eventually(run, timeout=60, message="kubectl nodeapp status exits 0")
    assert json.loads(result.stdout)["healthy"] is True


@pytest.fixture
def release(private_sandbox, kubectl_for, kube_for):
    """``release(DEPLOYMENT, NAMESPACE, TAG)``: its image set to TAG with the real kubectl."""
    kubectl, kube = kubectl_for(private_sandbox), kube_for(private_sandbox)
    return lambda deployment, namespace, tag: set_image(kubectl, kube, deployment, namespace, tag)


def test_badc0de_stalls_on_failing_readiness(private_sandbox, kubectl_for, release, invoke, eventually):
    cfg = private_sandbox.kubeconfig
    eventually(
        lambda: _complete(status_json(invoke, cfg, "deploy/trace-api-web", "-n", "production")[0]), timeout=60
    )
    shorten_deadline(kubectl_for(private_sandbox), "trace-api-web", "production", 60)
    release("trace-api-web", "production", "badc0de")

    def stalled():
        doc, code = status_json(invoke, cfg, "trace-api", "-n", "production")
        web = rollout_of(doc, "trace-api-web")
        return (doc, code, web) if web and web["rollout"]["state"] == "stalled" else None

    doc, code, web = eventually(stalled, timeout=90, message="trace-api-web stalled")
    assert code == 1 and doc["healthy"] is False
    assert "timed out progressing" in web["rollout"]["message"]
    assert web["rollout"]["tags"] == ["badc0de"] and web["rollout"]["old_tags"] == ["3f9c2a1"]
    new_hash = web["rollout"]["new"]["template_hash"]
    new_pods = [p for p in web["pods"] if p["template_hash"] == new_hash]
    old_pods = [p for p in web["pods"] if p["template_hash"] != new_hash]
    assert new_pods and old_pods
    readiness = [c["readiness"] for p in new_pods for c in p["containers"]]
    assert any(
        r["state"] == "failing" and r["failures"] >= 1 and "503" in r["last_failure"] for r in readiness
    )
    codes = {(p["object"], p["code"]) for p in doc["problems"]}
    assert ("deploy/trace-api-web", "ProgressDeadlineExceeded") in codes
    assert any(code == "ReadinessProbeFailing" for _, code in codes)

    screen = invoke("status", "trace-api", "-n", "production", kubeconfig=cfg)
    assert screen.exit_code == 1
    text = screen.stdout
    assert "deploy/trace-api-web" in text and "Stalled" in text and "timed out progressing" in text
    assert "3f9c2a1 → badc0de" in text
    assert "readiness probe failing ×" in text and "503" in text

    # events: the rollout's scaling comes before the new pods' probe failures
    events = invoke("events", "deploy/trace-api-web", "-n", "production", kubeconfig=cfg)
    assert events.exit_code == 0, events.stderr
    lines = events.stdout.splitlines()
    scaled = next(
        i
        for i, line in enumerate(lines)
        if "ScalingReplicaSet" in line and "Scaled up" in line and new_hash in line
    )
    unhealthy = next(i for i, line in enumerate(lines) if "Unhealthy" in line and "503" in line)
    assert scaled < unhealthy
    assert "⚠ Warning" in lines[unhealthy]

    # --probe: the new pods answer 503 now, the old ones 200. A new pod spends part of its
    # time in liveness-restart back-off (not probed then): poll until one is up.
    new_names = {p["name"] for p in new_pods}
    old_names = {p["name"] for p in old_pods if p["deleted_at"] is None}

    def probed_503():
        doc, code = status_json(invoke, cfg, "deploy/trace-api-web", "-n", "production", "--probe")
        by_pod = {}
        for p in doc["probes"]:
            by_pod.setdefault(p["pod"], set()).add(p["status"])
        return (doc, code, by_pod) if any(by_pod.get(n) == {503} for n in new_names) else None

    probed, code, by_pod = eventually(probed_503, timeout=60, message="a new pod answering 503")
    assert code == 1
    assert all(by_pod.get(n) == {200} for n in old_names), by_pod
    assert all(p["latency_ms"] is not None for p in probed["probes"] if not p["skipped"])
    versions = [v for v in probed["node_versions"] if v["version"]]
    assert versions and all(v["version"].startswith("v") for v in versions), probed["node_versions"]

    def screen_503():  # the text screen too; the new pod may be in back-off again meanwhile
        shown = invoke("status", "deploy/trace-api-web", "-n", "production", "--probe", kubeconfig=cfg)
        return shown if "probes run now" in shown.stdout and "503" in shown.stdout else None

    probe_screen = eventually(screen_503, timeout=60, message="the --probe screen showing a 503")
    assert "Node.js: v" in probe_screen.stdout


def test_c0ffee1_crash_loops_with_previous_lines(private_sandbox, release, invoke, eventually):
    cfg = private_sandbox.kubeconfig
    release("trace-api-worker", "staging", "c0ffee1")

    def crashing():
        doc, code = status_json(invoke, cfg, "deploy/trace-api-worker", "-n", "staging")
        loops = [p for p in doc["problems"] if p["code"] == "CrashLoopBackOff"]
        logs = [log for log in doc["previous_logs"] if log["lines"]]
        return (doc, code) if loops and logs else None

    doc, code = eventually(crashing, timeout=90, message="worker crash-looping with previous logs")
    assert code == 1
    pods = rollout_of(doc, "trace-api-worker")["pods"]
    looping = [c for p in pods for c in p["containers"] if c["restarts"] > 0 and c["last_termination"]]
    assert looping and all(c["last_termination"]["exit_code"] == 1 for c in looping)
    assert any("Cannot find module" in line for log in doc["previous_logs"] for line in log["lines"])

    screen = invoke("status", "deploy/trace-api-worker", "-n", "staging", kubeconfig=cfg)
    assert screen.exit_code == 1
    assert "CrashLoopBackOff" in screen.stdout and "exited 1" in screen.stdout
    assert "previous instance of" in screen.stdout and "Cannot find module" in screen.stdout


def test_0000000_image_pull_error(private_sandbox, release, invoke, eventually):
    cfg = private_sandbox.kubeconfig
    release("trace-api-web", "staging", "0000000")

    def pull_error():
        doc, code = status_json(invoke, cfg, "deploy/trace-api-web", "-n", "staging")
        found = [p for p in doc["problems"] if p["code"] in ("ImagePullBackOff", "ErrImagePull")]
        return (doc, code, found) if found else None

    _doc, code, found = eventually(pull_error, timeout=60, message="image pull error")
    assert code == 1
    assert any(":0000000" in p["message"] for p in found)
    screen = invoke("status", "deploy/trace-api-web", "-n", "staging", kubeconfig=cfg)
    assert screen.exit_code == 1
    assert "cannot pull" in screen.stdout and "0000000" in screen.stdout


def test_unschedulable_pod_is_explained(sandbox, kube, invoke, eventually):
    namespace = own_namespace(kube, "status-sched")
    try:
        kube.create(
            "pods",
            {
                "metadata": {"name": "needs-nvme", "namespace": namespace, "labels": {"app": "batch"}},
                "spec": {
                    "nodeSelector": {"disk": "nvme"},
                    "containers": [{"name": "job", "image": f"{REPO}:3f9c2a1"}],
                },
            },
            namespace,
        )

        def unschedulable():
            doc, code = status_json(invoke, sandbox.kubeconfig, "needs-nvme", "-n", namespace)
            found = [p for p in doc["problems"] if p["code"] == "Unschedulable"]
            return (doc, code, found) if found else None

        doc, code, [problem] = eventually(unschedulable, timeout=30, message="scheduling problem reported")
        assert code == 1 and problem["object"] == "pod/needs-nvme"
        [pod] = doc["pods"]
        assert pod["status"] == "Pending" and pod["scheduling"] and "node" in pod["scheduling"]
        screen = invoke("status", "needs-nvme", "-n", namespace, kubeconfig=sandbox.kubeconfig)
        assert "cannot be scheduled" in screen.stdout and screen.exit_code == 1
    finally:
        kube.delete("namespaces", namespace)


def test_all_namespaces_summary(sandbox, kube, invoke, eventually):
    good, bad = own_namespace(kube, "status-all-ok"), own_namespace(kube, "status-all-bad")
    labels = {"app": "tiny", "process": "web"}
    try:
        web = {"name": "web", "image": f"{REPO}:3f9c2a1"}
        kube.create("deployments", deployment_manifest("tiny-web", good, labels, [web]), good)
        kube.create(
            "pods",
            {
                "metadata": {"name": "needs-nvme", "namespace": bad},
                "spec": {
                    "nodeSelector": {"disk": "nvme"},
                    "containers": [{"name": "job", "image": f"{REPO}:3f9c2a1"}],
                },
            },
            bad,
        )

        def settled():
            result = invoke("status", "-A", "-o", "json", kubeconfig=sandbox.kubeconfig)
            doc = json.loads(result.stdout)
            by_ns = {r["namespace"]: r for r in doc["namespaces"]}
            ours = by_ns.get(good), by_ns.get(bad)
            if None in ours or not ours[0]["healthy"] or ours[1]["healthy"]:
                return None
            if not _complete(ours[0]):
                return None
            return doc, result.exit_code, by_ns

        doc, code, by_ns = eventually(settled, timeout=60, message="one healthy and one broken namespace")
        assert code == 1 and doc["healthy"] is False
        assert [p["code"] for p in by_ns[bad]["problems"]] == ["Unschedulable"]
        assert "production" in by_ns  # the demo's namespaces are there too

        screen = invoke("status", "-A", kubeconfig=sandbox.kubeconfig)
        assert screen.exit_code == 1
        lines = screen.stdout.splitlines()
        assert "every namespace" in lines[0] and "✗ unhealthy" in lines[0]
        assert lines[2].split() == ["NAMESPACE", "DEPLOYMENT", "STATE", "READY", "RESTARTS", "PROBLEM"]
        row = next(line.split() for line in lines if line.split()[:2] == [good, "tiny-web"])
        assert row[2:5] == ["✓", "complete", "1/1"]
        bad_row = next(line for line in lines if line.split()[:2] == [bad, "pod/needs-nvme"])
        assert "Pending" in bad_row and "cannot be scheduled" in bad_row

        refused = invoke("status", "-A", "trace-api", kubeconfig=sandbox.kubeconfig)
        assert refused.exit_code == 2 and refused.stderr.startswith("error: -A sums up every namespace")
    finally:
        kube.delete("namespaces", good)
        kube.delete("namespaces", bad)
