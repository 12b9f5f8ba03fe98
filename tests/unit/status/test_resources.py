"""The status resource section built and rendered from objects (pure: no server)."""

from __future__ import annotations

from io import StringIO

from rich.console import Console

from kubectl_trace.status.resources import MetricsAnswer, build_facts, facts_json, render_facts
from tests.factories import NOW, container, event, pod, running, terminated, ts


def _text(facts: object) -> str:
    console = Console(file=StringIO(), width=200, color_system=None)
    for item in render_facts(facts):  # type: ignore[arg-type]
        console.print(item)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(out, str)
    return out


def test_without_metrics_server_status_says_so_in_one_line() -> None:
    note = "the cluster does not serve metrics.k8s.io (no metrics-server): no CPU or memory figures"
    facts = build_facts([pod()], [], MetricsAnswer(None, note), NOW)
    assert facts.pods == () and facts.metrics_note == note
    assert facts_json(facts)["metrics"] == {"available": False, "note": note}
    text = _text(facts)
    assert note in text and "POD" not in text


def test_figures_oom_and_shutdowns_render_together() -> None:
    c = container(requests={"cpu": "100m", "memory": "128Mi"})
    c["resources"]["limits"] = {"memory": "256Mi"}
    c["command"] = ["npm", "start"]
    last = terminated(137, "Error", started=-900, finished=-70)
    p = pod(containers=[c], statuses=[running(restarts=1, started=-69, last=last)])
    kill = event("Killing", "Container web definition changed, will be restarted", first=-100)
    metrics = {
        "metadata": {"name": p["metadata"]["name"]},
        "timestamp": ts(0),
        "containers": [{"name": "web", "usage": {"cpu": "250000000n", "memory": "240Mi"}}],
    }
    facts = build_facts([p], [kill], MetricsAnswer((metrics,)), NOW)
    doc = facts_json(facts)
    assert doc["pods"][0]["cpu_millicores"] == 250.0
    assert doc["shutdowns"][0]["text"] == "killed after the 30s grace period (exit 137)"
    text = _text(facts)
    assert "web (1 pod): CPU 250m avg, 250m max of 100m requested, no limit" in text
    row = next(line for line in text.splitlines() if line.startswith(p["metadata"]["name"]))
    assert row.split()[1:] == ["web", "250m", "100m", "-", "240Mi", "128Mi", "256Mi", "94%"]
    assert "web: killed after the 30s grace period (exit 137), last in pod" in text
    assert "why: `npm start` is PID 1: npm does not pass SIGTERM on to node" in text
