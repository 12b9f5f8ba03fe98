"""Renderers at fixed widths, colour off, exact text (the layout of the rollout screen)."""

import time

import pytest
from rich.cells import cell_len

from kubectl_trace.dashboard.derive import derive
from kubectl_trace.dashboard.reducer import reduce, reduce_all
from kubectl_trace.dashboard.state import NoticeInput, WatchInput, empty_snapshot
from kubectl_trace.dashboard.ui import Action, Confirm, UiNotice, UiState
from kubectl_trace.dashboard.views import ViewContext, allocate, screen_lines
from kubectl_trace.dashboard.widgets import Column, fit_columns, lines_text, shorten_left
from tests.factories.rollout import NOW, NS, deployment, pod, replicaset, stalled_story

from .render import console, render_once, render_screen, story_snapshot, with_logs

WIDE_120x40 = """\
 nodeapp rollout · context nodeapp-sandbox · namespace production                                       ● live 12:00:00
┌─ Deployments · 3 ────────────────────────────────────────────────────────────────────────────────────────────────────┐
│ ▶  trace-api-web     badc0de  rev 5  updated 1/3  ready 3/3  avail 3  Progressing  ░░░░░░░░░░░░░░░░░░░░   0%         │
│    trace-api-worker  3f9c2a1  rev 3  updated 2/2  ready 2/2  avail 2  Complete                                       │
│    trace-ui          9e1f00a  rev 2  updated 2/2  ready 2/2  avail 2  Complete                                       │
└──────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┘
┌─ trace-api-web · 3f9c2a1 → badc0de · RollingUpdate maxSurge 1 maxUnavailable 0 · deadline 600s (560s left) ──────────┐
│ new rev 5   badc0de  ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░ 0/3 ready                                                        │
│ old rev 4   3f9c2a1  ██████████████████████████████ 3/3 ready                                                        │
│ » Progressing  surge 1/1  unavailable 0/0  ReplicaSet "trace-api-web-6f7c9d8b4" is progressing.                      │
│ 1 new pod not ready: readiness probe failing ×3 over 25s: HTTP probe failed with statuscode: 503                     │
└──────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┘
┌─ Pods · 4 (3 ready) ─────────────────────────────────────────────────────────────────────────────────────────────────┐
│   POD                           REV STATUS  READY READINESS        LIVENESS RESTARTS            AGE                  │
│ ▶ trace-api-web-6f7c9d8b4-p9w2m 5   Running 0/1   failing ×3 (503) ok       0                   38s                  │
│   trace-api-web-5c6b1d9f7-aa1bc 4   Running 1/1   ok               ok       1 (OOMKilled 120m) 116m                  │
│   trace-api-web-5c6b1d9f7-k3j9d 4   Running 1/1   ok               ok       0                  115m                  │
│   trace-api-web-5c6b1d9f7-zz8qx 4   Running 1/1   ok               ok       0                  113m                  │
│ ▸ trace-api-web-6f7c9d8b4-p9w2m badc0de: readiness probe failing ×3 over 25s: HTTP probe failed with statuscode: 503 │
└──────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┘
┌─ Events ──────────────────────────────────────────────────────────┐┌─ Logs · trace-api-web-6f7c9d8b4-p9w2m ──────────┐
│  5s ⚠ Unhealthy         po/p9w2m Readiness probe failed: HTTP pr… ││ 11:59:54 INFO  listening on :3000               │
│ 36s   Started           po/p9w2m Started container web            ││ 11:59:56 ERROR db not connected                 │
│ 37s   Created           po/p9w2m Created container: web           ││ 11:59:58 INFO  GET /healthz 503 2ms             │
│ 37s   Pulled            po/p9w2m Container image "registry.sandb… ││ --:--:-- plain line without a timestamp         │
│ 39s   Scheduled         po/p9w2m Successfully assigned productio… ││                                                 │
│ 40s   ScalingReplicaSet deploy   Scaled up replica set trace-api… ││                                                 │
│                                                                   ││                                                 │
│                                                                   ││                                                 │
│                                                                   ││                                                 │
│                                                                   ││                                                 │
│                                                                   ││                                                 │
│                                                                   ││                                                 │
│                                                                   ││                                                 │
│                                                                   ││                                                 │
│                                                                   ││                                                 │
│                                                                   ││                                                 │
│                                                                   ││                                                 │
└───────────────────────────────────────────────────────────────────┘└─────────────────────────────────────────────────┘
 ↑↓ select  ⏎ focus  l logs  s shell  u rollback  p pause  r restart  / filter  ? help  q quit"""

