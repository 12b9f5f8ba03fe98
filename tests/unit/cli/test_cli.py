import subprocess
import sys
from pathlib import Path

import pytest

from kubectl_trace import __version__
from kubectl_trace.cli.parser import split_command
from kubectl_trace.environment import resolve_color
from tests.inprocess import invoke

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("argv", "command", "rest"),
    [
        (["logs", "web"], "logs", ["web"]),
        (["-n", "production", "logs", "web"], "logs", ["-n", "production", "web"]),
        (["--namespace=prod", "logs"], "logs", ["--namespace=prod"]),
        (
            ["--context", "a", "-n", "b", "status", "x", "-o", "json"],
            "status",
            ["--context", "a", "-n", "b", "x", "-o", "json"],
        ),
        (["--debug", "shell"], "shell", ["--debug"]),
        (["-n", "x"], None, ["-n", "x"]),
        (["--", "logs"], None, ["--", "logs"]),
    ],
)
def test_split_command(argv, command, rest):
    split = split_command(argv)
    assert split.command == command
    assert split.rest == rest


def test_overview_lists_commands_in_order():
    out, err, code = invoke()
    assert code == 0 and err == ""
    assert out.startswith(f"kubectl nodeapp {__version__}")
    assert out.index("info") > 0
    assert "kubectl nodeapp COMMAND --help" in out


def test_version():
    out, _, code = invoke("--version")
    assert (out, code) == (f"kubectl-nodeapp {__version__}\n", 0)


def test_version_matches_pyproject():
    text = (ROOT / "pyproject.toml").read_text()
    assert f'version = "{__version__}"' in text


def test_unknown_command_is_usage_error_with_suggestion():
    out, err, code = invoke("inf")
    assert code == 2 and out == ""
    assert err.splitlines()[0] == 'error: unknown command "inf" for "kubectl nodeapp"'
    assert "did you mean 'info'" in err


def test_flags_without_command():
    _, err, code = invoke("-n", "prod")
    assert code == 2 and err.startswith("error: no command given")


def test_bad_request_timeout_is_usage_error():
    _, err, code = invoke("info", "--request-timeout", "soon")
    assert code == 2
    assert err.startswith("error: invalid --request-timeout 'soon'")
    assert "Traceback" not in err


def test_argparse_error_is_one_line_exit_2():
    _, err, code = invoke("info", "--no-such-flag")
    assert code == 2
    assert err.splitlines() == [
        "error: unrecognized arguments: --no-such-flag",
        "hint: see 'kubectl nodeapp info --help'",
    ]


def test_missing_kubeconfig_one_line(tmp_path):
    _, err, code = invoke("info", "--kubeconfig", str(tmp_path / "nope"))
    assert code == 1
    assert err == f'error: kubeconfig "{tmp_path / "nope"}" not found\n'


def test_unexpected_exception_has_no_traceback(monkeypatch):
    import kubectl_trace.cli.cmd_info as info

    def boom(options, env):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(info, "run", boom)
    _, err, code = invoke("info")
    assert code == 1
    assert err.splitlines()[0] == "error: unexpected ZeroDivisionError: division by zero"
    assert "Traceback" not in err
    _, err, code = invoke("info", "--debug")
    assert "Traceback" in err


def test_keyboard_interrupt_exits_130(monkeypatch):
    import kubectl_trace.cli.cmd_info as info

    def interrupted(options, env):
        raise KeyboardInterrupt

    monkeypatch.setattr(info, "run", interrupted)
    assert invoke("info")[2] == 130


@pytest.mark.parametrize(
    ("mode", "tty", "environ", "expected"),
    [
        ("auto", True, {}, True),
        ("auto", False, {}, False),
        ("auto", True, {"NO_COLOR": "1"}, False),
        ("auto", True, {"TERM": "dumb"}, False),
        ("auto", False, {"FORCE_COLOR": "1"}, True),
        ("always", False, {"NO_COLOR": "1"}, True),
        ("never", True, {}, False),
    ],
)
def test_resolve_color(mode, tty, environ, expected):
    assert resolve_color(mode, isatty=tty, environ=environ) is expected


def _exe(name: str) -> list[str]:
    return [str(ROOT / "bin" / name)]


