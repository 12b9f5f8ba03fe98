"""The kubelet of the sandbox nodes: it "runs" the pods bound to them.

A pod goes Pending → (sandbox, image pull) ContainerCreating → Running → Terminating →
gone, with the events and status fields a real kubelet writes (``Pulling``, ``Pulled``,
``Created``, ``Started``, ``Unhealthy``, ``Killing``, ``BackOff``, ``Failed``; container
states, ``lastState.terminated``, ``restartCount``, the pod conditions with their
transition times, podIP / hostIP / startTime). Probes run on their initial delay, period
and thresholds against what the image answers; liveness failures restart containers;
crash loops and failed pulls back off 10 s, 20 s, 40 s … up to 5 min. Deletion honours
the grace period: ``preStop``, then SIGTERM (the app logs its graceful shutdown), then
SIGKILL when the grace period runs out.

Nothing here polls: every step is a timer on the cluster's one timer heap, and a healthy
pod whose probes have settled costs no timer at all. It implements
``interfaces.PodRuntime`` for the API server (logs, exec, proxy, kill, image marks).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import re
import secrets
import signal
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubectl_trace.sandbox.command import (
    CommandProcess,
    container_argv,
    not_found_message,
    runs_for_real,
)
from kubectl_trace.sandbox.controllers import Context
from kubectl_trace.sandbox.execenv import EnvError, ExecEnvironments, exec_environment, resolve_env
from kubectl_trace.sandbox.images import ImageProfile, Images, parse_image
from kubectl_trace.sandbox.interfaces import ContainerLog, ProxyAnswer
from kubectl_trace.sandbox.loggen import (
    APP_VERSION,
    InstanceLog,
    LogStyle,
    append_shutdown,
    echo_lines,
    plan_instance,
    process_kind,
    shutdown_plan,
)
from kubectl_trace.sandbox.nodejs import NodeBinary
from kubectl_trace.sandbox.noderuntime import NodeContainers, NodeProcess, http_probe
from kubectl_trace.sandbox.podbox import ExecTarget
from kubectl_trace.sandbox.store import StoreError, rfc3339
from kubectl_trace.sandbox.timescale import Timer, go_duration
from kubectl_trace.sandbox.usage import ProcessSampler, Usage

__all__ = ["Kubelet", "NodeInfo"]

Obj = dict[str, Any]
PodKey = tuple[str, str]

_BACKOFF_INITIAL = 10.0
_BACKOFF_MAX = 300.0
_SLOW_START_READY = 40.0  # simulated seconds a slow-start image answers 503
_SANDBOX_DELAY = 0.3
_CREATE_DELAY = 0.15


@dataclass(frozen=True)
class NodeInfo:
    """A sandbox node: its name, address and pod IP range."""

    name: str
    host_ip: str
    pod_prefix: tuple[int, int]  # 10.244.<a+>.<b>: first two octets after 10.


class _Backoff:
    """``flowcontrol.Backoff`` for one container (simulated seconds, monotonic instants)."""

    __slots__ = ("last_update", "value")

    def __init__(self) -> None:
        self.value = 0.0
        self.last_update: float | None = None

    def _expired(self, ts: float, real: Callable[[float], float]) -> bool:
        return self.last_update is not None and ts - self.last_update > real(2 * _BACKOFF_MAX)

    def in_backoff_since(self, ts: float, now: float, real: Callable[[float], float]) -> bool:
        if self.last_update is None or self._expired(ts, real):
            return False
        return now - ts < real(self.value)

    def next(self, ts: float, real: Callable[[float], float]) -> None:
        if self.last_update is None or self._expired(ts, real):
            self.value = _BACKOFF_INITIAL
        else:
            self.value = min(self.value * 2, _BACKOFF_MAX)
        self.last_update = ts


@dataclass
class _Run:
    """One container instance."""

    instance: int
    container_id: str
    profile: ImageProfile
    style: LogStyle
    log: InstanceLog
    started_wall: float
    started_mono: float
    listen_mono: float  # when the server accepts connections (inf: never)
    healthy_mono: float | None  # when /healthz answers 200 (None: never)
    listen_port: int | None
    env: dict[str, str]
    finished_wall: float | None = None
    finished_mono: float | None = None
    exit_code: int | None = None
    reason: str | None = None
    closed: bool = False  # the server stopped accepting (SIGTERM)
    process: CommandProcess | None = None  # a command that runs for real (command.py)
    message: str | None = None  # the terminated state's message

    @property
    def finished(self) -> bool:
        return self.finished_wall is not None

    def respond(self, port: int, path: str, method: str, now: float) -> tuple[int, bytes, str] | None:
        """What the process answers on ``port``; None when the connection is refused."""
        if isinstance(self.process, NodeProcess):  # real Node.js: ask it
            return None if self.finished else self.process.respond(port, path, method)
        if self.finished or self.closed or self.listen_port is None or port != self.listen_port:
            return None
        if now < self.listen_mono:
            return None
        route = path.split("?", 1)[0] or "/"
        if route != "/healthz" or method.upper() not in ("GET", "HEAD"):
            body = (
                '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n'
                f"</head>\n<body>\n<pre>Cannot {method.upper()} {route}</pre>\n</body>\n</html>\n"
            )
            return 404, body.encode(), "text/html; charset=utf-8"
        uptime = round(max(0.0, now - self.started_mono), 1)
        if self.healthy_mono is None:
            payload: Obj = {"status": "error", "checks": {"db": "connect ECONNREFUSED 10.96.112.7:5432"}}
            return 503, json.dumps(payload).encode(), "application/json; charset=utf-8"
        if now < self.healthy_mono:
            payload = {"status": "starting", "checks": {"cache": "warming"}}
            return 503, json.dumps(payload).encode(), "application/json; charset=utf-8"
        payload = {
            "status": "ok",
            "version": APP_VERSION,
            "commit": self.profile.ref.tag,
            "node": f"v{self.profile.node_version}",
            "uptime": uptime,
        }
        return 200, json.dumps(payload).encode(), "application/json; charset=utf-8"

    def health_settled(self, now: float) -> bool:
        """What the process answers will not change any more (until it stops)."""
        if isinstance(self.process, NodeProcess) or now < self.listen_mono:
            return False
        return self.healthy_mono is None or now >= self.healthy_mono


@dataclass
class _Probe:
    kind: str  # readiness, liveness, startup
    spec: Obj
    successes: int = 0
    failures: int = 0
    timer: Timer | None = None


@dataclass
class _Slot:
    """A container of the pod across its instances."""

    name: str
    spec: Obj
    is_init: bool
    state: str = "waiting"  # waiting, running, terminated
    reason: str = "ContainerCreating"
    message: str | None = None
    runs: deque[_Run] = field(default_factory=lambda: deque(maxlen=2))
    restart_count: int = 0
    ready: bool = False
    started: bool = False
    done: bool = False  # init container completed
    crash_backoff: _Backoff = field(default_factory=_Backoff)
    pull_backoff: _Backoff = field(default_factory=_Backoff)
    pull_failed_mono: float | None = None
    timers: list[Timer] = field(default_factory=list)
    probes: dict[str, _Probe] = field(default_factory=dict)
    stopping: bool = False

    @property
    def current(self) -> _Run | None:
        return self.runs[-1] if self.runs else None

    @property
    def running(self) -> _Run | None:
        run = self.current
        return run if run is not None and self.state == "running" and not run.finished else None

    @property
    def field_path(self) -> str:
        return f"spec.{'initContainers' if self.is_init else 'containers'}{{{self.name}}}"

    def cancel_timers(self) -> None:
        for timer in self.timers:
            timer.cancel()
        self.timers.clear()
        for probe in self.probes.values():
            if probe.timer is not None:
                probe.timer.cancel()
        self.probes.clear()


def _prestop_seconds(spec: Obj) -> float:
    """How long a container's preStop hook runs (simulated seconds)."""
    hook = ((spec.get("lifecycle") or {}).get("preStop")) or {}
    if not hook:
        return 0.0
    if "sleep" in hook:
        return float((hook.get("sleep") or {}).get("seconds") or 0)
    command = " ".join(str(part) for part in (hook.get("exec") or {}).get("command") or [])
    match = re.search(r"\bsleep\s+(\d+(?:\.\d+)?)", command)
    if match:
        return float(match.group(1))
    return 0.1


