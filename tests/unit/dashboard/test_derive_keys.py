"""Frame derivation (selection, pod order, filter, the tailed pod) and the pure key handler."""

import copy
from dataclasses import replace

from kubectl_trace.dashboard.derive import FrameCache, derive
from kubectl_trace.dashboard.keys import handle_key, previous_revision
from kubectl_trace.dashboard.reducer import reduce, reduce_all
from kubectl_trace.dashboard.state import WatchInput, empty_snapshot
from kubectl_trace.dashboard.ui import Action, UiState
from tests.factories.rollout import NOW, NS, deployment, event, pod, replicaset, stalled_story

FAILING = "trace-api-web-6f7c9d8b4-p9w2m"


def snapshot(story=None, namespace=NS):
    story = story or stalled_story()
    return reduce_all(
        empty_snapshot(namespace), [WatchInput(k, "RESET", NOW, items=tuple(v)) for k, v in story.items()]
    )


def test_default_selection_is_the_rollout_in_motion_and_pods_are_ordered():
    frame = derive(snapshot(), UiState(), NOW)
    assert frame.deployment_names == ("trace-api-web", "trace-api-worker", "trace-ui")
    assert frame.selected is not None and frame.selected.name == "trace-api-web"
    assert frame.selected.state == "progressing"
    assert [(r.name[-5:], r.revision, r.newest, r.ready) for r in frame.pods] == [
        ("p9w2m", 5, True, False),
        ("aa1bc", 4, False, True),
        ("k3j9d", 4, False, True),
        ("zz8qx", 4, False, True),
    ]
    assert (frame.pods_total, frame.pods_ready) == (4, 3)
    # nothing chosen: the tail goes to the new pod that is not ready
    assert frame.log_pod == FAILING and frame.pod_index == 0


def test_complete_namespace_selects_the_first_and_an_explicit_choice_sticks():
    story = stalled_story()
    story["deployments"] = story["deployments"][1:]
    frame = derive(snapshot(story), UiState(), NOW)
    assert frame.selected is not None and frame.selected.name == "trace-api-worker"
    frame = derive(snapshot(), UiState(deployment="trace-ui"), NOW)
    assert frame.selected is not None and frame.selected.name == "trace-ui"
    assert [r.name[-5:] for r in frame.pods] == ["u1v2w", "u3v4w"]


def test_auto_pod_moves_to_the_news_but_a_user_choice_stays():
    s = snapshot()
    old = "trace-api-web-5c6b1d9f7-k3j9d"
    auto = derive(s, UiState(pod=old, pod_auto=True), NOW)
    assert auto.log_pod == FAILING  # an old ready pod gives way to the new one that is not ready
    pinned = derive(s, UiState(pod=old, pod_auto=False), NOW)
    assert pinned.log_pod == old and pinned.pod is not None and pinned.pod.name == old
    gone = derive(s, UiState(pod="trace-api-web-gone-00000", pod_auto=False), NOW)
    assert gone.log_pod is None and gone.pod_index is None


def test_filter_matches_name_phase_reason_and_readiness():
    s = snapshot()
    assert [r.name[-5:] for r in derive(s, UiState(filter="K3J"), NOW).pods] == ["k3j9d"]
    assert [r.name[-5:] for r in derive(s, UiState(filter="not ready"), NOW).pods] == ["p9w2m"]
    frame = derive(s, UiState(filter="nothing-like-this"), NOW)
    assert frame.pods == () and frame.pods_total == 4 and frame.log_pod is None


def test_cache_is_keyed_on_snapshot_identity():
    cache = FrameCache()
    s0 = snapshot()
    first = derive(s0, UiState(), NOW, cache)
    assert derive(s0, UiState(), NOW, cache).pods[0].pod is first.pods[0].pod
    gone = s0.pods[FAILING]
    s1 = reduce(s0, WatchInput("pods", "DELETED", NOW, object=gone))
    assert FAILING not in [r.name for r in derive(s1, UiState(), NOW, cache).pods]
    assert [e.reason for e in first.events()][:2] == ["Unhealthy", "Started"]


# -- keys ------------------------------------------------------------------------------------


def frame_for(ui=None, s=None):
    ui = ui or UiState()
    return derive(s or snapshot(), ui, NOW)


