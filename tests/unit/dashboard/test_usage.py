"""CPU and memory per pod in the dashboard: the reducer, the cells, the pods panel, the poller."""

from __future__ import annotations

import copy
from typing import Any

from kubectl_trace.dashboard.feed import Inbox
from kubectl_trace.dashboard.reducer import reduce, reduce_all
from kubectl_trace.dashboard.state import MetricsInput, Usage, WatchInput
from kubectl_trace.dashboard.ui import UiState
from kubectl_trace.dashboard.usage import MetricsPoller, usage_cells, usage_note
from tests.factories.rollout import NOW

from .render import render_screen, story_snapshot, with_logs

FAILING = "trace-api-web-6f7c9d8b4-p9w2m"
OLD = "trace-api-web-5c6b1d9f7-aa1bc"
NO_METRICS = "the cluster does not serve metrics.k8s.io (no metrics-server): no CPU or memory figures"


def metrics(name: str, cpu: str, memory: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "timestamp": "2026-12-01T12:00:00Z",
        "containers": [{"name": "web", "usage": {"cpu": cpu, "memory": memory}}],
    }


def with_limits(snapshot: Any) -> Any:
    """The web pods with limits of 500m CPU and 512Mi memory."""
    updates = []
    for name in (FAILING, OLD):
        pod = copy.deepcopy(snapshot.pods[name])
        pod["spec"]["containers"][0]["resources"] = {
            "requests": {"cpu": "100m", "memory": "256Mi"},
            "limits": {"cpu": "500m", "memory": "512Mi"},
        }
        updates.append(WatchInput("pods", "MODIFIED", NOW, object=pod))
    return reduce_all(snapshot, updates)


def pods_block(screen: str) -> list[str]:
    lines = screen.splitlines()
    start = next(i for i, line in enumerate(lines) if "─ Pods" in line)
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("└"))
    return lines[start : end + 1]


def test_a_poll_replaces_the_usage_and_a_missing_api_leaves_a_note() -> None:
    s = story_snapshot()
    assert s.usage == Usage() and s.usage.at is None
    s = reduce(s, MetricsInput(NOW, (metrics(FAILING, "12m", "60Mi"),)))
    assert set(s.usage.by_pod) == {FAILING} and s.usage.note == "" and s.usage.at == NOW
    s = reduce(s, MetricsInput(NOW + 15, (metrics(OLD, "5m", "70Mi"),)))
    assert set(s.usage.by_pod) == {OLD}
    s = reduce(s, MetricsInput(NOW + 30, None, NO_METRICS))
    assert s.usage.by_pod == {} and s.usage.note == NO_METRICS
    assert usage_note(s.usage) == "no CPU/memory: the cluster does not serve metrics.k8s.io"


def test_cells_against_limits_red_near_the_memory_limit() -> None:
    s = with_limits(story_snapshot())
    s = reduce(s, MetricsInput(NOW, (metrics(FAILING, "12m", "60Mi"), metrics(OLD, "250m", "490Mi"))))
    assert usage_cells(s.pods[FAILING], s.usage) == (("12m/500m", ""), ("60Mi/512Mi", ""))
    assert usage_cells(s.pods[OLD], s.usage) == (("250m/500m", ""), ("490Mi/512Mi", "bold red"))
    no_limit = "trace-api-web-5c6b1d9f7-k3j9d"
    assert usage_cells(s.pods[no_limit], s.usage) == (("-", "grey50"), ("-", "grey50"))  # no figures for it


def test_the_pods_panel_shows_cpu_and_memory_columns_once_asked() -> None:
    s = with_limits(with_logs(story_snapshot()))
    before = pods_block(render_screen(s, UiState(), 120, 40))
    assert "CPU" not in before[1] and "MEMORY" not in before[1]  # not asked yet: no empty columns
    s = reduce(
        s,
        MetricsInput(
            NOW,
            (
                metrics(FAILING, "12m", "60Mi"),
                metrics(OLD, "250m", "490Mi"),
                metrics("trace-api-web-5c6b1d9f7-k3j9d", "3m", "100Mi"),
            ),
        ),
    )
    assert pods_block(render_screen(s, UiState(), 120, 40)) == [
        "┌─ Pods · 4 (3 ready) ─────────────────────────────────────────────────────────────────────────────────────────────────┐",
        "│   POD                      REV STATUS  READY READINESS        LIVENESS RESTARTS                 CPU      MEMORY  AGE │",
        "│ ▶ …api-web-6f7c9d8b4-p9w2m 5   Running 0/1   failing ×3 (503) ok       0                   12m/500m  60Mi/512Mi  38s │",
        "│   …api-web-5c6b1d9f7-aa1bc 4   Running 1/1   ok               ok       1 (OOMKilled 120m) 250m/500m 490Mi/512Mi 116m │",
        "│   …api-web-5c6b1d9f7-k3j9d 4   Running 1/1   ok               ok       0                         3m       100Mi 115m │",
        "│   …api-web-5c6b1d9f7-zz8qx 4   Running 1/1   ok               ok       0                          -           - 113m │",
        "│ ▸ trace-api-web-6f7c9d8b4-p9w2m badc0de: readiness probe failing ×3 over 25s: HTTP probe failed with statuscode: 503 │",
        "└──────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┘",
    ]


def test_without_metrics_dashes_and_one_note() -> None:
    s = reduce(with_logs(story_snapshot()), MetricsInput(NOW, None, NO_METRICS))
    screen = render_screen(s, UiState(), 120, 40)
    block = pods_block(screen)
    assert block[0].startswith(
        "┌─ Pods · 4 (3 ready) · no CPU/memory: the cluster does not serve metrics.k8s.io ─"
    )
    assert all(
        line.split()[-4:-1] == ["-", "-", line.split()[-2]] or "-      -" in line for line in block[2:6]
    )
    assert screen.count("no CPU/memory") == 1


def test_narrow_screens_drop_the_usage_columns_before_the_probes() -> None:
    s = reduce(
        with_limits(with_logs(story_snapshot())), MetricsInput(NOW, (metrics(FAILING, "12m", "60Mi"),))
    )
    lines = render_screen(s, UiState(focus="pods"), 60, 24).splitlines()
    header = lines[next(i for i, line in enumerate(lines) if line.startswith("─ Pods")) + 1]
    assert header.split() == ["POD", "STATUS", "READY", "READINESS", "LIVENESS", "RESTARTS"]


def test_the_poller_reads_the_sandbox_metrics(sandbox: Any, kube: Any) -> None:
    inbox = Inbox()
    poller = MetricsPoller(kube, "production", inbox, clock=lambda: NOW)
    item = poller.poll()
    assert item.at == NOW and item.note == "" and item.items
    names = {m["metadata"]["name"] for m in item.items}
    pods = {p["metadata"]["name"] for p in kube.list("pods", "production").items}
    assert names and names <= pods
    s = reduce(story_snapshot(), item)
    assert s.usage.by_pod.keys() == names
