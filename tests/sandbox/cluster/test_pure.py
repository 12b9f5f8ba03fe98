"""Pure parts of the simulated cluster: logs, images, time, controller arithmetic."""

from __future__ import annotations

import asyncio
import json
import re
import time

import pytest

from kubectl_trace.sandbox.controllers.deployment_rollout import resolve_fenceposts
from kubectl_trace.sandbox.controllers.deployment_status import set_condition
from kubectl_trace.sandbox.controllers.util import equal_ignore_hash, int_or_percent, template_hash
from kubectl_trace.sandbox.defaults import qos_class
from kubectl_trace.sandbox.images import Images, parse_image
from kubectl_trace.sandbox.loggen import LogStyle, append_shutdown, plan_instance, shutdown_plan
from kubectl_trace.sandbox.timescale import Scheduler, TimeScale, go_duration
from tests.factories import seq_of


def plan(style: LogStyle, *, start: float, rate: float = 10.0, backlog: int = 0, instance: int = 0):
    return plan_instance(
        style,
        namespace="production",
        pod="trace-api-web-abc12-xyz9k",
        container="web",
        instance=instance,
        started_at=start,
        rate=rate,
        backlog=backlog,
        scale=0.1,
        node_version="20.11.1",
    )


def test_log_lines_are_a_pure_function_with_contiguous_sequence_numbers() -> None:
    t0 = 1_700_000_000.0
    log, timing = plan(LogStyle("trace-api", "web"), start=t0)
    again, _ = plan(LogStyle("trace-api", "web"), start=t0)
    other, _ = plan(LogStyle("trace-api", "web"), start=t0, instance=1)
    now = t0 + 30
    count = log.line_count(now)
    assert count == again.line_count(now) > 250
    lines = [log.line(i) for i in range(count)]
    assert lines == [again.line(i) for i in range(count)]
    assert lines == log.lines(0, count)
    assert [text for _, text in lines] != [other.line(i)[1] for i in range(count)]
    assert [seq_of(text) for _, text in lines] == list(range(1, count + 1))
    times = [t for t, _ in lines]
    assert times == sorted(times) and times[-1] <= now
    assert log.line(count)[0] > now  # the next line is in the future
    assert log.next_line_time(now) == log.line(count)[0]
    assert timing.listen_after == 1.5 and timing.exits_after is None
    texts = [text for _, text in lines]
    assert texts[0] == "> trace-api@1.4.2 start seq=1"
    assert "Listening on :3000 seq=" in "\n".join(texts[:8])
    structured = [json.loads(t) for t in texts if t.startswith("{")]
    assert {"severity", "message", "timestamp", "seq"} <= set(structured[5])
    assert any("httpRequest" in s for s in structured)
    assert any(
        s["severity"] == "ERROR" and "\n    at " in s.get("err", {}).get("stack", "") for s in structured
    )
    assert {s["severity"] for s in structured} >= {"INFO", "WARNING", "ERROR", "DEBUG"}


def test_first_index_at_and_line_count_agree() -> None:
    t0 = 1_700_000_000.0
    log, _ = plan(LogStyle("trace-api", "worker"), start=t0, rate=4.0, backlog=100)
    now = t0 + 20
    count = log.line_count(now)
    for probe in (t0 - 1000, t0 - 12.3, t0, t0 + 0.05, t0 + 7.77, now):
        index = log.first_index_at(probe)
        assert log.line(index)[0] >= probe
        if index > 0:
            assert log.line(index - 1)[0] < probe
    assert log.first_index_at(now + 5) >= count
    assert log.line(0)[0] < t0  # the backlog is history before the container started
    assert log.line_count(t0) >= 100


def test_cut_and_shutdown_then_finish() -> None:
    async def scenario() -> None:
        t0 = time.time() - 10
        style = LogStyle("trace-api", "web")
        log, _ = plan(style, start=t0)
        waiter = asyncio.ensure_future(log.wait(5))
        await asyncio.sleep(0)  # the reader is now waiting
        now = time.time()
        kept = log.line_count(now)
        log.cut(now)
        renders, duration = shutdown_plan(style, "p")
        append_shutdown(log, renders, now, 0.05)
        await asyncio.wait_for(waiter, 1)  # woken by the change, not the timeout
        assert not log.finished
        log.finish()
        assert log.finished
        total = log.line_count(now + 1)
        assert total == kept + 4
        assert log.next_line_time(now + 1) is None
        last = json.loads(log.line(total - 1)[1])
        assert last["message"] == "shutdown complete" and last["seq"] == total
        assert duration == 1.0

    asyncio.run(scenario())


