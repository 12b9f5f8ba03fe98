"""``inspect``: open the Node inspector of an app's pod, forward it, profile or snapshot over it.

The steps: pick a ready pod of the app (``debug.pods``); list the container's processes by
exec and find the app's node process (``debug.nodeproc``), even under ``npm`` or ``sh -c``;
forward a local port (9229 when free, so chrome://inspect finds it by itself) to the
inspector port in the pod; unless the inspector already answers, send the process SIGUSR1
(``kill`` of the container's shell) and wait for ``/json/list`` to answer through the
forward. Then either print the DevTools URL and wait for Ctrl-C, or take a CPU profile or a
heap snapshot over the DevTools Protocol (``debug.cdp``) into a file. At the end an
inspector this command opened is closed again (CDP ``Runtime.evaluate`` of
``process._debugEnd()``), so the process is left as it was found.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from kubectl_trace.debug.pods import PodChoice, pod_name
from kubectl_trace.debug.say import say
from kubectl_trace.errors import NodeappError

if TYPE_CHECKING:
    from kubectl_trace.debug.cdp import InspectorUrls
    from kubectl_trace.debug.nodeproc import Process
    from kubectl_trace.environment import Environment
    from kubectl_trace.kube.forwarder import Forwarder

__all__ = ["InspectSettings", "InspectorDown", "find_node", "run_inspect"]

PREFERRED_LOCAL_PORT = 9229  # what chrome://inspect discovers without configuration


class InspectorDown(NodeappError):
    """The inspector did not come up (or not within the time allowed)."""


@dataclass(frozen=True)
class InspectSettings:
    """What ``inspect`` was asked to do, and to which pod (APP, ``--process``, ``--pod``)."""

    choice: PodChoice
    cpu_profile: float | None = None  # seconds
    heap_snapshot: bool = False
    output: str | None = None
    local_port: int | None = None  # None: 9229 when free, else any
    wait: float = 10.0  # for the inspector to answer after SIGUSR1


def _node_options(pod: Mapping[str, Any], container: str) -> list[str]:
    for spec in (pod.get("spec") or {}).get("containers") or []:
        if spec.get("name") == container:
            return [
                str(e["value"])
                for e in spec.get("env") or []
                if e.get("name") == "NODE_OPTIONS" and "value" in e
            ]
    return []


def find_node(kube: Any, namespace: str, pod: str, container: str) -> tuple[Process, list[Process]]:
    """The app's node process in the container, and every process seen (one exec)."""
    from kubectl_trace.debug.nodeproc import LIST_SCRIPT, NoNodeProcess, choose_node, parse_processes
    from kubectl_trace.kube.errors import KubeError
    from kubectl_trace.kube.exec import run_command

    where = f"pod {pod} (container {container})"
    try:
        code, out, err = run_command(kube, namespace, pod, container, ["sh", "-c", LIST_SCRIPT], timeout=30)
    except KubeError as exc:
        raise NoNodeProcess(
            f"cannot list the processes of {where}: {exc.message}",
            hint="inspect runs sh in the container to find node; images without a shell cannot be inspected",
        ) from None
    processes = parse_processes(out)
    if code != 0 and not processes:
        detail = err.decode("utf-8", "replace").strip().splitlines()
        raise NoNodeProcess(
            f"cannot list the processes of {where}: {detail[-1] if detail else f'exit {code}'}"
        )
    return choose_node(processes, where), processes


def _signal(kube: Any, namespace: str, pod: str, container: str, pid: int) -> None:
    from kubectl_trace.kube.exec import run_command

    # The shell's own kill: images without procps have no /bin/kill.
    code, _out, err = run_command(
        kube, namespace, pod, container, ["sh", "-c", 'kill -USR1 "$1"', "sh", str(pid)], timeout=30
    )
    if code != 0:
        detail = err.decode("utf-8", "replace").strip() or f"exit {code}"
        raise InspectorDown(f"cannot send SIGUSR1 to PID {pid} in pod {pod}: {detail}")


def _answers(port: int) -> bool:
    from kubectl_trace.debug.cdp import list_targets

    try:
        return bool(list_targets(port, timeout=5.0))
    except OSError:
        return False


def _wait_open(port: int, seconds: float, clock: Callable[[], float] = time.monotonic) -> bool:
    deadline = clock() + seconds
    pause = threading.Event()
    delay = 0.05
    while True:
        if _answers(port):
            return True
        if clock() >= deadline:
            return False
        pause.wait(delay)  # the inspector opens within milliseconds of the signal, usually
        delay = min(delay * 2, 0.5)


class _Quiet:
    """Forwarding errors go to stderr, except while waiting for the inspector to open."""

    def __init__(self, env: Environment) -> None:
        self.env = env
        self.quiet = True

    def __call__(self, pod: str | None, error: Any) -> None:
        if not self.quiet:
            say(self.env, f"inspector connection through {pod} failed: {error.message}")


def _listen(kube: Any, namespace: str, pod: str, port: int, wanted: int | None, errors: _Quiet) -> Forwarder:
    from kubectl_trace.kube.forwarder import Forwarder, ListenError

    for local in (wanted,) if wanted is not None else (PREFERRED_LOCAL_PORT, 0):
        forwarder = Forwarder(kube, namespace, port, pod=pod, local_port=local, on_error=errors)
        try:
            forwarder.start()
            return forwarder
        except ListenError:
            if local != PREFERRED_LOCAL_PORT:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def run_inspect(kube: Any, settings: InspectSettings, env: Environment, *, config: Any = None) -> int:
    """Open, forward, use and close the inspector of a node process of the app."""
    from kubectl_trace.debug.interrupt import terminate_as_interrupt
    from kubectl_trace.debug.nodeproc import inspector_port
    from kubectl_trace.debug.pods import choose_pod
    from kubectl_trace.shell.choose import pick_container

    app, pod = choose_pod(kube, settings.choice, config)
    name, container = pod_name(pod), pick_container(pod, None)
    node, processes = find_node(kube, app.namespace, name, container)
    if node.pid != 1:
        first = next((p for p in processes if p.pid == 1), None)
        if first is not None:
            say(env, f"note: PID 1 is `{first.command}`; node is PID {node.pid} (`{node.command}`)")
    port = inspector_port(node, _node_options(pod, container))
    target = _Target(app.namespace, name, container, node, port)
    with terminate_as_interrupt():  # kill or a closed terminal: still close what we opened
        return _forward_and_use(kube, settings, env, target)


