"""The app's Jobs and CronJobs on the dashboard: ``rollout --once`` and the live screen (tmux).

Jobs are made the way a user makes them (``kubectl nodeapp run APP --keep``, a labelled
CronJob through the real kubectl) in a namespace of the test's own (``app_ns``: trace-api's
web and worker copied out of staging, deleted afterwards).
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

from tests.e2e.dashboard.test_rollout_dashboard import quit_and_check
from tests.e2e.run.conftest import app_ns  # noqa: F401  (the fixture)

IMAGE = "registry.sandbox.local/trace/trace-api:a41c9e7"


def _run(invoke: Any, sandbox: Any, ns: str, *command: str) -> int:
    result = invoke("run", "trace-api", "-n", ns, "--keep", "--", *command, kubeconfig=sandbox.kubeconfig)
    return int(result.exit_code)


def test_once_lists_the_apps_jobs_and_cronjobs(
    sandbox: Any,
    kubectl: Any,
    app_ns: str,  # noqa: F811
    invoke: Any,
) -> None:
    assert _run(invoke, sandbox, app_ns, "echo", "fine") == 0
    assert _run(invoke, sandbox, app_ns, "sh", "-c", "exit 4") == 4
    kubectl(
        "create", "cronjob", "trace-api-nightly", "-n", app_ns, "--schedule=0 3 * * *",
        f"--image={IMAGE}", "--", "npm", "run", "report", check=True,
    )  # fmt: skip
    kubectl("label", "cronjob", "trace-api-nightly", "-n", app_ns, "app=trace-api", check=True)
    # a Job of another app is not listed
    kubectl("create", "job", "other-job", "-n", app_ns, f"--image={IMAGE}", "--", "true", check=True)

    result = invoke(
        "rollout", "trace-api-web", "-n", app_ns, "--once", kubeconfig=sandbox.kubeconfig, width=140
    )
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "─ Jobs · trace-api · 2 recent, 1 cron " in out, out
    lines = out.splitlines()
    jobs = [line for line in lines if "trace-api-run-" in line]
    assert len(jobs) == 2, out
    ok = next(line for line in jobs if "succeeded" in line)
    bad = next(line for line in jobs if "failed" in line)
    assert "✓" in ok and " run " in ok and "took " in ok and ": echo fine" in ok and "run by" not in ok
    assert "✗" in bad and "failed (BackoffLimitExceeded)" in bad and "exit 4" in bad
    cron = next(line for line in lines if "⏲" in line)
    assert "trace-api-nightly" in cron and "cron" in cron and "0 3 * * *" in cron and "never ran" in cron
    assert "other-job" not in out
    assert out.index("─ Jobs ·") < out.index("─ Events")


def test_live_screen_shows_the_jobs_section_and_follows_new_jobs(
    sandbox: Any,
    app_ns: str,  # noqa: F811
    invoke: Any,
    tmux: Any,
    tmp_path: Path,
    eventually: Any,
) -> None:
    assert _run(invoke, sandbox, app_ns, "echo", "first") == 0
    argv = [
        sys.executable, "-m", "kubectl_trace", "rollout", "--kubeconfig", sandbox.kubeconfig,
        "-n", app_ns, "trace-api-web",
    ]  # fmt: skip
    script = (
        f"stty -g > {tmp_path}/stty-before; {shlex.join(argv)}; echo $? > {tmp_path}/exit-code; "
        f"stty -g > {tmp_path}/stty-after"
    )
    tmux.start(
        ["bash", "--norc", "--noprofile", "-c", script], width=120, height=40, env={"HOME": str(tmp_path)}
    )
    screen = tmux.wait_for("Jobs · trace-api · 1 recent", timeout=60)
    assert "● live" in screen or "live" in screen
    row = next(line for line in screen.splitlines() if "trace-api-run-" in line)
    assert "succeeded" in row and "echo first" in row
    # a Job started while the dashboard runs arrives through the watch
    assert _run(invoke, sandbox, app_ns, "sh", "-c", "exit 2") == 2
    screen = tmux.wait_for("Jobs · trace-api · 2 recent", timeout=60)
    screen = tmux.wait_for("failed (BackoffLimitExceeded)", timeout=30)
    assert "Pods ·" in screen and "Events" in screen
    quit_and_check(tmux, tmp_path, eventually)
