"""A failing or missing credential plugin: kubectl's wording, the install hint, nothing sent."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.credential_plugins import exec_user, write_plugin


def _kubeconfig(sandbox, tmp_path: Path, user: dict) -> str:
    config = yaml.safe_load(Path(sandbox.kubeconfig).read_text())
    config["users"][0]["user"] = user
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return str(path)


@pytest.mark.parametrize(
    "argv", [("status", "trace-api", "-n", "production"), ("history", "trace-api", "-n", "production")]
)
def test_a_failing_plugin_says_so_in_one_line(sandbox, tmp_path, invoke, argv, capfd):
    plugin = write_plugin(tmp_path, exit_code=1, stderr="error: you are not logged in (run: sso login)")
    before = sandbox.status()["requests"]["total"]
    result = invoke(*argv, kubeconfig=_kubeconfig(sandbox, tmp_path, exec_user(plugin)))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == f"error: getting credentials: exec: executable {plugin} failed with exit code 1"
    assert all(not line.startswith("ERROR:") for line in lines)
    assert "unauthorized" not in result.stderr
    assert "you are not logged in" in capfd.readouterr().err  # the plugin's own words reach the user
    assert sandbox.status()["requests"]["total"] == before  # nothing was sent to the API


def test_a_missing_plugin_shows_the_install_hint(sandbox, tmp_path, invoke):
    user = exec_user(
        "gke-gcloud-auth-plugin-not-here",
        installHint="Install it with: gcloud components install gke-gcloud-auth-plugin",
    )
    result = invoke(
        "status", "trace-api", "-n", "production", kubeconfig=_kubeconfig(sandbox, tmp_path, user)
    )
    assert result.exit_code == 1
    assert result.stderr == (
        "error: getting credentials: exec: executable gke-gcloud-auth-plugin-not-here not found\n"
        "hint: Install it with: gcloud components install gke-gcloud-auth-plugin\n"
    )


def test_an_invalid_exec_entry_is_a_kubeconfig_error(sandbox, tmp_path, invoke):
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "x"}}
    result = invoke("status", "trace-api", kubeconfig=_kubeconfig(sandbox, tmp_path, user))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith(
        "error: interactiveMode must be specified for nodeapp-sandbox"
    )
