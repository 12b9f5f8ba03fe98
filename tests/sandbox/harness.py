"""An in-process API server with a scripted runtime, to test the server's contract.

The session sandbox (``tests/conftest.py``) runs the real simulated cluster. These tests
need exact control of what a container logged and when, so they run the same API server
(``make_app`` + TLS + kubeconfig) in a thread over a ``Store`` they fill themselves, with
``ScriptedRuntime`` answering the ``PodRuntime`` calls: logs at a fixed rate, exec in a
scratch directory with a small PATH, a fixed proxy answer. Clients still talk HTTPS to it
(the real kubectl, the official Python client).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import secrets
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from kubectl_trace.sandbox.interfaces import ProxyAnswer
from kubectl_trace.sandbox.podbox import ExecTarget
from kubectl_trace.sandbox.store import Store, StoreError
from tests.factories import deployment_manifest

T = TypeVar("T")


class ScriptedLog:
    """A container log with a line every ``1/rate`` seconds: ``line N`` (N from 0)."""

    def __init__(
        self,
        start: float,
        rate: float,
        *,
        backlog: int = 0,
        limit: int | None = None,
        prefix: str = "line",
    ) -> None:
        self.t0 = start - backlog / rate
        self.rate = rate
        self.limit = limit
        self.prefix = prefix
        self._final: int | None = None
        self._event: asyncio.Event | None = None

    @property
    def finished(self) -> bool:
        return self._final is not None or (
            self.limit is not None and self.line_count(time.time()) >= self.limit
        )

    def line_count(self, now: float) -> int:
        count = 0 if now < self.t0 else math.floor((now - self.t0) * self.rate + 1e-9) + 1
        if self.limit is not None:
            count = min(count, self.limit)
        if self._final is not None:
            count = min(count, self._final)
        return count

    def line(self, index: int) -> tuple[float, str]:
        return self.t0 + index / self.rate, f"{self.prefix} {index}"

    def first_index_at(self, t: float) -> int:
        return max(0, math.ceil((t - self.t0) * self.rate - 1e-9))

    def next_line_time(self, now: float) -> float | None:
        if self.finished:
            return None
        return self.t0 + self.line_count(now) / self.rate

    def finish(self) -> None:
        """End the instance now (call on the server's loop)."""
        self._final = self.line_count(time.time())
        if self._event is not None:
            self._event.set()

    async def wait(self, timeout: float | None) -> None:
        if self._event is None:
            self._event = asyncio.Event()
        if self.finished:
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)
        self._event.clear()


class ScriptedRuntime:
    """A ``PodRuntime`` the test scripts: logs per container instance, exec, proxy, faults."""

    def __init__(self, scratch: str) -> None:
        self.scratch = scratch
        self.logs: dict[tuple[str, str, str], list[ScriptedLog]] = {}
        self.killed: list[tuple[str, str, str | None]] = []
        self.faults: dict[str, str] = {}
        self.proxied: list[tuple[str, str, str, str, str]] = []
        self.path = "/usr/local/bin:/usr/bin:/bin"

    def container_log(self, namespace: str, pod: str, container: str, *, previous: bool) -> ScriptedLog:
        instances = self.logs.get((namespace, pod, container))
        if not instances:
            raise StoreError.bad_request(
                f'container "{container}" in pod "{pod}" is waiting to start: ContainerCreating'
            )
        if previous:
            if len(instances) < 2:
                raise StoreError.bad_request(
                    f'previous terminated container "{container}" in pod "{pod}" not found'
                )
            return instances[-2]
        return instances[-1]

    def exec_target(self, namespace: str, pod: str, container: str) -> ExecTarget:
        cwd = os.path.join(self.scratch, namespace, pod)
        os.makedirs(cwd, exist_ok=True)
        env = {
            "PATH": self.path,
            "HOME": cwd,
            "HOSTNAME": pod,
            "POD_CONTAINER": container,
            "GREETING": "hello from the pod",
            "PS1": "pod$ ",
        }
        return ExecTarget(cwd=cwd, env=env)

    def proxy(self, namespace: str, pod: str, port: str, path: str, method: str) -> ProxyAnswer:
        self.proxied.append((namespace, pod, port, path, method))
        if path.startswith("/healthz"):
            return ProxyAnswer(200, b'{"status":"ok"}')
        return ProxyAnswer(404, b"not found\n", "text/plain")

    def kill(self, namespace: str, pod: str, container: str | None) -> None:
        self.killed.append((namespace, pod, container))

    def mark_image(self, tag: str, fault: str | None) -> None:
        if fault:
            self.faults[tag] = fault
        else:
            self.faults.pop(tag, None)

    def image_faults(self) -> dict[str, str]:
        return dict(self.faults)


