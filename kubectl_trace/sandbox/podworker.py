"""The pod worker: one pod's lifecycle on a sandbox node, step by step on the cluster's timers.

Sandbox, image pull (``Pulling``/``Pulled``, ``ErrImagePull``, ``ImagePullBackOff``), create and
start each container (init containers first), probes on their delays, periods and thresholds,
restarts with the crash-loop back-off, and the graceful stop (``preStop``, SIGTERM, SIGKILL at
the end of the grace period). The containers themselves are ``containers.py``; the status the
worker reports is ``podstatus.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable
from typing import Any, Protocol

from kubectl_trace.sandbox.command import CommandProcess, container_argv, not_found_message, runs_for_real
from kubectl_trace.sandbox.containers import (
    LogSettings,
    printing_run,
    probe_node,
    probe_simulated,
    resolve_port,
    simulated_run,
)
from kubectl_trace.sandbox.controllers import Context
from kubectl_trace.sandbox.execenv import EnvError, ExecEnvironments, exec_environment, resolve_env
from kubectl_trace.sandbox.images import ImageProfile, Images, parse_image
from kubectl_trace.sandbox.loggen import append_shutdown, process_kind, shutdown_plan
from kubectl_trace.sandbox.noderuntime import NodeContainers, NodeProcess
from kubectl_trace.sandbox.podbox import ExecTarget
from kubectl_trace.sandbox.podslots import Backoff, NodeInfo, Probe, Run, Slot, listen_port, prestop_seconds
from kubectl_trace.sandbox.podstatus import Conditions, containers_ready, pod_status
from kubectl_trace.sandbox.recorder import EventSource
from kubectl_trace.sandbox.store import StoreError
from kubectl_trace.sandbox.timescale import Timer, go_duration

__all__ = ["KubeletHost", "PodWorker"]

Obj = dict[str, Any]

_SANDBOX_DELAY = 0.3
_CREATE_DELAY = 0.15


class KubeletHost(Protocol):
    """What a pod worker uses of its kubelet."""

    ctx: Context
    images: Images
    envs: ExecEnvironments
    node_images: dict[str, set[str]]
    node_containers: NodeContainers | None
    log_settings: LogSettings

    def touch(self, worker: PodWorker) -> None:
        """Queue a status flush for the worker's pod."""

    def flush(self, worker: PodWorker) -> None:
        """Write the worker's pod status now."""


