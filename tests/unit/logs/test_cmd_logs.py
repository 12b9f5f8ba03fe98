import argparse

import pytest

from kubectl_trace.cli import cmd_logs
from kubectl_trace.cli.options import add_common_arguments, common_options
from tests.inprocess import invoke


def options(*argv):
    parser = argparse.ArgumentParser()
    cmd_logs.add_arguments(parser)
    add_common_arguments(parser)
    args = parser.parse_args(list(argv))
    return cmd_logs.parse_options(args, common_options(args))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-c", "web("], "error: invalid --container regular expression 'web('"),
        (["-E", "["], "error: invalid --exclude-container regular expression"),
        (["--exclude-pod", "*x"], "error: invalid --exclude-pod regular expression"),
        (["-i", "(a"], "error: invalid --include regular expression"),
        (["-e", "(a"], "error: invalid --exclude regular expression"),
        (["-H", "(a"], "error: invalid --highlight regular expression"),
        (["--since", "5 minutes"], "error: invalid --since '5 minutes'"),
        (["--since", "0s"], "error: invalid --since '0s': the duration must be positive"),
        (["--tail", "ten"], "error: invalid --tail 'ten'"),
        (["--tail", "-5"], "error: invalid --tail '-5'"),
        (["--max-streams", "0"], "error: invalid --max-streams 0"),
        (["web(["], "error: invalid TARGET regular expression"),
        (["-l", "a in (b"], "error:"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, message):
    out, err, code = invoke("logs", *argv, "--kubeconfig", "/nonexistent")
    assert code == 2
    assert out == ""
    assert err.startswith(message), err
    assert "Traceback" not in err
    assert len([line for line in err.splitlines() if line.startswith("error:")]) == 1


def test_unknown_flag_value_is_a_usage_error():
    _, err, code = invoke("logs", "--level", "loud")
    assert code == 2
    assert err.startswith("error: argument --level: invalid choice: 'loud'")


def test_defaults_and_conversions():
    o = options("trace-api")
    assert (o.follow, o.tail, o.output, o.order, o.max_streams) == (True, 10, "pretty", "arrival", 100)
    assert options("--no-follow").tail is None
    assert options("--since", "5m").tail is None  # --since alone: everything since then
    assert options("--since", "5m").since_seconds == 300
    assert options("--since", "1.5s").since_seconds == 2
    assert options("--since", "2026-01-02T15:04:05+01:00").since_time == "2026-01-02T14:04:05.000000000Z"
    assert options("--tail", "-1").tail is None
    assert options("--tail", "3", "--no-follow").tail == 3
    p = options("-p")
    assert p.previous and not p.follow
    h = options("-H", "a", "-H", "b")
    assert h.highlight is not None and h.highlight.pattern == "(?:a)|(?:b)"
    assert [x.pattern for x in options("-i", "a", "-i", "b").include] == ["a", "b"]


def test_help_lists_the_flags_and_examples(capsys):
    out, _, code = invoke("logs", "--help")
    assert code == 0
    out += capsys.readouterr().out  # argparse may print help to sys.stdout
    for flag in ("--exclude-pod", "--max-streams", "--order", "--previous", "--highlight", "examples:"):
        assert flag in out
