import json

import pytest

from kubectl_trace.logs.parse import (
    Parsed,
    guess_plain_level,
    normalize_level,
    parse_text,
    parse_text_keep_stack,
)


def test_winston_level_and_message():
    p = parse_text('{"level":"warn","message":"slow query","ms":812,"table":"orders"}')
    assert p == Parsed(True, "warn", "slow query", {"ms": 812, "table": "orders"})


def test_winston_npm_levels_map_to_six():
    assert [normalize_level(x) for x in ("silly", "debug", "verbose", "http", "info", "warn", "error")] == [
        "trace",
        "debug",
        "debug",
        "debug",
        "info",
        "warn",
        "error",
    ]


def test_cloud_logging_severity():
    line = {
        "severity": "WARNING",
        "message": "retrying",
        "httpRequest": {"requestMethod": "GET", "status": 503},
        "logging.googleapis.com/trace": "projects/p/traces/abc",
    }
    p = parse_text(json.dumps(line))
    assert p.level == "warn"
    assert p.message == "retrying"
    assert p.fields == {
        "httpRequest": {"requestMethod": "GET", "status": 503},
        "logging.googleapis.com/trace": "projects/p/traces/abc",
    }


@pytest.mark.parametrize(
    ("severity", "level"),
    [
        ("DEFAULT", "info"),
        ("DEBUG", "debug"),
        ("INFO", "info"),
        ("NOTICE", "info"),
        ("WARNING", "warn"),
        ("ERROR", "error"),
        ("CRITICAL", "fatal"),
        ("ALERT", "fatal"),
        ("EMERGENCY", "fatal"),
    ],
)
def test_every_cloud_logging_severity(severity, level):
    assert parse_text(json.dumps({"severity": severity, "message": "m"})).level == level


@pytest.mark.parametrize(
    ("number", "level"),
    [(10, "trace"), (20, "debug"), (30, "info"), (40, "warn"), (50, "error"), (60, "fatal")],
)
def test_pino_numeric_levels(number, level):
    line = {
        "level": number,
        "time": 1767366245123,
        "pid": 17,
        "hostname": "web-1",
        "msg": "hello",
        "reqId": 7,
    }
    p = parse_text(json.dumps(line))
    assert (p.level, p.message) == (level, "hello")
    assert p.fields == {"time": 1767366245123, "pid": 17, "hostname": "web-1", "reqId": 7}


def test_bunyan_line():
    line = {
        "name": "trace-api",
        "hostname": "worker-2",
        "pid": 1,
        "level": 50,
        "msg": "job failed",
        "time": "2026-01-02T15:04:05.123Z",
        "v": 0,
        "err": {"message": "boom", "name": "Error", "stack": "Error: boom\n    at run (/app/job.js:3:9)"},
    }
    p = parse_text(json.dumps(line))
    assert p.level == "error"
    assert p.message == "job failed"
    assert p.stack == "Error: boom\n    at run (/app/job.js:3:9)"
    assert p.fields["err"] == {"message": "boom", "name": "Error"}
    assert p.fields["name"] == "trace-api"


def test_top_level_stack_taken_out():
    p = parse_text('{"level":"error","message":"x","stack":"Error: x\\n    at a (b.js:1:1)"}')
    assert p.stack == "Error: x\n    at a (b.js:1:1)"
    assert p.fields == {}


def test_stack_inside_a_multiline_message():
    p = parse_text(json.dumps({"severity": "ERROR", "message": "TypeError: nope\n    at f (x.js:1:2)"}))
    assert p.message == "TypeError: nope"
    assert p.stack == "    at f (x.js:1:2)"


def test_keep_stack_variant_leaves_the_fields_as_they_were():
    text = '{"level":"error","message":"x","err":{"stack":"E\\n  at y"}}'
    p = parse_text_keep_stack(text)
    assert p.stack is None
    assert p.fields == {"err": {"stack": "E\n  at y"}}


def test_plain_lines_untouched():
    for text in ("Server listening on :8080", "", "{not json}", "[1,2,3]", '{"a":1'):
        p = parse_text(text)
        assert not p.structured
        assert p.message == text
        assert p.fields == {}


def test_json_without_level_or_message():
    p = parse_text('{"event":"tick","n":3}')
    assert p.structured and p.level is None and p.message == ""
    assert p.fields == {"event": "tick", "n": 3}


def test_non_string_message_is_json():
    assert parse_text('{"level":"info","message":{"a":1}}').message == '{"a":1}'


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("ERROR could not connect", "error"),
        ("[WARN] disk almost full", "warn"),
        ("error: ECONNREFUSED", "error"),
        ("TypeError: Cannot read properties of undefined (reading 'id')", "error"),
        ("Error [ERR_HTTP_HEADERS_SENT]: Cannot set headers", "error"),
        ("time=2026 level=warn msg=hi", "warn"),
        ("Server listening on :8080", None),
        ("Errors are counted", None),
        ("    at Object.<anonymous> (/app/a.js:1:1)", None),
    ],
)
def test_guess_plain_level(text, level):
    assert guess_plain_level(text) == level