@dataclass(frozen=True)
class _Target:
    """The node process to inspect and where its inspector listens in the pod."""

    namespace: str
    pod: str
    container: str
    node: Process
    port: int


def _forward_and_use(kube: Any, settings: InspectSettings, env: Environment, target: _Target) -> int:
    name, node, port = target.pod, target.node, target.port
    errors = _Quiet(env)
    forwarder = _listen(kube, target.namespace, name, port, settings.local_port, errors)
    opened = False
    try:
        local = forwarder.port
        if not _answers(local):
            _signal(kube, target.namespace, name, target.container, node.pid)
            opened = True
            if not _wait_open(local, settings.wait):
                raise InspectorDown(
                    f"the inspector of node (PID {node.pid}) in pod {name} did not open on port {port} "
                    f"within {settings.wait:g}s",
                    hint="node may run with --disable-sigusr1, or its inspector port is not the default "
                    "(set --inspect-port in NODE_OPTIONS)",
                )
        else:
            say(env, f"the inspector of node (PID {node.pid}) in {name} was already open: it stays open")
        errors.quiet = False
        urls = _urls(local)
        return _use(settings, env, urls, name, node)
    finally:
        if opened:
            _close(env, forwarder.port, name, node)
        forwarder.close()


def _urls(port: int) -> InspectorUrls:
    from kubectl_trace.debug.cdp import list_targets, local_urls

    try:
        targets = list_targets(port)
    except OSError as exc:
        raise InspectorDown(f"the inspector stopped answering: {exc}") from None
    if not targets:
        raise InspectorDown("the inspector lists no target")
    return local_urls(targets[0], port)


def _use(settings: InspectSettings, env: Environment, urls: InspectorUrls, pod: str, node: Process) -> int:
    if settings.cpu_profile is not None:
        return _capture(settings, env, urls, pod, "cpuprofile")
    if settings.heap_snapshot:
        return _capture(settings, env, urls, pod, "heapsnapshot")
    address = urls.websocket.removeprefix("ws://").split("/", 1)[0]
    from kubectl_trace.textsafe import visible  # pod names and the command line come from the cluster

    env.stdout.write(
        visible(
            f"Node.js inspector of {pod} (PID {node.pid}) forwarded to {address}\n"
            f"  process: {node.command}\n"
            f"  DevTools: {urls.devtools}\n"
            f'  or open chrome://inspect, Configure… → add {address}, then "inspect" under Remote Target\n'
            "Ctrl-C closes the inspector and stops forwarding.\n"
        )
    )
    env.stdout.flush()
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
    return 0


def _output_path(settings: InspectSettings, pod: str, kind: str, now: float) -> str:
    if settings.output:
        return settings.output
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return f"{pod}-{stamp}.{kind}"


def _capture(settings: InspectSettings, env: Environment, urls: InspectorUrls, pod: str, kind: str) -> int:
    from kubectl_trace.debug.cdp import CdpSession, cpu_profile, heap_snapshot

    path = _output_path(settings, pod, kind, env.clock())
    with CdpSession(urls.websocket) as session:
        if kind == "cpuprofile":
            seconds = float(settings.cpu_profile or 0)
            say(env, f"profiling {pod} for {seconds:g}s (Ctrl-C stops early and keeps the profile)…")
            pause = threading.Event()
            counts = _write_atomically(
                path, lambda out: cpu_profile(session, lambda: pause.wait(seconds), out)
            )
            summary = f"{counts['samples']} samples, {counts['nodes']} call-tree nodes"
            where = "Chrome DevTools → Performance → Load profile, or VS Code"
        else:
            say(env, f"taking a heap snapshot of {pod} (the process pauses while V8 writes it)…")
            size = _write_atomically(path, lambda out: heap_snapshot(session, out))
            summary = f"{size / 1e6:.1f} MB; it holds the process's memory, secrets included: keep it private"
            where = "Chrome DevTools → Memory → Load"
    from kubectl_trace.textsafe import visible

    env.stdout.write(visible(f"wrote {path} ({summary})") + f"\nopen it in {where}\n")
    env.stdout.flush()
    return 0


def _write_atomically(path: str, write: Callable[[IO[bytes]], Any]) -> Any:
    """``write(file)`` into a private temporary file next to ``path``, renamed to it on success."""
    directory = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.part")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise NodeappError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            result = write(out)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return result


def _close(env: Environment, port: int, pod: str, node: Process) -> None:
    from kubectl_trace.debug.cdp import CdpError, CdpSession, close_inspector, list_targets, local_urls

    try:
        targets = list_targets(port)
        if targets:
            with CdpSession(local_urls(targets[0], port).websocket, timeout=10.0) as session:
                close_inspector(session)
    except (OSError, CdpError) as exc:
        say(env, f"warning: could not close the inspector of PID {node.pid} in {pod}: {exc}")
        return
    say(env, f"closed the inspector of node (PID {node.pid}) in {pod}")