class _PodWorker:
    """One pod on one node."""

    def __init__(self, kubelet: Kubelet, pod: Obj, node: NodeInfo, pod_ip: str) -> None:
        self.kubelet = kubelet
        meta = pod["metadata"]
        self.ns: str = meta["namespace"]
        self.name: str = meta["name"]
        self.uid: str = meta["uid"]
        self.node = node
        self.pod_ip = pod_ip
        spec = pod.get("spec") or {}
        self.restart_policy = spec.get("restartPolicy", "Always")
        self.grace_default = int(spec.get("terminationGracePeriodSeconds", 30))
        self.init_slots = [
            _Slot(c["name"], c, True, reason="PodInitializing") for c in spec.get("initContainers") or []
        ]
        main_reason = "PodInitializing" if self.init_slots else "ContainerCreating"
        self.slots = [_Slot(c["name"], c, False, reason=main_reason) for c in spec.get("containers") or []]
        if self.init_slots:
            self.init_slots[0].reason = "PodInitializing"
        self.start_wall = kubelet.ctx.clock()
        self.sandbox_ready = False
        self.terminating = False
        self.grace = self.grace_default
        self.finalized = False
        self.timers: list[Timer] = []
        self.conditions: dict[str, tuple[str, str]] = {}
        self.workdir: str | None = None
        self.tasks: set[asyncio.Task[None]] = set()  # probes of real Node.js containers

    # -- helpers ---------------------------------------------------------------------------

    @property
    def ctx(self) -> Context:
        return self.kubelet.ctx

    def pod(self) -> Obj | None:
        return self.ctx.store.try_get("pods", self.ns, self.name)

    def all_slots(self) -> list[_Slot]:
        return [*self.init_slots, *self.slots]

    def slot(self, name: str) -> _Slot | None:
        return next((s for s in self.all_slots() if s.name == name), None)

    def after(self, seconds: float, fn: Callable[[], None], owner: _Slot | None = None) -> Timer:
        """A simulated delay, cancelled with the slot (or the pod)."""
        timer = self.ctx.timers.after(seconds, fn)
        (owner.timers if owner is not None else self.timers).append(timer)
        return timer

    def at_mono(self, when: float, fn: Callable[[], None], owner: _Slot | None = None) -> Timer:
        timer = self.ctx.timers.at(when, fn)
        (owner.timers if owner is not None else self.timers).append(timer)
        return timer

    def event(self, type_: str, reason: str, message: str, slot: _Slot | None = None) -> None:
        pod = self.pod()
        if pod is None:
            return
        self.ctx.recorder.record(
            pod,
            type_,
            reason,
            message,
            component="kubelet",
            host=self.node.name,
            field_path=slot.field_path if slot is not None else None,
        )

    def touch(self) -> None:
        """The status changed: flush it with the next batch."""
        self.kubelet.touch(self)

    def real(self, simulated: float) -> float:
        return self.ctx.scale.real(simulated)

    # -- start -----------------------------------------------------------------------------

    def start(self) -> None:
        self.touch()
        self.after(_SANDBOX_DELAY, self._sandbox_created)

    def _sandbox_created(self) -> None:
        if self.terminating:
            return
        self.sandbox_ready = True
        self.touch()
        self._start_next()

    def _start_next(self) -> None:
        """Start the next init container, or every app container once they are done."""
        if self.terminating:
            return
        for slot in self.init_slots:
            if not slot.done:
                if slot.state == "waiting" and not slot.timers and slot.current is None:
                    slot.reason = "PodInitializing"
                    self._ensure_image(slot)
                return
        for slot in self.slots:
            if (
                slot.current is None
                and not slot.timers
                and slot.reason in ("PodInitializing", "ContainerCreating")
            ):
                slot.reason = "ContainerCreating"
                self._ensure_image(slot)
        self.touch()

    # -- images ----------------------------------------------------------------------------

    def _ensure_image(self, slot: _Slot) -> None:
        if self.terminating:
            return
        image = str(slot.spec.get("image", ""))
        ref = parse_image(image)
        if ref is None:
            message = (
                f'Failed to apply default image tag "{image}": '
                f'couldn\'t parse image name "{image}": invalid reference format'
            )
            self._waiting(slot, "InvalidImageName", message)
            self.event("Warning", "InspectFailed", message, slot)
            self.event("Warning", "Failed", "Error: InvalidImageName", slot)
            return
        profile = self.kubelet.images.profile(ref)
        policy = slot.spec.get("imagePullPolicy") or ("Always" if ref.tag == "latest" else "IfNotPresent")
        present = ref.canonical in self.kubelet.node_images[self.node.name] and profile.fault != "missing"
        if policy == "Never" and not present:
            message = f'Container image "{image}" is not present with pull policy of Never'
            self._waiting(slot, "ErrImageNeverPull", message)
            self.event("Warning", "ErrImageNeverPull", message, slot)
            return
        if present and policy != "Always":
            self.event("Normal", "Pulled", f'Container image "{image}" already present on machine', slot)
            self.after(_CREATE_DELAY, lambda: self._create(slot, profile), slot)
            return
        self.event("Normal", "Pulling", f'Pulling image "{image}"', slot)
        started = time.monotonic()
        self.after(profile.pull_seconds, lambda: self._pulled(slot, profile, started), slot)

    def _pulled(self, slot: _Slot, profile: ImageProfile, started: float) -> None:
        if self.terminating:
            return
        image = str(slot.spec.get("image", ""))
        canonical = profile.ref.canonical
        if self.kubelet.images.fault_of(profile.ref) == "missing":
            detail = (
                f'rpc error: code = NotFound desc = failed to pull and unpack image "{canonical}": '
                f'failed to resolve reference "{canonical}": {canonical}: not found'
            )
            self.event("Warning", "Failed", f'Failed to pull image "{image}": {detail}', slot)
            self.event("Warning", "Failed", "Error: ErrImagePull", slot)
            self._waiting(slot, "ErrImagePull", detail)
            now = time.monotonic()
            slot.pull_backoff.next(now, self.real)
            delay = slot.pull_backoff.value
            self.after(1.0, lambda: self._pull_backoff(slot, image), slot)
            self.at_mono(now + self.real(delay), lambda: self._retry_pull(slot), slot)
            return
        self.kubelet.node_images[self.node.name].add(canonical)
        took = go_duration(self.ctx.scale.simulated(time.monotonic() - started))
        self.event(
            "Normal",
            "Pulled",
            f'Successfully pulled image "{image}" in {took} ({took} including waiting). '
            f"Image size: {profile.size} bytes.",
            slot,
        )
        self.after(_CREATE_DELAY, lambda: self._create(slot, profile), slot)

    def _pull_backoff(self, slot: _Slot, image: str) -> None:
        if self.terminating or slot.reason != "ErrImagePull":
            return
        self._waiting(slot, "ImagePullBackOff", f'Back-off pulling image "{image}"')
        self.event("Normal", "BackOff", f'Back-off pulling image "{image}"', slot)
        self.event("Warning", "Failed", "Error: ImagePullBackOff", slot)

    def _retry_pull(self, slot: _Slot) -> None:
        slot.timers = [t for t in slot.timers if not t.cancelled]
        self._ensure_image(slot)

    def _waiting(self, slot: _Slot, reason: str, message: str | None = None) -> None:
        slot.state = "waiting"
        slot.reason = reason
        slot.message = message
        slot.ready = False
        self.touch()

    # -- containers ------------------------------------------------------------------------

    def _create(self, slot: _Slot, profile: ImageProfile) -> None:
        if self.terminating:
            return
        pod = self.pod()
        if pod is None:
            return
        try:
            container_env = resolve_env(self.ctx.store, pod, slot.spec)
        except EnvError as err:
            self._waiting(slot, "CreateContainerConfigError", str(err))
            self.event("Warning", "Failed", f"Error: {err}", slot)
            self.after(10.0, lambda: self._ensure_image(slot), slot)
            return
        if runs_for_real(pod.get("spec") or {}, slot.spec):
            self._start_command(slot, profile, container_env)
            return
        nodes = self.kubelet.node_containers
        if nodes is not None and nodes.runs(profile, slot.is_init):
            self._start_node(slot, profile, container_env, nodes)
            return
        kubelet = self.kubelet
        process = "init" if slot.is_init else process_kind(profile.app, container_env, slot.name)
        style = LogStyle(profile.app, process, profile.fault)
        now_wall = self.ctx.clock()
        now_mono = time.monotonic()
        log, plan = plan_instance(
            style,
            namespace=self.ns,
            pod=self.name,
            container=slot.name,
            instance=slot.restart_count,
            started_at=now_wall,
            rate=kubelet.log_rate,
            backlog=kubelet.log_backlog,
            scale=self.ctx.scale.factor,
            node_version=profile.node_version,
            backlog_until=kubelet.started_at,
            echo=echo_lines(container_env),
        )
        port = (
            _listen_port(slot.spec, container_env)
            if process in ("web", "worker") and not slot.is_init
            else None
        )
        listen = (
            now_mono + self.real(plan.listen_after) if plan.listen_after != float("inf") else float("inf")
        )
        if profile.fault == "unready":
            healthy: float | None = None
        elif profile.fault == "slow-start":
            healthy = now_mono + self.real(_SLOW_START_READY)
        else:
            healthy = listen
        run = _Run(
            instance=slot.restart_count,
            container_id=secrets.token_hex(32),
            profile=profile,
            style=style,
            log=log,
            started_wall=now_wall,
            started_mono=now_mono,
            listen_mono=listen,
            healthy_mono=healthy,
            listen_port=port,
            env=container_env,
        )
        self._begin_run(slot, run)
        if plan.exits_after is not None:
            code, reason = (1, "Error") if profile.fault == "crash" else (0, "Completed")
            self.after(plan.exits_after, lambda: self._exited(slot, run, code, reason), slot)
        self._run_started(slot, run)
        self.touch()

    def _run_started(self, slot: _Slot, run: _Run) -> None:
        """Created and Started, then the probes (a simulated or a real Node.js container)."""
        self.event("Normal", "Created", f"Created container: {slot.name}", slot)
        self.event("Normal", "Started", f"Started container {slot.name}", slot)
        has_startup = bool(slot.spec.get("startupProbe")) and not slot.is_init
        slot.started = not has_startup
        slot.ready = not slot.is_init and not slot.spec.get("readinessProbe")
        if not slot.is_init:
            if has_startup:
                self._start_probe(slot, run, "startup")
            else:
                self._start_probe(slot, run, "readiness")
                self._start_probe(slot, run, "liveness")

    @staticmethod
    def _begin_run(slot: _Slot, run: _Run) -> None:
        """The slot's new instance is running (simulated process and real command alike)."""
        slot.runs.append(run)
        slot.state = "running"
        slot.reason = ""
        slot.message = None
        slot.stopping = False
        slot.timers = [t for t in slot.timers if not t.cancelled]

    def _start_command(self, slot: _Slot, profile: ImageProfile, container_env: dict[str, str]) -> None:
        """Run the container's command as a local process (``command.py``)."""
        argv = container_argv(slot.spec)
        target = self.target(profile, "run", container_env)
        if slot.spec.get("tty"):
            target.env.setdefault("TERM", "xterm")
        now_wall = self.ctx.clock()
        now_mono = time.monotonic()
        run = _Run(
            instance=slot.restart_count,
            container_id=secrets.token_hex(32),
            profile=profile,
            style=LogStyle(profile.app, "run", profile.fault),
            log=InstanceLog(now_wall),
            started_wall=now_wall,
            started_mono=now_mono,
            listen_mono=float("inf"),
            healthy_mono=None,
            listen_port=None,
            env=container_env,
        )
        self._begin_run(slot, run)
        assert target.box is not None
        if target.box.host_program(argv[0], target.env["PATH"]) is None:
            run.message = not_found_message(argv[0])
            self.event("Normal", "Created", f"Created container: {slot.name}", slot)
            self.event("Warning", "Failed", f"Error: {run.message}", slot)
            self._exited(slot, run, 128, "StartError")
            return
        self.event("Normal", "Created", f"Created container: {slot.name}", slot)
        self.event("Normal", "Started", f"Started container {slot.name}", slot)
        slot.started = True
        slot.ready = not slot.is_init and not slot.spec.get("readinessProbe")

        def exited(code: int) -> None:
            self._exited(slot, run, code, "Completed" if code == 0 else "Error")

        run.process = CommandProcess(run.log, exited, tty=bool(slot.spec.get("tty")))
        run.process.start(target, argv)
        self.touch()

    def _start_node(
        self, slot: _Slot, profile: ImageProfile, container_env: dict[str, str], nodes: NodeContainers
    ) -> None:
        """Run the demo app as a real Node.js process (``noderuntime.py``)."""
        process = process_kind(profile.app, container_env, slot.name)
        target = self.target(profile, process, container_env)
        assert target.box is not None and self.workdir is not None
        nodes.install_app(self.workdir)
        address = nodes.address(self.uid)
        argv = nodes.argv(profile, process, namespace=self.ns, address=address, isolated=target.box.isolated)
        now_wall = self.ctx.clock()
        run = _Run(
            instance=slot.restart_count,
            container_id=secrets.token_hex(32),
            profile=profile,
            style=LogStyle(profile.app, process, profile.fault),
            log=InstanceLog(now_wall),
            started_wall=now_wall,
            started_mono=time.monotonic(),
            listen_mono=time.monotonic(),
            healthy_mono=None,
            listen_port=_listen_port(slot.spec, container_env),
            env=container_env,
        )
        self._begin_run(slot, run)

        def exited(code: int) -> None:
            self._exited(slot, run, code, "Completed" if code == 0 else "Error")

        run.process = NodeProcess(run.log, exited, address=address)
        run.process.start(target, argv)
        self._run_started(slot, run)
        self.touch()

    def target(self, profile: ImageProfile, process: str, container_env: dict[str, str]) -> ExecTarget:
        """Where a command runs in this pod (exec, cp and the containers' own commands alike)."""
        envs = self.kubelet.envs
        if self.workdir is None:
            self.workdir = envs.pod_dir(self.ns, self.name, self.uid, profile.app, process)
        env = exec_environment(envs, profile, self.name, self.workdir, container_env)
        box = envs.box(self.ns, self.name, self.uid, profile, self.pod_ip)
        return ExecTarget(cwd=self.workdir, env=env, box=box)

    def _exited(self, slot: _Slot, run: _Run, code: int, reason: str) -> None:
        """The process ended (by itself, or killed)."""
        if run.finished:
            return
        run.finished_wall = self.ctx.clock()
        run.finished_mono = time.monotonic()
        run.exit_code = code
        run.reason = reason
        run.log.finish()
        slot.state = "terminated"
        slot.ready = False
        slot.stopping = False
        for probe in slot.probes.values():
            if probe.timer is not None:
                probe.timer.cancel()
        slot.probes.clear()
        self.touch()
        if self.terminating:
            self._check_terminated()
            return
        if slot.is_init and code == 0:
            slot.done = True
            self._start_next()
            return
        if self._restartable(code):
            self.after(0.5, lambda: self._restart_or_backoff(slot), slot)
        elif self.workdir is not None and self._finished():
            self.kubelet.envs.stop_box(self.ns, self.name, self.uid)  # as a kubelet tears it down

    def _finished(self) -> bool:
        """Every container has terminated for good (the pod is Succeeded or Failed)."""
        for slot in self.slots:
            run = slot.current
            if slot.state != "terminated" or run is None or self._restartable(run.exit_code or 0):
                return False
        return True

    def _restartable(self, code: int) -> bool:
        if self.restart_policy == "Always":
            return True
        return self.restart_policy == "OnFailure" and code != 0

    def _restart_or_backoff(self, slot: _Slot) -> None:
        if self.terminating:
            return
        run = slot.current
        if run is None or run.finished_mono is None:
            return
        ts = run.finished_mono
        now = time.monotonic()
        backoff = slot.crash_backoff
        if backoff.in_backoff_since(ts, now, self.real):
            pod_ref = f"{self.name}_{self.ns}({self.uid})"
            self._waiting(
                slot,
                "CrashLoopBackOff",
                f"back-off {go_duration(backoff.value)} restarting failed "
                f"container={slot.name} pod={pod_ref}",
            )
            self.event(
                "Warning",
                "BackOff",
                f"Back-off restarting failed container {slot.name} in pod {pod_ref}",
                slot,
            )
            self.at_mono(ts + self.real(backoff.value) + 0.0005, lambda: self._restart_or_backoff(slot), slot)
            return
        backoff.next(ts, self.real)
        slot.restart_count += 1
        slot.timers = [t for t in slot.timers if not t.cancelled]
        self._ensure_image(slot)

    # -- probes ----------------------------------------------------------------------------

    def _start_probe(self, slot: _Slot, run: _Run, kind: str) -> None:
        spec = slot.spec.get(f"{kind}Probe")
        if not spec:
            return
        probe = _Probe(kind, spec)
        slot.probes[kind] = probe
        delay = float(spec.get("initialDelaySeconds") or 0)
        when = run.started_mono + self.real(delay)
        probe.timer = self.ctx.timers.at(
            max(when, time.monotonic()), lambda: self._probe_tick(slot, run, probe)
        )

    def _probe_tick(self, slot: _Slot, run: _Run, probe: _Probe) -> None:
        probe.timer = None
        if (
            self.terminating
            or run.finished
            or slot.current is not run
            or slot.probes.get(probe.kind) is not probe
        ):
            return
        if slot.stopping:
            return
        if isinstance(run.process, NodeProcess):  # a real request: the answer comes later
            task = asyncio.get_running_loop().create_task(self._probe_real(slot, run, probe))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            return
        ok, output = self._evaluate(slot, run, probe.spec)
        self._probe_result(slot, run, probe, ok, output)

    async def _probe_real(self, slot: _Slot, run: _Run, probe: _Probe) -> None:
        ok, output = await self._evaluate_real(slot, run, probe.spec)
        if self.terminating or run.finished or slot.stopping or slot.probes.get(probe.kind) is not probe:
            return
        unscaled_delay = float(probe.spec.get("initialDelaySeconds") or 0)
        if (
            not ok
            and output.endswith("connection refused")
            and probe.successes == probe.failures == 0
            and time.monotonic() - run.started_mono < unscaled_delay
        ):
            # --time-scale shortens simulated delays, not a real process's start-up: until the
            # app first listens, the initial delay counts in real seconds
            period = float(probe.spec.get("periodSeconds") or 10)
            probe.timer = self.ctx.timers.after(period, lambda: self._probe_tick(slot, run, probe))
            return
        self._probe_result(slot, run, probe, ok, output)

    async def _evaluate_real(self, slot: _Slot, run: _Run, spec: Obj) -> tuple[bool, str]:
        """A probe against the real process (``noderuntime``): HTTP GET, TCP connect, exec."""
        assert isinstance(run.process, NodeProcess)
        timeout = max(1.0, float(spec.get("timeoutSeconds") or 1))
        check = spec.get("httpGet") or spec.get("tcpSocket") or spec.get("grpc")
        if check is None:
            return (not run.finished), ""
        port = self._resolve_port(slot, check.get("port"))
        if port is None:
            return False, f'port "{check.get("port")}" not found in the container\'s ports'
        if "httpGet" not in spec:
            try:
                _, writer = await asyncio.wait_for(
                    asyncio.open_connection(run.process.address, port), timeout
                )
            except (TimeoutError, OSError):
                return False, f"dial tcp {self.pod_ip}:{port}: connect: connection refused"
            writer.close()
            return True, ""
        path = check.get("path") or "/"
        url = f"{(check.get('scheme') or 'HTTP').lower()}://{self.pod_ip}:{port}{path}"
        code, why = await http_probe(run.process.address, port, path, timeout)
        if code is None:
            return False, f'Get "{url}": dial tcp {self.pod_ip}:{port}: {why}'
        if 200 <= code < 400:
            return True, ""
        return False, f"HTTP probe failed with statuscode: {code}"

    def _probe_result(self, slot: _Slot, run: _Run, probe: _Probe, ok: bool, output: str) -> None:
        """Count a probe's result, act on its thresholds and plan the next one."""
        spec = probe.spec
        success_threshold = int(spec.get("successThreshold") or 1)
        failure_threshold = int(spec.get("failureThreshold") or 3)
        label = probe.kind.capitalize()
        if ok:
            probe.successes += 1
            probe.failures = 0
        else:
            probe.failures += 1
            probe.successes = 0
            self.event("Warning", "Unhealthy", f"{label} probe failed: {output}", slot)
        if probe.kind == "readiness":
            if ok and not slot.ready and probe.successes >= success_threshold:
                slot.ready = True
                self.touch()
            elif not ok and slot.ready and probe.failures >= failure_threshold:
                slot.ready = False
                self.touch()
            settled = ok and slot.ready
        elif probe.kind == "liveness":
            if not ok and probe.failures >= failure_threshold:
                self._stop_container(
                    slot,
                    f"Container {slot.name} failed liveness probe, will be restarted",
                    self.grace_default,
                )
                return
            settled = ok
        else:  # startup
            if ok and probe.successes >= 1:
                slot.started = True
                del slot.probes["startup"]
                self._start_probe(slot, run, "readiness")
                self._start_probe(slot, run, "liveness")
                self.touch()
                return
            if not ok and probe.failures >= failure_threshold:
                self._stop_container(
                    slot, f"Container {slot.name} failed startup probe, will be restarted", self.grace_default
                )
                return
            settled = False
        now = time.monotonic()
        if settled and run.health_settled(now):
            return  # nothing can change any more: no more timers for this probe
        period = float(spec.get("periodSeconds") or 10)
        probe.timer = self.ctx.timers.after(period, lambda: self._probe_tick(slot, run, probe))

    def _resolve_port(self, slot: _Slot, port: Any) -> int | None:
        if isinstance(port, int):
            return port
        text = str(port)
        if text.isdigit():
            return int(text)
        for spec in self.slots + self.init_slots:
            for declared in spec.spec.get("ports") or []:
                if declared.get("name") == text:
                    return int(declared.get("containerPort", 0))
        return None

    def _evaluate(self, slot: _Slot, run: _Run, spec: Obj) -> tuple[bool, str]:
        now = time.monotonic()
        if "httpGet" in spec:
            http = spec["httpGet"] or {}
            port = self._resolve_port(slot, http.get("port"))
            path = http.get("path") or "/"
            scheme = (http.get("scheme") or "HTTP").lower()
            host = http.get("host") or self.pod_ip
            if port is None:
                return False, f'port "{http.get("port")}" not found in the container\'s ports'
            url = f"{scheme}://{host}:{port}{path}"
            answer = run.respond(port, path, "GET", now)
            if answer is None:
                return False, f'Get "{url}": dial tcp {host}:{port}: connect: connection refused'
            code = answer[0]
            if 200 <= code < 400:
                return True, ""
            return False, f"HTTP probe failed with statuscode: {code}"
        if "tcpSocket" in spec or "grpc" in spec:
            target = spec.get("tcpSocket") or spec.get("grpc") or {}
            port = self._resolve_port(slot, target.get("port"))
            if port is None or run.respond(port, "/", "GET", now) is None:
                return False, f"dial tcp {self.pod_ip}:{port}: connect: connection refused"
            return True, ""
        return (not run.finished), ""  # exec probes: the command runs while the process does

    # -- stopping --------------------------------------------------------------------------

    def _stop_container(self, slot: _Slot, message: str, grace: float) -> None:
        """Kill a running container gracefully: preStop, SIGTERM, SIGKILL after ``grace``."""
        run = slot.running
        if run is None or slot.stopping:
            return
        slot.stopping = True
        for probe in slot.probes.values():
            if probe.timer is not None:
                probe.timer.cancel()
        slot.probes.clear()
        self.event("Normal", "Killing", message, slot)
        deadline = time.monotonic() + self.real(grace)
        prestop = _prestop_seconds(slot.spec) if not slot.is_init else 0.0
        if prestop > 0:
            self.after(min(prestop, grace), lambda: self._sigterm(slot, run, deadline), slot)
        else:
            self._sigterm(slot, run, deadline)
        self.at_mono(deadline, lambda: self._sigkill(slot, run), slot)

    def _sigterm(self, slot: _Slot, run: _Run, deadline: float) -> None:
        if run.finished:
            return
        real_node = isinstance(run.process, NodeProcess)
        if real_node:  # node as PID 1 without a handler (ignore-sigterm): the kernel drops it
            assert run.process is not None
            run.process.signal(signal.SIGTERM)
        if run.profile.fault == "ignore-sigterm":
            return  # ignore-sigterm: no handler in PID 1, it runs on until SIGKILL at the deadline
        run.closed = True
        if slot.ready:
            slot.ready = False
            self.touch()
        if run.process is not None:  # a real process ends when it ends (or at SIGKILL)
            if not real_node:
                run.process.signal(signal.SIGTERM)
            return
        renders, duration = shutdown_plan(run.style, self.name)
        now_wall = self.ctx.clock()
        run.log.cut(now_wall)
        remaining = max(0.0, deadline - time.monotonic())
        took = self.real(duration)
        append_shutdown(run.log, renders, now_wall, took)
        if took <= remaining:
            self.after(duration, lambda: self._exited(slot, run, 0, "Completed"), slot)
        # else: SIGKILL at the deadline cuts the shutdown short

    def _killer(self, slot: _Slot, run: _Run) -> Callable[[], None]:
        return lambda: self._sigkill(slot, run)

    def _sigkill(self, slot: _Slot, run: _Run) -> None:
        if run.finished:
            return
        if run.process is not None:
            run.process.signal(signal.SIGKILL)
        run.log.cut(self.ctx.clock())
        self._exited(slot, run, 137, "Error")

    def kill(self, slot: _Slot) -> None:
        """The kernel's OOM killer: exit 137 now, no shutdown."""
        run = slot.running
        if run is None:
            return
        if run.process is not None:
            run.process.signal(signal.SIGKILL)
        run.log.cut(self.ctx.clock())
        self._exited(slot, run, 137, "OOMKilled")

    def terminate(self, pod: Obj) -> None:
        """The pod is being deleted: stop every container within the grace period."""
        meta = pod["metadata"]
        grace = meta.get("deletionGracePeriodSeconds")
        grace = self.grace_default if grace is None else int(grace)
        if self.terminating:
            if grace < self.grace:  # deleted again with a shorter grace period
                self.grace = grace
                for slot in self.all_slots():
                    run = slot.running
                    if run is not None:
                        self.after(grace, self._killer(slot, run), slot)
            return
        self.terminating = True
        self.grace = grace
        for slot in self.all_slots():
            run = slot.running
            for timer in slot.timers:
                timer.cancel()
            slot.timers.clear()
            if run is not None:
                slot.stopping = False
                self._stop_container(slot, f"Stopping container {slot.name}", grace)
        for timer in self.timers:
            timer.cancel()
        self.timers.clear()
        self.touch()
        self._check_terminated()

    def _check_terminated(self) -> None:
        if self.finalized or any(s.running is not None for s in self.all_slots()):
            return
        self.finalized = True
        self.touch()
        self.after(0.1, self._remove)

    def _remove(self) -> None:
        self.kubelet.flush(self)
        with contextlib.suppress(StoreError):
            self.ctx.store.remove("pods", self.ns, self.name, uid=self.uid)

    def reconcile(self, pod: Obj) -> None:
        """React to a spec change of a running pod (a new image for a container)."""
        if self.terminating:
            return
        for spec in (pod.get("spec") or {}).get("containers") or []:
            slot = self.slot(spec.get("name", ""))
            if slot is None or slot.is_init or spec.get("image") == slot.spec.get("image"):
                continue
            slot.spec = spec
            if slot.running is not None:
                self._stop_container(
                    slot, f"Container {slot.name} definition changed, will be restarted", self.grace_default
                )
            elif slot.state == "waiting":
                for timer in slot.timers:
                    timer.cancel()
                slot.timers.clear()
                slot.pull_backoff = _Backoff()
                self._ensure_image(slot)

    def destroy(self) -> None:
        """The pod object is gone: end everything."""
        for task in list(self.tasks):
            task.cancel()
        for timer in self.timers:
            timer.cancel()
        for slot in self.all_slots():
            slot.cancel_timers()
            for run in slot.runs:
                if run.process is not None:
                    run.process.signal(signal.SIGKILL)
                if not run.finished:
                    run.finished_wall = self.ctx.clock()
                    run.finished_mono = time.monotonic()
                    run.exit_code = 137
                    run.reason = "Error"
                    run.log.finish()

    # -- status ----------------------------------------------------------------------------

    def _condition(self, type_: str, ok: bool, reason: str | None = None, message: str | None = None) -> Obj:
        status = "True" if ok else "False"
        now = rfc3339(self.ctx.clock())
        previous = self.conditions.get(type_)
        when = previous[1] if previous is not None and previous[0] == status else now
        self.conditions[type_] = (status, when)
        cond: Obj = {"type": type_, "status": status, "lastProbeTime": None, "lastTransitionTime": when}
        if not ok and reason:
            cond["reason"] = reason
            if message:
                cond["message"] = message
        return cond

    def _container_status(self, slot: _Slot) -> Obj:
        run = slot.current
        previous = slot.runs[0] if len(slot.runs) == 2 else None
        image = str(slot.spec.get("image", ""))
        status: Obj = {"name": slot.name, "state": {}, "lastState": {}, "ready": bool(slot.ready)}
        if slot.state == "running" and run is not None:
            status["state"] = {"running": {"startedAt": rfc3339(run.started_wall)}}
            if previous is not None:
                status["lastState"] = {"terminated": _terminated(previous)}
        elif slot.state == "terminated" and run is not None:
            status["state"] = {"terminated": _terminated(run)}
            if previous is not None:
                status["lastState"] = {"terminated": _terminated(previous)}
        else:
            waiting: Obj = {"reason": slot.reason or "ContainerCreating"}
            if slot.message:
                waiting["message"] = slot.message
            status["state"] = {"waiting": waiting}
            if run is not None and run.finished:
                status["lastState"] = {"terminated": _terminated(run)}
        status["restartCount"] = slot.restart_count
        if run is not None:
            status["image"] = run.profile.ref.canonical
            status["imageID"] = run.profile.image_id
            status["containerID"] = f"containerd://{run.container_id}"
        else:
            status["image"] = image
            status["imageID"] = ""
        status["started"] = bool(slot.state == "running" and slot.started)
        return status

    def _phase(self) -> str:
        slots = self.slots
        if self.finalized:
            runs = [s.current for s in slots if s.current is not None]
            if runs and all(r.exit_code == 0 for r in runs):
                return "Succeeded"
            return "Failed" if runs else "Pending"
        if any(not s.done for s in self.init_slots):
            init_failed = any(
                s.state == "terminated" and s.current is not None and bool(s.current.exit_code)
                for s in self.init_slots
            )
            return "Failed" if init_failed and self.restart_policy == "Never" else "Pending"
        running = stopped = waiting = failed = 0
        for slot in slots:
            if slot.state == "running":
                running += 1
            elif slot.state == "terminated" or (slot.state == "waiting" and slot.current is not None):
                stopped += 1
                if slot.current is not None and slot.current.exit_code:
                    failed += 1
            else:
                waiting += 1
        if waiting == len(slots) or (waiting and not running and not stopped):
            return "Pending"
        if running > 0:
            return "Running"
        if stopped > 0:
            if self.restart_policy == "Always":
                return "Running"
            if self.restart_policy == "OnFailure" and failed:
                return "Running"
            return "Failed" if failed else "Succeeded"
        return "Pending"

    def status(self, pod: Obj) -> Obj:
        """The pod status as the kubelet reports it now."""
        initialized = all(s.done for s in self.init_slots)
        not_ready = [s.name for s in self.slots if not s.ready]
        containers_ready = not not_ready and initialized
        ready_msg = f"containers with unready status: [{' '.join(not_ready)}]"
        init_pending = [s.name for s in self.init_slots if not s.done]
        conditions = [
            self._condition("PodReadyToStartContainers", self.sandbox_ready and not self.finalized),
            self._condition(
                "Initialized",
                initialized,
                "ContainersNotInitialized",
                f"containers with incomplete status: [{' '.join(init_pending)}]",
            ),
            self._condition("Ready", containers_ready, "ContainersNotReady", ready_msg),
            self._condition("ContainersReady", containers_ready, "ContainersNotReady", ready_msg),
        ]
        if not initialized:
            conditions[2]["reason"] = conditions[3]["reason"] = "ContainersNotInitialized"
            conditions[2]["message"] = conditions[3]["message"] = (
                f"containers with incomplete status: [{' '.join(init_pending)}]"
            )
        old = pod.get("status") or {}
        scheduled = next((c for c in old.get("conditions") or [] if c.get("type") == "PodScheduled"), None)
        conditions.append(
            scheduled
            or {
                "type": "PodScheduled",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": rfc3339(self.start_wall),
            }
        )
        status: Obj = {
            "observedGeneration": pod["metadata"].get("generation", 1),
            "phase": self._phase(),
            "conditions": conditions,
            "hostIP": self.node.host_ip,
            "hostIPs": [{"ip": self.node.host_ip}],
        }
        if self.sandbox_ready or self.finalized:  # the pod network comes with the sandbox
            status["podIP"] = self.pod_ip
            status["podIPs"] = [{"ip": self.pod_ip}]
        status["startTime"] = rfc3339(self.start_wall)
        if self.init_slots:
            status["initContainerStatuses"] = [self._container_status(s) for s in self.init_slots]
        status["containerStatuses"] = [self._container_status(s) for s in self.slots]
        status["qosClass"] = old.get("qosClass") or "BestEffort"
        ready_now = containers_ready
        ready_since = self.ctx.ready_since
        if ready_now and self.uid not in ready_since:
            ready_since[self.uid] = self.ctx.clock()
        elif not ready_now:
            ready_since.pop(self.uid, None)
        return status


