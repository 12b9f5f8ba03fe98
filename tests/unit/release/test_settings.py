import argparse

import pytest

from kubectl_trace.errors import UsageError
from kubectl_trace.release.settings import ChangeSettings, add_change_arguments, change_settings


def parse(*argv, auto_rollback=True):
    parser = argparse.ArgumentParser()
    add_change_arguments(parser, auto_rollback=auto_rollback)
    return change_settings(parser.parse_args(list(argv)))


def test_defaults_and_flags():
    assert parse() == ChangeSettings()
    assert parse("--dry-run", "-y", "--timeout", "5m", "--auto-rollback") == ChangeSettings(
        dry_run=True, yes=True, wait=True, timeout=300.0, auto_rollback=True
    )
    assert parse("--no-wait").wait is False


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--no-wait", "--auto-rollback"], "--auto-rollback needs to follow"),
        (["--no-wait", "--timeout", "1m"], "--timeout limits following"),
        (["--timeout", "soon"], "--timeout"),
    ],
)
def test_contradictions_and_bad_durations(argv, match):
    with pytest.raises(UsageError, match=match):
        parse(*argv)
