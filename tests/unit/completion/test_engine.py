import shutil
import subprocess
from pathlib import Path

import pytest

from kubectl_trace.cli.cmd_completion import complete
from kubectl_trace.completion.engine import NO_FILES, Completion, render

ROOT = Path(__file__).resolve().parents[3]


class Names:
    """Cluster names as the completer's lister would return them."""

    environ: dict = {}

    def __init__(self):
        self.asked = []

    def namespace(self, override):
        return override or "default"

    def namespaces(self):
        return ["default", "production", "staging"]

    def contexts(self):
        return ["nodeapp-sandbox", "prod-eu"]

    def deployments(self, namespace):
        self.asked.append(namespace)
        tmpl = lambda app, proc: {"metadata": {"labels": {"app": app, "process": proc}}}  # noqa: E731
        return [
            {"metadata": {"name": "trace-api-web"}, "spec": {"template": tmpl("trace-api", "web")}},
            {"metadata": {"name": "trace-api-worker"}, "spec": {"template": tmpl("trace-api", "worker")}},
            {
                "metadata": {"name": "trace-ui-web", "labels": {"app": "trace-ui"}},
                "spec": {"template": tmpl("trace-ui", "web")},
            },
        ]

    def pods(self, namespace):
        return ["trace-api-web-7d9f8-x2k4q", "trace-ui-web-5c6b1-aa1bc"]


def values(result: Completion) -> list[str]:
    return [c.split("\t")[0] for c in result.candidates]


def test_subcommands():
    result = complete(None, ["in"], {}, Names())
    assert values(result) == ["inspect", "info"]
    assert result.directive == NO_FILES


def test_global_flags_before_command():
    assert "--context" in values(complete(None, ["--c"], {}, Names()))
    assert values(complete(None, ["-n", "prod"], {}, Names())) == ["production"]  # a value, not a command


def test_flag_values_and_flags():
    names = Names()
    assert values(complete(None, ["info", "-n", "st"], {}, names)) == ["staging"]
    assert values(complete(None, ["info", "--context", ""], {}, names)) == ["nodeapp-sandbox", "prod-eu"]
    assert values(complete(None, ["info", "-o", ""], {}, names)) == ["text", "json"]
    assert "--output" in values(complete(None, ["info", "--o"], {}, names))
    assert complete(None, ["info", "--kubeconfig", ""], {}, names).directive == 0  # files


def test_completion_shells():
    assert values(complete("completion", ["z"], {}, Names())) == ["zsh"]


def test_targets_when_a_command_takes_one(monkeypatch):
    """Any command whose first positional is `target` gets apps, deployments and pods."""
    import argparse

    import kubectl_trace.cli.cmd_info as info

    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("target", nargs="?")

    monkeypatch.setattr(info, "add_arguments", add_arguments)
    names = Names()
    result = complete(None, ["info", "-n", "production", "trace"], {}, names)
    assert values(result) == [
        "trace-api",
        "trace-ui",
        "trace-api-web-7d9f8-x2k4q",
        "trace-ui-web-5c6b1-aa1bc",
    ]
    assert "deploy/trace-api-web" in values(complete(None, ["info", ""], {}, names))
    assert names.asked[0] == "production"
    assert values(complete("info", ["deploy/trace-api-w"], {}, names)) == [
        "deploy/trace-api-web",
        "deploy/trace-api-worker",
    ]


def test_render():
    assert render(Completion(("a\tdesc", "b"), 4)) == "a\tdesc\nb\n:4\n"


def test_executable_is_silent_on_errors(tmp_path):
    out = subprocess.run(
        [str(ROOT / "bin" / "kubectl_complete-nodeapp"), "info", "-n", ""],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "KUBECONFIG": str(tmp_path / "missing"), "HOME": str(tmp_path)},
    )
    assert out.returncode == 0 and out.stderr == ""
    assert out.stdout == ":4\n"


def test_bash_script_completes(tmp_path):
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    script = subprocess.run(
        [str(ROOT / "bin" / "kubectl-nodeapp"), "completion", "bash"], capture_output=True, text=True
    ).stdout
    probe = (
        f"source /dev/stdin <<'EOF'\n{script}\nEOF\n"
        'COMP_WORDS=(kubectl-nodeapp info -o ""); COMP_CWORD=3; _kubectl_nodeapp; echo "${COMPREPLY[*]}"\n'
        'COMP_WORDS=(kubectl-nodeapp comp); COMP_CWORD=1; _kubectl_nodeapp; echo "${COMPREPLY[*]}"\n'
    )
    out = subprocess.run(
        [bash, "-c", probe],
        capture_output=True,
        text=True,
        env={
            "PATH": f"{ROOT / 'bin'}:/usr/bin:/bin",
            "HOME": str(tmp_path),
            "KUBECONFIG": str(tmp_path / "none"),
        },
    )
    assert out.stdout.splitlines() == ["text json", "completion"]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_other_scripts_parse(shell, tmp_path):
    exe = shutil.which(shell)
    if exe is None:
        pytest.skip(f"{shell} is not installed on this machine")
    script = tmp_path / f"c.{shell}"
    script.write_text(
        subprocess.run(
            [str(ROOT / "bin" / "kubectl-nodeapp"), "completion", shell], capture_output=True, text=True
        ).stdout
    )
    flag = "-n" if shell == "zsh" else "--no-execute"
    assert subprocess.run([exe, flag, str(script)], capture_output=True).returncode == 0