def _terminated(run: _Run) -> Obj:
    state: Obj = {
        "exitCode": int(run.exit_code if run.exit_code is not None else 0),
        "reason": run.reason or "Completed",
        "startedAt": rfc3339(run.started_wall),
        "finishedAt": rfc3339(run.finished_wall or run.started_wall),
        "containerID": f"containerd://{run.container_id}",
    }
    if run.message:
        state["message"] = run.message
    return state


def _listen_port(spec: Obj, env: dict[str, str]) -> int:
    value = env.get("PORT")
    if value and value.isdigit():
        return int(value)
    for port in spec.get("ports") or []:
        if port.get("containerPort"):
            return int(port["containerPort"])
    return 3000


class _EmptyLog:
    """The log of a container that never ran on a node (a pod not scheduled yet)."""

    finished = True

    def line_count(self, now: float) -> int:
        return 0

    def line(self, index: int) -> tuple[float, str]:
        raise IndexError(index)

    def lines(self, start: int, stop: int) -> list[tuple[float, str]]:
        return []

    def first_index_at(self, t: float) -> int:
        return 0

    def next_line_time(self, now: float) -> float | None:
        return None

    async def wait(self, timeout: float | None) -> None:
        return None


class Kubelet:
    """The kubelet of every sandbox node; the cluster's ``PodRuntime``."""

    QUEUE = "kubelet"

    def __init__(
        self,
        ctx: Context,
        images: Images,
        envs: ExecEnvironments,
        nodes: list[NodeInfo],
        *,
        log_rate: float,
        log_backlog: int,
        node: NodeBinary | None = None,
    ) -> None:
        self.ctx = ctx
        self.sampler = ProcessSampler()
        self.node_containers = (
            NodeContainers(node, time_scale=ctx.scale.factor, log_rate=log_rate) if node is not None else None
        )
        self.images = images
        self.envs = envs
        self.nodes = {n.name: n for n in nodes}
        self.log_rate = log_rate
        self.log_backlog = log_backlog
        self.started_at = ctx.clock()  # every container's --log-backlog history ends here
        self.node_images: dict[str, set[str]] = {n.name: set() for n in nodes}
        self.workers: dict[PodKey, _PodWorker] = {}
        self._next_ip: dict[str, int] = {n.name: 0 for n in nodes}
        self._used_ips: set[str] = set()
        self.on_pod_gone: Callable[[Obj], None] | None = None

    # -- wiring ----------------------------------------------------------------------------

    def observes(self, pod: Obj) -> bool:
        """Whether a pod is bound to one of this kubelet's nodes."""
        return (pod.get("spec") or {}).get("nodeName") in self.nodes

    def touch(self, worker: _PodWorker) -> None:
        """Queue a status flush for a pod."""
        self.ctx.queue.enqueue(self.QUEUE, ("status", worker.ns, worker.name))

    def sync(self, key: tuple[str, str, str]) -> None:
        """Queue handler: ``("pod", ns, name)`` after a change, ``("status", ns, name)`` to flush."""
        kind, ns, name = key
        worker = self.workers.get((ns, name))
        if kind == "status":
            if worker is not None:
                self.flush(worker)
            return
        pod = self.ctx.store.try_get("pods", ns, name)
        if worker is not None and (pod is None or pod["metadata"]["uid"] != worker.uid):
            self._drop(worker)
            worker = None
        if pod is None or not self.observes(pod):
            return
        if worker is None:
            phase = (pod.get("status") or {}).get("phase")
            if phase in ("Succeeded", "Failed"):
                return
            node = self.nodes[pod["spec"]["nodeName"]]
            worker = _PodWorker(self, pod, node, self._allocate_ip(node))
            self.workers[(ns, name)] = worker
            if pod["metadata"].get("deletionTimestamp"):
                worker.terminating = True
                worker._check_terminated()
                return
            worker.start()
            return
        if pod["metadata"].get("deletionTimestamp"):
            worker.terminate(pod)
        else:
            worker.reconcile(pod)

    def flush(self, worker: _PodWorker) -> None:
        """Write a pod's status now."""
        if self.workers.get((worker.ns, worker.name)) is not worker:
            return
        pod = self.ctx.store.try_get("pods", worker.ns, worker.name)
        if pod is None or pod["metadata"]["uid"] != worker.uid:
            return
        status = worker.status(pod)
        if status == pod.get("status"):
            return
        self.ctx.store.set_status("pods", worker.ns, worker.name, status)

    def _drop(self, worker: _PodWorker) -> None:
        worker.destroy()
        self.workers.pop((worker.ns, worker.name), None)
        self._used_ips.discard(worker.pod_ip)
        self.ctx.ready_since.pop(worker.uid, None)
        if self.node_containers is not None:
            self.node_containers.release(worker.uid)
        if worker.workdir is not None:
            self.envs.remove_pod_dir(worker.ns, worker.name, worker.uid)

    def _allocate_ip(self, node: NodeInfo) -> str:
        a, b = node.pod_prefix
        for _ in range(16_384):
            n = self._next_ip[node.name]
            self._next_ip[node.name] = (n + 1) % 16_000
            ip = f"10.{a}.{b + (n + 2) // 250}.{(n + 2) % 250 + 2}"
            if ip not in self._used_ips:
                self._used_ips.add(ip)
                return ip
        return f"10.{a}.{b}.2"

    def stop(self) -> None:
        """End every pod's containers (the sandbox is going away)."""
        for worker in list(self.workers.values()):
            worker.destroy()
        self.workers.clear()

    # -- PodRuntime --------------------------------------------------------------------------

    def _worker(self, namespace: str, pod: str) -> _PodWorker | None:
        obj = self.ctx.store.try_get("pods", namespace, pod)
        if obj is None:
            from kubectl_trace.kube.resources import RESOURCES

            raise StoreError.not_found(RESOURCES["pods"], pod)
        worker = self.workers.get((namespace, pod))
        if worker is not None and worker.uid != obj["metadata"]["uid"]:
            return None
        return worker

    def _slot(self, worker: _PodWorker, pod: str, container: str) -> _Slot:
        slot = worker.slot(container)
        if slot is None:
            raise StoreError.bad_request(f"container {container} is not valid for pod {pod}")
        return slot

    def container_log(self, namespace: str, pod: str, container: str, *, previous: bool) -> ContainerLog:
        """The current (or previous) instance's log; StoreError 400 when there is none."""
        worker = self._worker(namespace, pod)
        if worker is None:
            obj = self.ctx.store.get("pods", namespace, pod)
            names = [c.get("name") for c in (obj.get("spec") or {}).get("containers") or []]
            names += [c.get("name") for c in (obj.get("spec") or {}).get("initContainers") or []]
            if container not in names:
                raise StoreError.bad_request(f"container {container} is not valid for pod {pod}")
            if previous:
                raise StoreError.bad_request(
                    f'previous terminated container "{container}" in pod "{pod}" not found'
                )
            return _EmptyLog()
        slot = self._slot(worker, pod, container)
        if previous:
            if len(slot.runs) < 2:
                raise StoreError.bad_request(
                    f'previous terminated container "{container}" in pod "{pod}" not found'
                )
            return slot.runs[0].log
        run = slot.current
        if run is None:
            reason = slot.reason or "ContainerCreating"
            if reason in ("ErrImagePull", "ImagePullBackOff"):
                reason = "trying and failing to pull image"
            elif reason in ("InvalidImageName", "ErrImageNeverPull"):
                reason = "image can't be pulled"
            raise StoreError.bad_request(
                f'container "{container}" in pod "{pod}" is waiting to start: {reason}'
            )
        return run.log

    def exec_target(self, namespace: str, pod: str, container: str) -> ExecTarget:
        """Where to run an exec; StoreError 400 when the container is not running."""
        worker = self._worker(namespace, pod)
        if worker is None:
            raise StoreError.bad_request(f"pod {pod} does not have a host assigned")
        slot = self._slot(worker, pod, container)
        run = slot.running
        if run is None:
            raise StoreError.bad_request(f'container not found ("{container}")')
        target = worker.target(run.profile, run.style.process, run.env)
        if isinstance(run.process, NodeProcess):  # into the container's own PID namespace
            target = dataclasses.replace(target, enter_pid=run.process.node_pid())
        return target

    def attach_target(self, namespace: str, pod: str, container: str) -> CommandProcess:
        """The running process to attach to (containers that run their command for real)."""
        worker = self._worker(namespace, pod)
        if worker is None:
            raise StoreError.bad_request(f"pod {pod} does not have a host assigned")
        slot = self._slot(worker, pod, container)
        run = slot.running
        if run is None or run.process is None:
            raise StoreError.bad_request(f"container {container} not found in pod {pod}")
        return run.process

    def proxy(self, namespace: str, pod: str, port: str, path: str, method: str) -> ProxyAnswer:
        """A request to the pod on ``port`` (a number or a port name)."""
        worker = self._worker(namespace, pod)
        if worker is None:
            raise StoreError(503, "ServiceUnavailable", f'pod "{pod}" has no IP address yet')
        number: int | None = None
        for slot in worker.slots:
            number = worker._resolve_port(slot, port or "80")
            if number is not None:
                break
        if number is None:
            raise StoreError(
                503, "ServiceUnavailable", f'error trying to reach service: port "{port}" not found'
            )
        now = time.monotonic()
        for slot in worker.slots:
            run = slot.running
            if run is None:
                continue
            answer = run.respond(number, path if path.startswith("/") else "/" + path, method, now)
            if answer is not None:
                code, body, ctype = answer
                if method.upper() == "HEAD":
                    body = b""
                return ProxyAnswer(code, body, ctype)
        raise StoreError(
            503,
            "ServiceUnavailable",
            f"error trying to reach service: dial tcp {worker.pod_ip}:{number}: connect: connection refused",
        )

    def kill(self, namespace: str, pod: str, container: str | None) -> None:
        """Fault: kill the container(s) now (exit 137, OOMKilled), as the kernel would."""
        worker = self._worker(namespace, pod)
        if worker is None:
            raise StoreError.bad_request(f'pod "{pod}" has no running containers')
        if container:
            slot = self._slot(worker, pod, container)
            if slot.running is None:
                raise StoreError.bad_request(f'container "{container}" in pod "{pod}" is not running')
            targets = [slot]
        else:
            targets = [s for s in worker.slots if s.running is not None]
            if not targets:
                raise StoreError.bad_request(f'pod "{pod}" has no running containers')
        for slot in targets:
            worker.kill(slot)

    def pod_address(self, namespace: str, pod: str) -> str | None:
        """The loopback address real Node.js containers of the pod listen on (None: simulated)."""
        worker = self._worker(namespace, pod)
        if worker is None or self.node_containers is None:
            return None
        if not any(isinstance(s.running.process, NodeProcess) for s in worker.slots if s.running is not None):
            return None
        return self.node_containers.pod_address(worker.uid)

    def measured_usage(self, namespace: str, pod: str, container: str) -> Usage | None:
        """CPU and memory of a real Node.js container from ``/proc`` (None: simulated)."""
        pid = self.node_pid(namespace, pod, container)
        return None if pid is None else self.sampler.usage(pid)

    def node_pid(self, namespace: str, pod: str, container: str) -> int | None:
        """The host pid of a running real Node.js container's process (None: simulated or stopped)."""
        worker = self._worker(namespace, pod)
        slot = worker.slot(container) if worker is not None else None
        run = slot.running if slot is not None else None
        if run is None or not isinstance(run.process, NodeProcess):
            return None
        return run.process.node_pid()

    def mark_image(self, tag: str, fault: str | None) -> None:
        """Fault: images with this tag behave per ``fault`` (unready, crash, missing, slow-start)."""
        try:
            self.images.mark(tag, fault)
        except ValueError as err:
            raise StoreError.bad_request(str(err)) from None
        if fault == "missing":
            for cached in self.node_images.values():
                for image in [i for i in cached if i.rsplit(":", 1)[-1] == tag]:
                    cached.discard(image)

    def image_faults(self) -> dict[str, str]:
        """Tag → fault of every marked image."""
        return self.images.faults()
