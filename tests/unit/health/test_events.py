from kubectl_trace.health import event_record, group_events, index_events, timeline
from kubectl_trace.health.events import events_for
from tests.factories import NOW, READINESS_503, event, ts


def test_classic_event_record():
    e = event("Unhealthy", READINESS_503, type="Warning", count=12, first=-180, last=-2)
    r = event_record(e)
    assert (r.kind, r.object_name, r.container) == ("Pod", "trace-api-web-7d9f8c6b5-x2k4q", "web")
    assert r.warning and r.reason == "Unhealthy"
    assert (r.count, r.first_at, r.last_at) == (12, NOW - 180, NOW - 2)
    assert r.span == "×12 over 2m58s"
    assert r.object_ref == "pod/trace-api-web-7d9f8c6b5-x2k4q"
    assert r.source == "kubelet"


def test_event_record_is_a_whole_frozen_record():
    # event_record builds its records without the dataclass __init__ (speed): they must
    # still be complete, equal to one built normally, hashable and frozen.
    import dataclasses

    import pytest

    from kubectl_trace.health.events import EventRecord

    r = event_record(event("Unhealthy", "Liveness probe failed", type="Warning"))
    built = EventRecord(**{f.name: getattr(r, f.name) for f in dataclasses.fields(EventRecord)})
    assert r == built and hash(r) == hash(built)
    assert set(vars(r)) == {f.name for f in dataclasses.fields(EventRecord)}
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.count = 2  # type: ignore[misc]
    assert dataclasses.replace(r, count=5).count == 5


def test_series_event_record():
    # An events.k8s.io recorder seen through core/v1: eventTime + series, no timestamps/count.
    e = {
        "metadata": {"name": "trace-api-web.1", "namespace": "production", "uid": "u1"},
        "involvedObject": {"kind": "Deployment", "namespace": "production", "name": "trace-api-web"},
        "reason": "ScalingReplicaSet",
        "message": "Scaled up replica set trace-api-web-6b7f to 1 from 0",
        "type": "Normal",
        "eventTime": "2026-03-01T11:57:00.123456Z",
        "series": {"count": 3, "lastObservedTime": "2026-03-01T11:59:00.000000Z"},
        "reportingComponent": "deployment-controller",
        "firstTimestamp": None,
        "lastTimestamp": None,
    }
    r = event_record(e)
    assert r.count == 3
    assert abs(r.first_at - (NOW - 180 + 0.123456)) < 1e-6
    assert r.last_at == NOW - 60
    assert r.source == "deployment-controller"
    assert r.container is None and r.object_ref == "deploy/trace-api-web"
    assert r.span == "×3 over 119s"


def test_minimal_event_defaults():
    r = event_record({"metadata": {"name": "x", "creationTimestamp": ts(-5)}, "involvedObject": {}})
    assert r.count == 1 and r.type == "Normal" and r.first_at == r.last_at == NOW - 5
    assert r.span == ""


def test_timeline_order_and_filters():
    scaled = event(
        "ScalingReplicaSet",
        "Scaled up replica set trace-api-web-6b7f to 1 from 0",
        kind="Deployment",
        name="trace-api-web",
        first=-200,
        container=None,
        component="deployment-controller",
    )
    created = event(
        "SuccessfulCreate",
        "Created pod: trace-api-web-6b7f-abcde",
        kind="ReplicaSet",
        name="trace-api-web-6b7f",
        first=-199,
        container=None,
        component="replicaset-controller",
    )
    unhealthy = event("Unhealthy", "Readiness probe failed: x", type="Warning", count=9, first=-150, last=-1)
    records = timeline([unhealthy, created, scaled])
    assert [r.reason for r in records] == ["ScalingReplicaSet", "SuccessfulCreate", "Unhealthy"]
    assert [r.reason for r in timeline([unhealthy, created, scaled], types=["warning"])] == ["Unhealthy"]
    assert [r.reason for r in timeline([unhealthy, created, scaled], since_at=NOW - 100)] == ["Unhealthy"]


def test_group_merges_same_message_on_same_object():
    a = event(
        "BackOff", "Back-off restarting failed container web", type="Warning", count=3, first=-300, last=-200
    )
    b = event(
        "BackOff", "Back-off restarting failed container web", type="Warning", count=4, first=-100, last=-10
    )
    other = event("BackOff", "Back-off restarting failed container web", name="other-pod", count=1)
    grouped = group_events([a, b, other])
    assert len(grouped) == 2
    merged = next(r for r in grouped if r.object_name != "other-pod")
    assert (merged.count, merged.first_at, merged.last_at) == (7, NOW - 300, NOW - 10)
    assert merged.span == "×7 over 4m50s"


def test_group_keeps_the_newest_version_of_one_event():
    a = event("Unhealthy", "Readiness probe failed: x", count=3, first=-30, last=-20)
    newer = {**a, "count": 5, "lastTimestamp": ts(-1)}
    [r] = group_events([a, newer])
    assert (r.count, r.last_at) == (5, NOW - 1)


def test_index_lookup_and_uid_check():
    mine = event("Pulled", "ok", uid="u-1")
    stale = event("Pulled", "old", uid="u-0")
    idx = index_events([mine, stale])
    assert len(idx) == 2
    found = events_for(idx, "Pod", "production", "trace-api-web-7d9f8c6b5-x2k4q", "u-1")
    assert [r.message for r in found] == ["ok"]
    assert events_for(None, "Pod", "production", "x") == ()


def _rec(kind, name):
    return event_record(event("X", "m", kind=kind, name=name, container=None))


def test_scope_of_a_deployment_covers_its_replicasets_and_pods_by_name():
    from kubectl_trace.health import EventScope

    scope = EventScope.of(deployments=["trace-api-web"])
    assert scope.matches(_rec("Deployment", "trace-api-web"))
    assert scope.matches(_rec("ReplicaSet", "trace-api-web-6b7f4d9c8"))
    assert scope.matches(_rec("Pod", "trace-api-web-6b7f4d9c8-x2k4q"))
    assert not scope.matches(_rec("Deployment", "trace-api-worker"))
    assert not scope.matches(_rec("Pod", "trace-api-worker-6b7f4d9c8-x2k4q"))
    assert not scope.matches(_rec("Pod", "trace-api-web-canary-6b7f4d9c8-x2k4q"))
    assert not scope.matches(_rec("ReplicaSet", "trace-api-web-canary-6b7f4d9c8"))


def test_scope_of_pods_and_patterns():
    import re

    from kubectl_trace.health import EventScope

    one = EventScope.of(pods=["p-1"])
    assert one.matches(_rec("Pod", "p-1")) and not one.matches(_rec("Pod", "p-2"))
    pattern = EventScope.of(name_pattern=re.compile("web"))
    assert pattern.matches(_rec("ReplicaSet", "trace-api-web-1")) and not pattern.matches(_rec("Node", "web"))
    assert EventScope.of(everything=True).matches(_rec("Node", "n1"))
