"""Probes: what a container declares (``readinessProbe`` …) and how the kubelet reports failures.

The kubelet records a failed probe as a ``Warning`` event with reason ``Unhealthy``, the
container in ``involvedObject.fieldPath`` (``spec.containers{web}``) and a message such as
``Readiness probe failed: HTTP probe failed with statuscode: 503`` (or ``… probe errored: …``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubectl_trace.health._common import as_int, child

__all__ = [
    "PROBE_KINDS",
    "ProbeSpec",
    "parse_probe_message",
    "probe_spec",
    "short_failure",
]

PROBE_KINDS = ("readiness", "liveness", "startup")
_KEYS = {k: f"{k}Probe" for k in PROBE_KINDS}
_MESSAGE = re.compile(r"^(Readiness|Liveness|Startup) probe (?:failed|errored)(?::\s*(.*))?$", re.S)
_STATUS = re.compile(r"statuscode:\s*(\d{3})")


@dataclass(frozen=True)
class ProbeSpec:
    """A declared probe with the kubelet's defaults filled in."""

    kind: str  # readiness, liveness, startup
    handler: str  # http, tcp, exec, grpc, unknown
    scheme: str = "HTTP"
    path: str = ""
    port: str = ""  # a number or a port name, as declared
    command: tuple[str, ...] = ()
    period_seconds: int = 10
    timeout_seconds: int = 1
    failure_threshold: int = 3
    success_threshold: int = 1
    initial_delay_seconds: int = 0

    @property
    def check(self) -> tuple[Any, ...]:
        """What the probe checks, without its timing: equal checks probe the same thing."""
        return (self.handler, self.scheme, self.path, self.port, self.command)

    @property
    def description(self) -> str:
        """``GET :8080/healthz``, ``tcp :5432``, ``exec cat /tmp/ready``, ``grpc :9090``."""
        if self.handler == "http":
            prefix = "GET https://" if self.scheme.upper() == "HTTPS" else "GET "
            return f"{prefix}:{self.port}{self.path}"
        if self.handler == "tcp":
            return f"tcp :{self.port}"
        if self.handler == "grpc":
            return f"grpc :{self.port}"
        if self.handler == "exec":
            return "exec " + " ".join(self.command)
        return "probe"

    @property
    def grace_seconds(self) -> int:
        """How long a healthy container may go without passing this probe after it starts."""
        return self.initial_delay_seconds + self.period_seconds * (self.failure_threshold + 1)


# The same pod dicts are evaluated frame after frame: remember their probes by identity
# (the entry keeps the dict alive, so its id cannot be reused while cached).
_CACHE: dict[tuple[int, str], tuple[Mapping[str, Any], ProbeSpec]] = {}
_CACHE_MAX = 8192


def probe_spec(container: Mapping[str, Any], kind: str) -> ProbeSpec | None:
    """The ``{kind}Probe`` of a container spec, or None when it declares none.

    Objects are read-only snapshots (as the API server sends them): a probe dict is parsed
    once and remembered by identity.
    """
    probe = container.get(_KEYS[kind])
    if probe is None or not (type(probe) is dict or isinstance(probe, Mapping)):
        return None
    key = (id(probe), kind)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is probe:
        return hit[1]
    spec = _parse(probe, kind)
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[key] = (probe, spec)
    return spec


def _parse(probe: Mapping[str, Any], kind: str) -> ProbeSpec:
    get = probe.get
    period = max(1, as_int(get("periodSeconds"), 10))
    timeout = max(1, as_int(get("timeoutSeconds"), 1))
    failure = max(1, as_int(get("failureThreshold"), 3))
    success = max(1, as_int(get("successThreshold"), 1))
    delay = max(0, as_int(get("initialDelaySeconds"), 0))
    handler, scheme, path, port = "unknown", "HTTP", "", ""
    command: tuple[str, ...] = ()
    if http := child(probe, "httpGet"):
        handler = "http"
        scheme = str(http.get("scheme") or "HTTP")
        path = str(http.get("path") or "/")
        path = path if path.startswith("/") else f"/{path}"
        port = str(http.get("port", ""))
    elif tcp := child(probe, "tcpSocket"):
        handler, port = "tcp", str(tcp.get("port", ""))
    elif grpc := child(probe, "grpc"):
        handler, port = "grpc", str(grpc.get("port", ""))
    elif exec_ := child(probe, "exec"):
        handler, command = "exec", tuple(str(c) for c in exec_.get("command") or ())
    return ProbeSpec(kind, handler, scheme, path, port, command, period, timeout, failure, success, delay)


def parse_probe_message(message: str) -> tuple[str, str] | None:
    """``("readiness", "HTTP probe failed with statuscode: 503")`` from an Unhealthy message."""
    match = _MESSAGE.match(message.strip())
    if not match:
        return None
    return match.group(1).lower(), (match.group(2) or "").strip()


def short_failure(detail: str) -> str:
    """A column-sized reason: ``503``, ``refused``, ``timeout``, ``reset`` or ``failed``."""
    if match := _STATUS.search(detail):
        return match.group(1)
    lower = detail.lower()
    if "connection refused" in lower:
        return "refused"
    if "deadline exceeded" in lower or "timeout" in lower or "timed out" in lower:
        return "timeout"
    if "connection reset" in lower or "eof" in lower:
        return "reset"
    return "failed"
