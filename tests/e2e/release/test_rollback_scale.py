"""``history``, ``rollback``, ``scale`` and ``restart`` against a private sandbox and the real kubectl."""

from __future__ import annotations

import json
import re

from .helpers import APP_DEPLOYMENTS, deployments, nodeapp, ready_pods, settled, tags


def kubectl_history(kubectl, name, namespace="production"):
    """kubectl rollout history as {revision: change-cause}."""
    out = kubectl("rollout", "history", f"deployment/{name}", "-n", namespace, check=True).stdout
    rows = {}
    for line in out.splitlines():
        match = re.match(r"^(\d+)\s+(.*)$", line.strip())
        if match:
            rows[int(match[1])] = match[2].strip()
    return rows


def our_history(handle, namespace="production"):
    result = nodeapp(handle, "history", "trace-api", "-n", namespace, "--revisions", "-o", "json")
    assert result.returncode == 0, result.stderr
    out: dict[str, dict[int, dict]] = {}
    for line in result.stdout.splitlines():
        row = json.loads(line)
        out.setdefault(row["deployment"], {})[row["revision"]] = row
    return out


def assert_agree(handle, kubectl, namespace="production"):
    ours = our_history(handle, namespace)
    assert set(ours) == set(APP_DEPLOYMENTS)
    for name, rows in ours.items():
        theirs = kubectl_history(kubectl, name, namespace)
        assert {rev: (r["changeCause"] or "<none>") for rev, r in rows.items()} == theirs, name
        current = [rev for rev, r in rows.items() if r["current"]]
        assert current == [max(theirs)], name
    return ours


def test_revisions_agree_with_kubectl_and_a_release_rollback_is_kubectl_visible(cluster, eventually):
    handle, kube, kubectl = cluster
    ours = assert_agree(handle, kubectl)
    assert [r["tags"] for _, r in sorted(ours["trace-api-web"].items())] == [["8b1d0e4"], ["3f9c2a1"]]
    text = nodeapp(handle, "history", "trace-api", "-n", "production", "--revisions", "--process", "web")
    assert text.returncode == 0
    assert re.search(r"\*\s+2\s+3f9c2a1\s+\S+\s+deploy trace-api 3f9c2a1", text.stdout), text.stdout
    # the app's releases, reconstructed from those ReplicaSets
    releases = nodeapp(handle, "history", "trace-api", "-n", "production")
    lines = releases.stdout.splitlines()
    assert lines[0] == "=== trace-api releases in production (none recorded yet)"
    assert re.match(
        r"v2\s+kubectl \(deploy trace-api 3f9c2a1\)\s+clock,web,worker=3f9c2a1\s+unknown\s+\S+ ago\s+current",
        lines[1],
    )

    result = nodeapp(handle, "rollback", "trace-api", "-n", "production", "--to", "v1", "--yes")

    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"trace-api-web\s+web 3f9c2a1 → 8b1d0e4", result.stdout), result.stdout
    assert tags(kube, "production") == dict.fromkeys(APP_DEPLOYMENTS, "8b1d0e4")
    assert settled(kube, "production")
    # kubectl sees an ordinary rollout: revision 1's ReplicaSet became revision 3
    after = assert_agree(handle, kubectl)
    assert sorted(after["trace-api-web"]) == [2, 3]
    assert after["trace-api-web"][3]["changeCause"].startswith("rollback to v1 by e2e-tester at ")
    assert after["trace-api-web"][3]["tags"] == ["8b1d0e4"]

    # plain rollback = the last release whose rollout completed healthy, other than what runs
    back = nodeapp(handle, "rollback", "trace-api", "-n", "production", "--yes")
    assert back.returncode == 0, back.stdout + back.stderr
    assert (
        "to v2 (kubectl (deploy trace-api 3f9c2a1); the last release not known to have failed" in back.stdout
    )
    assert tags(kube, "production") == dict.fromkeys(APP_DEPLOYMENTS, "3f9c2a1")
    assert sorted(assert_agree(handle, kubectl)["trace-api-web"]) == [3, 4]


