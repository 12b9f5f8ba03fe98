"""The persistent map and the reducer: watch events fold into immutable snapshots."""

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_trace.dashboard.pmap import PMap
from kubectl_trace.dashboard.reducer import reduce, reduce_all
from kubectl_trace.dashboard.state import (
    LOG_LINES,
    LogInput,
    LogLine,
    NoticeInput,
    WatchInput,
    empty_snapshot,
)
from tests.factories.rollout import NOW, NS, READINESS_503, event, stalled_story


def listed(story=None):
    story = story or stalled_story()
    s = empty_snapshot(NS)
    return reduce_all(
        s, [WatchInput(kind, "RESET", NOW, items=tuple(items)) for kind, items in story.items()]
    )


# -- PMap ------------------------------------------------------------------------------------


def test_pmap_set_delete_and_sharing():
    a = PMap({f"k{i}": i for i in range(1000)})
    b = a.set("k1", 100).delete("k2").set("new", 7)
    assert (len(a), len(b)) == (1000, 1000)
    assert a["k1"] == 1 and b["k1"] == 100
    assert "k2" in a and "k2" not in b
    assert b.get("new") == 7 and a.get("new") is None
    # one change copies one shard: the other 63 are the very same dicts
    c = a.set("k5", -5)
    shared = sum(1 for x, y in zip(a._shards, c._shards, strict=True) if x is y)
    assert shared == 63
    assert a.set("k5", a["k5"]) is a and a.delete("absent") is a


def test_pmap_evolver_copies_each_touched_shard_once_and_leaves_the_original():
    a = PMap({i: str(i) for i in range(500)})
    e = a.evolver()
    for i in range(0, 500, 2):
        e.delete(i)
    e.set(1000, "x")
    b = e.persistent()
    assert len(a) == 500 and len(b) == 251
    assert sorted(b) == [*range(1, 500, 2), 1000]
    e.set(2000, "y")  # changes after persistent() never leak into the published map
    assert 2000 not in b and 2000 in e.persistent()
    assert a.evolver().persistent() is a


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["set", "del"]), st.integers(0, 40), st.integers()), max_size=80))
def test_pmap_behaves_like_a_dict(ops):
    model: dict[int, int] = {}
    m: PMap[int, int] = PMap.empty()
    e = m.evolver()
    for op, key, value in ops:
        if op == "set":
            model[key] = value
            m = m.set(key, value)
            e.set(key, value)
        else:
            model.pop(key, None)
            m = m.delete(key)
            e.delete(key)
    assert dict(m.items()) == model == dict(e.persistent().items())
    assert len(m) == len(model)


# -- objects ---------------------------------------------------------------------------------


def test_reset_then_changes_of_each_kind():
    s0 = listed()
    assert s0.synced and s0.live
    assert sorted(s0.deployments) == ["trace-api-web", "trace-api-worker", "trace-ui"]
    assert len(s0.pods) == 8 and len(s0.replicasets) == 5
    pod = next(p for p in s0.pods.values() if p["metadata"]["name"].endswith("k3j9d"))
    name = pod["metadata"]["name"]
    changed = copy.deepcopy(pod)
    changed["status"]["phase"] = "Failed"
    s1 = reduce(s0, WatchInput("pods", "MODIFIED", NOW + 1, object=changed))
    assert s1.pods[name]["status"]["phase"] == "Failed"
    assert s0.pods[name]["status"]["phase"] == "Running"  # the old snapshot is untouched
    assert s1.version == s0.version + 1 and s1.updated_at == NOW + 1
    # objects that did not change are shared, not copied
    other = next(n for n in s0.pods if n != name)
    assert s1.pods[other] is s0.pods[other] and s1.deployments is s0.deployments
    s2 = reduce(s1, WatchInput("pods", "DELETED", NOW + 2, object=changed))
    assert name not in s2.pods and len(s2.pods) == 7
    added = copy.deepcopy(pod)
    added["metadata"]["name"] = "trace-api-web-5c6b1d9f7-new01"
    s3 = reduce(s2, WatchInput("pods", "ADDED", NOW + 3, object=added))
    assert "trace-api-web-5c6b1d9f7-new01" in s3.pods


def test_objects_of_another_kind_are_not_believed():
    s0 = listed()
    rs = next(iter(s0.replicasets.values()))
    s1 = reduce(s0, WatchInput("deployments", "MODIFIED", NOW, object=rs))
    assert sorted(s1.deployments) == sorted(s0.deployments)
    s2 = reduce(s0, WatchInput("pods", "RESET", NOW, items=(rs, *s0.pods.values())))
    assert len(s2.pods) == len(s0.pods)


def test_a_relist_replaces_everything_of_its_kind():
    s0 = listed()
    only = next(iter(s0.pods.values()))
    s1 = reduce(s0, WatchInput("pods", "RESET", NOW + 5, items=(only,)))
    assert list(s1.pods) == [only["metadata"]["name"]]
    assert s1.links["pods"].relists == 1 and s1.links["pods"].synced_at == NOW + 5
    assert len(s1.deployments) == 3


