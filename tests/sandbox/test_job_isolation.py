"""Job pods run in the pod's box like exec does (real kubectl): a Job pod is not the host."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from tests.factories import job_manifest
from tests.sandbox.demo import needs_namespaces

IMAGE = "registry.sandbox.local/trace/trace-api:a41c9e7"


def _job(name: str, ns: str, script: str, env: dict[str, str] | None = None) -> str:
    container: dict[str, Any] = {"image": IMAGE, "command": ["sh", "-c", script]}
    if env:
        container["env"] = [{"name": k, "value": v} for k, v in env.items()]
    return json.dumps(job_manifest(name, ns, container, backoffLimit=0))


def _finished_pod(kubectl: Any, ns: str, job: str, condition: str) -> dict[str, Any]:
    kubectl("wait", f"--for=condition={condition}", f"job/{job}", "-n", ns, "--timeout=60s", check=True)
    pods = json.loads(
        kubectl("get", "pods", "-n", ns, "-l", f"job-name={job}", "-o", "json", check=True).stdout
    )
    assert len(pods["items"]) == 1
    return dict(pods["items"][0])


def _pod_sandbox_processes(ns: str, pod: str) -> list[int]:
    """Host processes of the pod's sandbox (their command line names the pod's box)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if f"/pods/{ns}_{pod}_".encode() in cmdline:
                found.append(int(entry.name))
    return found


@needs_namespaces
def test_a_job_pod_has_its_own_hostname_root_tmp_and_processes(
    kubectl: Any, ns: str, eventually: Any
) -> None:
    probe = f"jobiso-{uuid.uuid4().hex[:8]}"
    script = (
        f'cat /etc/hostname; hostname; pwd; echo "$HOME"; echo "$GREETING"; touch /tmp/{probe} ~/{probe}; '
        f"ls /tmp; ls /; ps -e -o pid=,comm="
    )
    kubectl("apply", "-f", "-", input=_job("iso", ns, script, {"GREETING": "from-env"}), check=True)
    pod = _finished_pod(kubectl, ns, "iso", "complete")
    name = pod["metadata"]["name"]
    lines = kubectl("logs", "job/iso", "-n", ns, check=True).stdout.splitlines()
    assert lines[:6] == [name, name, "/app", "/root", "from-env", probe], lines
    assert not Path("/tmp", probe).exists()  # the pod's own /tmp, not the host's
    assert not (Path.home() / probe).exists()
    root = set(lines[6 : lines.index("usr") + 1])
    assert {"app", "etc", "proc", "root", "tmp", "usr"} <= root
    assert not root & {"work", "home", "opt", "srv", "mnt"}  # nothing else of the host
    processes = [line.split() for line in lines[lines.index("usr") + 1 :]]
    assert processes[0] == ["1", "pause"]  # a PID namespace of its own
    assert "ps" in {p[1] for p in processes}
    assert not any("pytest" in p[1] or "python" in p[1] for p in processes)
    assert len(processes) < 10
    eventually(
        lambda: not _pod_sandbox_processes(ns, name), timeout=15, message="the finished pod's sandbox ends"
    )


@needs_namespaces
def test_a_job_pod_sees_the_host_system_read_only_and_keeps_its_exit_code(kubectl: Any, ns: str) -> None:
    script = "touch /usr/jobiso 2>&1; touch /etc/jobiso 2>&1; cat /etc/shadow 2>&1; exit 7"
    kubectl("apply", "-f", "-", input=_job("ro", ns, script), check=True)
    pod = _finished_pod(kubectl, ns, "ro", "failed")
    terminated = pod["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (7, "Error")
    out = kubectl("logs", "job/ro", "-n", ns, check=True).stdout
    assert out.count("Read-only file system") == 2 and "No such file or directory" in out, out


def test_without_namespaces_a_job_pod_stays_out_of_the_host_tmp(
    sandbox_factory: Any, kubectl_for: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("NODEAPP_SANDBOX_ISOLATION", "off")
    handle = sandbox_factory(fixture="empty")
    kubectl = kubectl_for(handle)
    probe = f"jobiso-fallback-{uuid.uuid4().hex[:8]}"
    script = f'echo "$HOSTNAME"; echo hi > /tmp/{probe} && cat "/tmp/{probe}"; cd /app && pwd; exit 4'
    kubectl("apply", "-f", "-", input=_job("fb", "default", script), check=True)
    pod = _finished_pod(kubectl, "default", "fb", "failed")
    assert pod["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 4
    lines = kubectl("logs", "job/fb", check=True).stdout.splitlines()
    assert lines[:2] == [pod["metadata"]["name"], "hi"], lines
    assert lines[2].startswith(handle.state_dir) and lines[2].endswith("/app")  # the pod's directory
    assert not Path("/tmp", probe).exists()
    assert [p.name for p in Path(handle.state_dir).rglob(probe)] == [probe]
