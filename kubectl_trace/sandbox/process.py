"""Start, find, talk to and stop sandboxes running in the background.

``start_sandbox(kubeconfig, options)`` runs ``python -m kubectl_trace.sandbox`` in its own
session, waits until it answers over HTTPS and returns a ``SandboxHandle`` (``.stop()``,
``.kubeconfig``, ``.port``, ``.status()``, ``.admin(…)``). ``find_sandbox(kubeconfig)``
returns the handle of a running one from its state directory (``FILE.sandbox`` next to
the kubeconfig). Errors are ``NodeappError`` with a hint.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from kubectl_trace.errors import NodeappError
from kubectl_trace.sandbox.interfaces import SandboxOptions
from kubectl_trace.sandbox.statedir import LOG_FILE, STATE_FILE, remove_own_kubeconfig, state_dir_for

__all__ = [
    "SandboxHandle",
    "claim_kubeconfig",
    "find_sandbox",
    "start_sandbox",
    "state_dir_for",
]

_MARKER = "kubectl_trace.sandbox"


def _pid_is_sandbox(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            cmdline = handle.read()
    except OSError:
        try:
            os.kill(pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True  # no /proc: trust the pid
    # the background server (python -m kubectl_trace.sandbox) or `sandbox up --foreground`
    return _MARKER.encode() in cmdline or (b"nodeapp" in cmdline and b"\0sandbox\0" in cmdline)


def _read_state(state_dir: str) -> dict[str, Any] | None:
    try:
        with open(os.path.join(state_dir, STATE_FILE), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _log_tail(state_dir: str, lines: int = 8) -> str:
    try:
        with open(os.path.join(state_dir, LOG_FILE), encoding="utf-8", errors="replace") as handle:
            return "".join(handle.readlines()[-lines:]).strip()
    except OSError:
        return ""


@dataclass
class SandboxHandle:
    """A running sandbox."""

    kubeconfig: str
    state_dir: str
    pid: int
    host: str
    port: int
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    state: dict[str, Any] = field(default_factory=dict, repr=False)
    _credentials: tuple[bytes, str] | None = field(default=None, repr=False)

    @property
    def server(self) -> str:
        """``https://127.0.0.1:PORT``."""
        return f"https://{self.host}:{self.port}"

    # -- talking to it ------------------------------------------------------------------

    def _load_credentials(self) -> tuple[bytes, str]:
        if self._credentials is None:
            import yaml

            try:
                with open(self.kubeconfig, encoding="utf-8") as handle:
                    config = yaml.safe_load(handle) or {}
                cluster = config["clusters"][0]["cluster"]
                ca = base64.b64decode(cluster["certificate-authority-data"])
                token = config["users"][0]["user"]["token"]
            except (OSError, KeyError, IndexError, TypeError, ValueError) as exc:
                raise NodeappError(
                    f'cannot read the sandbox kubeconfig "{self.kubeconfig}": {exc}',
                    hint="restart the sandbox: kubectl nodeapp sandbox down && kubectl nodeapp sandbox up",
                ) from None
            self._credentials = (ca, token)
        return self._credentials

    def request(self, method: str, path: str, body: Any = None, *, timeout: float = 30.0) -> tuple[int, Any]:
        """One HTTPS request to the sandbox with its token; returns (status, decoded JSON or text)."""
        ca, token = self._load_credentials()
        context = ssl.create_default_context(cadata=ca.decode("ascii"))
        conn = http.client.HTTPSConnection(self.host, self.port, context=context, timeout=timeout)
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise NodeappError(
                f"the sandbox at {self.server} does not answer: {exc}",
                hint="check it with: kubectl nodeapp sandbox status",
            ) from None
        finally:
            conn.close()
        try:
            data: Any = json.loads(raw) if raw else {}
        except ValueError:
            data = raw.decode("utf-8", "replace")
        return response.status, data

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """A ``/sandbox/v1/PATH`` call; NodeappError with the server's message on failure."""
        status, data = self.request(method, f"/sandbox/v1/{path.lstrip('/')}", body)
        if status >= 400:
            message = data.get("message") if isinstance(data, dict) else str(data)
            raise NodeappError(f"the sandbox refused: {message}")
        return data

    def status(self) -> dict[str, Any]:
        """Uptime, objects, open streams, request counters, faults."""
        data = self.admin("GET", "status")
        return data if isinstance(data, dict) else {}

    def answers(self) -> bool:
        """Whether the API answers right now."""
        try:
            status, _ = self.request("GET", "/healthz", timeout=5.0)
        except NodeappError:
            return False
        return status == 200

    def alive(self) -> bool:
        """Whether the server process still runs."""
        if self.process is not None:
            return self.process.poll() is None
        return _pid_is_sandbox(self.pid)

    # -- stopping -----------------------------------------------------------------------

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and remove its state and kubeconfig."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while self.alive() and time.monotonic() < deadline:
                if self.process is not None:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        self.process.wait(timeout=0.1)
                else:
                    time.sleep(0.05)
            if self.alive():
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(self.pid, signal.SIGKILL)
                if self.process is not None:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        self.process.wait(timeout=5)
        if self.process is not None:
            with contextlib.suppress(Exception):
                self.process.wait(timeout=1)
        _remove_files(self.state_dir, self.kubeconfig, self.state.get("kubeconfigSha256"))

    def __enter__(self) -> SandboxHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _remove_files(state_dir: str, kubeconfig: str, kubeconfig_sha: str | None) -> None:
    remove_own_kubeconfig(kubeconfig, kubeconfig_sha)
    shutil.rmtree(state_dir, ignore_errors=True)