NARROW_80x24 = """\
 nodeapp rollout · nodeapp-sandbox · production                 ● live 12:00:00
─ Deployments · 3 ──────────────────────────────────────────────────────────────
▶ trace-api-web    badc0de rev 5 upd 1/3 ready 3/3 Progressing ░░░░░░░░░░   0%
  trace-api-worker 3f9c2a1 rev 3 upd 2/2 ready 2/2 Complete
  trace-ui         9e1f00a rev 2 upd 2/2 ready 2/2 Complete
─ trace-api-web · 3f9c2a1 → badc0de · 560s left ────────────────────────────────
new rev 5   badc0de  ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░ 0/3 ready
» Progressing  surge 1/1  unavailable 0/0  ReplicaSet "trace-api-web-6f7c9d8b…
1 not ready: readiness probe failing ×3 over 25s: HTTP probe failed with stat…
─ Pods · 4 (3 ready) ───────────────────────────────────────────────────────────
  POD          REV STATUS  READY READINESS        LIVENESS RESTARTS        AGE
▶ …9d8b4-p9w2m 5   Running 0/1   failing ×3 (503) ok       0               38s
  …1d9f7-aa1bc 4   Running 1/1   ok               ok       1 (OOMKilled … 116m
  …1d9f7-k3j9d 4   Running 1/1   ok               ok       0              115m
  …1d9f7-zz8qx 4   Running 1/1   ok               ok       0              113m
▸ readiness probe failing ×3 over 25s: HTTP probe failed with statuscode: 503
─ Events ──────────────────────────────────── Logs · …pi-web-6f7c9d8b4-p9w2m ───
 5s ⚠ Readiness probe failed: HTTP probe …  11:59:54 INFO  listening on :3000
36s   Started container web                 11:59:56 ERROR db not connected
37s   Created container: web                11:59:58 INFO  GET /healthz 503 2…
37s   Container image "registry.sandbox.l…  --:--:-- plain line without a tim…
39s   Successfully assigned production/tr…
40s   Scaled up replica set trace-api-web…
 ↑↓ ⏎  l logs  s shell  u rollback  p pause  r restart  / filter  ? help  q quit"""

