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

With ``--containers node`` the demo images' containers are real Node.js processes
(``noderuntime.py``) behind the same slots, runs and timers: their probes are real
requests, their log is what they print, their exit status is the terminated state.

Nothing here polls: every step is a timer on the cluster's one timer heap, and a healthy
simulated pod whose probes have settled costs no timer at all. ``Kubelet`` keeps a
``podworker.PodWorker`` a pod (the lifecycle), whose containers are ``podslots.py`` and
``containers.py`` and whose status is ``podstatus.py``; it implements ``interfaces.PodRuntime``
for the API server (logs, exec, proxy, kill, image marks).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

from kubectl_trace.sandbox.command import CommandProcess
from kubectl_trace.sandbox.containers import LogSettings
from kubectl_trace.sandbox.controllers import Context
from kubectl_trace.sandbox.execenv import ExecEnvironments
from kubectl_trace.sandbox.images import Images
from kubectl_trace.sandbox.interfaces import ContainerLog, ProxyAnswer
from kubectl_trace.sandbox.nodejs import NodeBinary
from kubectl_trace.sandbox.noderuntime import NodeContainers, NodeProcess
from kubectl_trace.sandbox.podbox import ExecTarget
from kubectl_trace.sandbox.podslots import NodeInfo, Slot
from kubectl_trace.sandbox.podworker import PodWorker
from kubectl_trace.sandbox.store import StoreError
from kubectl_trace.sandbox.usage import ProcessSampler, Usage

__all__ = ["Kubelet", "NodeInfo"]

Obj = dict[str, Any]
PodKey = tuple[str, str]


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
        # every container's --log-backlog history ends when the kubelet starts
        self.log_settings = LogSettings(log_rate, log_backlog, backlog_until=ctx.clock())
        self.node_images: dict[str, set[str]] = {n.name: set() for n in nodes}
        self.workers: dict[PodKey, PodWorker] = {}
        self._next_ip: dict[str, int] = {n.name: 0 for n in nodes}
        self._used_ips: set[str] = set()
        self.on_pod_gone: Callable[[Obj], None] | None = None

    # -- wiring ----------------------------------------------------------------------------

    def observes(self, pod: Obj) -> bool:
        """Whether a pod is bound to one of this kubelet's nodes."""
        return (pod.get("spec") or {}).get("nodeName") in self.nodes

    def touch(self, worker: PodWorker) -> None:
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
            worker = PodWorker(self, pod, node, self._allocate_ip(node))
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

    def flush(self, worker: PodWorker) -> None:
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

    def _drop(self, worker: PodWorker) -> None:
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

    def _worker(self, namespace: str, pod: str) -> PodWorker | None:
        obj = self.ctx.store.try_get("pods", namespace, pod)
        if obj is None:
            from kubectl_trace.kube.resources import RESOURCES

            raise StoreError.not_found(RESOURCES["pods"], pod)
        worker = self.workers.get((namespace, pod))
        if worker is not None and worker.uid != obj["metadata"]["uid"]:
            return None
        return worker

    def _slot(self, worker: PodWorker, pod: str, container: str) -> Slot:
        slot = worker.slot(container)
        if slot is None:
            raise StoreError.bad_request(f"container {container} is not valid for pod {pod}")
        return slot

    def _hosted(self, namespace: str, pod: str, container: str) -> tuple[PodWorker, Slot]:
        """The worker and the slot of a container of a pod that runs on a node."""
        worker = self._worker(namespace, pod)
        if worker is None:
            raise StoreError.bad_request(f"pod {pod} does not have a host assigned")
        return worker, self._slot(worker, pod, container)

    def container_log(self, namespace: str, pod: str, container: str, *, previous: bool) -> ContainerLog:
        """The current (or previous) instance's log; StoreError 400 when there is none."""
        no_previous = StoreError.bad_request(
            f'previous terminated container "{container}" in pod "{pod}" not found'
        )
        worker = self._worker(namespace, pod)
        if worker is None:
            obj = self.ctx.store.get("pods", namespace, pod)
            names = [c.get("name") for c in (obj.get("spec") or {}).get("containers") or []]
            names += [c.get("name") for c in (obj.get("spec") or {}).get("initContainers") or []]
            if container not in names:
                raise StoreError.bad_request(f"container {container} is not valid for pod {pod}")
            if previous:
                raise no_previous
            return _EmptyLog()
        slot = self._slot(worker, pod, container)
        if previous:
            if len(slot.runs) < 2:
                raise no_previous
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
        worker, slot = self._hosted(namespace, pod, container)
        run = slot.running
        if run is None:
            raise StoreError.bad_request(f'container not found ("{container}")')
        target = worker.target(run.profile, run.style.process, run.env)
        if isinstance(run.process, NodeProcess):  # into the container's own PID namespace
            target = dataclasses.replace(target, enter_pid=run.process.node_pid())
        return target

    def attach_target(self, namespace: str, pod: str, container: str) -> CommandProcess:
        """The running process to attach to (containers that run their command for real)."""
        _, slot = self._hosted(namespace, pod, container)
        run = slot.running
        if run is None or run.process is None:
            raise StoreError.bad_request(f"container {container} not found in pod {pod}")
        return run.process

    def proxy(self, namespace: str, pod: str, port: str, path: str, method: str) -> ProxyAnswer:
        """A request to the pod on ``port`` (a number or a port name)."""
        worker = self._worker(namespace, pod)
        if worker is None:
            raise StoreError(503, "ServiceUnavailable", f'pod "{pod}" has no IP address yet')
        number = worker.port_of(port or "80") if worker.slots else None
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