def find_sandbox(kubeconfig: str) -> SandboxHandle | None:
    """The sandbox running for ``kubeconfig``, or None (stale state is ignored)."""
    kubeconfig = os.path.abspath(os.path.expanduser(kubeconfig))
    state_dir = state_dir_for(kubeconfig)
    state = _read_state(state_dir)
    if state is None or not isinstance(state.get("pid"), int):
        return None
    if not _pid_is_sandbox(state["pid"]):
        return None
    return SandboxHandle(
        kubeconfig=kubeconfig,
        state_dir=state_dir,
        pid=state["pid"],
        host=str(state.get("host", "127.0.0.1")),
        port=int(state.get("port", 0)),
        state=state,
    )


def clear_stale(kubeconfig: str) -> bool:
    """Remove the state (and kubeconfig) a dead sandbox left behind; True if there was some."""
    kubeconfig = os.path.abspath(os.path.expanduser(kubeconfig))
    state_dir = state_dir_for(kubeconfig)
    if not os.path.exists(state_dir):
        return False
    state = _read_state(state_dir) or {}
    if isinstance(state.get("pid"), int) and _pid_is_sandbox(state["pid"]):
        return False
    _remove_files(state_dir, kubeconfig, state.get("kubeconfigSha256"))
    return True


def _is_sandbox_kubeconfig(path: str) -> bool:
    import yaml

    try:
        with open(path, encoding="utf-8") as handle:
            config = yaml.safe_load(handle) or {}
    except (OSError, yaml.YAMLError):
        return False
    contexts = [c.get("name") for c in config.get("contexts") or [] if isinstance(c, dict)]
    return contexts == ["nodeapp-sandbox"]


def server_command(
    kubeconfig: str, options: SandboxOptions, *, exit_with_parent: int | None = None
) -> list[str]:
    """The argv that runs a sandbox server with ``options``."""
    argv = [
        sys.executable,
        "-m",
        _MARKER,
        "--kubeconfig",
        kubeconfig,
        "--host",
        options.host,
        "--port",
        str(options.port),
        "--time-scale",
        repr(float(options.time_scale)),
        "--log-rate",
        repr(float(options.log_rate)),
        "--log-backlog",
        str(int(options.log_backlog)),
        "--fixture",
        options.fixture,
        "--containers",
        options.containers,
    ]
    if options.state_dir:
        argv += ["--state-dir", options.state_dir]
    for tag, fault in sorted(options.extra_images.items()):
        argv += ["--image-fault", f"{tag}={fault}"]
    if exit_with_parent:
        argv += ["--exit-with-parent", str(exit_with_parent)]
    return argv