class InProcessServer:
    """The sandbox API server over a test-filled store, served from a thread."""

    def __init__(self, directory: str, *, history_limit: int = 50_000) -> None:
        self.directory = directory
        self.kubeconfig = os.path.join(directory, "kubeconfig")
        self.token = secrets.token_urlsafe(16)
        self.store = Store(history_limit=history_limit)
        self.runtime = ScriptedRuntime(os.path.join(directory, "pods"))
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self.api: Any = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sandbox-server", daemon=True)

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> InProcessServer:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the in-process server did not start")
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._serve())
        except BaseException as exc:  # surfaced by start()
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        from aiohttp import web

        from kubectl_trace.sandbox.server.api import ApiServer
        from kubectl_trace.sandbox.server.app import make_app
        from kubectl_trace.sandbox.server.kubeconfig import kubeconfig_dict, write_kubeconfig
        from kubectl_trace.sandbox.server.tls import make_credentials, server_ssl_context

        self._stop = asyncio.Event()
        for name in ("default", "kube-system"):
            self.store.create("namespaces", {"metadata": {"name": name}, "status": {"phase": "Active"}})
        creds = make_credentials()
        context = server_ssl_context(creds, os.path.join(self.directory, "tls"))
        self.api = ApiServer(self.store, self.runtime, token=self.token)
        app = make_app(self.api)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        self.port = int(runner.addresses[0][1])
        self.api.server_address = f"127.0.0.1:{self.port}"
        write_kubeconfig(
            self.kubeconfig, kubeconfig_dict(f"https://127.0.0.1:{self.port}", creds.ca_pem, self.token)
        )
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    def stop(self) -> None:
        if self._stop is not None and self._thread.is_alive():
            self.loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(15)

    # -- acting on the store (always on the server's loop) ------------------------------------

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn()`` on the server's event loop and return its result."""

        async def wrapper() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(wrapper(), self.loop).result(30)

    def create(self, resource: str, obj: dict[str, Any], namespace: str | None = None) -> dict[str, Any]:
        from kubectl_trace.sandbox.server.rest import apply_defaults

        return self.call(lambda: self.store.create(resource, apply_defaults(resource, obj), namespace))

    def resource_version(self) -> int:
        """The store's current resourceVersion."""
        return self.call(lambda: self.store.resource_version)

    def label_pod(self, name: str, namespace: str = "default", **labels: str) -> None:
        """Set ``labels`` on pod ``name`` (a change its watchers see)."""
        self.call(
            lambda: self.store.mutate(
                "pods", namespace, name, lambda draft: draft["metadata"]["labels"].update(labels)
            )
        )

    def add_pod(
        self,
        name: str,
        *,
        namespace: str = "default",
        containers: tuple[str, ...] = ("app",),
        node: str | None = "sandbox-node-1",
        phase: str = "Running",
        labels: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A running pod (bound to a node, containers ready) created directly in the store."""
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        spec: dict[str, Any] = {
            "containers": [
                {
                    "name": c,
                    "image": "registry.sandbox.local/test/app:1.0",
                    "ports": [{"containerPort": 8080}],
                }
                for c in containers
            ]
        }
        if node:
            spec["nodeName"] = node
        pod = {
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {"app": "test"}},
            "spec": spec,
            "status": {
                "phase": phase,
                "podIP": "10.244.0.10",
                "podIPs": [{"ip": "10.244.0.10"}],
                "hostIP": "10.0.0.2",
                "startTime": now,
                "conditions": [
                    {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
                    {"type": "Initialized", "status": "True", "lastTransitionTime": now},
                    {"type": "ContainersReady", "status": "True", "lastTransitionTime": now},
                    {"type": "Ready", "status": "True", "lastTransitionTime": now},
                ],
                "containerStatuses": [
                    {
                        "name": c,
                        "ready": True,
                        "started": True,
                        "restartCount": 0,
                        "image": "registry.sandbox.local/test/app:1.0",
                        "imageID": "registry.sandbox.local/test/app@sha256:" + "0" * 64,
                        "containerID": "containerd://" + "1" * 64,
                        "state": {"running": {"startedAt": now}},
                    }
                    for c in containers
                ],
            },
        }
        return self.create("pods", pod)

    def add_log(self, namespace: str, pod: str, container: str, log: ScriptedLog) -> ScriptedLog:
        """Start a new container instance whose log is ``log``."""
        self.call(lambda: self.runtime.logs.setdefault((namespace, pod, container), []).append(log))
        return log


class LineReader:
    """Collects the lines a child process prints, from a thread, for waiting on."""

    def __init__(self, stream: Any) -> None:
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self.closed = False
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: Any) -> None:
        for line in iter(stream.readline, ""):
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = 30.0) -> str:
        """The first line (seen so far or later) that satisfies ``predicate``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines:
                    if predicate(line):
                        return line
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.closed:
                    raise AssertionError(f"no matching line within {timeout:g}s; got: {self.lines!r}")
                self._cond.wait(remaining)

    def wait_closed(self, timeout: float = 30.0) -> bool:
        """Whether the stream ended within ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self.closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True


@contextlib.contextmanager
def streaming(argv: list[str]) -> Iterator[tuple[subprocess.Popen[str], LineReader]]:
    """Run ``argv`` (a ``kubectl … -f`` or ``-w``) with its stdout read line by line; killed on exit."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield proc, LineReader(proc.stdout)
    finally:
        proc.kill()
        proc.wait(10)


def make_deployment(
    name: str, namespace: str, *, image: str, replicas: int = 2, labels: dict[str, str] | None = None
) -> dict[str, Any]:
    """A Deployment body as a client would send it."""
    selector = labels or {"app": name}
    return deployment_manifest(
        name, namespace, selector, [{"name": "app", "image": image}], replicas=replicas
    )
