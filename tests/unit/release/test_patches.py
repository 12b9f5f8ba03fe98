"""Patch builders, checked by applying the patches with the sandbox's (pure) patch engine."""

import copy
import json

import pytest

from kubectl_trace.release.patches import (
    CHANGE_CAUSE,
    RESTARTED_AT,
    Drift,
    EnvAssignment,
    change_cause,
    env_set_patch,
    env_unset_patch,
    image_patch,
    restart_patch,
    restore_patch,
    scale_patch,
)
from kubectl_trace.sandbox.server.patch import apply_json_patch, apply_strategic_merge_patch
from tests.factories.release import REPO, deployment


def applied(obj, patch):
    if patch.type == "json":
        return apply_json_patch(obj, patch.body)
    return apply_strategic_merge_patch(obj, patch.body)


def env_of(obj, container=0):
    return obj["spec"]["template"]["spec"]["containers"][container]["env"]


def test_change_cause_names_what_who_when():
    assert change_cause("deploy a41c9e7", "ana", "2026-03-01T12:00:00Z") == (
        "deploy a41c9e7 by ana at 2026-03-01T12:00:00Z"
    )


def test_image_patch_sets_the_tag_on_app_containers_only_and_is_guarded():
    sidecar = {"name": "proxy", "image": "envoyproxy/envoy:v1.30"}
    d = deployment("web", extra=[sidecar])
    d["spec"]["template"]["spec"]["initContainers"] = [{"name": "migrate", "image": f"{REPO}:3f9c2a1"}]
    patch = image_patch(d, REPO, "a41c9e7", "deploy a41c9e7 by ana")
    assert patch.type == "strategic"
    assert patch.body["metadata"]["resourceVersion"] == "1000"
    assert patch.body["metadata"]["annotations"] == {CHANGE_CAUSE: "deploy a41c9e7 by ana"}
    after = applied(d, patch)
    spec = after["spec"]["template"]["spec"]
    assert spec["containers"][0]["image"] == f"{REPO}:a41c9e7"
    assert spec["containers"][1]["image"] == "envoyproxy/envoy:v1.30"
    assert spec["initContainers"][0]["image"] == f"{REPO}:a41c9e7"
    assert spec["containers"][0]["env"] == d["spec"]["template"]["spec"]["containers"][0]["env"]
    assert "web 3f9c2a1 → a41c9e7" in patch.summary
    assert patch.render().startswith("PATCH /apis/apps/v1/namespaces/production/deployments/trace-api-web\n")
    assert json.loads(patch.render().splitlines()[2]) == patch.body


def test_image_patch_nothing_to_do_and_drift():
    d = deployment("web", tag="a41c9e7")
    assert image_patch(d, REPO, "a41c9e7", "c") is None
    moved = deployment("web", tag="0ther00")
    with pytest.raises(Drift, match="now runs 0ther00"):
        image_patch(moved, REPO, "a41c9e7", "c", expect={"web": "3f9c2a1"})
    # already moved to our tag by a previous attempt: no drift, nothing to do
    assert (
        image_patch(deployment("web", tag="a41c9e7"), REPO, "a41c9e7", "c", expect={"web": "3f9c2a1"}) is None
    )


def test_env_set_literal_and_secret_switch_fields():
    d = deployment(
        "web",
        env=[
            {"name": "PROCESS_TYPE", "value": "web"},
            {"name": "LOG_LEVEL", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "LOG_LEVEL"}}},
            {"name": "DATABASE_URL", "value": "postgres://x"},
        ],
    )
    patch = env_set_patch(
        d,
        ["web"],
        [
            EnvAssignment("LOG_LEVEL", value="debug"),
            EnvAssignment("DATABASE_URL", secret="db", key="url"),
            EnvAssignment("NEW", value=""),
        ],
        "env set",
    )
    after = applied(d, patch)
    env = {e["name"]: e for e in env_of(after)}
    assert env["LOG_LEVEL"] == {"name": "LOG_LEVEL", "value": "debug"}
    assert env["DATABASE_URL"] == {
        "name": "DATABASE_URL",
        "valueFrom": {"secretKeyRef": {"name": "db", "key": "url"}},
    }
    assert env["NEW"] == {"name": "NEW", "value": ""}
    assert env["PROCESS_TYPE"] == {"name": "PROCESS_TYPE", "value": "web"}
    assert [e["name"] for e in env_of(after)][:3] == ["PROCESS_TYPE", "LOG_LEVEL", "DATABASE_URL"]
    # the summary never carries a value
    assert "debug" not in patch.summary and "postgres" not in patch.summary


