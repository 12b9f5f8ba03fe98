"""``kubectl logs`` with every PodLogOptions parameter (real kubectl, scripted container logs)."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from kubectl_trace.timeparse import parse_rfc3339
from tests.sandbox.harness import InProcessServer, ScriptedLog, streaming


@pytest.fixture
def pod(server: InProcessServer) -> ScriptedLog:
    """Pod ``web-1`` (containers app, side): app restarted once; current instance 40 lines deep at 5/s."""
    server.add_pod("web-1", containers=("app", "side"))
    now = time.time()
    server.add_log("default", "web-1", "app", ScriptedLog(now - 60, 1, limit=3, prefix="old"))
    server.add_log("default", "web-1", "side", ScriptedLog(now - 5, 1, prefix="side"))
    return server.add_log("default", "web-1", "app", ScriptedLog(now, 5, backlog=40))


def _numbers(text: str) -> list[int]:
    return [int(line.rsplit(" ", 1)[1]) for line in text.splitlines()]


def test_tail_and_container(pod: ScriptedLog, skubectl: Any) -> None:
    result = skubectl("logs", "web-1", "-c", "app", "--tail", "3", check=True)
    numbers = _numbers(result.stdout)
    assert len(numbers) == 3 and numbers == list(range(numbers[0], numbers[0] + 3))
    assert numbers[0] >= 38
    side = skubectl("logs", "web-1", "-c", "side", check=True)
    assert side.stdout.splitlines()[0] == "side 0"


def test_whole_log_has_no_gaps(pod: ScriptedLog, skubectl: Any) -> None:
    numbers = _numbers(skubectl("logs", "web-1", "-c", "app", check=True).stdout)
    assert numbers == list(range(len(numbers))) and len(numbers) >= 41


def test_timestamps_have_nine_fractional_digits(pod: ScriptedLog, skubectl: Any) -> None:
    result = skubectl("logs", "web-1", "-c", "app", "--tail", "2", "--timestamps", check=True)
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    for line in lines:
        stamp, text = line.split(" ", 1)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", stamp)
        index = int(text.split()[1])
        assert abs(parse_rfc3339(stamp) - pod.line(index)[0]) < 1e-6


def test_since_selects_recent_lines(pod: ScriptedLog, skubectl: Any) -> None:
    before = time.time()
    numbers = _numbers(skubectl("logs", "web-1", "-c", "app", "--since", "2s", check=True).stdout)
    after = time.time()
    times = [pod.line(n)[0] for n in numbers]
    assert times and min(times) >= before - 2 - 0.25
    assert len(numbers) <= (after - before + 2) * 5 + 2
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3))
    since_time = _numbers(skubectl("logs", "web-1", "-c", "app", f"--since-time={stamp}", check=True).stdout)
    assert min(pod.line(n)[0] for n in since_time) >= parse_rfc3339(stamp)


def test_previous_instance(pod: ScriptedLog, skubectl: Any) -> None:
    result = skubectl("logs", "web-1", "-c", "app", "--previous", check=True)
    assert result.stdout.splitlines() == ["old 0", "old 1", "old 2"]
    missing = skubectl("logs", "web-1", "-c", "side", "--previous")
    assert missing.returncode == 1
    assert 'previous terminated container "side" in pod "web-1" not found' in missing.stderr


def test_limit_bytes_truncates(pod: ScriptedLog, skubectl: Any) -> None:
    result = skubectl("logs", "web-1", "-c", "app", "--limit-bytes", "10", check=True)
    assert result.stdout == "line 0\nlin"


def test_container_errors(server: InProcessServer, pod: ScriptedLog, skube: Any, skubectl: Any) -> None:
    from kubectl_trace.kube.errors import ApiError
    from kubectl_trace.kube.queries import LogQuery

    with pytest.raises(ApiError) as error:
        skube.pod_log("default", "web-1").chunks().__next__()
    assert error.value.status == 400
    assert "a container name must be specified for pod web-1, choose one of: [app side]" in str(error.value)
    with pytest.raises(ApiError) as error:
        skube.pod_log("default", "web-1", LogQuery("db"))
    assert "container db is not valid for pod web-1" in str(error.value)
    server.add_pod("pending-1", node=None, phase="Pending")
    assert skubectl("logs", "pending-1", check=True).stdout == ""


def test_follow_streams_new_lines_and_ends_when_the_pod_is_deleted(
    server: InProcessServer, pod: ScriptedLog, skubectl: Any
) -> None:
    with streaming([*skubectl.argv_prefix, "logs", "-f", "web-1", "-c", "app", "--tail", "1"]) as (proc, out):
        first = int(out.wait_for(lambda line: line.startswith("line ")).split()[1])
        out.wait_for(lambda line: line == f"line {first + 5}", timeout=20)
        server.call(lambda: server.store.remove("pods", "default", "web-1"))
        assert out.wait_closed(timeout=15), "kubectl logs -f kept running after the pod was deleted"
        assert proc.wait(10) == 0
        numbers = [int(line.split()[1]) for line in out.lines]
        assert numbers == list(range(first, first + len(numbers)))


def test_follow_ends_when_the_instance_finishes(
    server: InProcessServer, pod: ScriptedLog, skubectl: Any
) -> None:
    with streaming([*skubectl.argv_prefix, "logs", "-f", "web-1", "-c", "app", "--tail", "0"]) as (proc, out):
        out.wait_for(lambda line: line.startswith("line "))
        server.call(pod.finish)
        assert out.wait_closed(timeout=15)
        assert proc.wait(10) == 0
        assert out.lines[-1] == f"line {pod.line_count(time.time()) - 1}"


def test_a_deleted_pods_log_is_not_served(server: InProcessServer, pod: ScriptedLog, skubectl: Any) -> None:
    """As a real API server: it finds the node through the pod object, so once that is gone
    the log is NotFound (the kubelet may keep the files; the API does not reach them)."""
    assert skubectl("logs", "web-1", "-c", "app", "--tail", "1").returncode == 0
    server.call(lambda: server.store.remove("pods", "default", "web-1"))
    gone = skubectl("logs", "web-1", "-c", "app", "--tail", "1")
    assert gone.returncode != 0
    assert 'pods "web-1" not found' in gone.stderr
