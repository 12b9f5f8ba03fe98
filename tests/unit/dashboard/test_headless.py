"""--until-complete's verdict, log line parsing and the rollout command's flags (no cluster)."""

import argparse

import pytest

from kubectl_trace.cli.cmd_rollout import add_arguments, parse_options
from kubectl_trace.cli.options import CommonOptions
from kubectl_trace.dashboard.derive import derive
from kubectl_trace.dashboard.feed import Inbox, parse_log_line
from kubectl_trace.dashboard.headless import judge, progress_line
from kubectl_trace.dashboard.state import NoticeInput
from kubectl_trace.dashboard.ui import UiState
from kubectl_trace.errors import UsageError
from kubectl_trace.kube.settings import KubeSettings
from tests.factories.rollout import NOW, deployment, replicaset, stalled_story

from .render import story_snapshot


def frame(story, now=NOW):
    return derive(story_snapshot(story), UiState(deployment="trace-api-web"), now)


def stalled():
    story = stalled_story()
    for condition in story["deployments"][0]["status"]["conditions"]:
        if condition["type"] == "Progressing":
            condition.update(
                status="False",
                reason="ProgressDeadlineExceeded",
                message='ReplicaSet "trace-api-web-6f7c9d8b4" has timed out progressing.',
            )
    return story


def test_progressing_is_not_over_yet():
    f = frame(stalled_story())
    assert judge(f, "trace-api-web") is None
    assert (
        progress_line(f.selected) == "trace-api-web: rolling out 3f9c2a1 → badc0de: 1/3 updated, 3 available"
    )


def test_stalled_is_a_failure_with_the_reasons():
    outcome = judge(frame(stalled()), "trace-api-web")
    assert outcome is not None and outcome.status == 1
    assert outcome.message == (
        'deployment trace-api-web stalled rolling out badc0de: ReplicaSet "trace-api-web-6f7c9d8b4" has timed out progressing.'
    )
    assert outcome.details == (
        "pod trace-api-web-6f7c9d8b4-p9w2m: readiness probe failing ×3 over 25s: HTTP probe failed with statuscode: 503",
        "Warning Unhealthy pod/trace-api-web-6f7c9d8b4-p9w2m: Readiness probe failed: HTTP probe failed with statuscode: 503 (×3 over 25s)",
    )


def test_past_the_progress_deadline_even_before_the_controller_says_so():
    outcome = judge(frame(stalled_story(), now=NOW + 600), "trace-api-web")
    assert outcome is not None and outcome.status == 1 and "stalled rolling out badc0de" in outcome.message


def test_timeout_and_complete_and_deleted():
    f = frame(stalled_story())
    outcome = judge(f, "trace-api-web", deadline_at=NOW - 1)
    assert outcome is not None and outcome.status == 1
    assert outcome.message.startswith("deployment trace-api-web did not finish rolling out badc0de in time")
    done = stalled_story()
    web = deployment(tag="3f9c2a1", revision=4)
    done["deployments"][0] = web
    done["replicasets"] = [replicaset(web, "5c6b1d9f7", revision=4, tag="3f9c2a1", replicas=3)]
    outcome = judge(frame(done), "trace-api-web")
    assert outcome is not None and outcome.status == 0
    assert outcome.message == "deployment trace-api-web successfully rolled out 3f9c2a1 (revision 4)"
    unobserved = stalled_story()
    unobserved["deployments"][0] = deployment(tag="3f9c2a1", revision=4, generation=6, observed=5)
    assert judge(frame(unobserved), "trace-api-web") is None  # the controller has not seen the change yet
    outcome = judge(frame(done), "nope")
    assert outcome is not None and outcome.status == 1 and outcome.message == "deployment nope was deleted"


def test_parse_log_line():
    ts, line = parse_log_line(
        b'2026-03-01T12:00:01.123456789Z {"severity":"ERROR","message":"db not connected","seq":7}'
    )
    assert ts == "2026-03-01T12:00:01.123456789Z"
    assert (line.ts, line.level, line.text) == (NOW + 1.123456789, "error", "db not connected")
    ts, line = parse_log_line(b'2026-03-01T12:00:02.000000000Z {"severity":"INFO","seq":8}')
    assert (line.level, line.text) == ("info", "seq=8")
    ts, line = parse_log_line(b"2026-03-01T12:00:03.000000000Z > node dist/server.js\tnow")
    assert (line.level, line.text) == (None, "> node dist/server.js    now")
    ts, line = parse_log_line(b"no timestamp here")
    assert (ts, line.ts, line.text) == ("", None, "no timestamp here")


def test_inbox_wakes_and_drains_in_order():
    inbox = Inbox()
    woken = []
    inbox.on_put = lambda: woken.append(1)
    assert not inbox.wait(0)
    inbox.put(NoticeInput("a", "info", NOW))
    inbox.put(NoticeInput("b", "info", NOW))
    assert inbox.wait(0) and len(woken) == 2
    assert [i.text for i in inbox.drain()] == ["a", "b"]  # type: ignore[union-attr]
    assert inbox.drain() == [] and not inbox.wait(0)


def options(*argv):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parse_options(parser.parse_args(list(argv)), CommonOptions(kube=KubeSettings()))


def test_flags():
    o = options("deploy/trace-api-web", "--until-complete", "--timeout", "5m")
    assert (o.deployment, o.until_complete, o.timeout, o.once) == ("trace-api-web", True, 300.0, False)
    assert options("--once", "--width", "80").width == 80
    for argv, message in [
        (("--until-complete",), "--until-complete needs a DEPLOYMENT"),
        (("web", "--timeout", "5m"), "--timeout only applies to --until-complete"),
        (("web", "--until-complete", "--timeout", "soon"), "--timeout"),
        (("svc/web",), "invalid DEPLOYMENT"),
        (("--once", "--width", "5"), "invalid --width 5"),
        (("--once", "--log-lines", "-1"), "--log-lines must be 0 or more"),
    ]:
        with pytest.raises(UsageError, match=message):
            options(*argv)
