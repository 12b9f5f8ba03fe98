"""Image tags: validation, the git short hash a deploy defaults to, and retagging an image."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Sequence

from kubectl_trace.errors import NodeappError, UsageError
from kubectl_trace.health.images import image_ref

__all__ = ["GitRunner", "git_has_uncommitted_changes", "git_short_head", "validate_tag", "with_tag"]

# The OCI distribution spec / docker reference grammar for a tag.
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")

GitRunner = Callable[[Sequence[str], str | None], "subprocess.CompletedProcess[str]"]


def validate_tag(tag: str, *, flag: str = "--tag") -> str:
    """Return ``tag`` when it is a valid image tag; raise UsageError with the rule otherwise."""
    if not _TAG.fullmatch(tag):
        shown = tag if len(tag) <= 60 else tag[:57] + "..."
        raise UsageError(
            f"invalid image tag {shown!r} for {flag}: a tag is 1 to 128 letters, digits, '_', '.' "
            "or '-', and does not start with '.' or '-'"
        )
    return tag


def _run_git(args: Sequence[str], cwd: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def git_short_head(cwd: str | None = None, *, run: GitRunner | None = None) -> str:
    """``git rev-parse --short HEAD`` in ``cwd``: the tag a deploy uses by default.

    Raises NodeappError with one clear line when git is missing, ``cwd`` is not in a git
    repository, or the repository has no commit yet.
    """
    runner = run or _run_git
    where = cwd or "the current directory"
    try:
        done = runner(["git", "rev-parse", "--short", "HEAD"], cwd)
    except FileNotFoundError:
        raise NodeappError(
            "git is not installed, so the image tag cannot default to the current commit",
            hint="pass the tag explicitly: --tag TAG",
        ) from None
    except (OSError, subprocess.SubprocessError) as exc:
        raise NodeappError(f"cannot run git in {where}: {exc}", hint="pass --tag TAG") from None
    if done.returncode != 0:
        err = (done.stderr or "").strip().lower()
        if "not a git repository" in err:
            raise NodeappError(
                f"{where} is not inside a git repository, so there is no commit to deploy",
                hint="run deploy in the app's repository, or pass --tag TAG",
            )
        if (
            "unknown revision" in err
            or "ambiguous argument 'head'" in err
            or "needed a single revision" in err
        ):
            raise NodeappError(
                f"the git repository in {where} has no commit yet",
                hint="commit first, or pass --tag TAG",
            )
        lines = (done.stderr or "").strip().splitlines()
        first = lines[0] if lines else f"exit {done.returncode}"
        raise NodeappError(
            f"git rev-parse --short HEAD failed in {where}: {first}",
            hint="pass --tag TAG",
        )
    tag = (done.stdout or "").strip()
    return validate_tag(tag, flag="git rev-parse --short HEAD")


def git_has_uncommitted_changes(cwd: str | None = None, *, run: GitRunner | None = None) -> bool:
    """Whether tracked files differ from HEAD (what a deploy of HEAD would not contain).

    False when git cannot tell (the deploy itself has already checked the repository).
    """
    runner = run or _run_git
    try:
        done = runner(["git", "status", "--porcelain", "--untracked-files=no"], cwd)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0 and bool((done.stdout or "").strip())


def with_tag(image: str, tag: str) -> str:
    """``image`` with its tag (and any digest) replaced by ``tag``; the registry port is kept."""
    return f"{image_ref(image).repository}:{tag}"
