"""The contract between the sandbox's API server and the cluster it serves.

The HTTP layer (discovery, REST, watch, logs, exec, proxy, faults) reads and writes the
``Store`` and asks a ``PodRuntime`` for what only a kubelet knows: container logs, where
and with what environment to exec, what a container answers on a port. The simulated
cluster (controllers, kubelet, images, demo fixture) implements ``Cluster``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from kubectl_trace.sandbox.store import Store

if TYPE_CHECKING:
    from kubectl_trace.sandbox.podbox import ExecTarget

__all__ = [
    "Cluster",
    "ContainerLog",
    "PodRuntime",
    "ProxyAnswer",
    "SandboxOptions",
]


@dataclass(frozen=True)
class SandboxOptions:
    """How a sandbox runs (``sandbox up`` flags)."""

    host: str = "127.0.0.1"
    port: int = 0
    time_scale: float = 1.0  # multiplies every simulated delay: 0.1 = ten times faster
    log_rate: float = 2.0  # log lines per second per container
    log_backlog: int = 0  # lines of history each container has at start
    fixture: str = "demo"  # "demo" or "empty"
    state_dir: str = ""
    extra_images: dict[str, str] = field(default_factory=dict)  # tag → fault, on top of the defaults
    containers: str = "auto"  # node (real Node.js processes), simulated, auto (node when found)


class ContainerLog(Protocol):
    """The log of one container instance (one run), as a kubelet keeps it.

    Lines are indexed from 0; their timestamps never decrease. ``line_count(now)`` grows
    as time passes while the instance runs and is final once ``finished`` is True.

    The cluster's logs (``instancelog.InstanceLog``) also offer two optional fast paths a server
    may use when present (``hasattr``): ``lines(start, stop) -> [(t, text)]`` and
    ``chunk(start, stop, *, timestamps) -> bytes`` (newline-terminated lines, with the
    kubelet's ``format_rfc3339_nano`` prefix and a space when ``timestamps``; the
    ``--log-backlog`` history comes pre-rendered from it).
    """

    @property
    def finished(self) -> bool:
        """The instance has ended: no more lines will be added."""
        ...

    def line_count(self, now: float) -> int:
        """How many lines exist at time ``now``."""
        ...

    def line(self, index: int) -> tuple[float, str]:
        """Line ``index``: (epoch seconds, text without the newline)."""
        ...

    def first_index_at(self, t: float) -> int:
        """Index of the first line with timestamp >= ``t`` (``line_count`` if none yet)."""
        ...

    def next_line_time(self, now: float) -> float | None:
        """When the next line after ``now`` is due; None when none is scheduled."""
        ...

    async def wait(self, timeout: float | None) -> None:
        """Return when the log changed out of schedule (ended, lines appended) or on timeout."""
        ...


@dataclass(frozen=True)
class ProxyAnswer:
    """What a container answered through ``pods/proxy``."""

    status: int
    body: bytes
    content_type: str = "application/json"


class PodRuntime(Protocol):
    """What the kubelet knows. Errors are ``StoreError`` with the API server's wording."""

    def container_log(self, namespace: str, pod: str, container: str, *, previous: bool) -> ContainerLog:
        """The current (or previous) instance's log; StoreError 400 when there is none."""
        ...

    def exec_target(self, namespace: str, pod: str, container: str) -> ExecTarget:
        """Where to run an exec; StoreError 400 when the container is not running."""
        ...

    def proxy(self, namespace: str, pod: str, port: str, path: str, method: str) -> ProxyAnswer:
        """A request to the pod on ``port`` (a number or a port name)."""
        ...

    def kill(self, namespace: str, pod: str, container: str | None) -> None:
        """Fault: kill the container(s) now (exit 137, OOMKilled), as the kernel would."""
        ...

    def mark_image(self, tag: str, fault: str | None) -> None:
        """Fault: images with this tag behave per ``fault`` (one of ``images.FAULTS``)."""
        ...

    def image_faults(self) -> dict[str, str]:
        """Tag → fault of every marked image."""
        ...


class Cluster(Protocol):
    """The simulated cluster behind the API server."""

    store: Store
    runtime: PodRuntime

    async def start(self) -> None:
        """Create the fixture and start the controllers and the kubelet."""
        ...

    async def stop(self) -> None:
        """Stop every task and process the cluster started."""
        ...
