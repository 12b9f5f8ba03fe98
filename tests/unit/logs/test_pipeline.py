import io
import re

from kubectl_trace.kube.settings import KubeSettings
from kubectl_trace.logs.options import LogsOptions
from kubectl_trace.logs.pipeline import Pipeline
from kubectl_trace.logs.record import Marker, Source

A = Source("ns", "pod-a", "c", "1")
B = Source("ns", "pod-b", "c", "1")


def ts(n):
    return f"2026-01-02T15:04:{n:02d}.000000000Z"


def data(*lines):
    return "".join(f"{ts(t)} {text}\n" for t, text in lines).encode()


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def make(clock=None, terminal=False, **kw):
    opts = LogsOptions(kube=KubeSettings(), **kw)
    out, err = io.StringIO(), io.StringIO()
    return Pipeline(opts, out, err, color=False, terminal=terminal, clock=clock or Clock()), out, err


def test_raw_fast_path_strips_timestamps_and_writes_bytes_in_order():
    p, out, _ = make(output="raw", follow=False)
    p.handle(("open", A))
    p.handle(("data", A, data((1, "a1"), (2, '{"x":1}')), 0.0))
    p.handle(("data", B, data((1, "b1 with spaces")), 0.0))
    p.handle(("close", A))
    p.handle(("end",))
    assert p.fast_raw and p.ended
    p.finish()
    assert out.getvalue() == 'a1\n{"x":1}\nb1 with spaces\n'


def test_raw_with_timestamps_is_the_kubelet_text():
    p, out, _ = make(output="raw", timestamps=True, follow=False)
    p.handle(("data", A, data((1, "a1")), 0.0))
    p.finish()
    assert out.getvalue() == f"{ts(1)} a1\n"


def test_pretty_groups_filters_and_renders():
    p, out, _ = make(follow=False, level="error")
    p.handle(("data", A, data((1, '{"level":"info","message":"skip"}'), (2, "TypeError: boom")), 0.0))
    p.handle(("data", A, data((2, "    at f (a.js:1:1)"), (3, '{"level":"error","message":"bad"}')), 0.0))
    p.handle(("close", A))
    p.finish()
    assert out.getvalue() == ("pod-a TypeError: boom\npod-a     at f (a.js:1:1)\npod-a ERROR bad\n")


def test_include_exclude_and_highlight_flags():
    p, out, _ = make(follow=False, include=(re.compile("GET"),), exclude=(re.compile("healthz"),))
    p.handle(("data", A, data((1, "GET /orders"), (2, "GET /healthz"), (3, "POST /x")), 0.0))
    p.finish()
    assert out.getvalue() == "pod-a GET /orders\n"


def test_time_order_across_streams():
    p, out, _ = make(follow=False, order="time", output="raw")
    assert not p.fast_raw
    p.handle(("open", A))
    p.handle(("open", B))
    p.handle(("data", A, data((1, "a1"), (4, "a4")), 0.0))
    p.handle(("data", B, data((2, "b2"), (3, "b3")), 0.0))
    p.tick(0.0)
    p.handle(("close", B))
    p.handle(("close", A))
    p.tick(0.0)
    p.finish()
    assert out.getvalue() == "a1\nb2\nb3\na4\n"


def test_restart_marker_goes_to_stdout_in_pretty_and_stderr_in_raw():
    m = Marker(A, ts(5), "restarted", 137, "OOMKilled")
    p, out, err = make(follow=False)
    p.handle(("marker", m))
    p.finish()
    assert out.getvalue() == "── pod-a container restarted (exit 137, OOMKilled) ──\n"
    p, out, err = make(follow=False, output="raw")
    p.handle(("marker", m))
    p.finish()
    assert (out.getvalue(), err.getvalue()) == ("", "── pod-a container restarted (exit 137, OOMKilled) ──\n")


def test_following_flushes_within_the_interval_and_holds_plain_lines_briefly():
    clock = Clock()
    p, out, _ = make(clock=clock, follow=True, flush_interval=0.05, group_hold=0.05)
    p.handle(("data", A, data((1, '{"level":"info","message":"j"}')), clock.now))
    due = p.tick(clock.now)
    assert out.getvalue() == "" and due == clock.now + 0.05
    clock.now += 0.05
    p.tick(clock.now)
    assert out.getvalue() == "pod-a INFO  j\n"
    p.handle(("data", A, data((2, "plain")), clock.now))
    assert p.tick(clock.now) == clock.now + 0.05  # held: an indented line may follow
    clock.now += 0.06
    p.tick(clock.now)
    clock.now += 0.06
    p.tick(clock.now)
    assert out.getvalue() == "pod-a INFO  j\npod-a plain\n"


def test_notices_go_to_stderr_after_pending_output():
    p, out, err = make(follow=True)
    p.handle(("data", A, data((1, "x")), 0.0))
    p.handle(("close", A))
    p.handle(("notice", "warning: something"))
    assert out.getvalue() == "pod-a x\n"
    assert err.getvalue() == "warning: something\n"
    p.handle(("listed", 0))
    assert "waiting for them" in err.getvalue()


def test_a_gap_is_one_warning_on_stderr_and_a_record_in_json():
    import json

    last = "2026-01-02T03:09:14.130000000Z"
    p, out, err = make(follow=True)
    p.handle(("data", A, data((1, "x")), 0.0))
    p.handle(("gap", A, last))
    p.finish()
    assert out.getvalue() == "pod-a x\n"
    assert err.getvalue() == (
        "warning: pod pod-a was deleted before its log could be resumed; lines after 03:09:14.13 may be missing\n"
    )
    p, out, err = make(follow=True, output="json")
    p.handle(("gap", B, ""))
    p.finish()
    record = json.loads(out.getvalue())
    assert record["pod"] == "pod-b" and record["fields"] == {"event": "gap", "after": None}
    assert "its lines may be missing" in err.getvalue()
    assert p.gaps == 1


def test_raw_on_a_terminal_is_shown_safely_and_raw_bytes_opts_out():
    line = data((1, "\x1b]52;c;ZQ==\x07 \x9b2J"))
    p, _, _ = make(output="raw", follow=False)
    p2, shown, _ = make(output="raw", follow=False, terminal=True)
    p2.handle(("data", A, line, 0.0))
    p2.finish()
    assert shown.getvalue() == "^[]52;c;ZQ==^G <9b>2J\n"
    p3, exact, _ = make(output="raw", follow=False, raw_bytes=True, terminal=True)
    p3.handle(("data", A, line, 0.0))
    p3.finish()
    assert exact.getvalue() == "\x1b]52;c;ZQ==\x07 \x9b2J\n"
    assert p.fast_raw and p3.fast_raw and not p2.fast_raw
