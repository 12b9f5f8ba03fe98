"""``status APP`` lists the app's Jobs and CronJobs; ``logs APP --process run`` reads Job pods."""

from __future__ import annotations

import json
from typing import Any


def test_status_lists_recent_jobs_and_cronjobs(
    sandbox: Any, kube: Any, kubectl: Any, app_ns: str, invoke: Any
) -> None:
    ok = invoke(
        "run", "trace-api", "-n", app_ns, "--keep", "--", "echo", "fine", kubeconfig=sandbox.kubeconfig
    )
    bad = invoke(
        "run", "trace-api", "-n", app_ns, "--keep", "--", "sh", "-c", "exit 4", kubeconfig=sandbox.kubeconfig
    )
    assert (ok.exit_code, bad.exit_code) == (0, 4)
    kubectl(
        "create", "cronjob", "trace-api-nightly", "-n", app_ns, "--schedule=0 3 * * *",
        "--image=registry.sandbox.local/trace/trace-api:a41c9e7", "--", "npm", "run", "report", check=True,
    )  # fmt: skip
    kubectl("label", "cronjob", "trace-api-nightly", "-n", app_ns, "app=trace-api", check=True)
    report = json.loads(
        invoke("status", "trace-api", "-n", app_ns, "-o", "json", kubeconfig=sandbox.kubeconfig).stdout
    )
    states = sorted((j["state"], j["reason"]) for j in report["jobs"])
    assert states == [("failed", "BackoffLimitExceeded"), ("succeeded", "")]
    assert all(j["what"].startswith("run by ") for j in report["jobs"])
    assert [c["name"] for c in report["cronjobs"]] == ["trace-api-nightly"]
    assert report["cronjobs"][0]["schedule"] == "0 3 * * *" and report["cronjobs"][0]["last_schedule"] is None
    # Job pods are not "pods without a deployment": a failed one-off does not make the app unhealthy
    assert not [p for p in report["pods"] if p["name"].startswith("trace-api-run-")]
    text = invoke("status", "trace-api", "-n", app_ns, kubeconfig=sandbox.kubeconfig).stdout
    assert "recent jobs" in text and "failed (BackoffLimitExceeded)" in text
    assert '⏲ trace-api-nightly  "0 3 * * *"  last schedule never' in text
    web_only = json.loads(
        invoke(
            "status",
            "trace-api",
            "-n",
            app_ns,
            "--process",
            "web",
            "-o",
            "json",
            kubeconfig=sandbox.kubeconfig,
        ).stdout
    )
    assert web_only["jobs"] == []


def test_logs_of_the_run_process(sandbox: Any, app_ns: str, invoke: Any) -> None:
    ran = invoke(
        "run",
        "trace-api",
        "-n",
        app_ns,
        "--keep",
        "--",
        "echo",
        "one-off line",
        kubeconfig=sandbox.kubeconfig,
    )
    assert ran.exit_code == 0, ran.stderr
    logs = invoke(
        "logs", "trace-api", "-n", app_ns, "--process", "run", "--no-follow", kubeconfig=sandbox.kubeconfig
    )
    assert logs.exit_code == 0, logs.stderr
    assert "one-off line" in logs.stdout
    assert "trace-api-run-" in logs.stdout
