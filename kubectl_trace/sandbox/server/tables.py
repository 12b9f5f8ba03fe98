"""``meta.k8s.io/v1`` Table answers with kubectl's usual columns (pure).

Columns and cells follow the API server's printers (``pkg/printers/internalversion``):
the server sends every column with a priority and kubectl shows priority 1 only with
``-o wide``. Ages are computed against the server's clock at answer time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubectl_trace.sandbox.server.table_columns import (
    AGE,
    NAME,
    Column,
    Field,
    Printer,
    age,
    created,
    meta,
    named_printer,
)
from kubectl_trace.sandbox.server.workload_tables import CRONJOBS, DEPLOYMENTS, JOBS, REPLICASETS
from kubectl_trace.timeparse import format_age, parse_rfc3339

__all__ = ["TABLE_RESOURCES", "table", "wants_table"]

Obj = dict[str, Any]


# -- pods -------------------------------------------------------------------------------

_POD_COLUMNS = [
    NAME,
    Column("Ready"),
    Column("Status"),
    Column("Restarts"),
    AGE,
    *(Column(name, priority=1) for name in ("IP", "Node", "Nominated Node", "Readiness Gates")),
]


def _is_restartable_init(container: Obj | None) -> bool:
    return bool(container) and (container or {}).get("restartPolicy") == "Always"


def _finished_at(cs: Obj) -> float:
    term = (cs.get("lastState") or {}).get("terminated")
    if term and term.get("finishedAt"):
        try:
            return parse_rfc3339(term["finishedAt"])
        except ValueError:
            return 0.0
    return 0.0


def _exit_text(term: Obj) -> str:
    """``Signal:N`` or ``ExitCode:N`` of a terminated state without a reason."""
    return f"Signal:{term['signal']}" if term.get("signal") else f"ExitCode:{int(term.get('exitCode') or 0)}"


def _condition_true(status: Obj, type_: str) -> bool:
    return any(c.get("type") == type_ and c.get("status") == "True" for c in status.get("conditions") or [])


class _PodRow:
    """The READY, STATUS and RESTARTS of a pod, as kubectl's ``printPod`` works them out."""

    def __init__(self, spec: Obj, status: Obj) -> None:
        self.total = len(spec.get("containers") or [])
        self.ready = 0
        self.restarts = 0
        self.last_restart = 0.0
        phase = status.get("phase") or ""
        self.reason = status.get("reason") or phase
        for cond in status.get("conditions") or []:
            if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
                self.reason = "SchedulingGated"

    def count_restarts(self, cs: Obj) -> None:
        self.restarts += int(cs.get("restartCount") or 0)
        self.last_restart = max(self.last_restart, _finished_at(cs))

    def init_containers(self, spec: Obj, status: Obj) -> tuple[bool, int, float]:
        """Walk the init containers: (still initializing, sidecar restarts, last sidecar restart)."""
        init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}
        self.total += sum(1 for c in init_specs.values() if _is_restartable_init(c))
        sidecar_restarts, last_sidecar_restart = 0, 0.0
        for i, cs in enumerate(status.get("initContainerStatuses") or []):
            self.count_restarts(cs)
            sidecar = _is_restartable_init(init_specs.get(cs.get("name")))
            if sidecar:
                sidecar_restarts += int(cs.get("restartCount") or 0)
                last_sidecar_restart = max(last_sidecar_restart, _finished_at(cs))
            state = cs.get("state") or {}
            term, waiting = state.get("terminated"), state.get("waiting")
            if term is not None and int(term.get("exitCode") or 0) == 0:
                continue
            if sidecar and cs.get("started"):
                self.ready += 1 if cs.get("ready") else 0
                continue
            if term is not None:
                self.reason = "Init:" + (term.get("reason") or _exit_text(term))
            elif waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing":
                self.reason = "Init:" + waiting["reason"]
            else:
                self.reason = f"Init:{i}/{len(init_specs)}"
            return True, sidecar_restarts, last_sidecar_restart
        return False, sidecar_restarts, last_sidecar_restart

    def containers(self, status: Obj) -> None:
        """Walk the app containers (the last one with something to say sets STATUS)."""
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            self.count_restarts(cs)
            state = cs.get("state") or {}
            waiting, term = state.get("waiting"), state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                self.reason = waiting["reason"]
            elif term is not None:
                self.reason = term.get("reason") or _exit_text(term)
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                self.ready += 1
        if self.reason == "Completed" and has_running:
            self.reason = "Running" if _condition_true(status, "Ready") else "NotReady"

    def restarts_text(self, now: float) -> str:
        if self.restarts and self.last_restart:
            return f"{self.restarts} ({format_age(max(0.0, now - self.last_restart))} ago)"
        return str(self.restarts)


