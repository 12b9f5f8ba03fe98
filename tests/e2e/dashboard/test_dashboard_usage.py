"""The dashboard's CPU and MEMORY columns on a real terminal (tmux), from the sandbox's metrics.k8s.io."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.e2e.dashboard.test_rollout_dashboard import quit_and_check, start_dashboard


def test_pod_rows_show_cpu_and_memory_against_limits(
    sandbox: Any, tmux: Any, tmp_path: Path, eventually: Any
) -> None:
    start_dashboard(tmux, sandbox, tmp_path, "deploy/trace-api-web")
    tmux.wait_for("● live", timeout=60)
    screen = tmux.wait_for("MEMORY", timeout=60)
    header = next(line for line in screen.splitlines() if " POD " in line)
    assert re.search(r"RESTARTS\s+CPU\s+MEMORY\s+AGE", header), header

    def figures() -> str | None:
        text = tmux.capture()
        rows = [line for line in text.splitlines() if "trace-api-web-" in line and " Running " in line]
        # the demo's web pods have a memory limit of 512Mi and no CPU limit
        return text if rows and all(re.search(r" \d+m\s+\d+Mi/512Mi ", row) for row in rows) else None

    eventually(figures, timeout=60, message="CPU and memory (against its limit) on every pod row")
    quit_and_check(tmux, tmp_path, eventually)
