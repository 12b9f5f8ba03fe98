"""How the old pods stopped survives the rollout: deploy watches them end, records it, status shows it."""

from __future__ import annotations

import json

from .helpers import nodeapp

KILLED = "killed after the 30s grace period (exit 137)"
NO_HANDLER = "no SIGTERM handler seen in the logs: the app keeps running until SIGKILL"


def _web_hashes(kube):
    pods = kube.list("pods", "production", label_selector="app=trace-api,process=web").items
    return {p["metadata"]["labels"]["pod-template-hash"] for p in pods}


def test_old_pods_that_ignore_sigterm_are_reported_killed_after_the_rollout_and_by_status(cluster):
    handle, kube, _kubectl = cluster
    handle.admin("POST", "images/mark", {"tag": "deaf123", "fault": "ignore-sigterm"})

    # a healthy image's old pods stop gracefully: one quiet line per process
    first = nodeapp(handle, "deploy", "trace-api", "-n", "production", "--tag", "deaf123", "--yes")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "web: old pods stopped gracefully in " in first.stdout
    assert "! web:" not in first.stdout
    deaf_hashes = _web_hashes(kube)

    # away from the image that ignores SIGTERM: its pods run on until SIGKILL at the grace period
    second = nodeapp(handle, "deploy", "trace-api", "-n", "production", "--tag", "d4e5f6a", "--yes")
    out = second.stdout
    assert second.returncode == 0, out + second.stderr
    assert "waiting for " in out and "old pod" in out and "Ctrl-C stops waiting, the release is done" in out
    web = next(line for line in out.splitlines() if line.startswith("! web: "))
    assert web == f"! web: old pods {KILLED} (3 of 3 shutdowns) — {NO_HANDLER}"
    assert out.index("! web: ") < out.index("✓ deploy d4e5f6a: every rollout complete")
    assert not _web_hashes(kube) & deaf_hashes  # the killed pods are gone from the cluster

    # status: no live record of them is left, the release's record says how they ended
    status = nodeapp(handle, "status", "trace-api", "-n", "production", "-o", "json")
    doc = json.loads(status.stdout)
    release = doc["release"]["last"]
    recorded = {s["process"]: s for s in doc["resources"]["releaseShutdowns"]}
    assert recorded["web"]["text"] == KILLED and recorded["web"]["causes"] == [NO_HANDLER]
    assert (recorded["web"]["killed"], recorded["web"]["total"]) == (3, 3)
    assert recorded["web"]["source"] == f"release v{release}" and recorded["web"]["bad"] is True
    assert not any(s["process"] == "web" for s in doc["resources"]["shutdowns"])
    pretty = nodeapp(handle, "status", "trace-api", "-n", "production")
    assert f"web: {KILLED} (3 of 3), in the rollout of v{release}" in pretty.stdout
    assert f"why: {NO_HANDLER}" in pretty.stdout
