"""The dashboard's Jobs section: reducer, derive (the selected app's Jobs only) and rendering."""

from __future__ import annotations

from typing import Any

from kubectl_trace.dashboard.batch import app_of
from kubectl_trace.dashboard.derive import FrameCache, derive
from kubectl_trace.dashboard.jobs_panel import who_what
from kubectl_trace.dashboard.reducer import reduce, reduce_all
from kubectl_trace.dashboard.state import WatchInput
from kubectl_trace.dashboard.ui import UiState
from kubectl_trace.dashboard.views import ViewContext, allocate
from kubectl_trace.run.job import RUN_ANNOTATION
from tests.factories import ts
from tests.factories.rollout import NOW, NS, deployment, stalled_story

from .render import render_once, render_screen, story_snapshot


def job(
    name: str,
    *,
    app: str = "trace-api",
    process: str = "run",
    state: str = "running",
    reason: str = "",
    started: float = -60,
    took: float = 5,
    what: str | None = None,
    cron: str = "",
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": NS,
        "uid": f"uid-{name}",
        "creationTimestamp": ts(started),
        "labels": {"app": app, "process": process},
    }
    if what is not None:
        meta["annotations"] = {RUN_ANNOTATION: what}
    if cron:
        meta["ownerReferences"] = [{"kind": "CronJob", "name": cron, "controller": True, "uid": "c"}]
    status: dict[str, Any] = {"startTime": ts(started)}
    if state == "succeeded":
        status["completionTime"] = ts(started + took)
        status["conditions"] = [
            {"type": "Complete", "status": "True", "lastTransitionTime": ts(started + took)}
        ]
    elif state == "failed":
        status["conditions"] = [
            {"type": "Failed", "status": "True", "reason": reason, "lastTransitionTime": ts(started + took)}
        ]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta,
        "spec": {
            "template": {
                "metadata": {"labels": {"app": app, "process": process}},
                "spec": {"containers": [{"name": "run", "command": ["sh", "-c", "echo hi"]}]},
            }
        },
        "status": status,
    }


def cronjob(
    name: str, *, app: str = "trace-api", last: float | None = -120, suspend: bool = False
) -> dict[str, Any]:
    status: dict[str, Any] = {"active": [{"name": f"{name}-1"}]}
    if last is not None:
        status["lastScheduleTime"] = ts(last)
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "namespace": NS, "uid": f"uid-{name}"},
        "spec": {
            "schedule": "*/5 * * * *",
            "suspend": suspend,
            "jobTemplate": {"spec": {"template": {"metadata": {"labels": {"app": app, "process": "cron"}}}}},
        },
        "status": status,
    }


def batch_story() -> dict[str, list[dict[str, Any]]]:
    story = stalled_story()
    story["jobs"] = [
        job(
            "trace-api-run-x7k2q",
            state="succeeded",
            started=-300,
            took=4,
            what="run by alice at 2026-03-01T11:55:00Z: npm run migrate",
        ),
        job("trace-api-run-b2c4d", state="failed", reason="BackoffLimitExceeded", started=-120, took=2),
        job("trace-api-release-q9r8s", process="release", started=-30),
        job(
            "trace-api-nightly-2901",
            process="cron",
            state="succeeded",
            started=-600,
            cron="trace-api-nightly",
        ),
        job("trace-ui-run-zzzzz", app="trace-ui", started=-10, what="bob: node repl"),
        # started by trace-ui's CronJob from a template without the app label: trace-ui's
        job("trace-ui-cleanup-2902", app="", process="", started=-900, cron="trace-ui-cleanup"),
    ]
    story["cronjobs"] = [cronjob("trace-api-nightly"), cronjob("trace-ui-cleanup", app="trace-ui", last=None)]
    return story


def test_reducer_folds_jobs_and_cronjobs():
    s = story_snapshot(batch_story())
    assert sorted(s.jobs) == sorted(j["metadata"]["name"] for j in batch_story()["jobs"])
    assert sorted(s.cronjobs) == ["trace-api-nightly", "trace-ui-cleanup"]
    assert s.links["jobs"].live and s.live
    done = job("trace-api-release-q9r8s", process="release", state="succeeded", started=-30, took=20)
    s2 = reduce(s, WatchInput("jobs", "MODIFIED", NOW, object=done))
    assert s2.jobs["trace-api-release-q9r8s"] is done and s2.pods is s.pods and s2.cronjobs is s.cronjobs
    s3 = reduce(s2, WatchInput("jobs", "DELETED", NOW, object=done))
    assert "trace-api-release-q9r8s" not in s3.jobs
    # a Pod sent on the jobs watch is not believed
    s4 = reduce(s3, WatchInput("jobs", "ADDED", NOW, object={"kind": "Pod", "metadata": {"name": "p"}}))
    assert "p" not in s4.jobs


def test_a_dashboard_without_batch_is_complete_and_live():
    # the core kinds alone (batch/v1 not listed yet, or forbidden: an empty RESET) are a full picture
    s = story_snapshot()
    assert s.synced and s.live and "jobs" not in s.links
    s = reduce_all(s, [WatchInput("jobs", "RESET", NOW), WatchInput("cronjobs", "RESET", NOW)])
    assert s.synced and s.live and not s.jobs
    assert not derive(s, UiState(), NOW).batch


