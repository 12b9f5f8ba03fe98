"""``kubectl nodeapp demo`` without a terminal: the story as text, exit 0 within 60 s."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from kubectl_trace.cli.cmd_demo import deployment_state


def test_demo_narrates_the_story_and_exits_0_within_60s(invoke: Callable[..., Any]) -> None:
    before = set(os.listdir("/tmp"))
    started = time.monotonic()
    result = invoke("demo")
    took = time.monotonic() - started
    assert result.exit_code == 0, result.stderr
    assert took < 60
    out = result.stdout
    steps = [line for line in out.splitlines() if line[:4] in ("1/3 ", "2/3 ", "3/3 ")]
    assert [s[:3] for s in steps] == ["1/3", "2/3", "3/3"]
    assert "deploy trace-api d4e5f6a" in steps[0] and "badc0de" in steps[1] and "roll back" in steps[2]
    assert "Readiness probe failed: HTTP probe failed with statuscode: 503" in out
    assert "STALLED (ProgressDeadlineExceeded)" in out
    assert "trace-api-web                      rolled out: 3/3 ready, 3 updated on d4e5f6a" in out
    assert out.rstrip().endswith("stopping the sandbox")
    leftovers = [n for n in set(os.listdir("/tmp")) - before if n.startswith("nodeapp-demo-")]
    assert not leftovers


def test_demo_rejects_bad_flags(invoke: Callable[..., Any]) -> None:
    result = invoke("demo", "--time-scale", "5")
    assert result.exit_code == 2 and "--time-scale" in result.stderr
    result = invoke("demo", "--good-tag", "badc0de")
    assert result.exit_code == 2 and "--good-tag" in result.stderr


def test_deployment_state_follows_rollout_status_rules() -> None:
    base = {
        "metadata": {"generation": 2},
        "spec": {"replicas": 3},
        "status": {"observedGeneration": 2, "updatedReplicas": 3, "replicas": 3, "availableReplicas": 3},
    }
    assert deployment_state(base) == "Complete"
    assert deployment_state({**base, "status": {**base["status"], "replicas": 4}}) == "Progressing"
    assert deployment_state({**base, "status": {**base["status"], "observedGeneration": 1}}) == "Progressing"
    stalled = {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}
    assert deployment_state({**base, "status": {**base["status"], "conditions": [stalled]}}) == "Stalled"
    assert deployment_state({**base, "spec": {"replicas": 3, "paused": True}}) == "Paused"
