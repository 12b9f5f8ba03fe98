import json

import pytest

from kubectl_trace.health import deployment_pods, deployment_replicasets, deployment_rollout, to_json
from kubectl_trace.health.rollout import resolve_int_or_percent
from tests.factories import NOW, STALLED_MESSAGE, deployment, pod, replicaset, stalled_deployment


def test_complete():
    d = deployment()
    rs_new = replicaset(d, "7d9f8c6b5", revision=4, tag="3f9c2a1", replicas=3)
    rs_old = replicaset(d, "5c6b1a2f3", revision=3, tag="8b1d0e4", replicas=0, created=-90000)
    r = deployment_rollout(d, [rs_old, rs_new], NOW)
    assert r.state == "complete" and r.ok and r.problems == ()
    assert r.revision == 4 and r.tags == ("3f9c2a1",)
    assert (r.desired, r.updated, r.ready, r.available, r.unavailable) == (3, 3, 3, 3, 0)
    assert r.new is not None and r.new.name == "trace-api-web-7d9f8c6b5" and r.new.revision == 4
    assert r.old == ()
    assert [x.revision for x in r.history] == [4, 3]
    assert r.progress == 1.0
    assert (r.max_surge, r.max_unavailable) == (1, 0)  # 25% of 3: surge rounds up, unavailable down
    assert r.summary == "3f9c2a1 running: 3/3 available"
    assert r.revision_of("5c6b1a2f3") == 3


def test_progressing_rollout_with_surge():
    d = deployment(
        tag="a41c9e7",
        revision=5,
        strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
        progressing=("True", "ReplicaSetUpdated", 'ReplicaSet "trace-api-web-6b7f4d9c8" is progressing.'),
        status={"replicas": 4, "updatedReplicas": 2, "readyReplicas": 3, "availableReplicas": 3},
        progress_at=-41,
    )
    new = replicaset(d, "6b7f4d9c8", revision=5, tag="a41c9e7", replicas=2, ready=1, available=1, created=-60)
    old = replicaset(d, "7d9f8c6b5", revision=4, tag="3f9c2a1", replicas=2)
    r = deployment_rollout(d, [old, new], NOW)
    assert r.state == "progressing" and r.ok
    assert r.new.name == "trace-api-web-6b7f4d9c8"
    assert [x.name for x in r.old] == ["trace-api-web-7d9f8c6b5"]
    assert r.old_tags == ("3f9c2a1",)
    assert (r.surge, r.max_surge, r.over_surge) == (1, 1, False)
    assert (r.unavailable, r.max_unavailable, r.over_unavailable) == (0, 0, False)
    assert r.progress == pytest.approx(1 / 3)
    assert r.deadline_left == pytest.approx(600 - 41)
    assert r.summary == "rolling out 3f9c2a1 → a41c9e7: 2/3 updated, 3 available"


def test_stalled_rollout():
    d, (new, old) = stalled_deployment()
    message = STALLED_MESSAGE
    r = deployment_rollout(d, [new, old], NOW)
    assert r.state == "stalled" and not r.ok
    assert r.message == message
    [problem] = r.problems
    assert problem.code == "ProgressDeadlineExceeded" and message in problem.message
    assert r.deadline_left is None
    assert r.summary == f"stalled rolling out badc0de: {message}"


def test_paused_and_unobserved():
    paused = deployment_rollout(
        deployment(paused=True, progressing=("Unknown", "DeploymentPaused", "Deployment is paused")), [], NOW
    )
    assert paused.state == "paused" and paused.message == "Deployment is paused" and paused.ok
    assert [p.severity for p in paused.problems] == ["warning"]
    unobserved = deployment_rollout(deployment(generation=8, observed=7), [], NOW)
    assert unobserved.state == "progressing" and not unobserved.observed


def test_minimum_availability_lost():
    d = deployment(
        available=("False", "MinimumReplicasUnavailable"),
        status={"readyReplicas": 1, "availableReplicas": 1, "unavailableReplicas": 2},
    )
    r = deployment_rollout(d, [], NOW)
    assert not r.ok and r.problems[0].code == "MinimumReplicasUnavailable"
    assert r.over_unavailable and r.unavailable == 2


def test_recreate_strategy():
    r = deployment_rollout(deployment(strategy={"type": "Recreate"}), [], NOW)
    assert (r.strategy, r.max_surge, r.max_unavailable) == ("Recreate", 0, 3)


@pytest.mark.parametrize(
    ("value", "total", "up", "expected"),
    [
        ("25%", 3, True, 1),
        ("25%", 3, False, 0),
        ("25%", 4, False, 1),
        ("50%", 3, True, 2),
        (2, 10, True, 2),
        (None, 8, False, 2),
    ],
)
def test_resolve_int_or_percent(value, total, up, expected):
    assert resolve_int_or_percent(value, total, round_up=up, default="25%") == expected


def test_fencepost_both_zero_gives_one_unavailable():
    d = deployment(
        replicas=3,
        strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "0%", "maxUnavailable": "10%"}},
    )
    r = deployment_rollout(d, [], NOW)
    assert (r.max_surge, r.max_unavailable) == (0, 1)


def test_replicasets_and_pods_are_picked_by_owner_and_selector():
    web = deployment()
    worker = deployment("trace-api-worker", uid="deploy-uid-worker", process="worker")
    mine = replicaset(web, "7d9f8c6b5", revision=4, tag="3f9c2a1", replicas=3)
    theirs = replicaset(worker, "11aa22bb3", revision=2, tag="3f9c2a1", replicas=2)
    assert deployment_replicasets(web, [mine, theirs]) == [mine]
    web_pod = pod()
    worker_pod = pod("trace-api-worker-11aa22bb3-abcde")
    worker_pod["metadata"]["labels"]["process"] = "worker"
    assert deployment_pods(web, [worker_pod, web_pod]) == [web_pod]


def test_new_replicaset_found_by_template_without_revision_annotation():
    d = deployment(tag="a41c9e7")
    rs = replicaset(d, "6b7f4d9c8", revision=5, tag="a41c9e7", replicas=3)
    del rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
    old = replicaset(d, "7d9f8c6b5", revision=4, tag="3f9c2a1", replicas=0)
    r = deployment_rollout(d, [old, rs], NOW)
    assert r.new is not None and r.new.name == "trace-api-web-6b7f4d9c8"


def test_json():
    d = deployment()
    data = to_json(
        deployment_rollout(d, [replicaset(d, "7d9f8c6b5", revision=4, tag="3f9c2a1", replicas=3)], NOW)
    )
    json.dumps(data)
    assert data["state"] == "complete" and data["new"]["created_at"] == "2026-03-01T11:00:00Z"


def test_availability_wording_when_the_strategy_promises_none():
    recreate = deployment(
        replicas=1,
        strategy={"type": "Recreate"},
        available=("False", "MinimumReplicasUnavailable"),
        status={"replicas": 1, "readyReplicas": 0, "availableReplicas": 0, "unavailableReplicas": 1},
    )
    r = deployment_rollout(recreate, [], NOW)
    assert r.problems[0].message == "0 of 1 replica available"
    rolling = deployment(
        available=("False", "MinimumReplicasUnavailable"),
        status={"readyReplicas": 1, "availableReplicas": 1, "unavailableReplicas": 2},
    )
    message = deployment_rollout(rolling, [], NOW).problems[0].message
    assert message.startswith("only 1 of 3 replicas available (fewer than the ")
