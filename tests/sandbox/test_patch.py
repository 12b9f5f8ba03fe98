"""Strategic merge, JSON merge and JSON patch as kubectl sends them (pure)."""

from __future__ import annotations

import copy

import pytest

from kubectl_trace.sandbox.server.patch import (
    PatchError,
    apply_json_patch,
    apply_merge_patch,
    apply_strategic_merge_patch,
)


def _deployment() -> dict:
    return {
        "metadata": {"name": "web", "annotations": {"a": "1", "kubernetes.io/change-cause": "v1"}},
        "spec": {
            "replicas": 3,
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "reg/app:1",
                            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                        },
                        {"name": "sidecar", "image": "reg/side:1"},
                    ]
                },
            },
        },
    }


def test_set_image_body_merges_containers_by_name() -> None:
    original = _deployment()
    snapshot = copy.deepcopy(original)
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}],
                    "containers": [{"image": "reg/app:2", "name": "app"}],
                }
            }
        }
    }
    result = apply_strategic_merge_patch(original, patch)
    containers = result["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["app", "sidecar"]
    assert containers[0]["image"] == "reg/app:2"
    assert containers[0]["env"] == snapshot["spec"]["template"]["spec"]["containers"][0]["env"]
    assert containers[1] == {"name": "sidecar", "image": "reg/side:1"}
    assert "$setElementOrder/containers" not in result["spec"]["template"]["spec"]
    assert original == snapshot  # inputs untouched


def test_strategic_merge_env_by_name_null_deletes_and_directives() -> None:
    patch = {
        "metadata": {"annotations": {"a": None, "b": "2"}},
        "spec": {
            "paused": True,
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "env": [{"name": "B", "$patch": "delete"}, {"name": "C", "value": "3"}],
                        },
                        {"name": "sidecar", "$patch": "delete"},
                    ]
                }
            },
        },
    }
    result = apply_strategic_merge_patch(_deployment(), patch)
    assert result["metadata"]["annotations"] == {"kubernetes.io/change-cause": "v1", "b": "2"}
    assert result["spec"]["paused"] is True
    (app,) = result["spec"]["template"]["spec"]["containers"]
    assert app["env"] == [{"name": "A", "value": "1"}, {"name": "C", "value": "3"}]


def test_strategic_merge_replace_directive_and_plain_lists() -> None:
    patch = {
        "spec": {
            "template": {
                "metadata": {"$patch": "replace", "labels": {"app": "other"}},
                "spec": {"containers": [{"name": "app", "args": ["--x"]}]},
            }
        }
    }
    result = apply_strategic_merge_patch(_deployment(), patch)
    assert result["spec"]["template"]["metadata"] == {"labels": {"app": "other"}}
    assert result["spec"]["template"]["spec"]["containers"][0]["args"] == ["--x"]
    with pytest.raises(PatchError):
        apply_strategic_merge_patch(_deployment(), [1, 2])


def test_rollout_restart_annotation_patch() -> None:
    patch = {
        "spec": {
            "template": {
                "metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}}
            }
        }
    }
    result = apply_strategic_merge_patch(_deployment(), patch)
    assert result["spec"]["template"]["metadata"] == {
        "labels": {"app": "web"},
        "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"},
    }


def test_merge_patch_rfc7386() -> None:
    result = apply_merge_patch(
        _deployment(), {"spec": {"replicas": 5, "template": None}, "metadata": {"labels": {"x": "y"}}}
    )
    assert result["spec"] == {"replicas": 5}
    assert result["metadata"]["labels"] == {"x": "y"}


def test_json_patch_like_rollout_undo() -> None:
    template = {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "app", "image": "reg/app:0"}]},
    }
    ops = [
        {"op": "replace", "path": "/spec/template", "value": template},
        {
            "op": "replace",
            "path": "/metadata/annotations",
            "value": {"deployment.kubernetes.io/revision": "3"},
        },
    ]
    result = apply_json_patch(_deployment(), ops)
    assert result["spec"]["template"] == template
    assert result["metadata"]["annotations"] == {"deployment.kubernetes.io/revision": "3"}


def test_json_patch_operations_and_errors() -> None:
    doc = {"a": {"b": [1, 2, 3]}, "x~y": 1, "s/t": 2}
    result = apply_json_patch(
        doc,
        [
            {"op": "add", "path": "/a/b/-", "value": 4},
            {"op": "add", "path": "/a/b/0", "value": 0},
            {"op": "remove", "path": "/a/b/1"},
            {"op": "test", "path": "/x~0y", "value": 1},
            {"op": "copy", "from": "/s~1t", "path": "/c"},
            {"op": "move", "from": "/c", "path": "/d"},
        ],
    )
    assert result == {"a": {"b": [0, 2, 3, 4]}, "x~y": 1, "s/t": 2, "d": 2}
    with pytest.raises(PatchError):
        apply_json_patch(doc, [{"op": "test", "path": "/x~0y", "value": 2}])
    with pytest.raises(PatchError):
        apply_json_patch(doc, [{"op": "replace", "path": "/missing/key", "value": 1}])
    with pytest.raises(PatchError):
        apply_json_patch(doc, [{"op": "remove", "path": "/a/b/9"}])
    with pytest.raises(PatchError) as bad:
        apply_json_patch(doc, {"op": "add"})
    assert bad.value.code == 400
