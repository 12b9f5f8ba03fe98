"""``kubectl nodeapp demo`` without a terminal: the story as text, exit 0 within 60 s."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any


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
    assert (
        "deploy trace-api d4e5f6a" in steps[0] and "badc0de" in steps[1] and "roll trace-api back" in steps[2]
    )
    # the story is told by the product's own commands: deploy, its failure explanation, rollback
    assert "$ kubectl nodeapp deploy trace-api --tag badc0de --yes -n production" in out
    assert "Readiness probe failed: HTTP probe failed with statuscode: 503" in out
    assert "progress deadline (120s) exceeded" in out
    assert (
        "hint: roll back to v3 (the last release whose rollout completed healthy; deploy d4e5f6a) "
        "with: kubectl nodeapp rollback trace-api -n production --kubeconfig "
    ) in out
    assert "release v5 of trace-api: rollback to v3" in out
    assert "✓ rollback to v3: every rollout complete" in out
    assert "production runs trace-api d4e5f6a again" in out
    assert out.rstrip().endswith("stopping the sandbox")
    leftovers = [n for n in set(os.listdir("/tmp")) - before if n.startswith("nodeapp-demo-")]
    assert not leftovers


def test_demo_rejects_bad_flags(invoke: Callable[..., Any]) -> None:
    result = invoke("demo", "--time-scale", "5")
    assert result.exit_code == 2 and "--time-scale" in result.stderr
    result = invoke("demo", "--good-tag", "badc0de")
    assert result.exit_code == 2 and "--good-tag" in result.stderr


def test_demo_on_a_terminal_plays_in_the_dashboard(tmux: Any, tmp_path: Any, eventually: Any) -> None:
    """On a terminal the story runs in the rollout dashboard; q quits, the sandbox is stopped."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    marker = tmp_path / "exit"
    tmux.start(f"{root / 'bin' / 'kubectl-nodeapp'} demo; echo $? > {marker}", width=130, height=45)
    tmux.wait_for("nodeapp rollout · context nodeapp-sandbox · namespace production", timeout=60)
    screen = tmux.wait_for("1/3  deploy trace-api d4e5f6a", timeout=60)
    assert "trace-api-web" in screen
    tmux.wait_for("2/3  deploy trace-api badc0de", timeout=60)
    tmux.wait_for("Stalled", timeout=90)
    tmux.wait_for("the story is over", timeout=90)
    tmux.send("q")
    eventually(
        lambda: marker.exists() and marker.read_text().endswith("\n"),
        timeout=45,
        interval=0.2,
        message="the demo to exit after q",
    )
    assert marker.read_text().strip() == "0"
