"""History rows and kubectl's client-side undo, from ReplicaSet dicts."""

import pytest

from kubectl_trace.errors import NodeappError
from kubectl_trace.release.history import ANNOTATIONS_TO_SKIP, history_rows, undo_plan
from kubectl_trace.sandbox.server.patch import PatchError, apply_json_patch
from tests.factories.release import NOW, REPO, deployment, replicaset


def app_history():
    d = deployment("web", tag="3f9c2a1", revision=3, cause="deploy 3f9c2a1 by ana")
    d["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = "{}"
    rss = [
        replicaset(d, "8b1d0e4", 1, hash_="aaa111", cause="deploy 8b1d0e4 by bo", age=86400 * 20),
        replicaset(d, "c0ffee1", 2, hash_="bbb222", cause="deploy c0ffee1 by bo", age=86400 * 5),
        replicaset(d, "3f9c2a1", 3, hash_="ccc333", replicas=3, cause="deploy 3f9c2a1 by ana", age=3600),
    ]
    other = deployment("worker")
    rss.append(replicaset(other, "3f9c2a1", 7, hash_="ddd444"))  # not web's: ignored
    return d, rss


def test_history_rows_oldest_first_with_current_marked():
    d, rss = app_history()
    rows = history_rows(d, rss, REPO)
    assert [(r.revision, r.tags, r.change_cause, r.current) for r in rows] == [
        (1, ("8b1d0e4",), "deploy 8b1d0e4 by bo", False),
        (2, ("c0ffee1",), "deploy c0ffee1 by bo", False),
        (3, ("3f9c2a1",), "deploy 3f9c2a1 by ana", True),
    ]
    assert rows[0].created_at == NOW - 86400 * 20
    assert rows[2].replicaset == "trace-api-web-ccc333"


def test_current_is_the_template_match_even_if_the_annotation_lags():
    d, rss = app_history()
    d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "2"  # stale annotation
    rows = history_rows(d, rss)
    assert [r.revision for r in rows if r.current] == [3]


def test_undo_to_previous_revision_as_kubectl_does():
    d, rss = app_history()
    plan = undo_plan(d, rss)
    assert (plan.from_revision, plan.to_revision, plan.replicaset) == (3, 2, "trace-api-web-bbb222")
    ops = plan.patch.body
    assert [o["op"] for o in ops] == ["test", "test", "replace", "replace"]
    restored = apply_json_patch(d, ops)
    template = restored["spec"]["template"]
    assert template["spec"]["containers"][0]["image"] == f"{REPO}:c0ffee1"
    assert "pod-template-hash" not in template["metadata"]["labels"]
    annotations = restored["metadata"]["annotations"]
    # kept from the Deployment: revision and last-applied; everything else from the ReplicaSet
    assert annotations["deployment.kubernetes.io/revision"] == "3"
    assert annotations["kubectl.kubernetes.io/last-applied-configuration"] == "{}"
    assert annotations["kubernetes.io/change-cause"] == "deploy c0ffee1 by bo"
    assert "deployment.kubernetes.io/desired-replicas" not in annotations
    assert set(annotations) - {"kubernetes.io/change-cause"} <= ANNOTATIONS_TO_SKIP


def test_undo_to_a_given_revision_and_missing_one():
    d, rss = app_history()
    plan = undo_plan(d, rss, to_revision=1)
    assert plan.to_revision == 1
    assert apply_json_patch(d, plan.patch.body)["spec"]["template"]["spec"]["containers"][0][
        "image"
    ].endswith(":8b1d0e4")
    with pytest.raises(NodeappError, match=r"unable to find revision 9 .*\(it has: 1, 2, 3\)"):
        undo_plan(d, rss, to_revision=9)


def test_undo_skips_when_the_template_already_matches():
    d, rss = app_history()
    plan = undo_plan(d, rss, to_revision=3)
    assert plan.patch is None
    assert plan.skipped == "skipped rollback (current template already matches revision 3)"


def test_undo_without_history_and_when_paused():
    d, rss = app_history()
    with pytest.raises(NodeappError, match="no rollout history found"):
        undo_plan(d, rss[2:3])
    paused = deployment("web", paused=True)
    with pytest.raises(NodeappError, match="paused") as info:
        undo_plan(paused, rss)
    assert "kubectl rollout resume" in (info.value.hint or "")


def test_undo_patch_fails_its_test_after_a_concurrent_change():
    d, rss = app_history()
    plan = undo_plan(d, rss)
    moved = deployment("web", tag="5ome0ne", revision=4)
    with pytest.raises(PatchError, match="test failed"):
        apply_json_patch(moved, plan.patch.body)
