"""``kubectl nodeapp shell`` without a terminal, against the sandbox: in process and as a user runs it."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kubectl_trace.cli.runner import run
from kubectl_trace.environment import Environment
from tests.e2e.pods import running_pod_names
from tests.inprocess import buffered_env

ROOT = Path(__file__).resolve().parents[3]
BIN = ROOT / "bin"
NS = "production"


def running_pods(kube, namespace: str, process: str) -> list[str]:
    return running_pod_names(kube, namespace, f"app=trace-api,process={process}")


@pytest.fixture
def web_pod(kube, eventually) -> str:
    return eventually(
        lambda: (running_pods(kube, NS, "web") or [None])[0], timeout=60, message="a running web pod"
    )


def nodeapp(*args: str, kubeconfig: str, input: bytes = b"", timeout: float = 60, env=None):
    """Run the installed executable as a user would (bin/ wrapper), bytes in and out."""
    child_env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    child_env.update(env or {})
    return subprocess.run(
        [str(BIN / "kubectl-nodeapp"), "shell", "--kubeconfig", kubeconfig, *args],
        input=input,
        capture_output=True,
        timeout=timeout,
        env=child_env,
        check=False,
    )


def binary_env(stdin: bytes) -> tuple[Environment, io.BytesIO, io.BytesIO]:
    out, err = io.BytesIO(), io.BytesIO()
    env = buffered_env(
        stdin=io.TextIOWrapper(io.BytesIO(stdin)),
        stdout=io.TextIOWrapper(out, write_through=True),
        stderr=io.TextIOWrapper(err, write_through=True),
    )
    return env, out, err


# -- the "done when" ------------------------------------------------------------------------


def test_in_process_worker_prints_its_process_type_and_exits_7(sandbox, invoke, web_pod):
    result = invoke(
        "shell", "trace-api", "-n", NS, "--process", "worker", "--", "sh", "-c", "echo $PROCESS_TYPE; exit 7",
        kubeconfig=sandbox.kubeconfig,
    )  # fmt: skip
    assert (result.stdout, result.exit_code) == ("worker\n", 7), result.stderr
    assert result.stderr == ""


def test_subprocess_worker_prints_its_process_type_and_exits_7(sandbox, web_pod):
    result = nodeapp(
        "trace-api", "-n", NS, "--process", "worker", "--", "sh", "-c", "echo $PROCESS_TYPE; exit 7",
        kubeconfig=sandbox.kubeconfig,
    )  # fmt: skip
    assert (result.stdout, result.returncode, result.stderr) == (b"worker\n", 7, b"")


def test_through_kubectl_plugin_dispatch(sandbox, web_pod):
    """``kubectl nodeapp shell`` as kubectl runs it (kubectl-nodeapp-shell on PATH)."""
    from tests.conftest import KUBECTL

    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run(
        [KUBECTL, "nodeapp", "shell", "--kubeconfig", sandbox.kubeconfig, web_pod, "-n", NS, "--",
         "sh", "-c", "echo $PROCESS_TYPE; exit 3"],
        capture_output=True, timeout=60, env=env, check=False,
    )  # fmt: skip
    assert (result.stdout, result.returncode) == (b"web\n", 3), result.stderr


def test_piped_lines_come_back_exactly(sandbox, invoke, web_pod):
    in_process = invoke(
        "shell", web_pod, "-n", NS, "--", "cat", kubeconfig=sandbox.kubeconfig, stdin="a\nb\n"
    )
    assert (in_process.stdout, in_process.exit_code) == ("a\nb\n", 0), in_process.stderr
    as_user = nodeapp(web_pod, "-n", NS, "--", "cat", kubeconfig=sandbox.kubeconfig, input=b"a\nb\n")
    assert (as_user.stdout, as_user.returncode) == (b"a\nb\n", 0), as_user.stderr


def test_ten_megabytes_of_binary_data_round_trip(sandbox, web_pod):
    data = os.urandom(10 * 1024 * 1024)
    result = nodeapp(web_pod, "-n", NS, "--", "cat", kubeconfig=sandbox.kubeconfig, input=data, timeout=120)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout) == len(data) and result.stdout == data


def test_ten_megabytes_in_process_and_half_close_gives_eof(sandbox, web_pod):
    data = os.urandom(10 * 1024 * 1024) + b"\x00\xff\r\n\x04"
    env, out, err = binary_env(data)
    code = run(["shell", "--kubeconfig", sandbox.kubeconfig, web_pod, "-n", NS, "--", "sha256sum"], env)
    import hashlib

    assert code == 0, err.getvalue()
    assert out.getvalue().split()[0].decode() == hashlib.sha256(data).hexdigest()


def test_stdout_and_stderr_stay_apart(sandbox, web_pod):
    script = "echo out1; echo err1 >&2; echo out2; echo err2 >&2; exit 4"
    result = nodeapp(web_pod, "-n", NS, "--", "sh", "-c", script, kubeconfig=sandbox.kubeconfig)
    assert (result.stdout, result.stderr, result.returncode) == (b"out1\nout2\n", b"err1\nerr2\n", 4)


# -- the default command ----------------------------------------------------------------------------

PROBE = b'if [ -n "$BASH_VERSION" ]; then echo shell=bash; else echo shell=sh; fi\n'


def test_default_shell_is_bash_where_the_image_has_it(sandbox, web_pod):
    # production runs 3f9c2a1 (Debian-based, with bash)
    result = nodeapp("deploy/trace-api-web", "-n", NS, kubeconfig=sandbox.kubeconfig, input=PROBE)
    assert (result.stdout, result.stderr, result.returncode) == (b"shell=bash\n", b"", 0)


def test_default_shell_is_sh_without_noise_where_there_is_no_bash(sandbox, kube, eventually):
    # staging runs a41c9e7 (Alpine-based, no bash)
    eventually(lambda: running_pods(kube, "staging", "web"), timeout=60, message="a running staging web pod")
    result = nodeapp("deploy/trace-api-web", "-n", "staging", kubeconfig=sandbox.kubeconfig, input=PROBE)
    assert (result.stdout, result.stderr, result.returncode) == (b"shell=sh\n", b"", 0)


# -- pod choice -------------------------------------------------------------------------------------


def test_a_deployment_takes_a_ready_pod_of_it(sandbox, invoke, web_pod):
    result = invoke(
        "shell", "deploy/trace-api-worker", "-n", NS, "--", "sh", "-c", "echo $PROCESS_TYPE",
        kubeconfig=sandbox.kubeconfig,
    )  # fmt: skip
    assert (result.stdout, result.exit_code) == ("worker\n", 0), result.stderr


def test_several_deployments_without_a_terminal_list_the_candidates(sandbox, invoke, kube, web_pod):
    result = invoke("shell", "trace-api", "-n", NS, "--", "true", kubeconfig=sandbox.kubeconfig)
    assert result.exit_code == 1 and result.stdout == ""
    first, hint = result.stderr.splitlines()[:2]
    assert first.startswith("error: ") and "would do, and there is no terminal to pick one on" in first
    for name in running_pods(kube, NS, "web")[:2]:
        assert name in first
    assert hint.startswith("hint: ") and "--process" in hint


def test_no_target_without_a_terminal_lists_pods_of_the_namespace(sandbox, invoke, web_pod):
    result = invoke("shell", "-n", NS, "--", "true", kubeconfig=sandbox.kubeconfig)
    assert result.exit_code == 1
    assert "pods in the namespace" in result.stderr and web_pod in result.stderr


def test_unknown_pod_and_unknown_container(sandbox, invoke, web_pod):
    missing = invoke("shell", "pod/nope-123", "-n", NS, "--", "true", kubeconfig=sandbox.kubeconfig)
    assert missing.exit_code == 1 and missing.stderr.startswith('error: pods "nope-123" not found')
    bad = invoke("shell", web_pod, "-n", NS, "-c", "db", "--", "true", kubeconfig=sandbox.kubeconfig)
    assert bad.exit_code == 1 and f'container "db" not found in pod {web_pod}' in bad.stderr


def test_a_program_the_image_lacks_is_a_clear_error(sandbox, invoke, web_pod):
    result = invoke("shell", web_pod, "-n", NS, "--", "nodemon", kubeconfig=sandbox.kubeconfig)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: cannot run the command in pod {NS}/{web_pod}")
    assert "executable file not found" in result.stderr


def test_usage_errors_exit_2(sandbox, invoke):
    result = invoke("shell", "web", "--", kubeconfig=sandbox.kubeconfig)
    assert result.exit_code == 2 and result.stderr.startswith("error: nothing after --")


def test_crash_looping_pod_gets_an_explanation_and_a_hint(sandbox_factory, kube_for, eventually):
    handle = sandbox_factory(fixture="demo")
    kube = kube_for(handle)
    container = kube.get("deployments", "trace-api-worker", "staging")["spec"]["template"]["spec"][
        "containers"
    ][0]
    crashing_image = container["image"].rsplit(":", 1)[0] + ":c0ffee1"  # exits 1 at start
    patch = {
        "spec": {"template": {"spec": {"containers": [{"name": container["name"], "image": crashing_image}]}}}
    }
    kube.patch("deployments", "trace-api-worker", patch, "staging")

    def crashing() -> str | None:
        for p in kube.list("pods", "staging", label_selector="process=worker").items:
            for status in p["status"].get("containerStatuses") or []:
                if (status.get("state") or {}).get("waiting", {}).get("reason") == "CrashLoopBackOff":
                    return p["metadata"]["name"]
        return None

    pod = eventually(crashing, timeout=90, message="a worker pod in CrashLoopBackOff")
    result = nodeapp(pod, "-n", "staging", "--", "true", kubeconfig=handle.kubeconfig)
    lines = result.stderr.decode().splitlines()
    assert result.returncode == 1
    assert lines[0].startswith("error: container ") and "is in CrashLoopBackOff" in lines[0]
    assert lines[1] == f"hint: see: kubectl nodeapp logs {pod} --previous"


# -- a lost connection ------------------------------------------------------------------------------


def test_a_dropped_stream_says_so_and_exits_1(private_sandbox, kube_for, eventually):
    kube = kube_for(private_sandbox)
    pod = eventually(lambda: (running_pods(kube, NS, "web") or [None])[0], timeout=60, message="a web pod")
    child = subprocess.Popen(
        [str(BIN / "kubectl-nodeapp"), "shell", "--kubeconfig", private_sandbox.kubeconfig, pod, "-n", NS, "--",
         "sh", "-c", "echo started; exec sleep 60"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == b"started\n"
        started = time.monotonic()
        dropped = private_sandbox.admin("POST", "faults/drop-streams")
        assert dropped["dropped"] >= 1
        _out, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert time.monotonic() - started < 10
    assert child.returncode == 1
    assert err.decode().startswith("error: connection to the pod lost"), err


# -- the client API the status --probe engineer uses ------------------------------------------------


def test_run_command_api(sandbox, kube, web_pod):
    from kubectl_trace.kube.exec import ExecError, run_command

    code, out, err = run_command(kube, NS, web_pod, None, ["node", "--version"])
    assert code == 0 and out.startswith(b"v20.") and err == b""
    code, out, err = run_command(
        kube, NS, web_pod, None, ["sh", "-c", "cat; echo oops >&2; exit 5"], stdin=b"in\n"
    )
    assert (code, out, err) == (5, b"in\n", b"oops\n")
    with pytest.raises(ExecError, match="executable file not found"):
        run_command(kube, NS, web_pod, None, ["no-such-program"])


def test_run_command_times_out_instead_of_hanging(sandbox, kube, web_pod):
    from kubectl_trace.kube.errors import TransportError
    from kubectl_trace.kube.exec import run_command

    started = time.monotonic()
    with pytest.raises(TransportError, match="did not finish within 1s"):
        run_command(kube, NS, web_pod, None, ["sleep", "30"], timeout=1.0)
    assert time.monotonic() - started < 10


def test_v4_protocol_works_too(sandbox, kube, web_pod):
    from kubectl_trace.kube.exec import V4_PROTOCOL, open_exec

    session = open_exec(
        kube, NS, web_pod, ["sh", "-c", "echo v4; exit 6"], stdin=False, protocols=(V4_PROTOCOL,)
    )
    out: list[bytes] = []
    with session:
        assert session.protocol == V4_PROTOCOL and not session.can_half_close
        assert session.run(out.append) == 6
    assert b"".join(out) == b"v4\n"


# -- the lean client gives what Kube gives ------------------------------------------------------------


def test_lite_client_matches_kube(sandbox, kube, web_pod):
    from kubectl_trace.kube.errors import ApiError
    from kubectl_trace.kube.lite import connect_lite
    from kubectl_trace.kube.settings import KubeSettings

    lite = connect_lite(KubeSettings(kubeconfig=sandbox.kubeconfig), {})
    assert lite is not None
    try:
        assert (
            lite.get("pods", web_pod, NS)["metadata"]["uid"]
            == kube.get("pods", web_pod, NS)["metadata"]["uid"]
        )
        names = sorted(
            p["metadata"]["name"] for p in lite.list("pods", NS, label_selector="process=web").items
        )
        assert names == sorted(
            p["metadata"]["name"] for p in kube.list("pods", NS, label_selector="process=web").items
        )
        errors = []
        for client in (lite, kube):
            with pytest.raises(ApiError) as info:
                client.get("deployments", "nope", NS)
            errors.append((info.value.status, info.value.message, info.value.hint))
        assert errors[0] == errors[1]
        assert lite.namespace_exists("nope-ns") is False
    finally:
        lite.close()


def test_lite_client_declines_kubeconfigs_it_does_not_cover(tmp_path, sandbox):
    import yaml

    from kubectl_trace.kube.lite import connect_lite
    from kubectl_trace.kube.settings import KubeSettings

    config = yaml.safe_load(Path(sandbox.kubeconfig).read_text())
    config["users"][0]["user"] = {"auth-provider": {"name": "oidc", "config": {"id-token": "x"}}}
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(config))
    assert connect_lite(KubeSettings(kubeconfig=str(path)), {}) is None


def test_help_is_fast_to_reach_and_lists_examples():
    result = subprocess.run(
        [sys.executable, "-m", "kubectl_trace", "shell", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert "-- COMMAND" in result.stdout and "kubectl nodeapp shell trace-api --process web" in result.stdout


@pytest.mark.parametrize("redirect", ["< /dev/null", "<&-"])
def test_empty_or_closed_stdin_is_eof_for_the_remote(sandbox, web_pod, redirect):
    command = " ".join(
        [str(BIN / "kubectl-nodeapp"), "shell", "--kubeconfig", sandbox.kubeconfig, web_pod, "-n", NS,
         "--", "sh", "-c", "'cat; echo done'", redirect]
    )  # fmt: skip
    result = subprocess.run(["sh", "-c", command], capture_output=True, timeout=30, check=False)
    assert (result.stdout, result.returncode) == (b"done\n", 0), result.stderr


def test_remote_exit_while_stdin_still_flows(sandbox, web_pod):
    data = os.urandom(20 * 1024 * 1024)
    result = nodeapp(web_pod, "-n", NS, "--", "head", "-c", "10", kubeconfig=sandbox.kubeconfig, input=data)
    assert (result.stdout, result.returncode) == (data[:10], 0), result.stderr


def test_pick_without_a_terminal_lists_the_deployment_pods(sandbox, invoke, kube, web_pod):
    result = invoke(
        "shell", "deploy/trace-api-web", "--pick", "-n", NS, "--", "true", kubeconfig=sandbox.kubeconfig
    )
    assert result.exit_code == 1
    for name in running_pods(kube, NS, "web"):
        assert name in result.stderr
    assert "worker" not in result.stderr.splitlines()[0]


def test_a_namespace_that_does_not_exist_is_named(sandbox, invoke):
    result = invoke("shell", "trace-api", "-n", "nope-ns", "--", "true", kubeconfig=sandbox.kubeconfig)
    assert result.exit_code == 1 and result.stderr.startswith('error: namespace "nope-ns" not found')


def test_a_quiet_command_outlives_the_ping_interval(sandbox, kube, web_pod):
    """The client pings every 5 s while nothing flows; the answers keep the stream alive."""
    from kubectl_trace.kube.exec import open_exec

    # several ping/pong rounds in a short test; a server that did not answer would fail in 3 s
    session = open_exec(
        kube,
        NS,
        web_pod,
        ["sh", "-c", "sleep 6; echo still-here"],
        stdin=False,
        ping_interval=1.0,
        read_deadline=3.0,
    )
    out: list[bytes] = []
    with session:
        assert session.run(out.append) == 0
    assert b"".join(out) == b"still-here\n"