def _readiness_gates(spec: Obj, status: Obj) -> str:
    gates = spec.get("readinessGates") or []
    if not gates:
        return "<none>"
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    true_count = sum(1 for g in gates if conditions.get(g.get("conditionType")) == "True")
    return f"{true_count}/{len(gates)}"


def _pod_cells(pod: Obj, now: float) -> list[Any]:
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    metadata = meta(pod)
    row = _PodRow(spec, status)
    initializing, sidecar_restarts, last_sidecar_restart = row.init_containers(spec, status)
    if not initializing or _condition_true(status, "Initialized"):
        row.restarts, row.last_restart = sidecar_restarts, last_sidecar_restart
        row.containers(status)
    if metadata.get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            row.reason = "Unknown"
        elif status.get("phase") not in ("Succeeded", "Failed"):
            row.reason = "Terminating"
    ips = status.get("podIPs") or []
    return [
        metadata.get("name", ""),
        f"{row.ready}/{row.total}",
        row.reason,
        row.restarts_text(now),
        created(pod, now),
        (ips[0].get("ip") if ips else None) or "<none>",
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        _readiness_gates(spec, status),
    ]


def _pod_conditions(pod: Obj) -> list[Obj] | None:
    phase = (pod.get("status") or {}).get("phase")
    if phase == "Succeeded":
        return [
            {
                "type": "Completed",
                "status": "True",
                "reason": "Succeeded",
                "message": "The pod has completed successfully.",
            }
        ]
    if phase == "Failed":
        return [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]
    return None


# -- the rest -------------------------------------------------------------------------------

_NAMESPACES = named_printer(Field(Column("Status"), lambda o, now: (o.get("status") or {}).get("phase", "")))

_SECRETS = named_printer(
    Field(Column("Type"), lambda o, now: o.get("type", "")),
    Field(Column("Data"), lambda o, now: len(o.get("data") or {})),
)

_SERVICEACCOUNTS = named_printer(Field(Column("Secrets"), lambda o, now: len(o.get("secrets") or [])))

_CONFIGMAPS = named_printer(
    Field(Column("Data"), lambda o, now: len(o.get("data") or {}) + len(o.get("binaryData") or {}))
)

_NODE_COLUMNS = [
    NAME,
    Column("Status"),
    Column("Roles"),
    AGE,
    Column("Version"),
    *(
        Column(name, priority=1)
        for name in ("Internal-IP", "External-IP", "OS-Image", "Kernel-Version", "Container-Runtime")
    ),
]


