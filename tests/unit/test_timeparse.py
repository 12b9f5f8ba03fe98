"""``timeparse``: durations, --since, RFC 3339 with nanoseconds, kubectl's ages."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubectl_trace.errors import UsageError
from kubectl_trace.timeparse import (
    format_age,
    format_rfc3339_nano,
    parse_duration,
    parse_rfc3339,
    parse_since,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("5m", 300), ("1h30m", 5400), ("250ms", 0.25), ("2d", 172800), ("10", 10), ("1.5s", 1.5)],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5x", "m5", "5m10", "-5s", "1h 30m"])
def test_parse_duration_rejects(text):
    with pytest.raises(UsageError, match="invalid"):
        parse_duration(text, flag="--since", allow_bare_seconds=False)


def test_parse_since():
    assert parse_since("5m", now=1000.0) == 700.0
    assert parse_since("2026-01-02T03:04:05Z", now=0) == parse_rfc3339("2026-01-02T03:04:05.000000000Z")
    with pytest.raises(UsageError, match=r"invalid --since 'yesterday'"):
        parse_since("yesterday", now=0)


def test_rfc3339_round_trip_nanos():
    ts = parse_rfc3339("2026-11-26T10:11:12.123456789Z")
    assert format_rfc3339_nano(ts).startswith("2026-11-26T10:11:12.1234567")
    assert parse_rfc3339("2026-11-26T12:11:12+02:00") == parse_rfc3339("2026-11-26T10:11:12Z")
    assert len(format_rfc3339_nano(ts).split(".")[1]) == 10  # nine digits and Z


@given(st.floats(min_value=0, max_value=4e9, allow_nan=False))
def test_format_rfc3339_nano_parses_back(ts):
    text = format_rfc3339_nano(ts)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", text)
    assert parse_rfc3339(text) == pytest.approx(ts, abs=1e-6)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (5, "5s"),
        (119, "119s"),
        (130, "2m10s"),
        (600, "10m"),
        (3 * 3600 + 5, "3h"),
        (5 * 3600 + 600, "5h10m"),
        (30 * 3600, "30h"),
        (3 * 86400 + 3600, "3d1h"),
        (10 * 86400, "10d"),
    ],
)
def test_format_age_like_kubectl(seconds, text):
    assert format_age(seconds) == text
