"""``deploy --release-command``: the release phase runs as a Job with the new tag, first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.run.conftest import leftovers


def _images(kube: Any, ns: str) -> dict[str, tuple[str, int]]:
    return {
        d["metadata"]["name"]: (
            d["spec"]["template"]["spec"]["containers"][0]["image"],
            d["metadata"]["generation"],
        )
        for d in kube.list("deployments", ns).items
    }


def test_a_failing_release_command_deploys_nothing(
    sandbox: Any, kube: Any, app_ns: str, invoke: Any, eventually: Any
) -> None:
    before = _images(kube, app_ns)
    result = invoke(
        "deploy", "trace-api", "--tag", "d4e5f6a", "--yes", "-n", app_ns,
        "--release-command", "sh -c 'echo migrating; echo relation exists >&2; exit 1'",
        kubeconfig=sandbox.kubeconfig,
    )  # fmt: skip
    assert result.exit_code == 1
    assert "last 2 log lines of job trace-api-release-" in result.stderr
    assert "  relation exists\n" in result.stderr
    assert (
        "error: release phase failed: `sh -c 'echo migrating; echo relation exists >&2; exit 1'` exited 1"
        in (result.stderr)
    )
    assert _images(kube, app_ns) == before
    eventually(lambda: not leftovers(kube, app_ns), timeout=30, message="the release Job is deleted")


def test_a_release_command_that_cannot_start_deploys_nothing(
    sandbox: Any, kube: Any, app_ns: str, invoke: Any
) -> None:
    before = _images(kube, app_ns)
    result = invoke(
        "deploy", "trace-api", "--tag", "0000000", "--yes", "-n", app_ns, "--release-command", "true",
        kubeconfig=sandbox.kubeconfig,
    )  # fmt: skip
    assert result.exit_code == 1
    assert "error: release phase failed, nothing was deployed: pod trace-api-release-" in result.stderr
    assert _images(kube, app_ns) == before


def test_the_config_files_release_command_runs_before_the_deploy(
    sandbox: Any, kube: Any, app_ns: str, invoke: Any, tmp_path: Path, eventually: Any
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[apps.trace-api]\nrelease_command = \"sh -c 'echo migrated with $PROCESS_TYPE'\"\n")
    result = invoke(
        "deploy", "trace-api", "--tag", "d4e5f6a", "--yes", "-n", app_ns,
        kubeconfig=sandbox.kubeconfig, environ={"KUBECTL_NODEAPP_CONFIG": str(config)},
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "release phase: ✓ `sh -c 'echo migrated with $PROCESS_TYPE'` exited 0" in result.stderr
    assert {image for image, _ in _images(kube, app_ns).values()} == {
        "registry.sandbox.local/trace/trace-api:d4e5f6a"
    }
    causes = {
        d["metadata"]["annotations"]["kubernetes.io/change-cause"]
        for d in kube.list("deployments", app_ns).items
    }
    assert all(c.startswith("deploy d4e5f6a after release phase `sh -c") for c in causes), causes
    eventually(lambda: not leftovers(kube, app_ns), timeout=30, message="the release Job is deleted")


def test_dry_run_only_says_the_release_command_would_run(
    sandbox: Any, kube: Any, app_ns: str, invoke: Any
) -> None:
    result = invoke(
        "deploy", "trace-api", "--tag", "d4e5f6a", "--dry-run", "-n", app_ns, "--release-command", "npm run migrate",
        kubeconfig=sandbox.kubeconfig,
    )  # fmt: skip
    assert result.exit_code == 0
    assert "dry run: the release command `npm run migrate` would run first" in result.stdout  # under the plan
    assert not leftovers(kube, app_ns)
    bad = invoke("deploy", "trace-api", "--release-command", "sh -c 'oops", kubeconfig=sandbox.kubeconfig)
    assert bad.exit_code == 2 and bad.stderr.startswith("error: invalid release command")