STALE_100x30 = """\
 nodeapp rollout · context nodeapp-sandbox · namespace production           ◌ reconnecting 12:00:00
 ⟳ reconnecting (pods) · data as of 11:59:40 · the API server is unavailable (503 ServiceUnavailabl…
┌─ Deployments · 3 · stale ────────────────────────────────────────────────────────────────────────┐
│ ▶ trace-api-web    badc0de rev 5 upd 1/3 ready 3/3 avail 3 Progressing ░░░░░░░░░░░░░░░░░░░░   0% │
│   trace-api-worker 3f9c2a1 rev 3 upd 2/2 ready 2/2 avail 2 Complete                              │
│   trace-ui         9e1f00a rev 2 upd 2/2 ready 2/2 avail 2 Complete                              │
└──────────────────────────────────────────────────────────────────────────────────────────────────┘
┌─ trace-api-web · 3f9c2a1 → badc0de · maxSurge 1 maxUnavailable 0 · 560s left · stale ────────────┐
│ new rev 5   badc0de  ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░ 0/3 ready                                    │
│ old rev 4   3f9c2a1  ██████████████████████████████ 3/3 ready                                    │
│ » Progressing  surge 1/1  unavailable 0/0  ReplicaSet "trace-api-web-6f7c9d8b4" is progressing.  │
│ 1 not ready: readiness probe failing ×3 over 25s: HTTP probe failed with statuscode: 503         │
└──────────────────────────────────────────────────────────────────────────────────────────────────┘
┌─ Pods · 4 (3 ready) · stale ─────────────────────────────────────────────────────────────────────┐
│   POD                        REV STATUS  READY READINESS        LIVENESS RESTARTS            AGE │
│ ▶ …e-api-web-6f7c9d8b4-p9w2m 5   Running 0/1   failing ×3 (503) ok       0                   38s │
│   …e-api-web-5c6b1d9f7-aa1bc 4   Running 1/1   ok               ok       1 (OOMKilled 120m) 116m │
│   …e-api-web-5c6b1d9f7-k3j9d 4   Running 1/1   ok               ok       0                  115m │
│   …e-api-web-5c6b1d9f7-zz8qx 4   Running 1/1   ok               ok       0                  113m │
│ ▸ readiness probe failing ×3 over 25s: HTTP probe failed with statuscode: 503                    │
└──────────────────────────────────────────────────────────────────────────────────────────────────┘
┌─ Events · stale ───────────────────────────────────────┐┌─ Logs · …-web-6f7c9d8b4-p9w2m · stale ─┐
│  5s ⚠ Unhealthy         Readiness probe failed: HTTP … ││ 11:59:54 INFO  listening on :3000      │
│ 36s   Started           Started container web          ││ 11:59:56 ERROR db not connected        │
│ 37s   Created           Created container: web         ││ 11:59:58 INFO  GET /healthz 503 2ms    │
│ 37s   Pulled            Container image "registry.san… ││ --:--:-- plain line without a timesta… │
│ 39s   Scheduled         Successfully assigned product… ││                                        │
│ 40s   ScalingReplicaSet Scaled up replica set trace-a… ││                                        │
└────────────────────────────────────────────────────────┘└────────────────────────────────────────┘
 ↑↓ select  ⏎ focus  l logs  s shell  u rollback  p pause  r restart  / filter  ? help  q quit"""

CONFIRM_80x24 = """\
 nodeapp rollout · nodeapp-sandbox · production                 ● live 12:00:00
─ Deployments · 3 ──────────────────────────────────────────────────────────────
▶ trace-api-web    badc0de rev 5 upd 1/3 ready 3/3 Progressing ░░░░░░░░░░   0%
  trace-api-worker 3f9c2a1 rev 3 upd 2/2 ready 2/2 Complete
  trace-ui         9e1f00a rev 2 upd 2/2 ready 2/2 Complete
─ trace-api-web · 3f9c2a1 → badc0de · 560s left ────────────────────────────────
new rev 5   badc0de  ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░ 0/3 ready
» Progressing  surge 1/1  unavailable 0/0  ReplicaSet "trace-api-web-6f7c9d8b…
1 not re╔═  Confirm  ══════════════════════════════════════════════════╗ stat…
─ Pods ·║  Roll back trace-api-web?                                    ║────────
  POD   ║  namespace production                                        ║   AGE
▶ …9d8b4║  from revision 5 (badc0de)                                   ║   38s
  …1d9f7║  to revision 4 (3f9c2a1)                                     ║… 116m
  …1d9f7║                                                              ║  115m
  …1d9f7║  y yes    n no (default)                                     ║  113m
▸ readin╚══════════════════════════════════════════════════════════════╝: 503
─ Events ──────────────────────────────────── Logs · …pi-web-6f7c9d8b4-p9w2m ───
 5s ⚠ Readiness probe failed: HTTP probe …  11:59:54 INFO  listening on :3000
36s   Started container web                 11:59:56 ERROR db not connected
37s   Created container: web                11:59:58 INFO  GET /healthz 503 2…
37s   Container image "registry.sandbox.l…  --:--:-- plain line without a tim…
39s   Successfully assigned production/tr…
40s   Scaled up replica set trace-api-web…
 ↑↓ ⏎  l logs  s shell  u rollback  p pause  r restart  / filter  ? help  q quit"""

