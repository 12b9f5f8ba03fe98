"""The shared test fixtures: the sandbox, the real kubectl, a client, tmux.

Every test that needs a cluster uses these (never a cluster of its own making):

``sandbox`` (session)
    One sandbox for the whole run, started through ``kubectl_trace.sandbox.process`` on a
    free port with ``--time-scale`` 0.1 (ten times faster; ``NODEAPP_TEST_TIME_SCALE``
    overrides it), the ``demo`` fixture and simulated containers (``NODEAPP_TEST_CONTAINERS=node``
    runs real Node.js ones); it dies with the test process and is stopped at
    the end. A ``SandboxHandle``: ``.kubeconfig``, ``.port``, ``.server``, ``.status()``
    (request counters, open streams), ``.admin(method, path, body)`` (faults, images).
    Treat it as shared: do not inject faults into it and do not break its demo apps;
    create your own objects (e.g. in a namespace of your own) when you need to change things.
``sandbox_factory`` (function)
    ``sandbox_factory(fixture="empty", time_scale=0.1, log_rate=2.0, log_backlog=0,
    extra_images={}, containers="simulated")`` starts a private sandbox for one test (faults, a clean cluster) and
    stops it afterwards.
``private_sandbox`` (function)
    ``sandbox_factory()`` with the demo fixture: the usual cluster, yours alone.
``kubectl`` / ``kubectl_for``
    ``kubectl("get", "pods", "-A")`` runs the real ``.venv/bin/kubectl`` against the session
    sandbox (``--kubeconfig``, a private ``--cache-dir``) and returns a CompletedProcess
    (text); ``check=True`` raises with stdout/stderr on failure; ``input=``, ``timeout=``.
    ``kubectl_for(handle)`` gives the same runner for another sandbox; ``runner.argv_prefix``
    is the argv to start kubectl yourself (``subprocess.Popen`` for ``-w``/``-f``/``-it``).
    ``KUBECTL`` is the path of the binary.
``kube`` / ``kube_for``
    A ``kubectl_trace.kube.client.Kube`` for the session sandbox / for a handle.
``invoke``
    ``invoke("status", "trace-api", kubeconfig=…, stdin="")`` runs ``kubectl nodeapp`` in
    process with buffers and returns ``Invocation(stdout, stderr, exit_code)``.
``eventually``
    ``eventually(lambda: cond(), timeout=30, interval=0.1, message="…")`` polls until the
    callable returns a truthy value (returned) or fails the test: never sleep a fixed time.
``tmux``
    A ``Tmux`` driver on a private server socket (``start(cmd, width, height, env)``,
    ``send(keys)``, ``capture()``, ``wait_for(text)``, ``resize(w, h)``); skips (saying so)
    when tmux is not installed. Sessions are killed at the end of the test.

An autouse fixture clears ``NO_COLOR`` and ``FORCE_COLOR`` for every test, and every test that
uses ``tmux`` is marked ``tmux`` (``tests/run`` runs those with the ``slow`` ones, beside the rest).
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kubectl_trace.sandbox.interfaces import SandboxOptions
from kubectl_trace.sandbox.process import SandboxHandle, start_sandbox

KUBECTL = str(Path(sys.executable).with_name("kubectl"))
if not os.path.exists(KUBECTL):  # pragma: no cover - a venv without the kubectl wheel
    KUBECTL = shutil.which("kubectl") or KUBECTL


# The tests stop their `logs -f` and `get -w` children with SIGINT, as a user's Ctrl-C does. A
# shell's background job (`tests/run &`, a CI step started with `&`) starts with SIGINT ignored,
# and children inherit that, so every test process (pytest and each xdist worker) restores it.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

TEST_TIME_SCALE = float(os.environ.get("NODEAPP_TEST_TIME_SCALE", "0.1"))
# The suite's sandboxes keep simulated containers (log rates, injected log lines, kill markers
# and the benches rely on them); tests of real Node.js containers pass containers="node".
TEST_CONTAINERS = os.environ.get("NODEAPP_TEST_CONTAINERS", "simulated")


@pytest.fixture(autouse=True)
def _no_color_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)


# What makes coverage measure a Python child (pyproject's [tool.coverage.run] patch): the sandbox
# servers go without, since they are the tests' cluster, not a command under test.
_COVERAGE_VARIABLES = ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START")


def _start(directory: Path, **options: Any) -> SandboxHandle:
    opts = SandboxOptions(
        time_scale=options.pop("time_scale", TEST_TIME_SCALE),
        fixture=options.pop("fixture", "demo"),
        containers=options.pop("containers", TEST_CONTAINERS),
        **options,
    )
    env = {k: v for k, v in os.environ.items() if k not in _COVERAGE_VARIABLES}
    return start_sandbox(
        str(directory / "kubeconfig"), opts, exit_with_parent=os.getpid(), timeout=90, env=env
    )


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    """The session-wide sandbox (demo fixture, fast time scale)."""
    handle = _start(tmp_path_factory.mktemp("sandbox"))
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def sandbox_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., SandboxHandle]]:
    """Start private sandboxes for one test; all are stopped afterwards."""
    started: list[SandboxHandle] = []

    def make(**options: Any) -> SandboxHandle:
        options.setdefault("fixture", "empty")
        handle = _start(tmp_path_factory.mktemp("private-sandbox"), **options)
        started.append(handle)
        return handle

    try:
        yield make
    finally:
        for handle in started:
            handle.stop()


@pytest.fixture
def private_sandbox(sandbox_factory: Callable[..., SandboxHandle]) -> SandboxHandle:
    """A sandbox with the demo fixture for this test alone."""
    return sandbox_factory(fixture="demo")


# -- kubectl ------------------------------------------------------------------------------


class KubectlError(AssertionError):
    """kubectl failed where the test needed it to succeed."""


KubectlRunner = Callable[..., "subprocess.CompletedProcess[str]"]


def _kubectl_runner(handle: SandboxHandle, cache_dir: Path) -> KubectlRunner:
    def run(
        *args: str,
        input: str | None = None,
        timeout: float = 60.0,
        check: bool = False,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        argv = [KUBECTL, "--kubeconfig", handle.kubeconfig, "--cache-dir", str(cache_dir), *args]
        child_env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
        child_env.update(env or {})
        result = subprocess.run(
            argv, input=input, capture_output=True, text=True, timeout=timeout, env=child_env, check=False
        )
        if check and result.returncode != 0:
            raise KubectlError(
                f"kubectl {' '.join(args)} exited {result.returncode}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result

    run.kubeconfig = handle.kubeconfig  # type: ignore[attr-defined]
    run.argv_prefix = [KUBECTL, "--kubeconfig", handle.kubeconfig, "--cache-dir", str(cache_dir)]  # type: ignore[attr-defined]
    return run


@pytest.fixture
def kubectl_for(tmp_path_factory: pytest.TempPathFactory) -> Callable[[SandboxHandle], KubectlRunner]:
    """``kubectl_for(handle)`` → a kubectl runner for that sandbox."""

    def make(handle: SandboxHandle) -> KubectlRunner:
        return _kubectl_runner(handle, tmp_path_factory.mktemp("kubectl-cache"))

    return make


@pytest.fixture
def kubectl(sandbox: SandboxHandle, kubectl_for: Callable[[SandboxHandle], KubectlRunner]) -> KubectlRunner:
    """The real kubectl against the session sandbox."""
    return kubectl_for(sandbox)


# -- clients --------------------------------------------------------------------------------


@pytest.fixture
def kube_for() -> Iterator[Callable[[SandboxHandle], Any]]:
    """``kube_for(handle)`` → a ``Kube`` client for that sandbox (closed afterwards)."""
    from kubectl_trace.kube.client import connect
    from kubectl_trace.kube.settings import KubeSettings

    made: list[Any] = []

    def make(handle: SandboxHandle) -> Any:
        client = connect(KubeSettings(kubeconfig=handle.kubeconfig))
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def kube(sandbox: SandboxHandle, kube_for: Callable[[SandboxHandle], Any]) -> Any:
    """A ``Kube`` client for the session sandbox."""
    return kube_for(sandbox)


@dataclass(frozen=True)
class Invocation:
    """What an in-process ``kubectl nodeapp`` run printed and returned."""

    stdout: str
    stderr: str
    exit_code: int


class _Buffer(io.StringIO):
    def __init__(self, value: str = "") -> None:
        super().__init__(value)
        self.buffer = io.BytesIO()

    def isatty(self) -> bool:
        return False


@pytest.fixture
def invoke() -> Callable[..., Invocation]:
    """Run ``kubectl nodeapp ARGV…`` in process with buffers (no terminal, no colour)."""
    from kubectl_trace.cli.runner import run
    from kubectl_trace.environment import Environment

    def call(
        *argv: str,
        kubeconfig: str | None = None,
        stdin: str = "",
        environ: dict[str, str] | None = None,
        width: int | None = 120,
    ) -> Invocation:
        out, err = _Buffer(), _Buffer()
        args: Sequence[str] = list(argv)
        if kubeconfig is not None:
            args = ["--kubeconfig", kubeconfig, *args]
        env = Environment(
            stdin=_Buffer(stdin),
            stdout=out,
            stderr=err,
            stdin_isatty=False,
            stdout_isatty=False,
            color=False,
            environ=dict(environ or {}),
            width=width,
        )
        code = run(list(args), env)
        text = out.getvalue()
        if out.buffer.getvalue():
            text += out.buffer.getvalue().decode("utf-8", "replace")
        return Invocation(text, err.getvalue(), code)

    return call


def wait_until(
    check: Callable[[], Any],
    timeout: float = 30.0,
    interval: float = 0.1,
    message: str | Callable[[], str] = "",
) -> Any:
    """Poll ``check`` until it returns something truthy (returned); fail the test on timeout.

    ``message`` says what was awaited; a callable is asked at the failure (e.g. for the last
    screen seen). What the ``eventually`` fixture gives; helpers and module-scoped fixtures
    call it directly: the one polling loop of the tests.
    """
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() >= deadline:
            said = message() if callable(message) else message
            pytest.fail(f"timed out after {timeout:g}s waiting: {said or check} (last: {last!r})")
        time.sleep(interval)


@pytest.fixture
def eventually() -> Callable[..., Any]:
    """Poll a callable until it returns something truthy; fail the test on timeout."""
    return wait_until


# -- tmux -----------------------------------------------------------------------------------


class Tmux:
    """A tmux server of our own (private socket) driving terminal programs."""

    def __init__(self, socket: str) -> None:
        self.socket = socket
        self.sessions: list[str] = []

    def _tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-S", self.socket, *args], capture_output=True, text=True, check=check, timeout=30
        )

    def start(
        self,
        command: Sequence[str] | str,
        *,
        width: int = 120,
        height: int = 40,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
    ) -> str:
        """Start ``command`` in a new detached session of the given size; returns its name."""
        import shlex

        name = f"t{uuid.uuid4().hex[:8]}"
        text = command if isinstance(command, str) else shlex.join(command)
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
        shell_cmd = f"env {exports} {text}" if exports else text
        args = ["new-session", "-d", "-s", name, "-x", str(width), "-y", str(height)]
        if cwd:
            args += ["-c", cwd]
        self._tmux(*args, shell_cmd)
        self._tmux("set-option", "-t", name, "remain-on-exit", "on", check=False)
        self.sessions.append(name)
        return name

    def send(
        self, keys: str, *, session: str | None = None, literal: bool = True, enter: bool = False
    ) -> None:
        """Type ``keys`` (literally by default); ``enter`` presses Enter afterwards."""
        target = session or self.sessions[-1]
        if literal:
            self._tmux("send-keys", "-t", target, "-l", keys)
        else:
            self._tmux("send-keys", "-t", target, keys)
        if enter:
            self._tmux("send-keys", "-t", target, "Enter")

    def key(self, *names: str, session: str | None = None) -> None:
        """Press named keys (``Enter``, ``C-c``, ``Up`` …)."""
        self._tmux("send-keys", "-t", session or self.sessions[-1], *names)

    def capture(self, *, session: str | None = None) -> str:
        """The visible screen as text."""
        return self._tmux("capture-pane", "-p", "-t", session or self.sessions[-1]).stdout

    def wait_for(self, text: str, *, timeout: float = 30.0, session: str | None = None) -> str:
        """Wait until ``text`` is on screen; returns the screen (fails the test on timeout)."""
        screen = [""]

        def shown() -> str | None:
            screen[0] = self.capture(session=session)
            return screen[0] if text in screen[0] else None

        return str(wait_until(shown, timeout, message=lambda: f"{text!r} on screen; screen:\n{screen[0]}"))

    def resize(self, width: int, height: int, *, session: str | None = None) -> None:
        """Change the window size (the program gets SIGWINCH)."""
        self._tmux("resize-window", "-t", session or self.sessions[-1], "-x", str(width), "-y", str(height))

    def close(self) -> None:
        """Kill our tmux server and everything in it."""
        self._tmux("kill-server", check=False)


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    """A private tmux server; skips when tmux is missing."""
    import tempfile

    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed: terminal tests need it")
    directory = tempfile.mkdtemp(prefix="tmux-")  # short: socket paths are limited to ~100 bytes
    driver = Tmux(os.path.join(directory, "sock"))
    try:
        yield driver
    finally:
        driver.close()
        shutil.rmtree(directory, ignore_errors=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that drives a terminal through ``tmux`` is marked ``tmux`` (tests/run runs them apart)."""
    for item in items:
        if "tmux" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.tmux)
