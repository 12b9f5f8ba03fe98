"""Guarded apply against the sandbox: conflicts are re-read and reapplied, half-done changes undone."""

from __future__ import annotations

import pytest

from kubectl_trace.kube.errors import ApiError
from kubectl_trace.release.apply import ChangeFailed, Step, apply_all, apply_guarded, revert_all
from kubectl_trace.release.patches import Drift, EnvAssignment, Patch, env_set_patch, image_patch
from kubectl_trace.release.plans import ReleaseTarget, plan_release
from kubectl_trace.release.records import template_digest, template_of

from .helpers import REPO, env_of


def set_env(name, value):
    def build(cur):
        return env_set_patch(cur, ["web"], [EnvAssignment(name, value=value)], f"set {name}")

    return build


def someone_else(kube, body):
    """Another client's change: no resourceVersion, so it always lands."""
    body = dict(body, metadata={k: v for k, v in body.get("metadata", {}).items() if k != "resourceVersion"})
    kube.patch("deployments", "trace-api-web", body, "staging")


def test_a_stale_read_conflicts_and_the_reapplied_patch_keeps_both_changes(cluster):
    kube = cluster.kube
    stale = kube.get("deployments", "trace-api-web", "staging")
    # someone else changes it after our read
    someone_else(kube, set_env("THEIRS", "1")(stale).body)
    conflicts = []
    done = apply_guarded(
        kube,
        "staging",
        "trace-api-web",
        set_env("OURS", "2"),
        current=stale,
        on_conflict=lambda n, c: conflicts.append((n, c)),
    )
    assert conflicts == [("trace-api-web", 1)]
    assert done.conflicts == 1
    env = env_of(kube.get("deployments", "trace-api-web", "staging"))
    assert env["THEIRS"]["value"] == "1" and env["OURS"]["value"] == "2"


def test_a_json_patch_whose_test_fails_is_rebuilt_from_a_fresh_read(cluster):
    kube = cluster.kube
    web = kube.get("deployments", "trace-api-web", "staging")
    rss = kube.list("replicasets", "staging", label_selector="app=trace-api,process=web").items
    old = next(rs for rs in rss if template_digest(template_of(rs)) != template_digest(template_of(web)))
    template = template_of(old)
    target = ReleaseTarget("web", web, template, template_digest(template), "a41c9e7", "3f9c2a1")
    undo = plan_release([target], "rollback to v1").planned[0]
    # after our read someone annotates it: the patch's test on the resourceVersion fails (422)
    someone_else(kube, {"metadata": {"annotations": {"team": "payments"}}})
    conflicts = []
    done = apply_guarded(
        kube,
        "staging",
        "trace-api-web",
        undo.build,
        current=web,
        on_conflict=lambda n, c: conflicts.append(c),
    )
    assert conflicts == [1]
    assert (
        done.after["spec"]["template"]["spec"]["containers"][0]["image"]
        != web["spec"]["template"]["spec"]["containers"][0]["image"]
    )
    # a concurrent change of the template makes the builder stop instead (Drift): nothing written
    someone_else(kube, image_patch(done.after, REPO, "5ome0ne", "theirs").body)
    with pytest.raises(Drift):
        apply_guarded(kube, "staging", "trace-api-web", undo.build)
    now = kube.get("deployments", "trace-api-web", "staging")
    assert now["spec"]["template"]["spec"]["containers"][0]["image"] == f"{REPO}:5ome0ne"


def test_a_failure_part_way_puts_back_what_was_changed(cluster):
    kube = cluster.kube
    before = kube.get("deployments", "trace-api-web", "staging")

    def missing_build(cur):
        return Patch("staging", "trace-api-nope", "strategic", {"spec": {}}, "x")

    steps = [
        Step("staging", "trace-api-web", set_env("HALF", "1")),
        Step("staging", "trace-api-nope", missing_build),
        Step("staging", "trace-api-worker", set_env("HALF", "1")),
    ]
    with pytest.raises(ChangeFailed) as info:
        apply_all(kube, steps)
    message = info.value.message
    assert message.startswith("could not change deployment trace-api-nope: ")
    assert "already changed and put back: trace-api-web" in message
    assert "not attempted: trace-api-worker" in message
    after = kube.get("deployments", "trace-api-web", "staging")
    assert "HALF" not in env_of(after)
    assert after["spec"]["template"] == before["spec"]["template"]
    assert "HALF" not in env_of(kube.get("deployments", "trace-api-worker", "staging"))


def test_revert_leaves_alone_what_someone_changed_after_us(cluster):
    kube = cluster.kube
    done = apply_all(kube, [Step("staging", "trace-api-web", set_env("MINE", "1"))]).applied
    someone_else(kube, set_env("LATER", "2")(done[0].after).body)
    results = revert_all(kube, done)
    assert [(r.name, r.ok) for r in results] == [("trace-api-web", False)]
    assert "changed again by someone else" in results[0].detail
    env = env_of(kube.get("deployments", "trace-api-web", "staging"))
    assert "MINE" in env and "LATER" in env


def test_the_first_failure_changes_nothing_and_keeps_its_error(cluster):
    kube = cluster.kube
    with pytest.raises(ApiError) as info:
        apply_all(kube, [Step("staging", "trace-api-nope", set_env("X", "1"))])
    assert info.value.status == 404


def test_ctrl_c_part_way_puts_back_what_was_changed(cluster):
    from kubectl_trace.release.apply import ChangeInterrupted

    kube = cluster.kube

    def interrupted(cur):
        raise KeyboardInterrupt

    steps = [
        Step("staging", "trace-api-web", set_env("HALF", "1")),
        Step("staging", "trace-api-worker", interrupted),
    ]
    with pytest.raises(ChangeInterrupted) as info:
        apply_all(kube, steps)
    assert info.value.exit_code == 130
    assert info.value.message.startswith("interrupted before deployment trace-api-worker was changed")
    assert "already changed and put back: trace-api-web" in info.value.message
    assert "HALF" not in env_of(kube.get("deployments", "trace-api-web", "staging"))
