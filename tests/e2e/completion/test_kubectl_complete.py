"""kubectl itself asks our completer: `kubectl __complete nodeapp …` with the executables on PATH."""

import os
import subprocess
from pathlib import Path

import yaml

from tests.conftest import KUBECTL

ROOT = Path(__file__).resolve().parents[3]


def kubectl_complete(sandbox, tmp_path, *words, kubeconfig=None):
    bindir = tmp_path / "bin"
    if not bindir.exists():
        bindir.mkdir()
        for exe in (ROOT / "bin").iterdir():
            (bindir / exe.name).symlink_to(exe)
    env = {
        "PATH": f"{bindir}:{os.path.dirname(KUBECTL)}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "KUBECONFIG": kubeconfig or sandbox.kubeconfig,
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


def test_a_legacy_auth_provider_user_gets_names_too(sandbox, tmp_path):
    """Such a context needs the official client (the commands' named fallback); the completer
    uses it too instead of offering nothing."""
    config = yaml.safe_load(Path(sandbox.kubeconfig).read_text())
    token = config["users"][0]["user"]["token"]
    config["users"][0]["user"] = {
        "auth-provider": {"name": "gcp", "config": {"access-token": token, "expiry": "2099-01-01T00:00:00Z"}}
    }
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(config))
    values, directive = kubectl_complete(
        sandbox, tmp_path, "nodeapp", "logs", "-n", "production", "trace", kubeconfig=str(kubeconfig)
    )
    assert "trace-api" in values and any(v.startswith("trace-api-web-") for v in values), values
    assert directive == ":4"
