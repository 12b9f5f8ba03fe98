import subprocess

import pytest

from kubectl_trace.errors import NodeappError, UsageError
from kubectl_trace.release.app import app_containers, infer_repository, process_name
from kubectl_trace.release.tags import git_short_head, validate_tag, with_tag
from tests.factories.release import REPO, deployment


@pytest.mark.parametrize("tag", ["a41c9e7", "v1.2.3", "release_2026-03-01", "A" * 128, "_x"])
def test_valid_tags(tag):
    assert validate_tag(tag) == tag


@pytest.mark.parametrize("tag", ["", "-x", ".x", "a b", "a:b", "a/b", "A" * 129, "é"])
def test_invalid_tags_are_usage_errors_naming_the_rule(tag):
    with pytest.raises(UsageError) as info:
        validate_tag(tag)
    assert "invalid image tag" in info.value.message
    assert "128" in info.value.message


def test_with_tag_keeps_registry_port_and_drops_digest():
    assert with_tag("reg:5000/team/app:old", "new") == "reg:5000/team/app:new"
    assert with_tag("reg:5000/team/app", "new") == "reg:5000/team/app:new"
    assert with_tag("reg/app:old@sha256:" + "ab" * 32, "new") == "reg/app:new"


def _git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_git_short_head_in_a_real_repository(tmp_path):
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "--allow-empty", "-m", "x")
    expected = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert git_short_head(str(tmp_path)) == expected


def test_git_short_head_outside_a_repository(tmp_path):
    with pytest.raises(NodeappError) as info:
        git_short_head(
            str(tmp_path),
            run=lambda args, cwd: subprocess.run(
                list(args),
                cwd=cwd,
                capture_output=True,
                text=True,
                check=False,
                env={"GIT_CEILING_DIRECTORIES": str(tmp_path.parent), "PATH": "/usr/bin:/bin"},
            ),
        )
    assert "not inside a git repository" in info.value.message
    assert "--tag" in (info.value.hint or "")


def test_git_short_head_in_a_repository_without_commits(tmp_path):
    _git(tmp_path, "init", "-q")
    with pytest.raises(NodeappError) as info:
        git_short_head(str(tmp_path))
    assert "no commit yet" in info.value.message


def test_git_missing():
    def missing(args, cwd):
        raise FileNotFoundError("git")

    with pytest.raises(NodeappError) as info:
        git_short_head("/", run=missing)
    assert "git is not installed" in info.value.message


def test_git_command_is_an_argument_list():
    seen = []

    def record(args, cwd):
        seen.append((list(args), cwd))
        return subprocess.CompletedProcess(args, 0, "abc1234\n", "")

    assert git_short_head("/repo", run=record) == "abc1234"
    assert seen == [(["git", "rev-parse", "--short", "HEAD"], "/repo")]


def test_infer_repository_from_the_main_containers():
    sidecar = {"name": "proxy", "image": "envoyproxy/envoy:v1.30"}
    ds = [deployment("web", extra=[sidecar]), deployment("worker"), deployment("clock")]
    assert infer_repository("trace-api", ds) == REPO
    assert app_containers(ds[0], REPO) == [("web", False)]


def test_infer_repository_tie_asks_for_the_setting():
    other = deployment("worker")
    other["spec"]["template"]["spec"]["containers"][0]["image"] = "other/repo:1"
    with pytest.raises(NodeappError) as info:
        infer_repository("trace-api", [deployment("web"), other])
    assert "image_repository" in (info.value.hint or "")


def test_configured_repository_must_be_run_by_the_app():
    ds = [deployment("web")]
    assert infer_repository("trace-api", ds, REPO + ":ignored") == REPO
    with pytest.raises(NodeappError):
        infer_repository("trace-api", ds, "elsewhere/app")


def test_process_name_from_label_or_env():
    d = deployment("worker")
    assert process_name(d) == "worker"
    del d["spec"]["template"]["metadata"]["labels"]["process"]
    assert process_name(d) == "worker"  # PROCESS_TYPE env


def test_uncommitted_changes_are_noticed(tmp_path):
    from kubectl_trace.release.tags import git_has_uncommitted_changes

    _git(tmp_path, "init", "-q")
    (tmp_path / "a.js").write_text("1\n")
    _git(tmp_path, "add", "a.js")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "x")
    (tmp_path / "untracked.js").write_text("new\n")
    assert git_has_uncommitted_changes(str(tmp_path)) is False  # untracked files are not the image's business
    (tmp_path / "a.js").write_text("2\n")
    assert git_has_uncommitted_changes(str(tmp_path)) is True
