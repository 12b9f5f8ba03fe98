"""``promote``: staging's tags to production, with and without confirmation; a sick staging is refused."""

from __future__ import annotations

import os
import re
import sys

from .helpers import APP_DEPLOYMENTS, deployments, nodeapp, settled, tags


def test_promote_with_yes_gives_production_the_staging_tag(cluster, eventually):
    handle, kube, kubectl = cluster
    staging = tags(kube, "staging")
    assert set(staging.values()) == {"a41c9e7"}

    result = nodeapp(handle, "promote", "trace-api", "--from", "staging", "--to", "production", "--yes")

    assert result.returncode == 0, result.stdout + result.stderr
    for name in APP_DEPLOYMENTS:
        assert re.search(
            rf"^  {name}\s+image {name.rsplit('-', 1)[1]} 3f9c2a1 → a41c9e7$", result.stdout, re.M
        )
    assert tags(kube, "production") == staging
    assert settled(kube, "production")
    cause = kubectl("rollout", "history", "deployment/trace-api-web", "-n", "production", check=True).stdout
    assert "promote a41c9e7 from staging by e2e-tester at " in cause.strip().splitlines()[-1]
    again = nodeapp(handle, "promote", "trace-api", "--from", "staging", "--to", "production", "--yes")
    assert again.returncode == 0 and "nothing to change" in again.stdout


def test_promote_without_yes_and_without_a_terminal_refuses(cluster):
    handle, kube, _ = cluster
    before = {n: d["metadata"]["generation"] for n, d in deployments(kube, "production").items()}
    result = nodeapp(handle, "promote", "trace-api", "--from", "staging", "--to", "production")
    assert result.returncode == 2
    assert result.stderr.startswith(
        'error: refusing to change anything: namespace "production" is a production'
    )
    assert "3f9c2a1 → a41c9e7" in result.stdout  # it showed what it would have done
    assert {n: d["metadata"]["generation"] for n, d in deployments(kube, "production").items()} == before
    assert set(tags(kube, "production").values()) == {"3f9c2a1"}


def test_an_unhealthy_staging_is_not_promoted_unless_forced(cluster, eventually):
    handle, kube, _ = cluster
    broken = nodeapp(handle, "deploy", "trace-api", "-n", "staging", "--tag", "c0ffee1", "--no-wait")
    assert broken.returncode == 0, broken.stderr

    def refused():
        result = nodeapp(handle, "promote", "trace-api", "--from", "staging", "--to", "production", "--yes")
        return result if result.returncode == 1 else None

    result = eventually(refused, timeout=60, message="promote refuses a crash-looping staging")
    assert result.stderr.startswith("error: staging is not healthy, so it is not promoted: ")
    assert "--force" in result.stderr
    assert set(tags(kube, "production").values()) == {"3f9c2a1"}
    forced = nodeapp(
        handle, "promote", "trace-api", "--from", "staging", "--to", "production", "--force", "--dry-run"
    )
    assert forced.returncode == 0, forced.stderr
    assert "warning: promoting although staging is not healthy (--force)" in forced.stderr
    assert "3f9c2a1 → c0ffee1" in forced.stdout and "dry run: nothing was changed" in forced.stdout


def test_promote_asks_on_a_terminal_and_shows_the_live_view(cluster, tmux):
    handle, kube, _ = cluster
    env = {
        "KUBECTL_NODEAPP_CONFIG": os.devnull + ".missing.toml",
        "USER": "e2e-tester",
        "TERM": "xterm-256color",
    }
    tmux.start(
        [
            sys.executable,
            "-m",
            "kubectl_trace",
            "--kubeconfig",
            handle.kubeconfig,
            "promote",
            "trace-api",
            "--from",
            "staging",
            "--to",
            "production",
        ],
        width=140,
        height=40,
        env=env,
    )
    screen = tmux.wait_for("[y/N]", timeout=60)
    assert "Promote 3 Deployment(s) of trace-api from staging to production?" in screen
    assert set(tags(kube, "production").values()) == {"3f9c2a1"}  # nothing before the answer
    tmux.send("y", enter=True)
    screen = tmux.wait_for("every rollout complete", timeout=120)
    assert "DEPLOYMENT" in screen and "PROGRESS" in screen  # the rich table, drawn in place
    assert screen.count("trace-api-web ") >= 1 and "✓" in screen
    assert tags(kube, "production") == dict.fromkeys(APP_DEPLOYMENTS, "a41c9e7")