def test_derive_lists_the_selected_apps_jobs_newest_first_with_their_process():
    s = story_snapshot(batch_story())
    frame = derive(s, UiState(), NOW)
    assert frame.selected is not None and frame.selected.name == "trace-api-web"
    batch = frame.batch
    assert batch.app == "trace-api"
    assert [(r.job.name, r.process, r.job.state, r.job.reason) for r in batch.jobs] == [
        ("trace-api-release-q9r8s", "release", "running", ""),
        ("trace-api-run-b2c4d", "run", "failed", "BackoffLimitExceeded"),
        ("trace-api-run-x7k2q", "run", "succeeded", ""),
        ("trace-api-nightly-2901", "cron", "succeeded", ""),
    ]
    assert batch.jobs[2].job.what == "run by alice at 2026-03-01T11:55:00Z: npm run migrate"
    assert [c.name for c in batch.cronjobs] == ["trace-api-nightly"]
    # the worker is the same app: same Jobs; trace-ui has its own
    assert derive(s, UiState(deployment="trace-api-worker"), NOW).batch.jobs == batch.jobs
    ui = derive(s, UiState(deployment="trace-ui"), NOW).batch
    assert [(r.job.name, r.process) for r in ui.jobs] == [
        ("trace-ui-run-zzzzz", "run"),
        ("trace-ui-cleanup-2902", "cron"),
    ]
    assert [c.name for c in ui.cronjobs] == ["trace-ui-cleanup"]


def test_batch_rows_are_memoised_on_the_job_maps():
    s = story_snapshot(batch_story())
    cache = FrameCache()
    first = derive(s, UiState(), NOW, cache).batch
    pod_change = reduce(s, WatchInput("pods", "DELETED", NOW, object=next(iter(s.pods.values()))))
    assert derive(pod_change, UiState(), NOW + 1, cache).batch is first
    changed = reduce(s, WatchInput("jobs", "ADDED", NOW, object=job("trace-api-run-new12", started=-1)))
    again = derive(changed, UiState(), NOW + 1, cache).batch
    assert again is not first and again.jobs[0].job.name == "trace-api-run-new12"


def test_app_of_prefers_the_pod_template_label():
    assert app_of(deployment("x", app="shop")) == ("app", "shop")
    assert app_of({"metadata": {"labels": {"app.kubernetes.io/name": "n"}}}) == (
        "app.kubernetes.io/name",
        "n",
    )
    assert app_of({"metadata": {"name": "bare"}}) is None


def test_once_shows_the_jobs_section():
    text = render_once(story_snapshot(batch_story()), UiState(), 140)
    section = text[text.index("Jobs · trace-api · 4 recent, 1 cron") :]
    lines = section.splitlines()
    release = next(line for line in lines if "trace-api-release-q9r8s" in line)
    assert "release" in release and "running" in release and "for 30s" in release
    failed = next(line for line in lines if "trace-api-run-b2c4d" in line)
    assert "✗" in failed and "failed (BackoffLimitExceeded)" in failed and "took 2s" in failed
    done = next(line for line in lines if "trace-api-run-x7k2q" in line)
    assert "✓" in done and "succeeded" in done and "alice: npm run migrate" in done and "5m" in done
    cron = next(line for line in lines if "⏲" in line)
    assert (
        "trace-api-nightly" in cron and "*/5 * * * *" in cron and "last 2m ago" in cron and "1 active" in cron
    )
    assert "trace-ui-run" not in text
    # the section comes before the events; no section at all for an app without Jobs
    assert text.index("Jobs ·") < text.index("Events")
    assert "Jobs ·" not in render_once(story_snapshot(), UiState(), 140)


def test_the_run_annotation_reads_who_then_what():
    assert who_what("run by alice at 2026-03-01T12:00:00Z: npm run migrate") == "alice: npm run migrate"
    assert who_what("release by ci@example.com at 2026-03-01T12:00:00Z: sh -c 'a: b'") == (
        "ci@example.com: sh -c 'a: b'"
    )
    assert who_what("sh -c echo hi") == "sh -c echo hi"


def test_cluster_text_in_the_jobs_section_is_made_visible():
    story = batch_story()
    story["jobs"] = [job("trace-api-run-evil1", what="mallory: \x1b]0;pwned\x07 \u202e")]
    story["cronjobs"] = []
    text = render_once(story_snapshot(story), UiState(), 140)
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert "^[" in text


def test_live_screen_gives_the_jobs_a_few_lines_and_keeps_the_pods():
    s = story_snapshot(batch_story())
    frame = derive(s, UiState(), NOW)
    for height in (24, 40, 60):
        h = allocate(frame, ViewContext(NOW, 120, height))
        assert h.jobs > 0 and h.pod_rows >= 1
        total = 2 + h.banner + h.deployments + h.rollout + h.pods + h.jobs + h.bottom
        assert total <= height
    screen = render_screen(s, UiState(), 120, 40)
    assert "Jobs · trace-api" in screen and "trace-api-release-q9r8s" in screen
    assert len(screen.splitlines()) == 40
    # a namespace with one pod: the Jobs take the pods' spare lines (every Job line here)
    story = batch_story()
    story["pods"] = story["pods"][3:4]
    small = derive(story_snapshot(story), UiState(), NOW)
    h = allocate(small, ViewContext(NOW, 120, 40))
    assert h.jobs == small.batch.size + h.frame
    # without Jobs the layout is what it was
    plain = derive(story_snapshot(), UiState(), NOW)
    assert allocate(plain, ViewContext(NOW, 120, 40)).jobs == 0
