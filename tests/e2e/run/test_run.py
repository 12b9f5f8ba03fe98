"""``kubectl nodeapp run``: one-off processes as Jobs against the session sandbox."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.run.conftest import leftovers

BIN = Path(__file__).resolve().parents[3] / "bin"


def test_exit_status_passes_through_and_nothing_is_left(
    sandbox: Any, kube: Any, app_ns: str, invoke: Any, eventually: Any
) -> None:
    result = invoke(
        "run",
        "trace-api",
        "-n",
        app_ns,
        "--",
        "sh",
        "-c",
        "echo migrated; exit 3",
        kubeconfig=sandbox.kubeconfig,
    )
    assert (result.stdout, result.exit_code) == ("migrated\n", 3), result.stderr
    assert "Running as job trace-api-run-" in result.stderr
    eventually(lambda: not leftovers(kube, app_ns), timeout=30, message="no Job or pod of the run remains")


def test_keep_leaves_the_job_for_kubectl_logs(
    sandbox: Any, kube: Any, kubectl: Any, app_ns: str, invoke: Any
) -> None:
    result = invoke(
        "run", "trace-api", "-n", app_ns, "--keep", "--", "echo", "kept", kubeconfig=sandbox.kubeconfig
    )
    assert (result.stdout, result.exit_code) == ("kept\n", 0), result.stderr
    name = re.search(r"kept job (\S+):", result.stderr)
    assert name is not None, result.stderr
    assert kubectl("logs", f"job/{name.group(1)}", "-n", app_ns, check=True).stdout == "kept\n"
    job = kube.get("jobs", name.group(1), app_ns)
    assert job["metadata"]["labels"] == {"app": "trace-api", "process": "run"}
    assert "run by " in job["metadata"]["annotations"]["nodeapp.kubectl-trace.io/run"]
    assert job["spec"]["backoffLimit"] == 0 and job["spec"]["ttlSecondsAfterFinished"] > 0
    pod_spec = job["spec"]["template"]["spec"]
    assert pod_spec["restartPolicy"] == "Never"
    container = pod_spec["containers"][0]
    assert not {"readinessProbe", "livenessProbe", "startupProbe", "ports"} & set(container)


def test_the_run_sees_the_apps_config(sandbox: Any, kube: Any, app_ns: str, invoke: Any) -> None:
    web = next(
        d
        for d in kube.list("deployments", app_ns).items
        if d["spec"]["template"]["metadata"]["labels"]["process"] == "web"
    )
    node_env = next(
        e["value"] for e in web["spec"]["template"]["spec"]["containers"][0]["env"] if e["name"] == "NODE_ENV"
    )
    result = invoke(
        "run", "trace-api", "-n", app_ns, "--", "printenv", "PROCESS_TYPE", "NODE_ENV", "LOG_LEVEL",
        kubeconfig=sandbox.kubeconfig,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["run", node_env] and lines[2]  # LOG_LEVEL comes from the app's ConfigMap
    chosen = invoke(
        "run", "trace-api", "-n", app_ns, "--process", "worker", "-e", "PROCESS_TYPE=console", "--",
        "printenv", "PROCESS_TYPE", kubeconfig=sandbox.kubeconfig,
    )  # fmt: skip
    assert (chosen.stdout, chosen.exit_code) == ("console\n", 0), chosen.stderr


def test_image_pull_failure_is_explained(
    sandbox: Any, kube: Any, app_ns: str, invoke: Any, eventually: Any
) -> None:
    result = invoke(
        "run", "trace-api", "-n", app_ns, "--tag", "0000000", "--", "true", kubeconfig=sandbox.kubeconfig
    )
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: pod trace-api-run-") and "cannot start" in first and "0000000" in first
    assert "Traceback" not in result.stderr
    eventually(lambda: not leftovers(kube, app_ns), timeout=30, message="the failed run is cleaned up")


def test_bad_input_is_one_line(sandbox: Any, app_ns: str, invoke: Any) -> None:
    missing = invoke("run", "trace-api", "-n", app_ns, kubeconfig=sandbox.kubeconfig)
    assert missing.exit_code == 2 and missing.stderr.startswith("error: no command to run")
    process = invoke(
        "run", "trace-api", "-n", app_ns, "--process", "nope", "--", "true", kubeconfig=sandbox.kubeconfig
    )
    assert process.exit_code == 1 and 'has no process "nope"' in process.stderr
    env = invoke("run", "trace-api", "-n", app_ns, "-e", "oops", "--", "true", kubeconfig=sandbox.kubeconfig)
    assert env.exit_code == 2 and "NAME=VALUE" in env.stderr


def _plugin_env(sandbox: Any) -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "KUBECONFIG": sandbox.kubeconfig,
    }


def test_ctrl_c_without_a_terminal_stops_the_job(
    sandbox: Any, kube: Any, app_ns: str, eventually: Any
) -> None:
    argv = [sys.executable, "-m", "kubectl_trace", "run", "trace-api", "-n", app_ns,
            "--", "sh", "-c", "echo started; sleep 300"]  # fmt: skip
    proc = subprocess.Popen(
        argv,
        env=_plugin_env(sandbox),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"started\n"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert b"stopped job trace-api-run-" in err
    eventually(lambda: not leftovers(kube, app_ns), timeout=30, message="the stopped Job is gone")


@pytest.mark.tmux
def test_ctrl_c_on_a_terminal_asks(sandbox: Any, kube: Any, app_ns: str, tmux: Any, eventually: Any) -> None:
    script = (
        f"{shlex.quote(sys.executable)} -m kubectl_trace run trace-api -n {app_ns} --no-tty "
        "-- sh -c 'echo started; sleep 300'; echo EXIT=$?; exec sleep 600"
    )
    tmux.start(f"bash --norc --noprofile -c {shlex.quote(script)}", env={"KUBECONFIG": sandbox.kubeconfig})
    tmux.wait_for("started", timeout=60)
    tmux.key("C-c")
    tmux.wait_for("Stop job trace-api-run-", timeout=15)
    tmux.send("n", enter=True)
    screen = tmux.wait_for("EXIT=130", timeout=15)
    assert "keeps running; follow it with: kubectl logs -f job/" in screen
    jobs = kube.list("jobs", app_ns).items
    assert len(jobs) == 1 and not any(
        c["type"] == "Complete" for c in jobs[0]["status"].get("conditions") or []
    )
    # the user said no: the Job lives on until stopped by hand
    kube.request(
        "DELETE",
        f"/apis/batch/v1/namespaces/{app_ns}/jobs/{jobs[0]['metadata']['name']}",
        body={"propagationPolicy": "Background"},
        namespace=app_ns,
    )
    eventually(lambda: not leftovers(kube, app_ns), timeout=30, message="cleaned up")


@pytest.mark.tmux
def test_a_tty_session_on_a_terminal(
    sandbox: Any, kube: Any, app_ns: str, tmux: Any, eventually: Any
) -> None:
    script = (
        f"{shlex.quote(sys.executable)} -m kubectl_trace run trace-api -n {app_ns} -- sh; "
        "echo EXIT=$?; exec sleep 600"
    )
    tmux.start(
        f"bash --norc --noprofile -c {shlex.quote(script)}",
        width=100,
        height=30,
        env={"KUBECONFIG": sandbox.kubeconfig},
    )
    tmux.wait_for("If you don't see a command prompt", timeout=60)
    tmux.send("echo pt=$PROCESS_TYPE-$((6*7)) cols=$(tput cols)", enter=True)
    tmux.wait_for("pt=run-42 cols=100", timeout=15)  # a real terminal, with the window's size
    tmux.send("exit 3", enter=True)
    tmux.wait_for("EXIT=3", timeout=30)
    eventually(lambda: not leftovers(kube, app_ns), timeout=30, message="the TTY run is cleaned up")
