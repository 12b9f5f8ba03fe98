"""kubectl itself asks our completer: `kubectl __complete nodeapp …` with the executables on PATH."""

import os
import subprocess
from pathlib import Path

from tests.conftest import KUBECTL

ROOT = Path(__file__).resolve().parents[3]


def kubectl_complete(sandbox, tmp_path, *words):
    bindir = tmp_path / "bin"
    if not bindir.exists():
        bindir.mkdir()
        for exe in (ROOT / "bin").iterdir():
            (bindir / exe.name).symlink_to(exe)
    env = {
        "PATH": f"{bindir}:{os.path.dirname(KUBECTL)}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "KUBECONFIG": sandbox.kubeconfig,
    }
    out = subprocess.run([KUBECTL, "__complete", *words], capture_output=True, text=True, env=env, timeout=30)
    lines = out.stdout.splitlines()
    return [line.split("\t")[0] for line in lines if not line.startswith(":")], lines[-1]


def test_logs_target_through_kubectl(sandbox, tmp_path):
    """kubectl runs kubectl_complete-nodeapp-logs (the plugin it would run is kubectl-nodeapp-logs)."""
    values, directive = kubectl_complete(sandbox, tmp_path, "nodeapp", "logs", "-n", "production", "trace")
    assert "trace-api" in values and "trace-ui" in values
    pods = [v for v in values if v.startswith("trace-api-web-")]
    assert len(pods) == 3, values
    assert directive == ":4"


def test_subcommands_namespaces_and_deployments(sandbox, tmp_path):
    values, _ = kubectl_complete(sandbox, tmp_path, "nodeapp", "")
    assert {"logs", "shell", "status", "events", "rollout", "deploy"} <= set(values)
    values, _ = kubectl_complete(sandbox, tmp_path, "nodeapp", "status", "-n", "")
    assert {"production", "staging"} <= set(values)
    values, _ = kubectl_complete(sandbox, tmp_path, "nodeapp", "-n", "staging", "status", "deploy/")
    assert values == ["deploy/trace-api-clock", "deploy/trace-api-web", "deploy/trace-api-worker"]
    values, _ = kubectl_complete(sandbox, tmp_path, "nodeapp", "logs", "--pro")
    assert "--process" in values
