"""``shell``'s command line: TARGET versus the command after ``--``, and the default command."""

import pytest

import kubectl_trace.cli.cmd_shell as cmd_shell
from kubectl_trace.cli.options import common_options
from kubectl_trace.cli.parser import build_parser
from kubectl_trace.errors import UsageError


def parse(*argv: str) -> cmd_shell.ShellOptions:
    args = build_parser("shell", cmd_shell).parse_args(list(argv))
    return cmd_shell.parse_options(args, common_options(args))


def test_everything_after_double_dash_is_the_command_even_flags():
    options = parse("trace-api", "-n", "production", "--process", "worker", "--", "sh", "-c", "ls -n; exit 7")
    assert options.target == "trace-api" and options.process == "worker"
    assert options.common.kube.namespace == "production"
    assert options.command == ("sh", "-c", "ls -n; exit 7")


def test_a_command_without_target_is_not_taken_for_the_target():
    options = parse("--", "ls", "-n", "x")
    assert options.target is None and options.command == ("ls", "-n", "x")
    assert options.common.kube.namespace is None


def test_no_command_means_the_default_shell():
    options = parse("deploy/trace-api-web", "-c", "web", "--pick", "--any", "-l", "tier=api")
    assert options.command == () and options.container == "web"
    assert options.pick and options.any_state and options.selector == "tier=api"


def test_nothing_after_double_dash_is_a_usage_error():
    with pytest.raises(UsageError, match="nothing after --"):
        parse("web", "--")


def test_default_command_finds_bash_itself_and_adds_a_safe_term_on_a_tty():
    argv = cmd_shell.default_command(tty=False, environ={"TERM": "xterm-256color"})
    assert argv[:2] == ["sh", "-c"] and "command -v bash" in argv[2] and "TERM" not in argv[2]
    tty_argv = cmd_shell.default_command(tty=True, environ={"TERM": "xterm-256color"})
    assert tty_argv[2].startswith('[ -n "$TERM" ] || export TERM=xterm-256color;')
    for hostile in ("x; rm -rf /", "$(id)", "dumb", ""):
        assert "export" not in cmd_shell.default_command(tty=True, environ={"TERM": hostile})[2]