def test_bin_wrappers_dispatch_identically(tmp_path):
    """kubectl finds kubectl-nodeapp-logs or kubectl-nodeapp: both must behave the same."""
    kubeconfig = str(tmp_path / "missing")
    a = subprocess.run(
        [*_exe("kubectl-nodeapp"), "info", "--kubeconfig", kubeconfig], capture_output=True, text=True
    )
    b = subprocess.run(
        [sys.executable, "-m", "kubectl_trace", "kubectl-nodeapp-info", "--kubeconfig", kubeconfig],
        capture_output=True,
        text=True,
    )
    assert a.returncode == b.returncode == 1
    assert a.stderr == b.stderr
    for name in ("logs", "shell", "events", "rollout"):
        via_sub = subprocess.run([*_exe("kubectl-nodeapp"), name, "--help"], capture_output=True, text=True)
        via_exe = subprocess.run([*_exe(f"kubectl-nodeapp-{name}"), "--help"], capture_output=True, text=True)
        assert via_sub.returncode == via_exe.returncode
        assert via_sub.stdout == via_exe.stdout
        assert via_sub.stderr == via_exe.stderr


def test_bin_wrapper_through_symlink(tmp_path):
    link = tmp_path / "kubectl-nodeapp"
    link.symlink_to(ROOT / "bin" / "kubectl-nodeapp")
    out = subprocess.run([str(link), "--version"], capture_output=True, text=True)
    assert out.stdout == f"kubectl-nodeapp {__version__}\n"


def test_kubectl_plugin_list_without_warnings(tmp_path):
    """With the links install.sh makes on PATH, kubectl lists every plugin and warns about none."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for exe in (ROOT / "bin").iterdir():
        (bindir / exe.name).symlink_to(exe)
    (bindir / "kubectl").symlink_to(ROOT / ".venv" / "bin" / "kubectl")
    out = subprocess.run(
        ["kubectl", "plugin", "list"],
        capture_output=True,
        text=True,
        env={"PATH": f"{bindir}:/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert out.returncode == 0, out.stderr
    listed = [line for line in out.stdout.splitlines() if line.startswith(str(bindir))]
    names = sorted(line.rsplit("/", 1)[1] for line in listed)
    assert names == sorted(f"kubectl-nodeapp{s}" for s in ("", "-events", "-logs", "-rollout", "-shell"))
    assert "warning" not in (out.stdout + out.stderr).lower()


def test_install_sh_is_idempotent_and_links(tmp_path):
    """A second ./install.sh re-links without reinstalling; PREFIX decides where links go."""
    out = subprocess.run(
        [str(ROOT / "install.sh"), "--dev"],
        capture_output=True,
        text=True,
        env={
            "PATH": "/usr/bin:/bin:" + str(Path(sys.executable).parent),
            "HOME": str(tmp_path),
            "PREFIX": str(tmp_path / "p"),
        },
    )
    assert out.returncode == 0, out.stderr
    assert "already installed" in out.stdout
    links = sorted(p.name for p in (tmp_path / "p" / "bin").iterdir())
    assert "kubectl-nodeapp" in links and "kubectl_complete-nodeapp" in links
    assert all((tmp_path / "p" / "bin" / n).resolve().parent == ROOT / "bin" for n in links)
    assert f'export PATH="{tmp_path / "p" / "bin"}:$PATH"' in out.stdout


def test_install_sh_rejects_old_python(tmp_path):
    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\nif [ \"$1\" = -V ]; then echo 'Python 3.8.10'; exit 0; fi\nexit 1\n")
    fake.chmod(0o755)
    out = subprocess.run(
        [str(ROOT / "install.sh")],
        capture_output=True,
        text=True,
        env={"PATH": f"{tmp_path}:/usr/bin:/bin", "PYTHON": str(fake), "HOME": str(tmp_path)},
    )
    assert out.returncode == 1
    assert "older than 3.11" in out.stderr


@pytest.mark.parametrize(
    "name", sorted(__import__("kubectl_trace.cli.registry", fromlist=["COMMANDS"]).COMMANDS)
)
def test_every_command_help_ends_with_real_examples(name):
    """Help that teaches: --help ends with three or four examples of the command itself."""
    out, err, code = invoke(name, "--help")
    assert code == 0, err
    tail = out.rsplit("examples:\n", 1)
    assert len(tail) == 2, f"{name} --help has no examples section"
    examples = [line for line in tail[1].splitlines() if line.strip()]
    assert 3 <= len(examples) <= 5, examples
    assert all(
        f"kubectl nodeapp {name}" in line or "kubectl-nodeapp" in line or "kubectl " in line
        for line in examples
    )