def test_crash_image_logs_the_module_stack_and_exits() -> None:
    t0 = 1_700_000_000.0
    log, timing = plan(LogStyle("trace-api", "web", "crash"), start=t0)
    assert timing.exits_after == 0.4
    lines = [log.line(i)[1] for i in range(log.line_count(t0 + 100))]
    assert lines[0].startswith("> trace-api@1.4.2 start")
    assert "Error: Cannot find module 'pg-native' seq=" in "\n".join(lines)
    assert lines[-1] == f"Node.js v20.11.1 seq={len(lines)}"
    assert log.next_line_time(t0 + 100) is None


def test_ui_logs_with_pino_and_clock_mixes_plain_and_json() -> None:
    t0 = 1_700_000_000.0
    ui, _ = plan(LogStyle("trace-ui", "web"), start=t0)
    pino = [json.loads(t) for _, t in ui.lines(0, ui.line_count(t0 + 30)) if t.startswith("{")]
    assert pino and all({"level", "time", "msg", "seq", "hostname"} <= set(p) for p in pino)
    clock, _ = plan(LogStyle("trace-api", "clock"), start=t0)
    texts = [t for _, t in clock.lines(0, clock.line_count(t0 + 60))]
    assert any(t.startswith("[clock] ") for t in texts) and any(t.startswith("{") for t in texts)


def test_image_references_and_profiles() -> None:
    ref = parse_image("registry.sandbox.local/trace/trace-api:3f9c2a1")
    assert (
        ref is not None
        and ref.tag == "3f9c2a1"
        and ref.repository == "registry.sandbox.local/trace/trace-api"
    )
    nginx = parse_image("nginx")
    assert nginx is not None and nginx.canonical == "docker.io/library/nginx:latest"
    assert parse_image("Bad Image!") is None
    assert parse_image("registry.sandbox.local/trace/trace-api:") is None
    images = Images({"1111111": "slow-start"})
    assert images.faults() == {
        "badc0de": "unready",
        "c0ffee1": "crash",
        "0000000": "missing",
        "1111111": "slow-start",
    }
    images.mark("c0ffee1", None)
    assert "c0ffee1" not in images.faults()
    with pytest.raises(ValueError, match="unknown image fault 'explode'"):
        images.mark("x", "explode")
    prod = images.profile(ref)
    assert (prod.node_version, prod.has_bash) == ("20.11.1", True)
    staging = images.profile(parse_image("registry.sandbox.local/trace/trace-api:a41c9e7"))  # type: ignore[arg-type]
    assert (staging.node_version, staging.has_bash) == ("20.12.2", False)
    versions = {
        images.profile(parse_image(f"registry.sandbox.local/trace/trace-api:{i:07x}")).node_version
        for i in range(40)
    }  # type: ignore[arg-type]
    assert len(versions) >= 4
    assert prod.image_id.startswith("registry.sandbox.local/trace/trace-api@sha256:")


def test_go_durations_and_scaled_timers() -> None:
    assert [go_duration(s) for s in (10, 20, 40, 80, 160, 300, 0.5, 2.322, 3725)] == [
        "10s",
        "20s",
        "40s",
        "1m20s",
        "2m40s",
        "5m0s",
        "500ms",
        "2.322s",
        "1h2m5s",
    ]
    scale = TimeScale(0.01)
    assert scale.real(300) == 3.0 and scale.simulated(0.1) == pytest.approx(10)

    async def scenario() -> list[str]:
        order: list[str] = []
        timers = Scheduler(scale)
        timers.attach(asyncio.get_running_loop())
        timers.after(20, lambda: order.append("b"))  # 0.2 s
        timers.after(5, lambda: order.append("a"))  # 0.05 s
        cancelled = timers.after(10, lambda: order.append("never"))
        cancelled.cancel()
        await asyncio.sleep(0.4)
        timers.stop()
        return order

    assert asyncio.run(scenario()) == ["a", "b"]


