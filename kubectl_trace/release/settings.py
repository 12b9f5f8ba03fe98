"""The safety and follow flags every mutating release command shares (light: parsed at ``--help``)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

__all__ = ["ChangeSettings", "add_change_arguments", "change_settings"]


@dataclass(frozen=True)
class ChangeSettings:
    """The safety and follow flags every mutating command shares."""

    dry_run: bool = False
    yes: bool = False
    wait: bool = True
    timeout: float | None = None
    auto_rollback: bool = False


def add_change_arguments(
    parser: argparse.ArgumentParser, *, auto_rollback: bool = False, wait: bool = True
) -> None:
    """``--dry-run``, ``-y/--yes`` and (when the command follows a rollout) ``--timeout``, ``--no-wait``."""
    parser.add_argument("--dry-run", action="store_true", help="print the exact patches and change nothing")
    parser.add_argument(
        "-y",
        "--yes",
        action="store_true",
        help="do not ask for confirmation (needed in production namespaces when there is no terminal)",
    )
    if wait:
        parser.add_argument(
            "--timeout",
            metavar="DURATION",
            help="give up following the rollout after this long (e.g. 5m); default: the progress deadline",
        )
        parser.add_argument(
            "--no-wait", action="store_true", help="apply the change and return without following it"
        )
    if auto_rollback:
        parser.add_argument(
            "--auto-rollback",
            action="store_true",
            help="when the rollout fails, put every changed Deployment back to what it ran before",
        )


def change_settings(args: argparse.Namespace) -> ChangeSettings:
    """The shared flags, validated (UsageError on a bad duration or flags that contradict)."""
    from kubectl_trace.errors import UsageError
    from kubectl_trace.timeparse import parse_duration

    timeout = None
    if getattr(args, "timeout", None):
        timeout = parse_duration(args.timeout, flag="--timeout") or None
    settings = ChangeSettings(
        dry_run=bool(args.dry_run),
        yes=bool(args.yes),
        wait=not getattr(args, "no_wait", False),
        timeout=timeout,
        auto_rollback=bool(getattr(args, "auto_rollback", False)),
    )
    if not settings.wait and settings.auto_rollback:
        raise UsageError("--auto-rollback needs to follow the rollout: drop --no-wait")
    if not settings.wait and settings.timeout is not None:
        raise UsageError("--timeout limits following the rollout: drop --no-wait")
    return settings
