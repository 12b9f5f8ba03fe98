"""Resource quantities and the sandbox's simulated usage model (pure)."""

from __future__ import annotations

import pytest

from kubectl_trace.health.quantity import format_cpu, format_memory, parse_cpu, parse_memory
from kubectl_trace.sandbox.usage import container_usage

MI = 2**20


@pytest.mark.parametrize(
    ("text", "millicores"),
    [("250m", 250.0), ("1", 1000.0), ("0.5", 500.0), ("12345678n", 12.345678), ("1500u", 1.5), (2, 2000.0)],
)
def test_parse_cpu(text: object, millicores: float) -> None:
    assert parse_cpu(text) == pytest.approx(millicores)


@pytest.mark.parametrize(
    ("text", "size"),
    [("128Mi", 128 * MI), ("1Gi", 2**30), ("100M", 100_000_000), ("64000Ki", 64_000 * 1024), ("1e3", 1000)],
)
def test_parse_memory(text: str, size: int) -> None:
    assert parse_memory(text) == size


@pytest.mark.parametrize("text", ["", "abc", "12Qi", None, "1..2m", True])
def test_malformed_quantities_are_none(text: object) -> None:
    assert parse_cpu(text) is None
    assert parse_memory(text) is None


def test_formatting() -> None:
    assert format_cpu(42.4) == "42m"
    assert format_cpu(12_000) == "12"
    assert format_memory(118 * MI) == "118Mi"
    assert format_memory(1.5 * 2**30) == "1.5Gi"
    assert format_memory(900 * 1024) == "900Ki"


_WEB = {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}


def _usage(now: float, **kw: object) -> tuple[float, int]:
    args: dict[str, object] = {
        "key": "uid/web",
        "resources": _WEB,
        "process": "web",
        "log_rate": 2.0,
        "now": now,
        "started": 1000.0,
    }
    args.update(kw)
    usage = container_usage(**args)  # type: ignore[arg-type]
    return usage.cpu_millicores, usage.memory_bytes


def test_usage_is_stable_but_moving_and_within_limits() -> None:
    first = _usage(2000.0)
    again = _usage(2000.0)
    later = _usage(2010.0)
    assert first == again  # a pure function of its inputs
    assert first != later  # but figures move as time passes
    for cpu, memory in (first, later):
        assert 1.0 <= cpu <= 500.0
        assert 32 * MI <= memory <= 256 * MI
    # a steady web container sits near its request, well under its limit
    assert 20.0 < first[0] < 200.0
    assert 60 * MI < first[1] < 128 * MI


def test_usage_follows_requests_and_load() -> None:
    small = {"requests": {"cpu": "50m", "memory": "64Mi"}}
    assert _usage(2000.0, resources=small)[0] < _usage(2000.0)[0]
    assert _usage(2000.0, resources=small)[1] <= 64 * MI
    assert _usage(2000.0, log_rate=40.0)[0] > _usage(2000.0, log_rate=0.5)[0]
    # start-up burns CPU
    assert _usage(1002.0)[0] > _usage(2000.0)[0]


def test_leaking_container_grows_towards_its_limit() -> None:
    steady = _usage(1000.0 + 1800, fault=None)[1]
    early = _usage(1000.0 + 60, fault="leak")[1]
    late = _usage(1000.0 + 1800, fault="leak")[1]
    assert early < late
    assert late > 0.9 * 256 * MI > steady
    assert late <= 256 * MI
    # the sandbox time scale speeds the leak up: 0.1 → 60 real seconds are 10 simulated minutes
    assert _usage(1000.0 + 180, fault="leak", time_factor=0.1)[1] > 0.9 * 256 * MI