ONCE_100 = """\
 nodeapp rollout · context nodeapp-sandbox · namespace production                   ● live 12:00:00
┌─ Deployments · 3 ────────────────────────────────────────────────────────────────────────────────┐
│ ▶ trace-api-web    badc0de rev 5 upd 1/3 ready 3/3 avail 3 Progressing ░░░░░░░░░░░░░░░░░░░░   0% │
│   trace-api-worker 3f9c2a1 rev 3 upd 2/2 ready 2/2 avail 2 Complete                              │
│   trace-ui         9e1f00a rev 2 upd 2/2 ready 2/2 avail 2 Complete                              │
└──────────────────────────────────────────────────────────────────────────────────────────────────┘
┌─ trace-api-web · 3f9c2a1 → badc0de · maxSurge 1 maxUnavailable 0 · deadline 600s (560s left) ────┐
│ new rev 5   badc0de  ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░ 0/3 ready                                    │
│ old rev 4   3f9c2a1  ██████████████████████████████ 3/3 ready                                    │
│ » Progressing  surge 1/1  unavailable 0/0  ReplicaSet "trace-api-web-6f7c9d8b4" is progressing.  │
│ 1 not ready: readiness probe failing ×3 over 25s: HTTP probe failed with statuscode: 503         │
└──────────────────────────────────────────────────────────────────────────────────────────────────┘
┌─ Pods · 4 (3 ready) ─────────────────────────────────────────────────────────────────────────────┐
│   POD                        REV STATUS  READY READINESS        LIVENESS RESTARTS            AGE │
│ ▶ …e-api-web-6f7c9d8b4-p9w2m 5   Running 0/1   failing ×3 (503) ok       0                   38s │
│   …e-api-web-5c6b1d9f7-aa1bc 4   Running 1/1   ok               ok       1 (OOMKilled 120m) 116m │
│   …e-api-web-5c6b1d9f7-k3j9d 4   Running 1/1   ok               ok       0                  115m │
│   …e-api-web-5c6b1d9f7-zz8qx 4   Running 1/1   ok               ok       0                  113m │
│ ▸ readiness probe failing ×3 over 25s: HTTP probe failed with statuscode: 503                    │
└──────────────────────────────────────────────────────────────────────────────────────────────────┘
┌─ Events ─────────────────────────────────────────────────────────────────────────────────────────┐
│  5s ⚠ Unhealthy         po/p9w2m Readiness probe failed: HTTP probe failed with statuscode: 503… │
│ 36s   Started           po/p9w2m Started container web                                           │
│ 37s   Created           po/p9w2m Created container: web                                          │
│ 37s   Pulled            po/p9w2m Container image "registry.sandbox.local/trace/trace-api:badc0d… │
│ 39s   Scheduled         po/p9w2m Successfully assigned production/trace-api-web-6f7c9d8b4-p9w2m… │
│ 40s   ScalingReplicaSet deploy   Scaled up replica set trace-api-web-6f7c9d8b4 from 0 to 1       │
└──────────────────────────────────────────────────────────────────────────────────────────────────┘
┌─ Logs · trace-api-web-6f7c9d8b4-p9w2m ───────────────────────────────────────────────────────────┐
│ 11:59:54 INFO  listening on :3000                                                                │
│ 11:59:56 ERROR db not connected                                                                  │
│ 11:59:58 INFO  GET /healthz 503 2ms                                                              │
│ --:--:-- plain line without a timestamp                                                          │
└──────────────────────────────────────────────────────────────────────────────────────────────────┘
"""

LOADING_80x24 = """\
 nodeapp rollout · nodeapp-sandbox · production           ◌ connecting 12:00:00
─ Deployments ──────────────────────────────────────────────────────────────────
loading…
─ Rollout ──────────────────────────────────────────────────────────────────────
loading…
─ Pods ─────────────────────────────────────────────────────────────────────────
loading…




─ Events ──────────────────────────────────── Logs ─────────────────────────────
loading…                                    loading…










 ↑↓ ⏎  l logs  s shell  u rollback  p pause  r restart  / filter  ? help  q quit"""


def confirm_ui() -> UiState:
    action = Action("undo", "production", "trace-api-web", revision=4)
    lines = ("namespace production", "from revision 5 (badc0de)", "to revision 4 (3f9c2a1)")
    return UiState(confirm=Confirm(action, "Roll back trace-api-web?", lines))


