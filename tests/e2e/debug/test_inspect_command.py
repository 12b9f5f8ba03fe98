"""``kubectl nodeapp inspect`` end to end against the sandbox."""

from __future__ import annotations

from typing import Any


def test_a_container_without_node_is_refused_in_one_line(invoke: Any, sandbox: Any, tmp_path: Any) -> None:
    # The session sandbox's containers are simulated: PID 1 is the pod's pause stand-in, no node.
    out = tmp_path / "x.cpuprofile"
    result = invoke(
        "inspect",
        "trace-api",
        "--cpu-profile",
        "1s",
        "-o",
        str(out),
        "-n",
        "production",
        kubeconfig=sandbox.kubeconfig,
    )
    assert result.exit_code == 1, result
    first, *rest = result.stderr.splitlines()
    assert first.startswith("error: no Node.js process in pod trace-api-web-") and "PID 1 is `" in first
    assert rest == ["hint: inspect needs a container that runs node; pick another with --process or --pod"]
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_bad_flags_are_usage_errors(invoke: Any, sandbox: Any) -> None:
    cases = {
        ("inspect", "trace-api", "-o", "f"): "-o FILE needs --cpu-profile DURATION or --heap-snapshot",
        ("inspect", "trace-api", "--cpu-profile", "soon"): "--cpu-profile",
        ("inspect", "trace-api", "--cpu-profile", "2h"): "from 1ms to 1h",
        ("inspect", "trace-api", "--port", "x"): "invalid --port 'x'",
        (
            "inspect",
            "trace-api",
            "--process",
            "nope",
            "-n",
            "production",
        ): 'app "trace-api" has no nope process',
    }
    for argv, message in cases.items():
        result = invoke(*argv, kubeconfig=sandbox.kubeconfig)
        assert result.exit_code == 2, (argv, result)
        assert message in result.stderr.splitlines()[0] and "Traceback" not in result.stderr
    both = invoke(
        "inspect", "trace-api", "--cpu-profile", "1s", "--heap-snapshot", kubeconfig=sandbox.kubeconfig
    )
    assert both.exit_code == 2 and "not allowed with argument" in both.stderr