def press(ui, *keys, s=None, page=3):
    action = None
    for key in keys:
        ui, action = handle_key(ui, frame_for(ui, s), key, page=page, now=NOW)
    return ui, action


def test_arrows_move_the_deployment_then_the_pods():
    ui, _ = press(UiState(deployment="trace-api-web"), "down")
    assert ui.deployment == "trace-api-worker" and ui.pod is None and ui.pod_auto
    ui, _ = press(ui, "down", "down", "down")
    assert ui.deployment == "trace-ui"
    ui, _ = press(ui, "home")
    assert ui.deployment == "trace-api-web"
    ui, _ = press(ui, "enter")
    assert ui.focus == "pods"
    ui, _ = press(ui, "down", "j")
    assert ui.pod == "trace-api-web-5c6b1d9f7-k3j9d" and not ui.pod_auto
    ui, _ = press(ui, "end")
    assert ui.pod == "trace-api-web-5c6b1d9f7-zz8qx" and ui.pod_offset == 1  # page of 3 rows
    ui, _ = press(ui, "pageup")
    assert ui.pod == FAILING and ui.pod_offset == 0
    ui, _ = press(ui, "escape")
    assert ui.focus == "deployments"
    ui, _ = press(ui, "tab")
    assert ui.focus == "pods"


def test_undo_asks_then_returns_the_action_with_the_previous_revision():
    ui, action = press(UiState(), "U")
    assert action is None and ui.confirm is not None
    assert ui.confirm.title == "Undo trace-api-web only (kubectl rollout undo)?"
    assert ui.confirm.lines == (
        "namespace production",
        "from revision 5 (badc0de)",
        "to revision 4 (3f9c2a1)",
        "the app's other processes are left as they are",
    )
    no, action = press(ui, "enter")  # the default is no
    assert action is None and no.confirm is None and no.notice is not None and no.notice.text == "cancelled"
    ui, action = press(ui, "x")  # other keys leave the question open
    assert ui.confirm is not None and action is None
    ui, action = press(ui, "y")
    assert action == Action("undo", NS, "trace-api-web", revision=4) and ui.confirm is None


def test_u_asks_to_roll_back_the_whole_app():
    ui, action = press(UiState(), "u")
    assert action is None and ui.confirm is not None
    assert ui.confirm.title == "Roll back the whole app of trace-api-web?"
    assert "every process back to the app's last release whose rollout completed healthy" in ui.confirm.lines
    assert "U undoes this one Deployment only" in ui.confirm.lines
    ui, action = press(ui, "y")
    assert action == Action("app-rollback", NS, "trace-api-web") and ui.confirm is None


def test_previous_revision_is_the_second_highest():
    rollout = frame_for().selected
    assert rollout is not None and previous_revision(rollout) == (4, "3f9c2a1")


def test_undo_refused_when_paused_or_without_history():
    story = stalled_story()
    story["deployments"][0] = deployment(tag="badc0de", revision=5, generation=5, paused=True)
    ui, action = press(UiState(), "U", s=snapshot(story))
    assert action is None and ui.confirm is None
    assert ui.notice is not None and "paused" in ui.notice.text and ui.notice.level == "error"
    lone = deployment("lone", app="lone", revision=1, generation=1)
    rs = replicaset(lone, "1a2b3c4d5", revision=1, tag="3f9c2a1", replicas=3)
    story = {"deployments": [lone], "replicasets": [rs], "pods": [pod(rs, "aaaaa")], "events": []}
    ui, action = press(UiState(), "U", s=snapshot(story))
    assert action is None and ui.notice is not None and "no previous revision" in ui.notice.text


def test_pause_restart_confirm_in_production_only():
    ui, action = press(UiState(), "r")
    assert action is None and ui.confirm is not None and ui.confirm.action.kind == "restart"
    ui, action = press(ui, "y")
    assert action == Action("restart", NS, "trace-api-web")
    staging = copy.deepcopy(stalled_story())
    for objs in staging.values():
        for obj in objs:
            obj["metadata"]["namespace"] = "staging"
    s = snapshot(staging, namespace="staging")
    ui, action = press(UiState(), "p", s=s)
    assert action == Action("pause", "staging", "trace-api-web")
    paused = copy.deepcopy(staging)
    paused["deployments"][0]["spec"]["paused"] = True
    _, action = press(UiState(), "p", s=snapshot(paused, namespace="staging"))
    assert action == Action("resume", "staging", "trace-api-web")