def test_batch_equals_one_by_one():
    s0 = listed()
    pods = list(s0.pods.values())
    a, b = copy.deepcopy(pods[0]), copy.deepcopy(pods[1])
    a["status"]["phase"] = "Succeeded"
    inputs = [
        WatchInput("pods", "MODIFIED", NOW + 1, object=a),
        WatchInput("pods", "DELETED", NOW + 2, object=b),
        WatchInput("pods", "ADDED", NOW + 3, object={**b, "metadata": {**b["metadata"], "name": "x-1"}}),
        WatchInput("deployments", "DELETED", NOW + 4, object=s0.deployments["trace-ui"]),
    ]
    batched = reduce_all(s0, inputs)
    single = s0
    for item in inputs:
        single = reduce(single, item)
    assert dict(batched.pods.items()) == dict(single.pods.items())
    assert dict(batched.deployments.items()) == dict(single.deployments.items())
    assert batched.version == s0.version + 1 and single.version == s0.version + 4
    assert reduce_all(s0, []) is s0


# -- events ----------------------------------------------------------------------------------


def test_events_are_indexed_by_object_and_updated_in_place():
    s0 = listed()
    pod = "trace-api-web-6f7c9d8b4-p9w2m"
    unhealthy = [r for r in s0.pod_events(pod) if r.reason == "Unhealthy"]
    assert len(unhealthy) == 1 and unhealthy[0].count == 3
    bumped = event(
        "Unhealthy",
        READINESS_503,
        name=pod,
        type="Warning",
        count=7,
        first=-30,
        last=-1,
        uid=unhealthy[0].uid,
    )
    s1 = reduce(s0, WatchInput("events", "MODIFIED", NOW, object=bumped))
    again = [r for r in s1.pod_events(pod) if r.reason == "Unhealthy"]
    assert [r.count for r in again] == [7]
    assert len(s1.events) == len(s0.events)
    s2 = reduce(s1, WatchInput("events", "DELETED", NOW, object=bumped))
    assert not [r for r in s2.pod_events(pod) if r.reason == "Unhealthy"]
    assert len(s2.events) == len(s0.events) - 1
    fresh = event("Killing", "Stopping container web", name="some-pod-abc12")
    s3 = reduce(s2, WatchInput("events", "ADDED", NOW, object=fresh))
    assert [r.reason for r in s3.pod_events("some-pod-abc12")] == ["Killing"]


# -- connection state ------------------------------------------------------------------------


def test_connection_states_and_the_stale_window():
    s = empty_snapshot(NS)
    assert not s.synced and not s.live and s.down == ()
    s = reduce(s, WatchInput("pods", "DISCONNECTED", NOW, error="connection refused", retry_in=0.5))
    assert s.links["pods"].state == "connecting" and s.links["pods"].error == "connection refused"
    s = listed()
    s = reduce(
        s,
        WatchInput("pods", "DISCONNECTED", NOW + 10, error="the API server is unavailable (503)", retry_in=2),
    )
    s = reduce(
        s,
        WatchInput("pods", "DISCONNECTED", NOW + 12, error="the API server is unavailable (503)", retry_in=4),
    )
    link = s.links["pods"]
    assert (link.state, link.down_since, link.retry_in) == ("reconnecting", NOW + 10, 4)
    assert not s.live and s.synced and s.stale_since == NOW + 10
    assert [k for k, _ in s.down] == ["pods"]
    s = reduce(s, WatchInput("pods", "RECONNECTED", NOW + 15))
    assert s.live and s.down == () and s.stale_since is None
    s = reduce(s, WatchInput("events", "FAILED", NOW + 20, error="forbidden: cannot watch events"))
    assert s.links["events"].state == "failed" and not s.live


# -- log tail and notices --------------------------------------------------------------------


def line(n):
    return LogLine(NOW + n, f"t{n}", "info", f"line {n}")


def test_log_tail_generations_and_cap():
    s = empty_snapshot(NS)
    s = reduce(s, LogInput(1, "open", NOW, pod="a", container="web"))
    assert (s.log.pod, s.log.status) == ("a", "connecting")
    s = reduce(s, LogInput(1, "lines", NOW, lines=tuple(line(i) for i in range(150))))
    s = reduce(s, LogInput(1, "lines", NOW, lines=tuple(line(i) for i in range(150, 260))))
    assert (
        len(s.log.lines) == LOG_LINES and s.log.lines[-1].text == "line 259" and s.log.status == "streaming"
    )
    s = reduce(s, LogInput(2, "open", NOW, pod="b", container="web"))
    s = reduce(s, LogInput(1, "lines", NOW, lines=(line(999),)))  # late lines of the old pod
    assert s.log.pod == "b" and s.log.lines == ()
    s = reduce(s, LogInput(2, "status", NOW, status="waiting", detail="ContainerCreating"))
    assert (s.log.status, s.log.detail) == ("waiting", "ContainerCreating")


def test_notice():
    s = reduce(empty_snapshot(NS), NoticeInput("rolled back", "info", NOW))
    assert s.notice is not None and (s.notice.text, s.notice.level, s.notice.at) == (
        "rolled back",
        "info",
        NOW,
    )
