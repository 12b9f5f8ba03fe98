"""``deploy`` end to end against a private sandbox, checked through the API and the real kubectl."""

from __future__ import annotations

import json
import re
import subprocess

from .helpers import APP_DEPLOYMENTS, REPO, deployments, nodeapp, settled, tags


def git_repo(path):
    def git(*args):
        return subprocess.run(
            ["git", *args], cwd=path, check=True, capture_output=True, text=True
        ).stdout.strip()

    git("init", "-q")
    (path / "server.js").write_text("console.log('hi')\n")
    git("add", "server.js")
    git("-c", "user.name=e2e", "-c", "user.email=e2e@example.com", "commit", "-q", "-m", "first")
    return git("rev-parse", "--short", "HEAD")


def test_deploy_the_current_commit_to_production(cluster, tmp_path, eventually):
    handle, kube, kubectl = cluster
    short = git_repo(tmp_path)
    before = tags(kube, "production")
    assert set(before.values()) == {"3f9c2a1"}
    ui_generation = kube.get("deployments", "trace-ui", "production")["metadata"]["generation"]

    result = nodeapp(handle, "deploy", "trace-api", "-n", "production", "--yes", cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert tags(kube, "production") == dict.fromkeys(APP_DEPLOYMENTS, short)
    assert settled(kube, "production")  # exit 0 only once every rollout completed
    assert f"✓ deploy {short}: every rollout complete" in result.stdout
    for name in APP_DEPLOYMENTS:
        assert f"{name}  3f9c2a1 → {short}  rolled out" in result.stdout
    # kubectl sees the change cause: tag, user, time
    history = kubectl("rollout", "history", "deployment/trace-api-web", "-n", "production", check=True).stdout
    last = history.strip().splitlines()[-1]
    assert re.fullmatch(
        rf"3\s+deploy {short} by e2e-tester at \d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ", last.strip()
    ), history
    # trace-ui (another app, another image) is untouched
    assert kube.get("deployments", "trace-ui", "production")["metadata"]["generation"] == ui_generation


def test_a_bad_tag_fails_explains_and_rolls_back(cluster, eventually):
    handle, kube, kubectl = cluster
    result = nodeapp(
        handle, "deploy", "trace-api", "-n", "production", "--tag", "badc0de", "--auto-rollback", "--yes"
    )

    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert result.stderr.startswith("error: deploy badc0de failed: ")
    assert "rolled back (--auto-rollback)" in result.stderr
    assert "progress deadline" in out
    # the readiness failure, the Warning events and the failing pod's last log lines
    assert re.search(r"readiness probe failing ×\d+.*HTTP probe failed with statuscode: 503", out), out
    assert (
        "Warning events:" in out
        and "Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 503" in out
    )
    assert "last log lines of trace-api-" in out
    for name in APP_DEPLOYMENTS:
        assert f"rolled back {name} to 3f9c2a1" in out
    assert tags(kube, "production") == dict.fromkeys(APP_DEPLOYMENTS, "3f9c2a1")
    eventually(lambda: settled(kube, "production"), timeout=60, message="rollback completes")
    # the change cause of the restored revision is the original one, as kubectl would restore it
    history = kubectl("rollout", "history", "deployment/trace-api-web", "-n", "production", check=True).stdout
    assert history.strip().splitlines()[-1].split(None, 1)[1] == "deploy trace-api 3f9c2a1"
    # both are releases: the failed deploy, and the automatic rollback after it
    doc = json.loads(nodeapp(handle, "history", "trace-api", "-n", "production", "-o", "json").stdout)
    newest = [(r["release"], r["action"], r["argument"], r["outcome"]) for r in doc["releases"][:2]]
    assert newest == [
        (4, "rollback", "of v3 (--auto-rollback)", "healthy"),
        (3, "deploy", "badc0de", "failed"),
    ]
    assert doc["current"] == 4 and doc["drift"] == []


def test_production_without_yes_and_without_a_terminal_changes_nothing(cluster):
    handle, kube, _ = cluster
    before = {n: d["metadata"]["generation"] for n, d in deployments(kube, "production").items()}
    result = nodeapp(handle, "deploy", "trace-api", "-n", "production", "--tag", "a41c9e7")
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == (
        'error: refusing to change anything: namespace "production" is a production namespace: '
        "without a terminal to confirm, pass --yes"
    )
    assert "Traceback" not in result.stderr
    assert {n: d["metadata"]["generation"] for n, d in deployments(kube, "production").items()} == before


def test_dry_run_prints_the_exact_patches_and_changes_nothing(cluster):
    handle, kube, _ = cluster
    before = deployments(kube, "staging")
    result = nodeapp(handle, "deploy", "trace-api", "-n", "staging", "--tag", "b2c3d4e", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "dry run: nothing was changed" in result.stdout
    for name, d in before.items():
        assert f"PATCH /apis/apps/v1/namespaces/staging/deployments/{name}" in result.stdout
        assert f'"resourceVersion":"{d["metadata"]["resourceVersion"]}"' in result.stdout
    assert f'"image":"{REPO}:b2c3d4e"' in result.stdout
    after = deployments(kube, "staging")
    assert {n: d["metadata"]["generation"] for n, d in after.items()} == {
        n: d["metadata"]["generation"] for n, d in before.items()
    }


def test_bad_input_is_one_line(cluster, tmp_path):
    handle, _, _ = cluster
    outside = nodeapp(handle, "deploy", "trace-api", "-n", "staging", cwd=tmp_path)
    assert outside.returncode == 1
    assert (
        outside.stderr.splitlines()[0].startswith("error: ")
        and "not inside a git repository" in outside.stderr
    )
    bad = nodeapp(handle, "deploy", "trace-api", "-n", "staging", "--tag", "not a tag")
    assert bad.returncode == 2 and bad.stderr.startswith("error: invalid image tag 'not a tag'")
    missing = nodeapp(handle, "deploy", "nope", "-n", "staging", "--tag", "a41c9e7")
    assert missing.returncode == 1 and "no app 'nope' in staging; apps here: trace-api" in missing.stderr


def test_timeout_stops_following_and_rollback_brings_it_back(cluster):
    handle, kube, _ = cluster
    result = nodeapp(handle, "deploy", "trace-api", "-n", "staging", "--tag", "badc0de", "--timeout", "2s")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "not complete after --timeout 2s" in result.stdout
    assert "not rolled out after --timeout 2s" in result.stderr
    assert (
        "hint: roll back to v2 (the last release not known to have failed (its outcome was not recorded); "
        "kubectl (deploy trace-api a41c9e7)) with: kubectl nodeapp rollback trace-api -n staging "
        f"--kubeconfig {handle.kubeconfig} --to v2"
    ) in result.stderr
    assert set(tags(kube, "staging").values()) == {"badc0de"}  # no --auto-rollback: left as deployed
    back = nodeapp(handle, "rollback", "trace-api", "-n", "staging")
    assert back.returncode == 0, back.stdout + back.stderr
    assert "web badc0de → a41c9e7" in back.stdout and "to v2 (" in back.stdout
    assert set(tags(kube, "staging").values()) == {"a41c9e7"}
    assert settled(kube, "staging")
