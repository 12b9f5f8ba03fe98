"""Pod isolation for exec and cp (real kubectl against the session sandbox): a pod is not the host."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import uuid
from pathlib import Path
from typing import Any

import pytest

from kubectl_trace.sandbox.podbox import IMAGE_BIN, ExecTarget, PodBoxes, spawn_in_pod
from tests.conftest import KUBECTL
from tests.sandbox.demo import NS, needs_namespaces, ready_pod


@needs_namespaces
def test_a_pod_has_its_own_hostname_root_and_processes(kubectl: Any, web_pod: str) -> None:
    script = "cat /etc/hostname; hostname; pwd; echo $HOME; ls /; ps -e -o pid=,comm="
    result = kubectl("exec", "-n", NS, web_pod, "--", "sh", "-c", script, check=True)
    lines = result.stdout.splitlines()
    assert lines[:4] == [web_pod, web_pod, "/app", "/root"]
    root = set(lines[4 : lines.index("usr") + 1])
    assert {"app", "etc", "proc", "root", "tmp", "usr"} <= root
    assert not root & {"work", "home", "opt", "srv", "mnt"}  # the host's own directories are not there
    processes = [line.split() for line in lines[lines.index("usr") + 1 :]]
    assert processes[0][0] == "1"  # a PID namespace of its own
    assert not any("pytest" in p[1] for p in processes)
    assert len(processes) < 10


@needs_namespaces
def test_the_host_system_is_read_only(kubectl: Any, web_pod: str) -> None:
    script = "for f in /usr/x /etc/x /x; do touch $f 2>&1 || true; done; touch /tmp/ok /app/ok ~/ok && echo writable"
    result = kubectl("exec", "-n", NS, web_pod, "--", "sh", "-c", script, check=True)
    assert result.stdout.count("Read-only file system") == 3, result.stdout
    assert result.stdout.rstrip().endswith("writable")
    secrets = kubectl("exec", "-n", NS, web_pod, "--", "ls", "/etc/shadow", "/etc/ssh", "/etc/ssl/private")
    assert secrets.returncode != 0 and secrets.stderr.count("No such file or directory") == 3, secrets.stderr


@needs_namespaces
def test_cp_into_a_pod_does_not_touch_the_host(kubectl: Any, web_pod: str, tmp_path: Path) -> None:
    name = f"isolation-{uuid.uuid4().hex[:8]}.txt"
    source = tmp_path / name
    source.write_text("inside the pod\n")
    kubectl("cp", "-n", NS, str(source), f"{web_pod}:/tmp/{name}", check=True)
    assert not Path("/tmp", name).exists()
    assert (
        kubectl("exec", "-n", NS, web_pod, "--", "cat", f"/tmp/{name}", check=True).stdout
        == "inside the pod\n"
    )
    back = tmp_path / "back.txt"
    kubectl("cp", "-n", NS, f"{web_pod}:/tmp/{name}", str(back), check=True)
    assert back.read_text() == "inside the pod\n"


@needs_namespaces
def test_two_pods_do_not_share_tmp(kubectl: Any, kube: Any, web_pod: str) -> None:
    others = [
        p["metadata"]["name"]
        for p in kube.list("pods", NS, label_selector="app=trace-api,process=worker").items
        if p["status"].get("phase") == "Running"
    ]
    if not others:
        pytest.skip("no running worker pod")
    marker = f"/tmp/only-{uuid.uuid4().hex[:8]}"
    kubectl("exec", "-n", NS, web_pod, "--", "touch", marker, check=True)
    other = kubectl("exec", "-n", NS, others[0], "--", "ls", marker)
    assert other.returncode != 0 and "No such file" in other.stderr


def test_without_namespaces_a_pod_gets_its_own_directories(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    boxes = PodBoxes(tmp_path / "pods", isolation="off")
    assert "pod isolation unavailable" in capsys.readouterr().err
    box = boxes.box("ns_web-1_abcdef12", "web-1", str(tmp_path / "bin"))
    env = {"PATH": "/somewhere/bin", "HOME": box.app, "A": "b"}
    argv, cwd, out = asyncio.run(box.command(["tar", "xmf", "-", "-C", "/tmp/dir", "/app"], env, "/img/bin"))
    assert argv == ["tar", "xmf", "-", "-C", f"{box.tmp}/dir", box.app]
    assert cwd == box.app and out["TMPDIR"] == box.tmp and out["HOME"] == box.home
    assert out["PATH"] == "/img/bin" and out["A"] == "b"
    assert all(Path(p).is_dir() for p in (box.app, box.tmp, box.home)) and box.tmp.startswith(str(box.base))
    boxes.close()


@needs_namespaces
def test_an_isolated_command_is_entered_with_the_pods_paths(tmp_path: Path) -> None:
    boxes = PodBoxes(tmp_path / "pods")
    box = boxes.box("ns_web-2_abcdef12", "web-2", str(tmp_path))

    async def run() -> tuple[list[str], dict[str, str], bytes]:
        argv, cwd, env = await box.command(
            ["sh", "-c", "hostname; echo $PATH"], {"HOME": box.app}, str(tmp_path)
        )
        (tmp_path / "sh").symlink_to("/bin/sh")
        (tmp_path / "hostname").symlink_to("/bin/hostname")
        process = await asyncio.create_subprocess_exec(
            *argv, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE
        )
        try:
            out, _ = await process.communicate()
        finally:
            await boxes.aclose()
        return argv, env, out

    argv, env, out = asyncio.run(run())
    assert os.path.basename(argv[0]) == "nsenter"
    assert env["PATH"] == IMAGE_BIN and env["HOME"] == "/root"
    assert out.decode() == f"web-2\n{IMAGE_BIN}\n"


@pytest.mark.parametrize("isolation", ["auto", "off"])
def test_spawn_in_pod_runs_a_command_as_job_pods_will(tmp_path: Path, isolation: str) -> None:
    boxes = PodBoxes(tmp_path / "pods", isolation=isolation)
    image_bin = tmp_path / "bin"
    image_bin.mkdir()
    for tool in ("sh", "cat", "echo"):
        (image_bin / tool).symlink_to(f"/bin/{tool}")
    box = boxes.box("jobs_job-1-abcde_abcdef12", "job-1-abcde", str(image_bin))
    target = ExecTarget(cwd=box.app, env={"PATH": str(image_bin), "HOME": box.app, "GREETING": "hi"}, box=box)

    async def run() -> tuple[int, bytes]:
        try:
            with pytest.raises(FileNotFoundError):
                await spawn_in_pod(target, ["bash", "-c", "true"])
            process = await spawn_in_pod(
                target,
                ["sh", "-c", 'cd "${TMPDIR:-/tmp}" && echo "$GREETING" > out && cat out'],
                stdout=asyncio.subprocess.PIPE,
            )
            out, _ = await process.communicate()
            return process.returncode or 0, out
        finally:
            await boxes.aclose()

    code, out = asyncio.run(run())
    assert (code, out) == (0, b"hi\n")
    assert (Path(box.tmp) / "out").read_text() == "hi\n"  # the pod's /tmp (or TMPDIR), not the host's


def test_without_namespaces_cp_still_stays_out_of_the_host_tmp(
    sandbox_factory: Any, kubectl_for: Any, kube_for: Any, eventually: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("NODEAPP_SANDBOX_ISOLATION", "off")
    handle = sandbox_factory(fixture="demo")
    assert "NODEAPP_SANDBOX_ISOLATION=off" in (handle.state.get("podIsolationProblem") or "")
    kubectl = kubectl_for(handle)
    pod = ready_pod(kube_for(handle), eventually)
    name = f"fallback-{uuid.uuid4().hex[:8]}.txt"
    (tmp_path / name).write_text("pod data\n")
    kubectl("cp", "-n", NS, str(tmp_path / name), f"{pod}:/tmp/{name}", check=True)
    assert not Path("/tmp", name).exists()
    listed = kubectl("exec", "-n", NS, pod, "--", "sh", "-c", 'ls "$TMPDIR"; pwd; echo "$HOME"', check=True)
    lines = listed.stdout.splitlines()
    assert name in lines and lines[-2].startswith(handle.state_dir) and lines[-1].startswith(handle.state_dir)


_AS_NOBODY = """
import asyncio, json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from kubectl_trace.sandbox.podbox import PodBoxes
root = Path(sys.argv[2])
boxes = PodBoxes(root / "pods")
(root / "bin").mkdir()
for tool in ("sh", "hostname", "touch"):
    (root / "bin" / tool).symlink_to("/bin/" + tool)
