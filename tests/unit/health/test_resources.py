"""Resource use against requests/limits, OOM advice and shutdown facts (pure, no server)."""

from __future__ import annotations

from typing import Any

import pytest

from kubectl_trace.health.heap import heap_limit, max_old_space_mib, node_default_old_space, oom_advice
from kubectl_trace.health.resources import pod_usages, process_usages
from kubectl_trace.health.shutdown import (
    pid1_cause,
    shutdown_facts,
    sigterm_seen,
    summarise_shutdowns,
    with_log_cause,
)
from tests.factories import NOW, container, event, pod, running, terminated, ts

MI = 2**20


def _limited(limit: str = "256Mi", **kw: Any) -> dict[str, Any]:
    c = container(requests={"cpu": "100m", "memory": "128Mi"}, **kw)
    c["resources"]["limits"] = {"memory": limit}
    return c


def _metrics(name: str, cpu: str, memory: str) -> dict[str, Any]:
    return {
        "kind": "PodMetrics",
        "metadata": {"name": name, "namespace": "production"},
        "timestamp": ts(0),
        "window": "15s",
        "containers": [{"name": "web", "usage": {"cpu": cpu, "memory": memory}}],
    }


def test_pod_and_process_usage_against_requests_and_limits() -> None:
    pods = [pod(f"trace-api-web-7d9f8c6b5-{s}", containers=[_limited()]) for s in ("aaaaa", "bbbbb", "ccccc")]
    metrics = [
        _metrics("trace-api-web-7d9f8c6b5-aaaaa", "40000000n", "100000Ki"),
        _metrics("trace-api-web-7d9f8c6b5-bbbbb", "60m", "250Mi"),
    ]  # ccccc has no figures yet: left out
    usages = pod_usages(pods, metrics)
    assert [u.pod[-5:] for u in usages] == ["aaaaa", "bbbbb"]
    first = usages[0]
    assert first.process == "web"
    assert first.cpu_m == pytest.approx(40.0)
    assert first.memory == 100_000 * 1024
    assert first.cpu_text() == "40m of 100m requested, no limit"
    assert first.memory_text() == "98Mi of 128Mi requested, limit 256Mi (38% of limit)"
    assert first.as_json()["memory_limit_bytes"] == 256 * MI
    (web,) = process_usages(usages)
    assert web.pods == 2 and web.cpu_max_m == pytest.approx(60.0)
    assert web.line().startswith("web (2 pods): CPU 50m avg, 60m max of 100m requested")
    assert "(highest 98% of limit)" in web.line()


def test_heap_limit_from_flags_and_node_default() -> None:
    flagged = container(
        env=[{"name": "NODE_OPTIONS", "value": "--enable-source-maps --max-old-space-size=192"}]
    )
    assert max_old_space_mib(flagged) == (192, "NODE_OPTIONS")
    in_args = {"name": "web", "command": ["sh", "-c", "node --max_old_space_size=300 server.js"]}
    assert max_old_space_mib(in_args) == (300, "the container's command")
    assert max_old_space_mib(container()) is None
    # Node's default: half the limit, at least 256 MiB, at most 4 GiB
    assert node_default_old_space(2048 * MI) == 1024 * MI
    assert node_default_old_space(256 * MI) == 256 * MI
    assert node_default_old_space(64 * 2**30) == 4096 * MI
    limit = heap_limit(container(), 1024 * MI)
    assert limit is not None and limit.size == 512 * MI and limit.source == "Node's default for that limit"
    assert heap_limit(container(), None) is None


def _oom_pod(c: dict[str, Any]) -> dict[str, Any]:
    last = terminated(137, "OOMKilled", started=-900, finished=-120)
    return pod(containers=[c], statuses=[running(restarts=1, started=-119, last=last)])


def test_oom_advice_when_the_heap_may_fill_the_container() -> None:
    (advice,) = oom_advice(_oom_pod(_limited("256Mi")))
    assert advice.memory_limit == 256 * MI and advice.heap_limit == 256 * MI
    assert "OOMKilled at the 256Mi memory limit" in advice.message
    assert "Node's default for that limit" in advice.message
    assert "--max-old-space-size=192" in advice.fix
    assert advice.finished_at == NOW - 120


def test_oom_advice_when_the_heap_was_capped_well_below_the_limit() -> None:
    c = _limited("1Gi", env=[{"name": "NODE_OPTIONS", "value": "--max-old-space-size=256"}])
    (advice,) = oom_advice(_oom_pod(c))
    assert "capped at 256Mi (--max-old-space-size=256 in NODE_OPTIONS)" in advice.message
    assert "outside it" in advice.message and "raise resources.limits.memory" in advice.fix
    no_limit = oom_advice(_oom_pod(container()))
    assert no_limit[0].memory_limit is None and "no memory limit" in no_limit[0].message
    assert oom_advice(pod()) == []