def _node_cells(obj: Obj, now: float) -> list[Any]:
    status = obj.get("status") or {}
    state: list[str] = []
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Ready":
            state.append("Ready" if cond.get("status") == "True" else "NotReady")
    if not state:
        state.append("Unknown")
    if (obj.get("spec") or {}).get("unschedulable"):
        state.append("SchedulingDisabled")
    roles = set()
    for key, value in (meta(obj).get("labels") or {}).items():
        if key.startswith("node-role.kubernetes.io/") and key != "node-role.kubernetes.io/":
            roles.add(key.split("/", 1)[1])
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    info = status.get("nodeInfo") or {}

    def address(kind: str) -> str:
        for addr in status.get("addresses") or []:
            if addr.get("type") == kind:
                return str(addr.get("address", ""))
        return "<none>"

    return [
        meta(obj).get("name", ""),
        ",".join(state),
        ",".join(sorted(roles)) or "<none>",
        created(obj, now),
        info.get("kubeletVersion", ""),
        address("InternalIP"),
        address("ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


_EVENT_COLUMNS = [
    *(Column(name) for name in ("Last Seen", "Type", "Reason", "Object")),
    Column("Subobject", priority=1),
    Column("Source", priority=1),
    Column("Message"),
    *(Column(name, priority=1) for name in ("First Seen", "Count", "Name")),
]


def _event_source(obj: Obj) -> str:
    source = obj.get("source") or {}
    component = source.get("component") or obj.get("reportingComponent") or ""
    host = source.get("host") or obj.get("reportingInstance") or ""
    if component and host:
        return f"{component}, {host}"
    return component or host


def _event_cells(obj: Obj, now: float) -> list[Any]:
    first = (
        age(obj.get("firstTimestamp"), now) if obj.get("firstTimestamp") else age(obj.get("eventTime"), now)
    )
    last = age(obj.get("lastTimestamp"), now) if obj.get("lastTimestamp") else first
    count = int(obj.get("count") or 0)
    series = obj.get("series")
    if series:
        last = age(series.get("lastObservedTime"), now)
        count = int(series.get("count") or 0)
    elif count == 0:
        count = 1
    involved = obj.get("involvedObject") or {}
    kind = str(involved.get("kind", "")).lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    return [
        last,
        obj.get("type", ""),
        obj.get("reason", ""),
        target,
        involved.get("fieldPath", ""),
        _event_source(obj),
        str(obj.get("message", "")).strip(),
        first,
        count,
        meta(obj).get("name", ""),
    ]


_SERVICE_COLUMNS = [
    NAME,
    *(Column(name) for name in ("Type", "Cluster-IP", "External-IP", "Port(s)")),
    AGE,
    Column("Selector", priority=1),
]


def _service_cells(obj: Obj, now: float) -> list[Any]:
    spec = obj.get("spec") or {}
    kind = spec.get("type") or "ClusterIP"
    ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    external = ",".join(spec.get("externalIPs") or [])
    if kind == "LoadBalancer":
        ingress = ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        lb = [i.get("ip") or i.get("hostname") for i in ingress if i.get("ip") or i.get("hostname")]
        external = ",".join([*lb, *(spec.get("externalIPs") or [])]) or "<pending>"
    elif kind == "ExternalName":
        external = spec.get("externalName", "")
    ports = []
    for port in spec.get("ports") or []:
        proto = port.get("protocol") or "TCP"
        if port.get("nodePort"):
            ports.append(f"{port.get('port')}:{port['nodePort']}/{proto}")
        else:
            ports.append(f"{port.get('port')}/{proto}")
    selector = spec.get("selector") or {}
    return [
        meta(obj).get("name", ""),
        kind,
        ips[0] if ips else "<none>",
        external or "<none>",
        ",".join(ports) or "<none>",
        created(obj, now),
        ",".join(f"{k}={v}" for k, v in sorted(selector.items())) or "<none>",
    ]


TABLE_RESOURCES: dict[str, Printer] = {
    "pods": Printer(_POD_COLUMNS, _pod_cells),
    "deployments": DEPLOYMENTS,
    "replicasets": REPLICASETS,
    "namespaces": _NAMESPACES,
    "nodes": Printer(_NODE_COLUMNS, _node_cells),
    "events": Printer(_EVENT_COLUMNS, _event_cells),
    "secrets": _SECRETS,
    "configmaps": _CONFIGMAPS,
    "serviceaccounts": _SERVICEACCOUNTS,
    "services": Printer(_SERVICE_COLUMNS, _service_cells),
    "jobs": JOBS,
    "cronjobs": CRONJOBS,
}
_DEFAULT = named_printer()  # resources without a printer: NAME and AGE


def wants_table(accept: str | None) -> bool:
    """Whether the client asked for ``as=Table`` (kubectl's human output does)."""
    return bool(accept) and "as=Table" in (accept or "")


def _column_definitions(columns: list[Column]) -> list[Obj]:
    out = []
    for name, kind, priority in columns:
        definition: Obj = {"name": name, "type": kind, "format": "", "description": "", "priority": priority}
        if name == "Name" and priority == 0:
            definition["format"] = "name"
        out.append(definition)
    return out


def table(
    resource: str,
    objects: Iterable[Obj],
    *,
    now: float,
    resource_version: str | None = None,
    include_object: str = "Metadata",
    headers: bool = True,
) -> Obj:
    """A ``Table`` of ``objects``; resources without a printer get Name and Age."""
    printer = TABLE_RESOURCES.get(resource, _DEFAULT)
    rows = []
    for obj in objects:
        row: Obj = {"cells": printer.cells(obj, now)}
        if resource == "pods":
            conditions = _pod_conditions(obj)
            if conditions:
                row["conditions"] = conditions
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": obj.get("metadata") or {},
            }
        rows.append(row)
    metadata: Obj = {}
    if resource_version is not None:
        metadata["resourceVersion"] = resource_version
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": _column_definitions(printer.columns) if headers else [],
        "rows": rows,
    }