def test_wide_screen_mid_rollout_with_a_failing_readiness_probe():
    assert render_screen(with_logs(story_snapshot()), UiState(), 120, 40) == WIDE_120x40


def test_narrow_screen_drops_borders_and_columns_not_information():
    assert render_screen(with_logs(story_snapshot()), UiState(focus="pods"), 80, 24) == NARROW_80x24


def test_reconnecting_banner_and_stale_marks():
    s = with_logs(story_snapshot())
    s = reduce(
        s,
        WatchInput(
            "pods",
            "DISCONNECTED",
            NOW - 20,
            error="the API server is unavailable (503 ServiceUnavailable)",
            retry_in=2,
        ),
    )
    assert render_screen(s, UiState(), 100, 30) == STALE_100x30


def test_confirm_dialog_over_the_screen():
    assert render_screen(with_logs(story_snapshot()), confirm_ui(), 80, 24) == CONFIRM_80x24


def test_once_prints_everything_at_natural_height():
    assert render_once(with_logs(story_snapshot()), UiState(), 100) == ONCE_100


def test_before_the_first_list():
    assert render_screen(empty_snapshot(NS), UiState(), 80, 24) == LOADING_80x24


def test_help_overlay_lists_every_key():
    text = render_screen(story_snapshot(), UiState(help=True), 100, 30)
    for key in ("j k", "PgUp PgDn", "l ", "s ", "u ", "p ", "r ", "/ ", "q "):
        assert f"║ {key}" in text or key in text
    assert "roll the whole app back to its last healthy release (asks first)" in text
    assert "any key closes this help" in text


def test_footer_shows_notices_then_the_keys_again():
    s = reduce(
        story_snapshot(), NoticeInput("rolled back trace-api-web to revision 4 (3f9c2a1)", "info", NOW - 3)
    )
    last = render_screen(s, UiState(), 100, 30).split("\n")[-1]
    assert last == " ✓ rolled back trace-api-web to revision 4 (3f9c2a1)"
    s = reduce(s, NoticeInput("old news", "info", NOW - 60))
    assert render_screen(s, UiState(), 100, 30).split("\n")[-1].startswith(" ↑↓ select  ⏎ focus  l logs")
    ui = UiState(notice=UiNotice("trace-api-web is paused: resume it (p) before rolling back", "error", NOW))
    assert (
        render_screen(s, ui, 100, 30).split("\n")[-1]
        == " ✗ trace-api-web is paused: resume it (p) before rolling back"
    )
    typing = render_screen(s, UiState(editing_filter=True, filter="k3j", focus="pods"), 100, 30)
    assert typing.split("\n")[-1] == " filter: k3j▏   ⏎ keep  esc clear"
    assert "Pods · 4 (3 ready) · filter “k3j”: 1 match" in typing
    narrated = render_screen(story_snapshot(), UiState(), 100, 30, narration="a bad release stalls")
    assert narrated.split("\n")[-1] == " ▸ a bad release stalls"


@pytest.mark.parametrize(("width", "height"), [(60, 16), (80, 24), (100, 30), (120, 40), (200, 60)])
def test_every_size_fills_the_screen_exactly(width, height):
    s = with_logs(story_snapshot())
    for ui in (UiState(), UiState(focus="pods"), confirm_ui(), UiState(help=True)):
        frame = derive(s, ui, NOW)
        lines, heights = screen_lines(
            console(width), frame, ui, ViewContext(NOW, width, height, localtime=time.gmtime)
        )
        assert len(lines) == height
        assert all(sum(cell_len(seg.text) for seg in line) == width for line in lines)
        assert heights.pod_rows >= 1