def test_pid1_causes_from_command() -> None:
    assert "npm does not pass SIGTERM" in (pid1_cause({"command": ["npm", "start"]}) or "")
    assert "`sh -c` is PID 1" in (pid1_cause({"command": ["/bin/sh", "-c", "node server.js"]}) or "")
    assert pid1_cause({"command": ["sh", "-c", "exec node server.js"]}) is None
    assert pid1_cause({"command": ["node", "server.js"]}) is None
    assert pid1_cause({}) is None


def _stopped(code: int, reason: str, took: float, *, command: list[str] | None = None) -> tuple[Any, Any]:
    c = _limited()
    if command:
        c["command"] = command
    last = terminated(code, reason, started=-900, finished=-100 + took)
    p = pod(containers=[c], statuses=[running(restarts=1, started=-99 + took, last=last)])
    kill = event("Killing", "Container web definition changed, will be restarted", first=-100)
    return p, kill


def test_graceful_and_killed_shutdowns_from_recorded_facts() -> None:
    p, kill = _stopped(0, "Completed", 1.0)
    (graceful,) = shutdown_facts([p], [kill], NOW)
    assert graceful.outcome == "graceful" and graceful.text == "graceful in 1.0s" and not graceful.bad
    p, kill = _stopped(137, "Error", 30.0, command=["npm", "start"])
    (killed,) = shutdown_facts([p], [kill], NOW)
    assert killed.outcome == "killed" and killed.bad
    assert killed.text == "killed after the 30s grace period (exit 137)"
    assert killed.causes and "npm" in killed.causes[0]
    ((process, line, causes),) = summarise_shutdowns([graceful, killed])
    assert process == "web" and line.startswith(
        "killed after the 30s grace period (exit 137) (1 of 2 shutdowns)"
    )
    assert causes == killed.causes


def test_no_kill_event_is_no_shutdown_and_oom_is_not_one() -> None:
    p, _kill = _stopped(137, "Error", 30.0)
    assert shutdown_facts([p], [], NOW) == ()
    p, kill = _stopped(137, "OOMKilled", 0.0)
    assert shutdown_facts([p], [kill], NOW) == ()


def test_terminating_pod_still_running_after_sigterm_and_log_cause() -> None:
    p = pod(deleted=-12, statuses=[running(started=-600)])
    kill = event("Killing", "Stopping container web", first=-12)
    (stopping,) = shutdown_facts([p], [kill], NOW)
    assert stopping.outcome == "stopping" and stopping.seconds == pytest.approx(12.0)
    assert stopping.text == "still running 12.0s after SIGTERM (30s grace period)" and stopping.bad
    quiet = with_log_cause(stopping, ['{"severity":"INFO","message":"GET /api/traces 200"}'])
    assert quiet.logged_sigterm is False and "no SIGTERM handler seen in the logs" in quiet.causes[-1]
    handled = with_log_cause(stopping, ['{"message":"SIGTERM received: closing HTTP server"}'])
    assert handled.logged_sigterm is True and handled.causes == ()
    assert sigterm_seen(['level=info msg="shutting down" signal=terminated'])


def test_mixed_node_versions_and_plain_logs() -> None:
    from kubectl_trace.health.processes import log_format_flag, mixed_versions, plain_log_share

    triples = [("web-a", "web", "v20.11.1"), ("web-b", "web", "v20.11.1"), ("web-c", "web", "v18.19.1")]
    triples += [("worker-a", "worker", "v20.11.1"), ("clock-a", "clock", "")]
    assert mixed_versions(triples) == [
        "web: pods run different Node.js versions: v20.11.1 (2 pods), v18.19.1 (1 pod)"
    ]
    json_lines = ['{"severity":"INFO","message":"GET /healthz 200"}'] * 3
    plain = ["[clock] tick: 2 schedule(s) due seq=1", "[clock] tick: 0 schedule(s) due seq=2"]
    assert plain_log_share(json_lines) == 0.0 and plain_log_share([]) == 0.0
    assert plain_log_share(json_lines + plain) == pytest.approx(0.4)
    assert log_format_flag("web", "web-a", json_lines + plain) is None
    flag = log_format_flag("clock", "clock-a", plain)
    assert flag is not None and flag.startswith("clock: logs are not JSON (100% of the last lines in clock-a")
    assert "[clock] tick" in flag