def test_logs_shell_and_quit():
    _, action = press(UiState(), "l")
    assert action == Action("logs", NS, pod=FAILING)
    _, action = press(UiState(), "s")
    assert action == Action("shell", NS, pod=FAILING)
    _, action = press(UiState(), "q")
    assert action == Action("quit")
    _, action = press(UiState(filter="nothing-like-this"), "l")
    assert action is None


def test_filter_typing():
    ui, _ = press(UiState(), "/", "k", "3", "x", "backspace")
    assert ui.editing_filter and ui.filter == "k3" and ui.focus == "pods"
    ui, action = press(ui, "q")  # typed, not quit
    assert ui.filter == "k3q" and action is None
    ui, _ = press(ui, "backspace", "enter")
    assert not ui.editing_filter and ui.filter == "k3"
    ui, _ = press(ui, "escape")
    assert ui.filter == ""
    ui, _ = press(UiState(), "/", "a", "escape")
    assert ui.filter == "" and not ui.editing_filter


def test_help_closes_on_any_key():
    ui, _ = press(UiState(), "?")
    assert ui.help
    ui, action = press(ui, "q")
    assert not ui.help and action is None
    ui, action = press(replace(ui, help=False), "q")
    assert action == Action("quit")


def test_incremental_pod_rows_follow_changes_adds_and_deletes():
    cache = FrameCache()
    s = snapshot()
    first = derive(s, UiState(), NOW, cache)
    target = "trace-api-web-5c6b1d9f7-k3j9d"
    flipped = copy.deepcopy(s.pods[target])
    for condition in flipped["status"]["conditions"]:
        if condition["type"] == "Ready":
            condition["status"] = "False"
    s = reduce(s, WatchInput("pods", "MODIFIED", NOW, object=flipped))
    second = derive(s, UiState(), NOW, cache)
    assert [r.name for r in second.pods] == [r.name for r in first.pods]
    assert next(r for r in second.pods if r.name == target).ready is False
    assert second.pods_ready == first.pods_ready - 1
    added = copy.deepcopy(flipped)
    added["metadata"]["name"] = "trace-api-web-5c6b1d9f7-aaaaa"
    s = reduce_all(
        s,
        [
            WatchInput("pods", "ADDED", NOW, object=added),
            WatchInput("pods", "DELETED", NOW, object=s.pods["trace-api-web-5c6b1d9f7-zz8qx"]),
        ],
    )
    third = derive(s, UiState(), NOW, cache)
    assert [r.name[-5:] for r in third.pods] == ["p9w2m", "aa1bc", "aaaaa", "k3j9d"]
    assert [r.name for r in third.pods] == [
        r.name for r in derive(s, UiState(), NOW).pods
    ]  # same as uncached


def test_cached_scope_events_equal_the_uncached_ones_as_events_arrive():
    from kubectl_trace.dashboard.derive import scope_events

    cache = FrameCache()
    s = snapshot()
    assert cache.scope_events(s, "trace-api-web") == scope_events(s, "trace-api-web")
    for i in range(12):
        fresh = event(
            "Unhealthy", f"Readiness probe failed ({i % 3})", name=FAILING, type="Warning", first=-i
        )
        other = event(
            "Started", "Started container worker", name="trace-api-worker-77f5c8d9b-w1x2y", first=-i
        )
        s = reduce_all(
            s,
            [
                WatchInput("events", "ADDED", NOW, object=fresh),
                WatchInput("events", "ADDED", NOW, object=other),
            ],
        )
        assert cache.scope_events(s, "trace-api-web") == scope_events(s, "trace-api-web")
        assert cache.scope_events(s, None) == scope_events(s, None)
    grouped = cache.scope_events(s, "trace-api-web")
    assert [(e.reason, e.count) for e in grouped[:3]] == [
        ("Unhealthy", 4),
        ("Unhealthy", 4),
        ("Unhealthy", 4),
    ]
    assert all(not e.object_name.startswith("trace-api-worker") for e in grouped)
