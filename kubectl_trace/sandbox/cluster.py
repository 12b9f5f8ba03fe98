"""Build the simulated cluster for a sandbox: store, nodes, controllers, kubelet, fixture.

Everything runs on the sandbox's one event loop: store changes feed the controllers'
work queues (``controllers.queue.Reconciler``); every delay is a timer on one heap
(``timescale.Scheduler``), scaled by ``--time-scale``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from kubectl_trace.sandbox.controllers import Context
from kubectl_trace.sandbox.controllers.cronjob import CronJobController, owning_cronjob
from kubectl_trace.sandbox.controllers.deployment import DeploymentController
from kubectl_trace.sandbox.controllers.deployment_status import deployment_complete
from kubectl_trace.sandbox.controllers.gc import GarbageCollector
from kubectl_trace.sandbox.controllers.job import JobController, owning_job, prepare_job
from kubectl_trace.sandbox.controllers.queue import OwnerIndex, Reconciler
from kubectl_trace.sandbox.controllers.replicaset import ReplicaSetController, owning_replicaset
from kubectl_trace.sandbox.controllers.scheduler import PodScheduler
from kubectl_trace.sandbox.controllers.serviceaccounts import ServiceAccountsController
from kubectl_trace.sandbox.controllers.ttl import TTLController
from kubectl_trace.sandbox.controllers.util import controller_of
from kubectl_trace.sandbox.execenv import ExecEnvironments
from kubectl_trace.sandbox.fixture import create_fixture, create_namespaces, fixture_images
from kubectl_trace.sandbox.images import Images
from kubectl_trace.sandbox.interfaces import SandboxOptions
from kubectl_trace.sandbox.kubelet import Kubelet, NodeInfo
from kubectl_trace.sandbox.recorder import EventRecorder
from kubectl_trace.sandbox.store import Change, Store, rfc3339
from kubectl_trace.sandbox.timescale import Scheduler, TimeScale

__all__ = ["NODES", "SandboxCluster", "build_cluster"]

log = logging.getLogger(__name__)

Obj = dict[str, Any]

NODES = (
    NodeInfo("sandbox-node-1", "172.18.0.2", (244, 0)),
    NodeInfo("sandbox-node-2", "172.18.0.3", (244, 64)),
)


def _node_object(node: NodeInfo, index: int, now: float) -> Obj:
    stamp = rfc3339(now)
    boot = rfc3339(now - 30 * 86_400)

    def cond(type_: str, status: str, reason: str, message: str) -> Obj:
        return {
            "type": type_,
            "status": status,
            "lastHeartbeatTime": stamp,
            "lastTransitionTime": boot,
            "reason": reason,
            "message": message,
        }

    capacity = {
        "cpu": "8",
        "memory": "32863744Ki",
        "pods": "2500",
        "ephemeral-storage": "102626232Ki",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
    }
    allocatable = {**capacity, "cpu": "7800m", "memory": "31815168Ki", "ephemeral-storage": "94580335255"}
    a, b = node.pod_prefix
    return {
        "metadata": {
            "name": node.name,
            "labels": {
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": node.name,
                "kubernetes.io/os": "linux",
                "node.kubernetes.io/instance-type": "sandbox",
                "topology.kubernetes.io/zone": f"sandbox-{'ab'[index % 2]}",
            },
            "annotations": {
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
            "creationTimestamp": boot,
        },
        "spec": {
            "podCIDR": f"10.{a}.{b}.0/18",
            "podCIDRs": [f"10.{a}.{b}.0/18"],
            "providerID": f"sandbox://{node.name}",
        },
        "status": {
            "capacity": capacity,
            "allocatable": allocatable,
            "conditions": [
                cond(
                    "MemoryPressure",
                    "False",
                    "KubeletHasSufficientMemory",
                    "kubelet has sufficient memory available",
                ),
                cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                cond(
                    "PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"
                ),
                cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ],
            "addresses": [
                {"type": "InternalIP", "address": node.host_ip},
                {"type": "Hostname", "address": node.name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": f"{index + 1:032x}",
                "systemUUID": f"{index + 1:08x}-5a4d-4b1e-8c0e-sandbox{index + 1:05d}"[:36],
                "bootID": f"{index + 7:08x}-0000-4000-8000-000000000000",
                "kernelVersion": "6.8.0-sandbox",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "containerRuntimeVersion": "containerd://1.7.22",
                "kubeletVersion": "v1.37.1",
                "kubeProxyVersion": "",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        },
    }


class SandboxCluster:
    """The simulated cluster behind the API server (``interfaces.Cluster``)."""

    def __init__(self, options: SandboxOptions) -> None:
        self.options = options
        self.store = Store()
        self.scale = TimeScale(options.time_scale if options.time_scale > 0 else 1.0)
        self.errors: list[str] = []
        self.timers = Scheduler(self.scale, on_error=self._timer_error)
        self.queue = Reconciler(on_error=self._queue_error)
        self.index = OwnerIndex()
        self.recorder = EventRecorder(self.store)
        self.ctx = Context(self.store, self.recorder, self.queue, self.index, self.timers, self.scale)
        self.images = Images(options.extra_images)
        if options.state_dir:
            self._root = Path(options.state_dir) / "cluster"
            self._own_root = False
        else:
            self._root = Path(tempfile.mkdtemp(prefix="nodeapp-sandbox-"))
            self._own_root = True
        from kubectl_trace.sandbox.nodejs import choose_containers

        self.containers, self.node = choose_containers(options.containers)
        self.containers_description = self.node.describe() if self.node is not None else "simulated"
        self.envs = ExecEnvironments(str(self._root), node=self.node)
        self.kubelet = Kubelet(
            self.ctx,
            self.images,
            self.envs,
            list(NODES),
            log_rate=options.log_rate,
            log_backlog=options.log_backlog,
            node=self.node,
        )
        self.runtime = self.kubelet
        self.scheduler = PodScheduler(self.ctx, [n.name for n in NODES])
        self.replicasets = ReplicaSetController(self.ctx)
        self.deployments = DeploymentController(self.ctx)
        self.gc = GarbageCollector(self.ctx)
        self.jobs = JobController(self.ctx)
        self.cronjobs = CronJobController(self.ctx)
        self.ttl = TTLController(self.ctx)
        self.store.create_hooks["jobs"] = prepare_job
        # priority order: deletions, binding, kubelet status, ReplicaSets, Deployments, Jobs,
        # CronJobs, finished-Job TTLs
        self.queue.add_queue(GarbageCollector.QUEUE, self.gc.sync)
        self.serviceaccounts = ServiceAccountsController(self.ctx)
        self.queue.add_queue(ServiceAccountsController.QUEUE, self.serviceaccounts.sync)
        self.queue.add_queue(PodScheduler.QUEUE, self.scheduler.sync)
        self.queue.add_queue(Kubelet.QUEUE, self.kubelet.sync)
        self.queue.add_queue(ReplicaSetController.QUEUE, self.replicasets.sync)
        self.queue.add_queue(DeploymentController.QUEUE, self.deployments.sync)
        self.queue.add_queue(JobController.QUEUE, self.jobs.sync)
        self.queue.add_queue(CronJobController.QUEUE, self.cronjobs.sync)
        self.queue.add_queue(TTLController.QUEUE, self.ttl.sync)
        self._unsubscribe = self.store.subscribe(self._on_change)
        self._housekeeping: asyncio.Task[None] | None = None
        self._started = False

    # -- errors ----------------------------------------------------------------------------

    def _timer_error(self, exc: BaseException) -> None:
        log.error("sandbox timer failed: %r", exc, exc_info=exc)
        self.errors.append(f"timer: {exc!r}")

    def _queue_error(self, queue: str, exc: BaseException) -> None:
        self.errors.append(f"{queue}: {exc!r}")

    # -- routing store changes ---------------------------------------------------------------

    def _on_change(self, change: Change) -> None:
        self.index.update(change)
        self.gc.observe(change)
        self.serviceaccounts.observe(change)
        obj = change.object
        meta = obj.get("metadata", {})
        ns = meta.get("namespace", "")
        name = meta.get("name", "")
        queue = self.queue
        resource = change.resource
        if resource == "pods":
            if change.type == "DELETED":
                self.scheduler.forget(obj)
                if (ns, name) in self.kubelet.workers:
                    queue.enqueue(Kubelet.QUEUE, ("pod", ns, name))
            elif self.scheduler.wants(obj):
                queue.enqueue(PodScheduler.QUEUE, (ns, name))
            elif self.kubelet.observes(obj) and self._pod_needs_kubelet(change):
                queue.enqueue(Kubelet.QUEUE, ("pod", ns, name))
            owner = owning_replicaset(obj)
            if owner is not None and self._pod_matters_to_rs(change):
                queue.enqueue(ReplicaSetController.QUEUE, owner)
            job = owning_job(obj)
            if job is not None and self._pod_matters_to_rs(change):
                queue.enqueue(JobController.QUEUE, job)
        elif resource == "replicasets":
            queue.enqueue(ReplicaSetController.QUEUE, (ns, name))
            ref = controller_of(obj)
            if ref is not None and ref.get("kind") == "Deployment":
                queue.enqueue(DeploymentController.QUEUE, (ns, ref.get("name", "")))
        elif resource == "deployments" and change.type != "DELETED":
            queue.enqueue(DeploymentController.QUEUE, (ns, name))
        elif resource in ("jobs", "cronjobs"):
            self._on_batch_change(change, (ns, name))

    def _on_batch_change(self, change: Change, key: tuple[str, str]) -> None:
        queue = self.queue
        if change.resource == "cronjobs":
            if change.type == "DELETED":
                self.cronjobs.forget(key)
            else:
                queue.enqueue(CronJobController.QUEUE, key)
            return
        if change.type == "DELETED":
            self.jobs.forget(change.object)
            self.ttl.forget(key)
        else:
            queue.enqueue(JobController.QUEUE, key)
            queue.enqueue(TTLController.QUEUE, key)
        cronjob = owning_cronjob(change.object)
        if cronjob is not None:
            queue.enqueue(CronJobController.QUEUE, cronjob)

    @staticmethod
    def _pod_needs_kubelet(change: Change) -> bool:
        """Only metadata/spec changes concern the kubelet (not its own status writes)."""
        if change.type == "ADDED" or change.previous is None:
            return True
        old, new = change.previous, change.object
        if old.get("spec") != new.get("spec"):
            return True
        return bool(old["metadata"].get("deletionTimestamp") != new["metadata"].get("deletionTimestamp"))

    @staticmethod
    def _pod_matters_to_rs(change: Change) -> bool:
        if change.type != "MODIFIED" or change.previous is None:
            return True
        old, new = change.previous, change.object
        if old["metadata"].get("deletionTimestamp") != new["metadata"].get("deletionTimestamp"):
            return True
        if old["metadata"].get("labels") != new["metadata"].get("labels"):
            return True
        old_status, new_status = old.get("status") or {}, new.get("status") or {}
        if old_status.get("phase") != new_status.get("phase"):
            return True
        if (old.get("spec") or {}).get("nodeName") != (new.get("spec") or {}).get("nodeName"):
            return True

        def ready(status: Obj) -> tuple[str | None, str | None]:
            for cond in status.get("conditions") or []:
                if cond.get("type") == "Ready":
                    return cond.get("status"), cond.get("lastTransitionTime")
            return None, None

        if ready(old_status) != ready(new_status):
            return True
        restarts = [c.get("restartCount") for c in old_status.get("containerStatuses") or []]
        return restarts != [c.get("restartCount") for c in new_status.get("containerStatuses") or []]

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Create nodes, namespaces and the fixture; start the controllers and the kubelet."""
        if self._started:
            return
        self._started = True
        loop = asyncio.get_running_loop()
        self.timers.attach(loop)
        self.queue.attach(loop)
        now = time.time()
        for index, node in enumerate(NODES):
            self.store.create("nodes", _node_object(node, index, now))
        create_namespaces(self.store, now)
        if self.options.fixture != "empty":
            for image in fixture_images():
                for cached in self.kubelet.node_images.values():
                    cached.add(image)
            create_fixture(self.store, now)
        self.queue.drain()
        self._housekeeping = asyncio.create_task(self._housekeep())
        if self.options.fixture != "empty":
            # a cluster one connects to already runs its apps: return once they are up
            # (a few simulated seconds: sandbox, start-up, first readiness probe)
            await self.settled(timeout=max(5.0, 30 * self.scale.factor))
        # the cluster's past is compacted: a watch or continue token from before now gets 410
        self.store.compact()

    async def stop(self) -> None:
        """Stop every timer and task; end every container; remove scratch files."""
        self._unsubscribe()
        self.timers.stop()
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._housekeeping
            self._housekeeping = None
        self.kubelet.stop()
        await self.envs.aclose()
        if self._own_root:
            shutil.rmtree(self._root, ignore_errors=True)
        else:
            shutil.rmtree(self._root / "pods", ignore_errors=True)

    async def _housekeep(self) -> None:
        while True:
            await asyncio.sleep(30)
            try:
                self.recorder.prune()
                self._heartbeat()
            except Exception as exc:  # housekeeping must never end the sandbox
                log.exception("sandbox housekeeping failed")
                self.errors.append(f"housekeeping: {exc!r}")

    def _heartbeat(self) -> None:
        stamp = rfc3339(time.time())
        for node in NODES:

            def beat(draft: Obj) -> None:
                for cond in draft["status"].get("conditions") or []:
                    cond["lastHeartbeatTime"] = stamp

            if self.store.try_get("nodes", None, node.name) is not None:
                self.store.mutate("nodes", None, node.name, beat)

    # -- conveniences for the CLI, tests and benchmarks ----------------------------------------

    def rollouts_complete(self, namespace: str | None = None) -> bool:
        """Every Deployment (of a namespace) has completed its rollout."""
        for d in self.store.list("deployments", namespace):
            if not deployment_complete(d, d.get("status") or {}):
                return False
        return True

    async def settled(self, timeout: float = 60.0, namespace: str | None = None) -> bool:
        """Wait until every Deployment has completed its rollout (True) or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.queue.idle() and self.rollouts_complete(namespace):
                return True
            await asyncio.sleep(0.05)
        return False


def build_cluster(options: SandboxOptions) -> SandboxCluster:
    """The cluster a sandbox serves."""
    return SandboxCluster(options)
