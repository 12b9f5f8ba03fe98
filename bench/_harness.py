"""What the benchmark scripts share to measure: the executables, a private sandbox, waits, timed runs.

What a script writes (its table, its BENCHMARKS.md section) is in ``_report``. The package is
imported inside the functions that need it, so a script that never starts a sandbox
(``startup.py``) does not pay for it.
"""

from __future__ import annotations

import base64
import os
import shlex
import ssl
import subprocess
import tempfile
import time
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from _report import ROOT, median

if TYPE_CHECKING:
    from kubectl_trace.kube.lite import LiteKube
    from kubectl_trace.sandbox.process import SandboxHandle

NODEAPP = str(ROOT / "bin" / "kubectl-nodeapp")
KUBECTL = str(ROOT / ".venv" / "bin" / "kubectl")
PYTHON = str(ROOT / ".venv" / "bin" / "python")
IMAGE = "registry.sandbox.local/trace/trace-api"

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


# --- where the commands run ------------------------------------------------------------------


@contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    """A temporary directory for kubeconfigs and caches, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        yield Path(tmp)


@contextmanager
def sandbox(kubeconfig: str | Path, *, timeout: float = 90, **options: Any) -> Iterator[SandboxHandle]:
    """A private sandbox that writes ``kubeconfig``, stopped on leaving (and if this process dies).

    ``options`` are ``SandboxOptions`` fields; unless given, time scale 0.1 and simulated containers.
    """
    from kubectl_trace.sandbox.interfaces import SandboxOptions
    from kubectl_trace.sandbox.process import start_sandbox

    chosen = {"time_scale": 0.1, "containers": "simulated", **options}
    handle = start_sandbox(
        str(kubeconfig), SandboxOptions(**chosen), exit_with_parent=os.getpid(), timeout=timeout
    )
    try:
        yield handle
    finally:
        handle.stop()


@contextmanager
def private_sandbox(prefix: str, **options: Any) -> Iterator[tuple[SandboxHandle, Path]]:
    """A sandbox (as ``sandbox``) and the temporary directory that holds its kubeconfig, for caches too."""
    with workdir(prefix) as work, sandbox(work / "kubeconfig", **options) as handle:
        yield handle, work


@contextmanager
def demo_web_pod(prefix: str, **options: Any) -> Iterator[tuple[SandboxHandle, Path, str]]:
    """A private demo sandbox (1 log line/s) and the name of a ready web pod of trace-api in production."""
    with private_sandbox(prefix, fixture="demo", log_rate=1.0, **options) as (handle, work):
        yield handle, work, ready_pod(handle.kubeconfig, "production", "app=trace-api,process=web")


@dataclass(frozen=True)
class Credentials:
    """What a raw HTTPS client needs to talk to a sandbox: its URL, bearer token and TLS context."""

    server: str
    token: str
    context: ssl.SSLContext

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def credentials(kubeconfig: str) -> Credentials:
    """The server, token and certificate authority of a sandbox's kubeconfig."""
    import yaml

    config = yaml.safe_load(Path(kubeconfig).read_text())
    cluster = config["clusters"][0]["cluster"]
    ca = base64.b64decode(cluster["certificate-authority-data"]).decode()
    token = config["users"][0]["user"]["token"]
    return Credentials(cluster["server"], token, ssl.create_default_context(cadata=ca))


def kubectl_argv(kubeconfig: str, cache: str | Path) -> list[str]:
    """The real kubectl against ``kubeconfig``, with its own discovery cache (warm after one run)."""
    return [KUBECTL, "--kubeconfig", kubeconfig, "--cache-dir", str(cache)]


def clean_env() -> dict[str, str]:
    """This environment without what would change the commands: KUBECONFIG, colour, the user's config."""
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "NO_COLOR", "FORCE_COLOR")}
    env["KUBECTL_NODEAPP_CONFIG"] = os.devnull + ".missing.toml"
    return env


@contextmanager
def lite_client(kubeconfig: str) -> Iterator[LiteKube]:
    """The product's lean client for ``kubeconfig``, closed on leaving."""
    from kubectl_trace.kube.lite import connect_lite
    from kubectl_trace.kube.settings import KubeSettings

    client = connect_lite(KubeSettings(kubeconfig=kubeconfig), {})
    assert client is not None
    try:
        yield client
    finally:
        client.close()


def web_deployment(
    name: str,
    namespace: str,
    replicas: int,
    image: str,
    *,
    probe_every: int | None = None,
    liveness: bool = False,
    **spec: Any,
) -> dict[str, Any]:
    """A Deployment ``name`` (label app=NAME) of the trace-api image running its web process.

    With ``probe_every`` (seconds) the container has its http port and a readiness probe on
    ``/healthz`` (and the same liveness probe with ``liveness``); ``spec`` adds fields to the spec.
    """
    container: dict[str, Any] = {
        "name": "web",
        "image": image,
        "env": [{"name": "PROCESS_TYPE", "value": "web"}],
    }
    if probe_every is not None:
        probe = {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": probe_every}
        container["ports"] = [{"name": "http", "containerPort": 3000}]
        container["readinessProbe"] = probe
        if liveness:
            container["livenessProbe"] = dict(probe)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            **spec,
            "template": {
                "metadata": {"labels": {"app": name, "process": "web"}},
                "spec": {"containers": [container]},
            },
        },
    }