def test_env_set_unchanged_is_none_and_unset_removes():
    d = deployment("web", env=[{"name": "PROCESS_TYPE", "value": "web"}, {"name": "A", "value": "1"}])
    assert env_set_patch(d, ["web"], [EnvAssignment("A", value="1")], "c") is None
    patch = env_unset_patch(d, ["web"], ["A", "MISSING"], "c")
    assert patch.summary == "unset A"
    assert [e["name"] for e in env_of(applied(d, patch))] == ["PROCESS_TYPE"]
    assert env_unset_patch(d, ["web"], ["MISSING"], "c") is None


def test_env_patch_touches_only_named_containers():
    sidecar = {"name": "proxy", "image": "envoy:1", "env": [{"name": "X", "value": "1"}]}
    d = deployment("web", extra=[sidecar])
    after = applied(d, env_set_patch(d, ["web"], [EnvAssignment("X", value="2")], "c"))
    assert env_of(after, 1) == [{"name": "X", "value": "1"}]
    assert env_of(after, 0)[-1] == {"name": "X", "value": "2"}


def test_scale_and_restart():
    d = deployment("web", replicas=3)
    assert scale_patch(d, 3) is None
    patch = scale_patch(d, 5)
    assert patch.body == {"metadata": {"resourceVersion": "1000"}, "spec": {"replicas": 5}}
    assert applied(d, patch)["spec"]["replicas"] == 5
    r = restart_patch(d, "2026-03-01T12:00:00Z", "restart by ana")
    after = applied(d, r)
    assert after["spec"]["template"]["metadata"]["annotations"][RESTARTED_AT] == "2026-03-01T12:00:00Z"
    assert after["metadata"]["annotations"][CHANGE_CAUSE] == "restart by ana"


def test_restore_patch_puts_back_template_replicas_and_cause():
    before = deployment("web", replicas=3, cause="deploy 3f9c2a1")
    after = applied(before, image_patch(before, REPO, "badc0de", "deploy badc0de"))
    after = applied(after, scale_patch(after, 5))
    patch = restore_patch(before, after)
    assert patch.type == "json"
    assert patch.body[0] == {"op": "test", "path": "/spec/template", "value": after["spec"]["template"]}
    restored = apply_json_patch(after, patch.body)
    assert restored["spec"]["template"] == before["spec"]["template"]
    assert restored["spec"]["replicas"] == 3
    assert restored["metadata"]["annotations"][CHANGE_CAUSE] == "deploy 3f9c2a1"


def test_restore_refuses_when_someone_changed_it_again():
    before = deployment("web")
    after = applied(before, image_patch(before, REPO, "badc0de", "c"))
    later = applied(after, image_patch(after, REPO, "5ome0ne", "theirs"))
    with pytest.raises(Drift):
        restore_patch(before, after, later)
    # the test op also protects against a change between read and write
    patch = restore_patch(before, after, copy.deepcopy(after))
    from kubectl_trace.sandbox.server.patch import PatchError

    with pytest.raises(PatchError, match="test failed"):
        apply_json_patch(later, patch.body)


def test_restore_removes_a_cause_that_was_not_there():
    before = deployment("web", cause=None)
    after = applied(before, image_patch(before, REPO, "badc0de", "deploy badc0de"))
    restored = apply_json_patch(after, restore_patch(before, after).body)
    assert CHANGE_CAUSE not in restored["metadata"]["annotations"]


def test_dry_run_rendering_masks_credential_looking_env_values():
    from kubectl_trace.release.patches import MASKED, Patch

    body = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "env": [
                                {"name": "STRIPE_SECRET_KEY", "value": "sk_live_abcdefghijklmnop1234"},
                                {"name": "LOG_LEVEL", "value": "debug"},
                            ],
                        }
                    ]
                }
            }
        }
    }
    patch = Patch("s", "web", "strategic", body, "set STRIPE_SECRET_KEY")
    shown = patch.render()
    assert "sk_live_" not in shown and MASKED in shown and '"value":"debug"' in shown
    assert "sk_live_abcdefghijklmnop1234" in patch.render(reveal=True)
    assert body["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"].startswith("sk_live_")
