import json
import re

from kubectl_trace.logs.record import Entry, Marker, Source
from kubectl_trace.logs.render import (
    JsonRenderer,
    PrettyRenderer,
    RawRenderer,
    format_fields,
    make_renderer,
    pod_color,
)

WEB = Source("production", "trace-api-web-7d9f-x2k", "web", "c1")
SIDE = Source("production", "trace-api-web-7d9f-x2k", "proxy", "c2", label="trace-api-web-7d9f-x2k/proxy")
TS = "2026-01-02T15:04:05.123456789Z"


def entry(text, source=WEB, ts=TS, more=None):
    e = Entry(source, ts, text)
    e.more = more
    return e


def test_pretty_structured_line_colour_off():
    r = PrettyRenderer(color=False)
    line = '{"severity":"INFO","message":"GET /orders 200","httpRequest":{"status":200,"latency":"0.012s"},"seq":7}'
    assert r.entry(entry(line)) == (
        "trace-api-web-7d9f-x2k INFO  GET /orders 200 httpRequest.status=200 httpRequest.latency=0.012s seq=7\n"
    )


def test_pretty_hides_noise_fields_and_quotes_when_needed():
    r = PrettyRenderer(color=False)
    line = json.dumps(
        {
            "level": 30,
            "time": 1,
            "pid": 1,
            "hostname": "h",
            "msg": "hi",
            "user": "ann lee",
            "ok": True,
            "none": None,
            "tags": ["a", "b"],
            "eq": "a=b",
            "empty": "",
        }
    )
    assert r.entry(entry(line)) == (
        'trace-api-web-7d9f-x2k INFO  hi user="ann lee" ok=true none=null tags=["a","b"] eq="a=b" empty=""\n'
    )


def test_pretty_plain_line_passes_through():
    r = PrettyRenderer(color=False)
    assert (
        r.entry(entry("Server listening on :8080 {x}"))
        == "trace-api-web-7d9f-x2k Server listening on :8080 {x}\n"
    )


def test_pretty_stack_is_an_indented_block():
    r = PrettyRenderer(color=False)
    line = json.dumps(
        {
            "level": "error",
            "message": "payment failed",
            "orderId": 42,
            "err": {"stack": "Error: declined\n    at charge (/app/pay.js:10:5)"},
        }
    )
    assert r.entry(entry(line)) == (
        "trace-api-web-7d9f-x2k ERROR payment failed orderId=42\n"
        "trace-api-web-7d9f-x2k     Error: declined\n"
        "trace-api-web-7d9f-x2k         at charge (/app/pay.js:10:5)\n"
    )


def test_pretty_grouped_plain_lines_keep_their_text():
    r = PrettyRenderer(color=False)
    e = entry(
        "TypeError: x is undefined", more=[(TS, "    at f (/app/a.js:1:2)"), (TS, "    at g (/app/b.js:3:4)")]
    )
    assert r.entry(e) == (
        "trace-api-web-7d9f-x2k TypeError: x is undefined\n"
        "trace-api-web-7d9f-x2k     at f (/app/a.js:1:2)\n"
        "trace-api-web-7d9f-x2k     at g (/app/b.js:3:4)\n"
    )


def test_pretty_multi_container_label_and_timestamps():
    r = PrettyRenderer(color=False, timestamps=True)
    assert r.entry(entry('{"level":"debug","message":"m"}', source=SIDE)) == (
        "2026-01-02T15:04:05.123Z trace-api-web-7d9f-x2k/proxy DEBUG m\n"
    )


def test_pretty_colour_on_exact_escapes():
    r = PrettyRenderer(color=True)
    colour = pod_color(WEB.pod)
    assert r.entry(entry('{"level":"error","message":"boom","code":7}')) == (
        f"\x1b[{colour}mtrace-api-web-7d9f-x2k\x1b[0m \x1b[31mERROR\x1b[0m boom \x1b[2mcode=\x1b[0m7\n"
    )
    assert r.entry(entry("plain")) == f"\x1b[{colour}mtrace-api-web-7d9f-x2k\x1b[0m plain\n"


def test_pod_colour_is_stable_and_not_red():
    assert pod_color("trace-api-web-1") == pod_color("trace-api-web-1")
    colours = {pod_color(f"pod-{i}") for i in range(200)}
    assert len(colours) > 5
    assert "31" not in colours and "91" not in colours


def test_highlight_only_with_colour():
    pattern = re.compile("timeout")
    on = PrettyRenderer(color=True, highlight=pattern)
    off = PrettyRenderer(color=False, highlight=pattern)
    text = "upstream timeout after 3s"
    assert "\x1b[30;43mtimeout\x1b[0m" in on.entry(entry(text))
    assert off.entry(entry(text)) == f"{WEB.pod} {text}\n"


def test_restart_marker():
    m = Marker(WEB, TS, "restarted", 137, "OOMKilled")
    assert PrettyRenderer(color=False).marker(m) == (
        "── trace-api-web-7d9f-x2k container restarted (exit 137, OOMKilled) ──\n",
        False,
    )
    m2 = Marker(SIDE, TS, "restarted", 1, "Error", single_container=False)
    assert m2.text == "trace-api-web-7d9f-x2k container proxy restarted (exit 1, Error)"
    assert RawRenderer().marker(m)[1] is True  # raw keeps stdout to original lines


def test_raw_is_the_original_line():
    r = RawRenderer()
    line = '{"level":"info","message":"x"}'
    assert r.entry(entry(line)) == line + "\n"
    assert r.entry(entry("E", more=[(TS, "  at x")])) == "E\n  at x\n"
    assert RawRenderer(timestamps=True).entry(entry(line)) == f"{TS} {line}\n"


def test_json_object_per_entry():
    r = JsonRenderer()
    line = '{"severity":"ERROR","message":"failed","err":{"stack":"Error: a\\n    at b"},"seq":3}'
    obj = json.loads(r.entry(entry(line)))
    assert obj == {
        "namespace": "production",
        "pod": "trace-api-web-7d9f-x2k",
        "container": "web",
        "timestamp": TS,
        "level": "error",
        "message": "failed",
        "fields": {"err": {"stack": "Error: a\n    at b"}, "seq": 3},
        "raw": line,
    }
    plain = json.loads(r.entry(entry("Error: x", more=[(TS, "    at y")])))
    assert plain["level"] == "error"
    assert plain["message"] == plain["raw"] == "Error: x\n    at y"
    assert plain["fields"] == {}
    marker = json.loads(r.marker(Marker(WEB, TS, "restarted", 137, "OOMKilled"))[0])
    assert marker["fields"] == {"event": "restarted", "exitCode": 137, "reason": "OOMKilled"}


def test_make_renderer_and_format_fields():
    assert isinstance(make_renderer("raw", color=True), RawRenderer)
    assert isinstance(make_renderer("json", color=True), JsonRenderer)
    assert isinstance(make_renderer("pretty", color=False), PrettyRenderer)
    assert format_fields({"a": {"b": {"c": 1}}, "d": {}}) == "a.b.c=1 d={}"
