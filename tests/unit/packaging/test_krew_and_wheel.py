"""Packaging: the krew manifest follows krew's validation rules, the archive matches it and
unpacks to a working plugin, and a wheel built with `python -m build` installs and runs."""

import hashlib
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from kubectl_trace import __version__

ROOT = Path(__file__).resolve().parents[3]
MANIFEST = ROOT / "plugins" / "nodeapp.yaml"


def validate_krew_plugin(name: str, plugin: dict) -> None:
    """krew's rules for a plugin manifest (internal/index/validation in kubernetes-sigs/krew)."""
    assert plugin["apiVersion"] == "krew.googlecontainertools.github.com/v1alpha2"
    assert plugin["kind"] == "Plugin"
    assert re.fullmatch(r"[\w-]+", name)
    assert plugin["metadata"]["name"] == name, "the plugin must be named like its file"
    spec = plugin["spec"]
    assert spec.get("shortDescription") and not re.search(r"[\r\n]", spec["shortDescription"])
    assert re.fullmatch(r"v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?", spec["version"])
    assert spec["platforms"], "at least one platform"
    for platform in spec["platforms"]:
        assert platform.get("uri")
        assert re.fullmatch(r"[a-f0-9]{64}", platform.get("sha256", ""))
        assert platform.get("bin")
        if "files" in platform:
            assert platform["files"] and all(op.get("from") and op.get("to") for op in platform["files"])
        selector = platform.get("selector")
        assert selector and (selector.get("matchLabels") or selector.get("matchExpressions"))
        keys = list(selector.get("matchLabels") or {}) + [
            e["key"] for e in selector.get("matchExpressions") or []
        ]
        assert set(keys) <= {"os", "arch"}


def test_committed_manifest_is_valid():
    plugin = yaml.safe_load(MANIFEST.read_text())
    validate_krew_plugin(MANIFEST.stem, plugin)
    assert plugin["spec"]["version"] == f"v{__version__}"
    assert plugin["spec"]["description"].strip()
    for platform in plugin["spec"]["platforms"]:
        assert platform["uri"].endswith(f"/v{__version__}/kubectl-nodeapp-v{__version__}.tar.gz")
        assert platform["bin"] == "kubectl-nodeapp"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    manifest = out / "nodeapp.yaml"
    shutil.copy(MANIFEST, manifest)
    subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "dist.py"), "--out", str(out), "--manifest", str(manifest)],
        check=True,
        capture_output=True,
    )
    return out / f"kubectl-nodeapp-v{__version__}.tar.gz", manifest


def test_dist_archive_matches_manifest(built):
    archive, manifest = built
    plugin = yaml.safe_load(manifest.read_text())
    validate_krew_plugin("nodeapp", plugin)
    sha = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert {p["sha256"] for p in plugin["spec"]["platforms"]} == {sha}
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "LICENSE" in names and "kubectl-nodeapp" in names and "kubectl_trace/cli/runner.py" in names
    assert not any("__pycache__" in n for n in names)


def test_dist_is_reproducible(built, tmp_path):
    archive, _ = built
    manifest = tmp_path / "m.yaml"
    shutil.copy(MANIFEST, manifest)
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "packaging" / "dist.py"),
            "--out",
            str(tmp_path),
            "--manifest",
            str(manifest),
        ],
        check=True,
        capture_output=True,
    )
    assert (tmp_path / archive.name).read_bytes() == archive.read_bytes()


def test_archive_unpacks_to_a_working_plugin(built, tmp_path):
    archive, _ = built
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "plugin", filter="data")
    plugin_dir = tmp_path / "plugin"
    # as krew does: a symlink named after the plugin on PATH, pointing into the unpacked dir
    bindir = tmp_path / "krew-bin"
    bindir.mkdir()
    (bindir / "kubectl-nodeapp").symlink_to(plugin_dir / "kubectl-nodeapp")
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "HOME": str(tmp_path), "KUBECTL_NODEAPP_PYTHON": sys.executable}
    out = subprocess.run(["kubectl-nodeapp", "--version"], capture_output=True, text=True, env=env)
    assert out.stdout == f"kubectl-nodeapp {__version__}\n", out.stderr
    where = subprocess.run(
        [sys.executable, "-c", "import kubectl_trace; print(kubectl_trace.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(plugin_dir)},
    ).stdout
    assert where.startswith(str(plugin_dir)), "the unpacked sources are what runs"
    kubectl = ROOT / ".venv" / "bin" / "kubectl"
    listed = subprocess.run([str(kubectl), "plugin", "list"], capture_output=True, text=True, env=env)
    assert str(bindir / "kubectl-nodeapp") in listed.stdout
    assert "warning" not in listed.stderr.lower()


@pytest.mark.slow
def test_wheel_builds_installs_and_runs(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(tmp_path / "dist"),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next((tmp_path / "dist").glob("kubectl_nodeapp-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    site = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # --no-deps: this checks that the wheel brings our code and executables (the runtime
    # dependencies come from PyPI in a real install; --version needs none of them)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps", "--quiet", str(wheel)],
        check=True,
        capture_output=True,
    )
    for exe in (
        "kubectl-nodeapp",
        "kubectl-nodeapp-logs",
        "kubectl-nodeapp-shell",
        "kubectl-nodeapp-events",
        "kubectl-nodeapp-rollout",
    ):
        assert (venv / "bin" / exe).exists(), exe
    out = subprocess.run([str(venv / "bin" / "kubectl-nodeapp"), "--version"], capture_output=True, text=True)
    assert out.stdout == f"kubectl-nodeapp {__version__}\n", out.stderr
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import kubectl_trace; print(kubectl_trace.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout
    assert where.startswith(site)