def test_rollback_to_a_missing_release_or_with_old_flags_changes_nothing(cluster):
    handle, kube, _ = cluster
    before = {n: d["metadata"]["generation"] for n, d in deployments(kube, "production").items()}
    result = nodeapp(handle, "rollback", "trace-api", "-n", "production", "--to", "v9", "--yes")
    assert result.returncode == 1
    assert result.stderr.startswith("error: there is no release v9 (releases: v2, v1)")
    old = nodeapp(handle, "rollback", "trace-api", "-n", "production", "--to-revision", "1", "--yes")
    assert old.returncode == 2 and old.stderr.startswith("error: --to-revision is gone: ")
    mixed = nodeapp(handle, "rollback", "trace-api", "-n", "production", "--process", "web", "--yes")
    assert mixed.returncode == 2 and "never a mix" in mixed.stderr
    assert {n: d["metadata"]["generation"] for n, d in deployments(kube, "production").items()} == before


def test_scale_web_to_five_leaves_the_others_untouched(cluster):
    handle, kube, _ = cluster
    others = {
        p: sorted(x["metadata"]["uid"] for x in ready_pods(kube, "staging", p)) for p in ("worker", "clock")
    }
    generations = {n: d["metadata"]["generation"] for n, d in deployments(kube, "staging").items()}

    result = nodeapp(handle, "scale", "trace-api", "web=5", "-n", "staging")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "trace-api-web  1 → 5 pods  rolled out: 5/5 available" in result.stdout
    assert len(ready_pods(kube, "staging", "web")) == 5
    assert {p: sorted(x["metadata"]["uid"] for x in ready_pods(kube, "staging", p)) for p in others} == others
    after = deployments(kube, "staging")
    assert after["trace-api-web"]["spec"]["replicas"] == 5
    for name in ("trace-api-worker", "trace-api-clock"):
        assert after[name]["metadata"]["generation"] == generations[name]

    listing = nodeapp(handle, "scale", "trace-api", "-n", "staging")
    assert listing.returncode == 0
    assert listing.stdout.splitlines()[0] == "=== trace-api in staging: clock=1 web=5 worker=1"
    assert re.search(r"^web\s+trace-api-web\s+5\s+5\s+5$", listing.stdout, re.M), listing.stdout

    unknown = nodeapp(handle, "scale", "trace-api", "api=2", "-n", "staging")
    assert (
        unknown.returncode == 2
        and "no process api in this app (its processes: clock, web, worker)" in unknown.stderr
    )


def test_restart_one_process(cluster):
    handle, kube, _ = cluster
    before = {p: {x["metadata"]["uid"] for x in ready_pods(kube, "staging", p)} for p in ("web", "worker")}
    result = nodeapp(handle, "restart", "trace-api", "--process", "worker", "-n", "staging")
    assert result.returncode == 0, result.stdout + result.stderr
    worker = kube.get("deployments", "trace-api-worker", "staging")
    assert "kubectl.kubernetes.io/restartedAt" in worker["spec"]["template"]["metadata"]["annotations"]
    now_worker = {x["metadata"]["uid"] for x in ready_pods(kube, "staging", "worker")}
    assert now_worker and not now_worker & before["worker"]
    assert {x["metadata"]["uid"] for x in ready_pods(kube, "staging", "web")} == before["web"]


def test_production_namespaces_come_from_the_config_file(cluster, tmp_path):
    handle, kube, _ = cluster
    config = tmp_path / "config.toml"
    config.write_text('production_namespaces = ["staging"]\n')
    refused = nodeapp(handle, "scale", "trace-api", "worker=2", "-n", "staging", config=config)
    assert refused.returncode == 2
    assert f'namespace "staging" is a production namespace ({config})' in refused.stderr
    assert kube.get("deployments", "trace-api-worker", "staging")["spec"]["replicas"] == 1
    allowed = nodeapp(handle, "scale", "trace-api", "worker=3", "-n", "production", config=config)
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert kube.get("deployments", "trace-api-worker", "production")["spec"]["replicas"] == 3
    confirmed = nodeapp(handle, "scale", "trace-api", "worker=2", "-n", "staging", "--yes", config=config)
    assert confirmed.returncode == 0, confirmed.stdout + confirmed.stderr
    assert kube.get("deployments", "trace-api-worker", "staging")["spec"]["replicas"] == 2