def claim_kubeconfig(kubeconfig: str) -> None:
    """Make way for a new sandbox writing ``kubeconfig`` (an absolute path).

    NodeappError when one already runs for it, or when the file is ``~/.kube/config`` or
    another kubeconfig that no sandbox wrote; the state a dead one left is cleared.
    """
    if kubeconfig == os.path.abspath(os.path.expanduser("~/.kube/config")):
        raise NodeappError(
            "refusing to write the sandbox kubeconfig over ~/.kube/config",
            hint="pass another file, e.g. --kubeconfig /tmp/nodeapp-sandbox.kubeconfig",
        )
    running = find_sandbox(kubeconfig)
    if running is not None:
        raise NodeappError(
            f"a sandbox already runs for {kubeconfig} ({running.server}, pid {running.pid})",
            hint=f"stop it first: kubectl nodeapp sandbox down --kubeconfig {kubeconfig}",
        )
    if os.path.exists(kubeconfig) and not _is_sandbox_kubeconfig(kubeconfig):
        raise NodeappError(
            f"{kubeconfig} exists and is not a sandbox kubeconfig; refusing to overwrite it",
            hint="pass a new file name to --kubeconfig",
        )
    clear_stale(kubeconfig)


def start_sandbox(
    kubeconfig: str,
    options: SandboxOptions | None = None,
    *,
    exit_with_parent: int | None = None,
    timeout: float = 60.0,
    env: dict[str, str] | None = None,
) -> SandboxHandle:
    """Start a sandbox in the background and wait until its API answers.

    Refuses a kubeconfig path that belongs to a running sandbox or to something else
    (never overwrites ``~/.kube/config`` or a user's kubeconfig).
    """
    from kubectl_trace.sandbox.server.serve import LoopbackError, check_loopback

    options = options or SandboxOptions()
    try:
        check_loopback(options.host)
    except LoopbackError as exc:
        raise NodeappError(str(exc)) from None
    kubeconfig = os.path.abspath(os.path.expanduser(kubeconfig))
    claim_kubeconfig(kubeconfig)
    state_dir = options.state_dir or state_dir_for(kubeconfig)
    os.makedirs(state_dir, mode=0o700, exist_ok=True)
    log_path = os.path.join(state_dir, LOG_FILE)
    argv = server_command(kubeconfig, options, exit_with_parent=exit_with_parent)
    child_env = dict(os.environ if env is None else env)
    child_env.setdefault("PYTHONUNBUFFERED", "1")
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            env=child_env,
        )
    deadline = time.monotonic() + timeout
    handle: SandboxHandle | None = None
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            tail = _log_tail(state_dir)
            shutil.rmtree(state_dir, ignore_errors=True)
            raise NodeappError(
                f"the sandbox exited during start-up (status {code})"
                + (f": {tail.splitlines()[-1]}" if tail else ""),
                hint=None if not tail else f"its log said:\n{tail}",
            )
        state = _read_state(state_dir)
        if state is not None and state.get("pid") == process.pid:
            handle = SandboxHandle(
                kubeconfig=kubeconfig,
                state_dir=state_dir,
                pid=process.pid,
                host=str(state["host"]),
                port=int(state["port"]),
                process=process,
                state=state,
            )
            if handle.answers():
                return handle
        time.sleep(0.05)
    if handle is None:
        handle = SandboxHandle(kubeconfig, state_dir, process.pid, options.host, 0, process=process)
    handle.stop()
    raise NodeappError(f"the sandbox did not answer within {timeout:g}s", hint=_log_tail(state_dir) or None)
