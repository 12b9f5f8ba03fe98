import pytest

from kubectl_trace.errors import NodeappError
from kubectl_trace.release.patches import Drift, EnvAssignment
from kubectl_trace.release.plans import (
    ReleaseTarget,
    app_tag,
    plan_deploy,
    plan_env_set,
    plan_promote,
    plan_release,
    plan_restart,
    plan_scale,
)
from kubectl_trace.sandbox.server.patch import apply_strategic_merge_patch
from tests.factories.release import REPO, deployment


def process(d):
    return d["metadata"]["labels"]["process"]


def test_plan_deploy_changes_app_deployments_and_explains_the_rest():
    other = deployment("ui")
    other["spec"]["template"]["spec"]["containers"][0]["image"] = "reg/ui:1"
    done = deployment("clock", tag="a41c9e7")
    plan = plan_deploy([deployment("web"), done, other], REPO, "a41c9e7", "cause")
    assert [p.name for p in plan.planned] == ["trace-api-web"]
    assert plan.planned[0].label == "3f9c2a1 → a41c9e7"
    assert dict(plan.unchanged) == {
        "trace-api-clock": "already runs a41c9e7",
        "trace-api-ui": f"does not run {REPO}",
    }


def test_plan_builder_rebuilds_from_a_fresh_read_and_detects_drift():
    plan = plan_deploy([deployment("web")], REPO, "a41c9e7", "cause")
    build = plan.planned[0].build
    fresh = deployment("web", rv="1001")  # status churn: same spec, new resourceVersion
    assert build(fresh).body["metadata"]["resourceVersion"] == "1001"
    with pytest.raises(Drift):
        build(deployment("web", tag="0ther00", rv="1002"))


def test_plan_promote_maps_by_process():
    staging = [
        deployment("web", tag="a41c9e7", namespace="staging"),
        deployment("worker", tag="a41c9e7", namespace="staging"),
    ]
    production = [deployment("web"), deployment("worker"), deployment("clock")]
    plan = plan_promote(staging, production, REPO, lambda tag: f"promote {tag}", process)
    assert [(p.name, p.label) for p in plan.planned] == [
        ("trace-api-web", "3f9c2a1 → a41c9e7"),
        ("trace-api-worker", "3f9c2a1 → a41c9e7"),
    ]
    assert (
        plan.planned[0].patch.body["metadata"]["annotations"]["kubernetes.io/change-cause"]
        == "promote a41c9e7"
    )
    assert dict(plan.unchanged) == {"trace-api-clock": "no counterpart in the source namespace"}


def test_app_tag_requires_one_tag():
    two = deployment("web", extra=[{"name": "b", "image": f"{REPO}:other00"}])
    with pytest.raises(NodeappError, match="runs 2 tags"):
        app_tag(two, REPO)


def test_plan_release_puts_the_recorded_template_back_and_guards_it():
    from kubectl_trace.release.records import template_digest, template_of

    live = deployment("web", "3f9c2a1", rv="1000")
    old = deployment("web", "8b1d0e4")
    template = template_of(old)
    target = ReleaseTarget("web", live, template, template_digest(template), "3f9c2a1", "8b1d0e4", "")
    plan = plan_release([target], "rollback to v1 by ana at 2026-03-01T12:00:00Z")
    [planned] = plan.planned
    assert planned.label == "3f9c2a1 → 8b1d0e4" and planned.patch.summary == "web 3f9c2a1 → 8b1d0e4"
    ops = planned.patch.body
    assert ops[0] == {"op": "test", "path": "/metadata/resourceVersion", "value": "1000"}
    assert ops[1] == {"op": "replace", "path": "/spec/template", "value": template}
    assert ops[2]["path"] == "/metadata/annotations/kubernetes.io~1change-cause"
    # a status update meanwhile: rebuilt on the new resourceVersion
    assert planned.build(deployment("web", "3f9c2a1", rv="2000")).body[0]["value"] == "2000"
    # someone else changed the template: stop, do not overwrite
    with pytest.raises(Drift):
        planned.build(deployment("web", "5ome0ne"))
    assert planned.build(old) is None  # already there
    same = plan_release([ReleaseTarget("web", old, template, target.digest, "8b1d0e4", "8b1d0e4")], "c")
    assert not same.planned and same.unchanged == (("trace-api-web", "already runs this template (8b1d0e4)"),)


def test_plan_env_set_reapplies_over_concurrent_changes():
    d = deployment("web")
    plan = plan_env_set([d], lambda _: ["web"], [EnvAssignment("A", value="1")], "env set A")
    # meanwhile someone set B: the rebuilt patch keeps B and adds A
    theirs = apply_strategic_merge_patch(
        d,
        {
            "spec": {
                "template": {"spec": {"containers": [{"name": "web", "env": [{"name": "B", "value": "2"}]}]}}
            }
        },
    )
    theirs["metadata"]["resourceVersion"] = "1001"
    ours = apply_strategic_merge_patch(theirs, plan.planned[0].build(theirs).body)
    names = [e["name"] for e in ours["spec"]["template"]["spec"]["containers"][0]["env"]]
    assert names == ["PROCESS_TYPE", "B", "A"]


def test_plan_scale_absolute_and_relative():
    web, worker = deployment("web", replicas=1), deployment("worker", replicas=2)
    plan = plan_scale([web, worker], {"trace-api-web": 5, "trace-api-worker": 2}, {"trace-api-web": True})
    assert [(p.name, p.label) for p in plan.planned] == [("trace-api-web", "1 → 5 pods")]
    assert dict(plan.unchanged) == {"trace-api-worker": "already at 2"}
    with pytest.raises(Drift, match="scaled to 4"):
        plan.planned[0].build(deployment("web", replicas=4))


def test_plan_restart_every_deployment():
    plan = plan_restart([deployment("web"), deployment("worker")], "2026-03-01T12:00:00Z", "restart")
    assert len(plan.planned) == 2 and not plan.unchanged