# --- waiting ------------------------------------------------------------------------------------


def wait_until(check: Callable[[], T], timeout: float, what: str, every: float = 0.5) -> T:
    """Call ``check`` every ``every`` seconds until it returns something true, and return that."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def ready_pod(kubeconfig: str, namespace: str, selector: str, timeout: float = 120.0) -> str:
    """The name of a ready pod (Ready condition True, not being deleted) matching ``selector``."""

    def ready(pod: dict[str, Any]) -> bool:
        conditions = pod["status"].get("conditions") or []
        return not pod["metadata"].get("deletionTimestamp") and any(
            c.get("type") == "Ready" and c.get("status") == "True" for c in conditions
        )

    with lite_client(kubeconfig) as client:

        def first_ready() -> str:
            pods = client.list("pods", namespace, label_selector=selector).items
            return next((str(p["metadata"]["name"]) for p in pods if ready(p)), "")

        return wait_until(first_ready, timeout, f"a ready pod of {selector} in {namespace}")


def wait_for_success(argvs: list[list[str]], timeout: float, what: str) -> None:
    """Run the commands (in ``clean_env``, output discarded) every 0.5 s until they all exit 0."""
    env = clean_env()

    def succeed() -> bool:
        return all(
            subprocess.run(argv, capture_output=True, env=env, check=False).returncode == 0 for argv in argvs
        )

    wait_until(succeed, timeout, what)


def output(argv: list[str], env: Mapping[str, str] | None = None, timeout: float | None = None) -> str:
    """The stdout of ``argv``; a failure raises with its stderr."""
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(argv)} exited {done.returncode}: {done.stderr[-500:]}")
    return done.stdout


def stop(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """Terminate ``process``; kill it if it has not ended within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- timing -------------------------------------------------------------------------------------


def wall(*argvs: list[str], env: Mapping[str, str] | None = None, need_output: bool = False) -> float:
    """Seconds from the first spawn to the last exit of the commands, run one after the other.

    Their output is discarded. A command that fails is an error, not a fast result; with
    ``need_output`` so is one that prints nothing.
    """
    start = time.perf_counter()
    for argv in argvs:
        done = subprocess.run(
            argv,
            stdout=subprocess.PIPE if need_output else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            check=False,
        )
        if done.returncode != 0 or (need_output and not done.stdout):
            error = done.stderr.decode(errors="replace")[-500:]
            raise RuntimeError(f"{shlex.join(argv)} exited {done.returncode}: {error}")
    return time.perf_counter() - start


def first_output(argv: list[str], expect: bytes | None = None) -> float:
    """Seconds from spawn to the first byte on stdout (the process is then waited for).

    Raises when the command fails, or when ``expect`` is given and its whole stdout differs.
    """
    start = time.perf_counter()
    child = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0
    )
    assert child.stdout is not None
    byte = child.stdout.read(1)
    elapsed = time.perf_counter() - start
    rest, err = child.communicate(timeout=60)
    if not byte or child.returncode != 0 or (expect is not None and byte + rest != expect):
        raise RuntimeError(f"{argv[0]} failed ({child.returncode}): {byte + rest!r} {err[-300:]!r}")
    return elapsed


def median_cpu(fn: Callable[[], object], runs: int) -> float:
    """Median CPU seconds of this process over ``runs`` calls of ``fn`` (other load counts less)."""
    samples = []
    for _ in range(runs):
        start = time.process_time()
        fn()
        samples.append(time.process_time() - start)
    return median(samples)


def alternate(runs: int, cases: Mapping[K, Callable[[], T]]) -> dict[K, list[T]]:
    """Every case once per round, ``runs`` rounds, so that load drifts hit every side alike."""
    results: dict[K, list[T]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, case in cases.items():
            results[name].append(case())
    return results


def compare_walls(
    runs: int, ours: Callable[[], list[list[str]]], theirs: Callable[[], list[list[str]]]
) -> tuple[float, float]:
    """Median ``wall`` seconds of our commands and of kubectl's for the same task, in ``clean_env``.

    Each side gives its commands for a run (a new value each time, where a run must change
    something); one warm-up of each, then ``runs`` alternating rounds.
    """
    env = clean_env()
    sides = {"ours": lambda: wall(*ours(), env=env), "theirs": lambda: wall(*theirs(), env=env)}
    warm_up(sides)
    times = alternate(runs, sides)
    return median(times["ours"]), median(times["theirs"])


def warm_up(cases: Mapping[K, Callable[[], object]]) -> None:
    """Run every case once, unmeasured (kubectl's discovery cache, the page cache, connections)."""
    for case in cases.values():
        case()


# --- a process, from /proc ----------------------------------------------------------------------


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_memory(pid: int) -> tuple[float, float]:
    """Resident memory of a process and its peak so far, MB."""
    found = {"VmRSS:": 0.0, "VmHWM:": 0.0}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key = line.split(maxsplit=1)[0] if line else ""
        if key in found:
            found[key] = int(line.split()[1]) / 1024
    return found["VmRSS:"], found["VmHWM:"]
