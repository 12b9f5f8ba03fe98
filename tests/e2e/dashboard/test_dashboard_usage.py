"""The dashboard's CPU and MEMORY columns on a real terminal (tmux), from the sandbox's metrics.k8s.io."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path
from typing import Any


def test_pod_rows_show_cpu_and_memory_against_limits(
    sandbox: Any, tmux: Any, tmp_path: Path, eventually: Any
) -> None:
    argv = [sys.executable, "-m", "kubectl_trace", "rollout", "deploy/trace-api-web", "-n", "production"]
    argv += ["--kubeconfig", sandbox.kubeconfig]
    done = tmp_path / "exit-code"
    tmux.start(
        ["bash", "--norc", "--noprofile", "-c", f"{shlex.join(argv)}; echo $? > {done}"],
        width=120,
        height=40,
        env={"HOME": str(tmp_path)},
    )
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
    tmux.send("q")
    eventually(
        lambda: done.exists() and done.read_text().strip() == "0",
        timeout=30,
        message="the dashboard quits with 0",
    )


def test_once_polls_the_metrics_beside_the_lists(sandbox: Any, invoke: Any) -> None:
    result = invoke(
        "rollout", "trace-api-web", "-n", "production", "--once", kubeconfig=sandbox.kubeconfig, width=140
    )
    assert result.exit_code == 0, result.stderr
    header = next(line for line in result.stdout.splitlines() if " POD " in line)
    assert re.search(r"RESTARTS\s+CPU\s+MEMORY\s+AGE", header), header
    rows = [line for line in result.stdout.splitlines() if "trace-api-web-" in line and " Running " in line]
    assert rows and all(re.search(r" \d+m\s+\d+Mi/512Mi ", row) for row in rows), rows
