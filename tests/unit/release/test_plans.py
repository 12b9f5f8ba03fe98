import pytest

from kubectl_trace.errors import NodeappError
from kubectl_trace.release.patches import Drift, EnvAssignment
from kubectl_trace.release.plans import (
    app_tag,
    plan_deploy,
    plan_env_set,
    plan_promote,
    plan_restart,
    plan_rollback,
    plan_scale,
)
from kubectl_trace.sandbox.server.patch import apply_strategic_merge_patch

from .objects import REPO, deployment, replicaset


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


def test_plan_rollback_labels_and_guards():
    d = deployment("web", revision=2)
    rss = [
        replicaset(d, "8b1d0e4", 1, hash_="aaa111"),
        replicaset(d, "3f9c2a1", 2, hash_="bbb222", replicas=3),
    ]
    plan = plan_rollback([d], rss, 0, REPO)
    assert plan.planned[0].label == "rev 2 → 1 (3f9c2a1 → 8b1d0e4)"
    assert plan.planned[0].build(deployment("web", revision=2, rv="2000")) is not None
    with pytest.raises(Drift):
        plan.planned[0].build(deployment("web", tag="5ome0ne", revision=3))
    skipped = plan_rollback([d], rss, 2, REPO)
    assert not skipped.planned and "already matches revision 2" in skipped.unchanged[0][1]


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