def big_namespace(pods: int):
    web = deployment(
        tag="a41c9e7",
        revision=5,
        generation=5,
        replicas=pods,
        updated=pods // 2,
        ready=pods - 3,
        available=pods - 3,
        current=pods + 1,
    )
    new = replicaset(web, "6f7c9d8b4", revision=5, tag="a41c9e7", replicas=pods // 2, ready=pods // 2 - 3)
    old = replicaset(web, "5c6b1d9f7", revision=4, tag="3f9c2a1", replicas=pods - pods // 2)
    items = [pod(new, f"n{i:04d}", ready=i >= 3) for i in range(pods // 2)]
    items += [pod(old, f"o{i:04d}") for i in range(pods - pods // 2)]
    story = {"deployments": [web], "replicasets": [new, old], "pods": items, "events": []}
    return reduce_all(
        empty_snapshot(NS), [WatchInput(k, "RESET", NOW, items=tuple(v)) for k, v in story.items()]
    )


def test_only_the_visible_pod_rows_are_rendered_and_scrolling_keeps_the_selection_in_view():
    s = big_namespace(1000)
    text = render_screen(s, UiState(), 120, 40)
    assert "Pods · 1000 (997 ready) · 1-" in text
    rows = [
        line for line in text.split("\n") if "trace-api-web-" in line and "│ " in line and " ago" not in line
    ]
    assert 5 <= len(rows) <= 20
    # the first new pod that is not ready is selected and tailed
    assert "▶ trace-api-web-6f7c9d8b4-n0000" in text
    chosen = "trace-api-web-5c6b1d9f7-o0400"
    ui = UiState(pod=chosen, pod_auto=False, focus="pods")
    text = render_screen(s, ui, 120, 40)
    assert f"▶ {chosen}" in text
    frame = derive(s, ui, NOW)
    _, heights = screen_lines(console(120), frame, ui, ViewContext(NOW, 120, 40, localtime=time.gmtime))
    assert (
        f"Pods · 1000 (997 ready) · {frame.pod_index - heights.pod_rows + 2}-{frame.pod_index + 1} of 1000"
        in text
    )


def test_layout_gives_spare_rows_to_events_and_logs():
    s = story_snapshot()
    frame = derive(s, UiState(), NOW)
    h = allocate(frame, ViewContext(NOW, 120, 40))
    assert (h.banner, h.deployments, h.rollout, h.pods, h.bottom) == (0, 5, 6, 8, 19)
    assert h.pod_rows == 4  # exactly the four pods
    h = allocate(derive(big_namespace(200), UiState(), NOW), ViewContext(NOW, 120, 40))
    assert h.bottom < 19 and h.pods > 8


def test_fit_columns_squeezes_then_drops_by_priority():
    cols = (
        Column("A", 3, 10),
        Column("LONG", 4, 30, squeeze=1),
        Column("OPTIONAL", 8, 8, priority=2),
        Column("FILL", 5, 50, fill=True, squeeze=2),
    )
    rows = [["aaaaaaaaaa", "x" * 30, "optional", "y" * 50]]
    assert fit_columns(cols, rows, 200) == [10, 30, 8, 149]
    assert fit_columns(cols, rows, 60) == [10, 30, 8, 9]
    assert fit_columns(cols, rows, 40) == [10, 14, 8, 5]
    assert fit_columns(cols, rows, 26) == [10, 9, 0, 5]  # OPTIONAL dropped, LONG gets room back
    assert fit_columns(cols, rows, 12) == [7, 4, 0, 0]
    assert shorten_left("trace-api-web-7d9f8c6b5-x2k4q", 12) == "…8c6b5-x2k4q"
    assert lines_text([]) == ""


def test_stalled_rollout_says_why():
    story = stalled_story()
    web = story["deployments"][0]
    for condition in web["status"]["conditions"]:
        if condition["type"] == "Progressing":
            condition.update(
                status="False",
                reason="ProgressDeadlineExceeded",
                message='ReplicaSet "trace-api-web-6f7c9d8b4" has timed out progressing.',
            )
    text = render_screen(story_snapshot(story), UiState(), 120, 40)
    assert "▶  trace-api-web     badc0de  rev 5  updated 1/3  ready 3/3  avail 3  Stalled" in text
    assert (
        '│ ✗ Stalled: ProgressDeadlineExceeded  surge 1/1  unavailable 0/0  ReplicaSet "trace-api-web-6f7c9d8b4" has timed out… │'
        in text
    )
    assert (
        "│ 1 new pod not ready: readiness probe failing ×3 over 25s: HTTP probe failed with statuscode: 503"
        in text
    )