class PodWorker:
    """One pod on one node."""

    def __init__(self, kubelet: KubeletHost, pod: Obj, node: NodeInfo, pod_ip: str) -> None:
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
            Slot(c["name"], c, True, reason="PodInitializing") for c in spec.get("initContainers") or []
        ]
        main_reason = "PodInitializing" if self.init_slots else "ContainerCreating"
        self.slots = [Slot(c["name"], c, False, reason=main_reason) for c in spec.get("containers") or []]
        if self.init_slots:
            self.init_slots[0].reason = "PodInitializing"
        self.start_wall = kubelet.ctx.clock()
        self.sandbox_ready = False
        self.terminating = False
        self.grace = self.grace_default
        self.finalized = False
        self.timers: list[Timer] = []
        self.conditions = Conditions(kubelet.ctx.clock)
        self.workdir: str | None = None
        self.tasks: set[asyncio.Task[None]] = set()  # probes of real Node.js containers

    # -- helpers ---------------------------------------------------------------------------

    @property
    def ctx(self) -> Context:
        """The cluster's store, timers, recorder and clock."""
        return self.kubelet.ctx

    def pod(self) -> Obj | None:
        """The pod object now (None once it is gone)."""
        return self.ctx.store.try_get("pods", self.ns, self.name)

    def all_slots(self) -> list[Slot]:
        """Init containers, then containers."""
        return [*self.init_slots, *self.slots]

    def slot(self, name: str) -> Slot | None:
        """The (init) container called ``name``."""
        return next((s for s in self.all_slots() if s.name == name), None)

    def after(self, seconds: float, fn: Callable[[], None], owner: Slot | None = None) -> Timer:
        """A simulated delay, cancelled with the slot (or the pod)."""
        timer = self.ctx.timers.after(seconds, fn)
        (owner.timers if owner is not None else self.timers).append(timer)
        return timer

    def at_mono(self, when: float, fn: Callable[[], None], owner: Slot | None = None) -> Timer:
        """A step at a monotonic instant, cancelled with the slot (or the pod)."""
        timer = self.ctx.timers.at(when, fn)
        (owner.timers if owner is not None else self.timers).append(timer)
        return timer

    def event(self, type_: str, reason: str, message: str, slot: Slot | None = None) -> None:
        """Record a kubelet event about the pod (or one of its containers)."""
        pod = self.pod()
        if pod is None:
            return
        self.ctx.recorder.record(
            pod,
            type_,
            reason,
            message,
            EventSource("kubelet", self.node.name),
            slot.field_path if slot is not None else "",
        )

    def touch(self) -> None:
        """The status changed: flush it with the next batch."""
        self.kubelet.touch(self)

    def real(self, simulated: float) -> float:
        """Simulated seconds in real seconds (``--time-scale``)."""
        return self.ctx.scale.real(simulated)

    # -- start -----------------------------------------------------------------------------

    def start(self) -> None:
        """The pod is bound here: create its sandbox, then its containers."""
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

    def _ensure_image(self, slot: Slot) -> None:
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

    def _pulled(self, slot: Slot, profile: ImageProfile, started: float) -> None:
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

    def _pull_backoff(self, slot: Slot, image: str) -> None:
        if self.terminating or slot.reason != "ErrImagePull":
            return
        self._waiting(slot, "ImagePullBackOff", f'Back-off pulling image "{image}"')
        self.event("Normal", "BackOff", f'Back-off pulling image "{image}"', slot)
        self.event("Warning", "Failed", "Error: ImagePullBackOff", slot)

    def _retry_pull(self, slot: Slot) -> None:
        slot.drop_cancelled_timers()
        self._ensure_image(slot)

    def _waiting(self, slot: Slot, reason: str, message: str | None = None) -> None:
        slot.wait(reason, message)
        self.touch()

    # -- containers ------------------------------------------------------------------------

    def _create(self, slot: Slot, profile: ImageProfile) -> None:
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
        run, exits_after = simulated_run(
            slot,
            profile,
            container_env,
            namespace=self.ns,
            pod=self.name,
            now_wall=self.ctx.clock(),
            scale=self.ctx.scale,
            logs=self.kubelet.log_settings,
        )
        slot.begin(run)
        if exits_after is not None:
            code, reason = (1, "Error") if profile.fault == "crash" else (0, "Completed")
            self.after(exits_after, lambda: self._exited(slot, run, code, reason), slot)
        self._run_started(slot, run)
        self.touch()

    def _created_and_started(self, slot: Slot) -> None:
        self.event("Normal", "Created", f"Created container: {slot.name}", slot)
        self.event("Normal", "Started", f"Started container {slot.name}", slot)

    def _run_started(self, slot: Slot, run: Run) -> None:
        """Created and Started, then the probes (a simulated or a real Node.js container)."""
        self._created_and_started(slot)
        has_startup = bool(slot.spec.get("startupProbe")) and not slot.is_init
        slot.started = not has_startup
        slot.ready = not slot.is_init and not slot.spec.get("readinessProbe")
        if not slot.is_init:
            if has_startup:
                self._start_probe(slot, run, "startup")
            else:
                self._start_probe(slot, run, "readiness")
                self._start_probe(slot, run, "liveness")

    def _start_command(self, slot: Slot, profile: ImageProfile, container_env: dict[str, str]) -> None:
        """Run the container's command as a local process (``command.py``)."""
        argv = container_argv(slot.spec)
        target = self.target(profile, "run", container_env)
        if slot.spec.get("tty"):
            target.env.setdefault("TERM", "xterm")
        run = printing_run(slot, profile, container_env, "run", self.ctx.clock())
        slot.begin(run)
        assert target.box is not None
        if target.box.host_program(argv[0], target.env["PATH"]) is None:
            run.message = not_found_message(argv[0])
            self.event("Normal", "Created", f"Created container: {slot.name}", slot)
            self.event("Warning", "Failed", f"Error: {run.message}", slot)
            self._exited(slot, run, 128, "StartError")
            return
        self._created_and_started(slot)
        slot.started = True
        slot.ready = not slot.is_init and not slot.spec.get("readinessProbe")
        run.process = CommandProcess(run.log, self._on_exit(slot, run), tty=bool(slot.spec.get("tty")))
        run.process.start(target, argv)
        self.touch()

    def _start_node(
        self, slot: Slot, profile: ImageProfile, container_env: dict[str, str], nodes: NodeContainers
    ) -> None:
        """Run the demo app as a real Node.js process (``noderuntime.py``)."""
        process = process_kind(profile.app, container_env, slot.name)
        target = self.target(profile, process, container_env)
        assert target.box is not None and self.workdir is not None
        nodes.install_app(self.workdir)
        address = nodes.address(self.uid)
        argv = nodes.argv(profile, process, namespace=self.ns, address=address, isolated=target.box.isolated)
        run = printing_run(slot, profile, container_env, process, self.ctx.clock())
        run.listen_mono = run.started_mono
        run.listen_port = listen_port(slot.spec, container_env)
        slot.begin(run)
        run.process = NodeProcess(run.log, self._on_exit(slot, run), address=address)
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

    def _on_exit(self, slot: Slot, run: Run) -> Callable[[int], None]:
        """What a real process calls with its exit status."""
        return lambda code: self._exited(slot, run, code, "Completed" if code == 0 else "Error")

    def _exited(self, slot: Slot, run: Run, code: int, reason: str) -> None:
        """The process ended (by itself, or killed)."""
        if run.finished:
            return
        run.finish(self.ctx.clock(), time.monotonic(), code, reason)
        slot.state = "terminated"
        slot.ready = False
        slot.stopping = False
        slot.stop_probes()
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

    def _restart_or_backoff(self, slot: Slot) -> None:
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
        slot.drop_cancelled_timers()
        self._ensure_image(slot)

    # -- probes ----------------------------------------------------------------------------

    def _start_probe(self, slot: Slot, run: Run, kind: str) -> None:
        spec = slot.spec.get(f"{kind}Probe")
        if not spec:
            return
        probe = Probe(kind, spec)
        slot.probes[kind] = probe
        delay = float(spec.get("initialDelaySeconds") or 0)
        when = run.started_mono + self.real(delay)
        probe.timer = self.ctx.timers.at(
            max(when, time.monotonic()), lambda: self._probe_tick(slot, run, probe)
        )

    def _probe_tick(self, slot: Slot, run: Run, probe: Probe) -> None:
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
        ok, output = probe_simulated(run, probe.spec, self.pod_ip, self.port_of)
        self._probe_result(slot, run, probe, ok, output)

    async def _probe_real(self, slot: Slot, run: Run, probe: Probe) -> None:
        ok, output = await probe_node(run, probe.spec, self.pod_ip, self.port_of)
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

    def _probe_result(self, slot: Slot, run: Run, probe: Probe, ok: bool, output: str) -> None:
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

    def port_of(self, port: Any) -> int | None:
        """A port number, or the number of a port the pod's containers declare by that name."""
        return resolve_port(self.slots + self.init_slots, port)

    # -- stopping --------------------------------------------------------------------------

    def _stop_container(self, slot: Slot, message: str, grace: float) -> None:
        """Kill a running container gracefully: preStop, SIGTERM, SIGKILL after ``grace``."""
        run = slot.running
        if run is None or slot.stopping:
            return
        slot.stopping = True
        slot.stop_probes()
        self.event("Normal", "Killing", message, slot)
        deadline = time.monotonic() + self.real(grace)
        prestop = prestop_seconds(slot.spec) if not slot.is_init else 0.0
        if prestop > 0:
            self.after(min(prestop, grace), lambda: self._sigterm(slot, run, deadline), slot)
        else:
            self._sigterm(slot, run, deadline)
        self.at_mono(deadline, self._killer(slot, run), slot)

    def _sigterm(self, slot: Slot, run: Run, deadline: float) -> None:
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

    def _killer(self, slot: Slot, run: Run) -> Callable[[], None]:
        return lambda: self._sigkill(slot, run)

    def _sigkill(self, slot: Slot, run: Run, reason: str = "Error") -> None:
        """SIGKILL: exit 137 now, the log cut where it is."""
        if run.finished:
            return
        if run.process is not None:
            run.process.signal(signal.SIGKILL)
        run.log.cut(self.ctx.clock())
        self._exited(slot, run, 137, reason)

    def kill(self, slot: Slot) -> None:
        """The kernel's OOM killer: exit 137 now, no shutdown."""
        run = slot.running
        if run is not None:
            self._sigkill(slot, run, "OOMKilled")

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
            slot.cancel_timers()
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
                slot.cancel_timers()
                slot.pull_backoff = Backoff()
                self._ensure_image(slot)

    def destroy(self) -> None:
        """The pod object is gone: end everything."""
        for task in list(self.tasks):
            task.cancel()
        for timer in self.timers:
            timer.cancel()
        for slot in self.all_slots():
            slot.cancel_timers()
            slot.stop_probes()
            for run in slot.runs:
                if run.process is not None:
                    run.process.signal(signal.SIGKILL)
                if not run.finished:
                    run.finish(self.ctx.clock(), time.monotonic(), 137, "Error")

    # -- status ----------------------------------------------------------------------------

    def status(self, pod: Obj) -> Obj:
        """The pod status as the kubelet reports it now (and since when the pod is ready)."""
        status = pod_status(pod, self, self.conditions)
        ready_since = self.ctx.ready_since
        if not containers_ready(self):
            ready_since.pop(self.uid, None)
        elif self.uid not in ready_since:
            ready_since[self.uid] = self.ctx.clock()
        return status