box = boxes.box("ns_p_1", "unprivileged-pod", str(root / "bin"))
async def main():
    script = "hostname; touch /tmp/a && echo tmp-ok; touch /usr/x 2>&1"
    argv, cwd, env = await box.command(["sh", "-c", script], {"HOME": box.app}, str(root / "bin"))
    process = await asyncio.create_subprocess_exec(*argv, cwd=cwd, env=env, stdout=-1, stderr=-2)
    out, _ = await process.communicate()
    await boxes.aclose()
    print(json.dumps({"isolated": box.isolated, "out": out.decode()}))
asyncio.run(main())
"""


@needs_namespaces
def test_isolation_works_for_an_unprivileged_user_too() -> None:
    import shutil
    import subprocess
    import sys
    import tempfile

    setpriv = shutil.which("setpriv")
    python = next((p for p in (sys.executable, "/usr/bin/python3") if _nobody_can_run(p)), None)
    if os.geteuid() != 0 or setpriv is None or python is None:
        pytest.skip("needs root, setpriv and a Python the user nobody can run")
    work = Path(tempfile.mkdtemp(prefix="nodeapp-unprivileged-"))  # pytest's tmp_path is root's alone
    os.chown(work, 65534, 65534)
    repo = str(Path(__file__).resolve().parents[2])
    try:
        result = subprocess.run(
            [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", python, "-c", _AS_NOBODY, repo, str(work)],
            capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"}, check=False,
        )  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.splitlines()[-1])
    assert answer["isolated"] is True, result.stderr
    assert answer["out"].splitlines()[:2] == ["unprivileged-pod", "tmp-ok"]
    assert "Read-only file system" in answer["out"]


def _nobody_can_run(path: str) -> bool:
    import subprocess

    if not os.path.exists(path):
        return False
    probe = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", path, "-c", "import asyncio"],
        capture_output=True, timeout=30, check=False,
    )  # fmt: skip
    return probe.returncode == 0


@needs_namespaces
def test_a_pod_sandbox_that_cannot_be_set_up_falls_back_for_that_pod_then_for_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    boxes = PodBoxes(tmp_path / "pods")

    def broken(name: str) -> Any:
        return boxes.box(f"ns_{name}_1", name, str(tmp_path / "no-such-image-bin"))  # its bind mount fails

    async def run() -> tuple[list[str], bool, bool, list[str]]:
        try:
            a = broken("a")
            first, _, env = await a.command(["sh", "-c", "true"], {"HOME": a.app}, "/img/bin")
            assert env["TMPDIR"] == a.tmp
            one_failure_only = a.isolated and boxes.isolated  # one failed set-up is retried next time
            await a.command(["true"], {}, "/img/bin")  # fails again: this pod runs unisolated from now on
            healthy = boxes.box("ns_h_1", "h", str(tmp_path))
            pod_alone = not a.isolated and boxes.isolated and healthy.isolated
            for name in ("b", "c"):
                box = broken(name)
                for _ in range(2):
                    await box.command(["true"], {}, "/img/bin")
            later = boxes.box("ns_z_1", "z", str(tmp_path))
            second, _, _ = await later.command(["sh"], {}, "/img/bin")
            return first, one_failure_only, pod_alone, second
        finally:
            await boxes.aclose()

    first, one_failure_only, pod_alone, second = asyncio.run(run())
    assert first == ["sh", "-c", "true"] and second == ["sh"]
    assert one_failure_only and pod_alone
    assert not boxes.isolated and "could not be set up" in (boxes.problem or "")
    assert capsys.readouterr().err.count("pod isolation unavailable") == 1


@needs_namespaces
def test_a_tty_shell_in_a_pod_keeps_its_exit_status(sandbox: Any, web_pod: str, tmux: Any) -> None:
    """sh's job control hands the terminal back at exit: only possible inside the pod's session."""
    script = (
        f"{shlex.quote(KUBECTL)} --kubeconfig {shlex.quote(sandbox.kubeconfig)} exec -it -n {NS} "
        f"{web_pod} -- sh; echo EXIT=$?; exec sleep 600"
    )
    tmux.start(f"bash --norc --noprofile -c {shlex.quote(script)}", width=90, height=20)
    tmux.send("sleep 60 & echo jobs-$((6*7)) $(tput cols)", enter=True)
    tmux.wait_for("jobs-42 90", timeout=30)
    tmux.send("exit 3", enter=True)
    screen = tmux.wait_for("EXIT=3", timeout=30)
    assert "Cannot set tty process group" not in screen


def test_without_namespaces_paths_inside_scripts_point_into_the_pod(tmp_path: Path) -> None:
    boxes = PodBoxes(tmp_path / "pods", isolation="off")
    box = boxes.box("jobs_j-1_abcdef12", "j-1", str(tmp_path / "bin"))
    script = (
        'echo hi > /tmp/x; cat "/tmp/x" /var/tmp/y ./tmp $HOME/tmp ${HOME}/tmp; cd /app && ls /root /rooted'
    )
    argv, _, _ = asyncio.run(box.command(["sh", "-c", script, "--out=/tmp/o"], {}, "/img/bin"))
    assert argv == [
        "sh",
        "-c",
        f'echo hi > {box.tmp}/x; cat "{box.tmp}/x" /var/tmp/y ./tmp $HOME/tmp ${{HOME}}/tmp; '
        f"cd {box.app} && ls {box.home} /rooted",
        f"--out={box.tmp}/o",
    ]
    assert asyncio.run(box.command([f"{box.tmp}/tool"], {}, "/img/bin"))[0] == [f"{box.tmp}/tool"]  # as is
    boxes.close()