def test_controller_arithmetic() -> None:
    assert int_or_percent("25%", 10, round_up=True) == 3
    assert int_or_percent("25%", 10, round_up=False) == 2
    assert int_or_percent(2, 10, round_up=False) == 2
    deployment = {
        "spec": {"replicas": 3, "strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}}}
    }
    assert resolve_fenceposts(deployment) == (0, 1)
    a = {
        "metadata": {"labels": {"app": "x", "pod-template-hash": "abc"}},
        "spec": {"containers": [{"name": "c"}]},
    }
    b = {"metadata": {"labels": {"app": "x"}, "annotations": {}}, "spec": {"containers": [{"name": "c"}]}}
    assert equal_ignore_hash(a, b) and template_hash(a) == template_hash(b)
    assert re.fullmatch(r"[bcdfghjklmnpqrstvwxz2456789]{6,10}", template_hash(a))
    assert template_hash(a, 1) != template_hash(a)
    status: dict = {}
    cond = {
        "type": "Progressing",
        "status": "True",
        "reason": "A",
        "lastTransitionTime": "t1",
        "lastUpdateTime": "t1",
    }
    set_condition(status, dict(cond))
    set_condition(status, {**cond, "reason": "B", "lastTransitionTime": "t2", "lastUpdateTime": "t2"})
    assert status["conditions"][0]["lastTransitionTime"] == "t1" and status["conditions"][0]["reason"] == "B"
    assert qos_class({"containers": [{"resources": {}}]}) == "BestEffort"
    assert qos_class({"containers": [{"resources": {"requests": {"cpu": "1"}}}]}) == "Burstable"
    guaranteed = {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1", "memory": "1Gi"}}
    assert qos_class({"containers": [{"resources": guaranteed}]}) == "Guaranteed"


def test_backlog_is_shared_pre_rendered_and_chunks_match_lines() -> None:
    from kubectl_trace.timeparse import format_rfc3339_nano

    until = time.time()
    logs = [
        plan_instance(
            LogStyle("trace-api", "web"),
            namespace="production",
            pod=f"pod-{i}",
            container="web",
            instance=0,
            started_at=until + 1 + i,
            rate=2.0,
            backlog=3000,
            scale=0.1,
            node_version="20.11.1",
            backlog_until=until,
        )[0]
        for i in range(3)
    ]
    first, second = logs[0], logs[1]
    assert first.line(2999) == second.line(2999)  # the same history for every container of a style
    assert first.line(2999)[0] <= until < first.line(3000)[0]
    now = until + 30
    count = first.line_count(now)
    blob = first.chunk(0, count, timestamps=True).decode().splitlines()
    assert len(blob) == count
    for index in (0, 1, 1500, 2999, 3000, count - 1):
        t, text = first.line(index)
        assert blob[index] == f"{format_rfc3339_nano(t)} {text}"
    plain = first.chunk(2990, count, timestamps=False).decode().splitlines()
    assert plain == [first.line(i)[1] for i in range(2990, count)]
    assert [seq_of(x) for x in plain] == list(range(2991, count + 1))


def test_a_container_told_to_echo_prints_the_lines_verbatim_and_the_bytes_exactly() -> None:
    import base64

    from kubectl_trace.sandbox.loggen import echo_lines

    raw = b"bad \xff\xfe end\n\x1b]0;t\x07"
    env = {"SANDBOX_LOG_ECHO": "one\x1b[2J\ntwo", "SANDBOX_LOG_ECHO_B64": base64.b64encode(raw).decode()}
    echo = echo_lines(env)
    assert echo[:2] == ["one\x1b[2J", "two"] and len(echo) == 4
    assert echo_lines({"SANDBOX_LOG_ECHO_B64": "not base64!"}) == []
    t0 = 1_700_000_000.0
    for fault in (None, "crash"):
        log, _ = plan_instance(
            LogStyle("trace-api", "web", fault),
            namespace="production",
            pod="p",
            container="web",
            instance=0,
            started_at=t0,
            rate=0.0,
            backlog=0,
            scale=0.1,
            node_version="20.11.1",
            echo=echo,
        )
        count = log.line_count(t0 + 100)
        data = log.chunk(0, count, timestamps=False)
        assert b"one\x1b[2J\ntwo\n" + raw + b"\n" in data  # no seq suffix, the bytes as given
        if fault == "crash":  # the last words before the exit: after the stack
            assert data.endswith(raw + b"\n")
