"""``meta.k8s.io/v1`` Table answers with kubectl's usual columns (pure).

Columns and cells follow the API server's printers (``pkg/printers/internalversion``):
the server sends every column with a priority and kubectl shows priority 1 only with
``-o wide``. Ages are computed against the server's clock at answer time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from kubectl_trace.kube.selectors import format_label_selector
from kubectl_trace.sandbox.server.batch_tables import CRONJOB_COLUMNS, JOB_COLUMNS, cronjob_cells, job_cells
from kubectl_trace.timeparse import format_age, parse_rfc3339

__all__ = ["TABLE_RESOURCES", "table", "wants_table"]

Obj = dict[str, Any]
Column = tuple[str, str, int]  # name, type, priority

_NAME: Column = ("Name", "string", 0)
_AGE: Column = ("Age", "string", 0)


def _age(ts: str | None, now: float) -> str:
    if not ts:
        return "<unknown>"
    try:
        seconds = now - parse_rfc3339(ts)
    except ValueError:
        return "<unknown>"
    if seconds < -1:
        return "<invalid>"
    return format_age(seconds)


def _meta(obj: Obj) -> Obj:
    return obj.get("metadata") or {}


def _created(obj: Obj, now: float) -> str:
    return _age(_meta(obj).get("creationTimestamp"), now)


def _containers_cells(template_spec: Obj) -> tuple[str, str]:
    containers = template_spec.get("containers") or []
    return (
        ",".join(str(c.get("name", "")) for c in containers),
        ",".join(str(c.get("image", "")) for c in containers),
    )


# -- pods -------------------------------------------------------------------------------

_POD_COLUMNS: list[Column] = [
    _NAME,
    ("Ready", "string", 0),
    ("Status", "string", 0),
    ("Restarts", "string", 0),
    _AGE,
    ("IP", "string", 1),
    ("Node", "string", 1),
    ("Nominated Node", "string", 1),
    ("Readiness Gates", "string", 1),
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
    meta = _meta(pod)
    row = _PodRow(spec, status)
    initializing, sidecar_restarts, last_sidecar_restart = row.init_containers(spec, status)
    if not initializing or _condition_true(status, "Initialized"):
        row.restarts, row.last_restart = sidecar_restarts, last_sidecar_restart
        row.containers(status)
    if meta.get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            row.reason = "Unknown"
        elif status.get("phase") not in ("Succeeded", "Failed"):
            row.reason = "Terminating"
    ips = status.get("podIPs") or []
    return [
        meta.get("name", ""),
        f"{row.ready}/{row.total}",
        row.reason,
        row.restarts_text(now),
        _created(pod, now),
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


# -- workloads --------------------------------------------------------------------------

_WORKLOAD_WIDE: list[Column] = [
    ("Containers", "string", 1),
    ("Images", "string", 1),
    ("Selector", "string", 1),
]

_DEPLOYMENT_COLUMNS: list[Column] = [
    _NAME,
    ("Ready", "string", 0),
    ("Up-to-date", "string", 0),
    ("Available", "string", 0),
    _AGE,
    *_WORKLOAD_WIDE,
]


def _deployment_cells(obj: Obj, now: float) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    names, images = _containers_cells(((spec.get("template") or {}).get("spec")) or {})
    selector = spec.get("selector")
    return [
        _meta(obj).get("name", ""),
        f"{int(status.get('readyReplicas') or 0)}/{int(spec.get('replicas') or 0)}",
        int(status.get("updatedReplicas") or 0),
        int(status.get("availableReplicas") or 0),
        _created(obj, now),
        names,
        images,
        format_label_selector(selector) if selector is not None else "",
    ]


_REPLICASET_COLUMNS: list[Column] = [
    _NAME,
    ("Desired", "integer", 0),
    ("Current", "integer", 0),
    ("Ready", "integer", 0),
    _AGE,
    *_WORKLOAD_WIDE,
]


def _replicaset_cells(obj: Obj, now: float) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    names, images = _containers_cells(((spec.get("template") or {}).get("spec")) or {})
    selector = spec.get("selector")
    return [
        _meta(obj).get("name", ""),
        int(spec.get("replicas") or 0),
        int(status.get("replicas") or 0),
        int(status.get("readyReplicas") or 0),
        _created(obj, now),
        names,
        images,
        format_label_selector(selector) if selector is not None else "",
    ]


# -- the rest -------------------------------------------------------------------------------

_NAMESPACE_COLUMNS: list[Column] = [_NAME, ("Status", "string", 0), _AGE]


def _namespace_cells(obj: Obj, now: float) -> list[Any]:
    return [_meta(obj).get("name", ""), (obj.get("status") or {}).get("phase", ""), _created(obj, now)]


_NODE_COLUMNS: list[Column] = [
    _NAME,
    ("Status", "string", 0),
    ("Roles", "string", 0),
    _AGE,
    ("Version", "string", 0),
    ("Internal-IP", "string", 1),
    ("External-IP", "string", 1),
    ("OS-Image", "string", 1),
    ("Kernel-Version", "string", 1),
    ("Container-Runtime", "string", 1),
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
    for key, value in (_meta(obj).get("labels") or {}).items():
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
        _meta(obj).get("name", ""),
        ",".join(state),
        ",".join(sorted(roles)) or "<none>",
        _created(obj, now),
        info.get("kubeletVersion", ""),
        address("InternalIP"),
        address("ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


_EVENT_COLUMNS: list[Column] = [
    ("Last Seen", "string", 0),
    ("Type", "string", 0),
    ("Reason", "string", 0),
    ("Object", "string", 0),
    ("Subobject", "string", 1),
    ("Source", "string", 1),
    ("Message", "string", 0),
    ("First Seen", "string", 1),
    ("Count", "string", 1),
    ("Name", "string", 1),
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
        _age(obj.get("firstTimestamp"), now) if obj.get("firstTimestamp") else _age(obj.get("eventTime"), now)
    )
    last = _age(obj.get("lastTimestamp"), now) if obj.get("lastTimestamp") else first
    count = int(obj.get("count") or 0)
    series = obj.get("series")
    if series:
        last = _age(series.get("lastObservedTime"), now)
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
        _meta(obj).get("name", ""),
    ]


_SECRET_COLUMNS: list[Column] = [_NAME, ("Type", "string", 0), ("Data", "string", 0), _AGE]


def _secret_cells(obj: Obj, now: float) -> list[Any]:
    return [_meta(obj).get("name", ""), obj.get("type", ""), len(obj.get("data") or {}), _created(obj, now)]


_SERVICEACCOUNT_COLUMNS: list[Column] = [_NAME, ("Secrets", "string", 0), _AGE]


def _serviceaccount_cells(obj: Obj, now: float) -> list[Any]:
    return [_meta(obj).get("name", ""), len(obj.get("secrets") or []), _created(obj, now)]


_CONFIGMAP_COLUMNS: list[Column] = [_NAME, ("Data", "string", 0), _AGE]


def _configmap_cells(obj: Obj, now: float) -> list[Any]:
    count = len(obj.get("data") or {}) + len(obj.get("binaryData") or {})
    return [_meta(obj).get("name", ""), count, _created(obj, now)]


_SERVICE_COLUMNS: list[Column] = [
    _NAME,
    ("Type", "string", 0),
    ("Cluster-IP", "string", 0),
    ("External-IP", "string", 0),
    ("Port(s)", "string", 0),
    _AGE,
    ("Selector", "string", 1),
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
        _meta(obj).get("name", ""),
        kind,
        ips[0] if ips else "<none>",
        external or "<none>",
        ",".join(ports) or "<none>",
        _created(obj, now),
        ",".join(f"{k}={v}" for k, v in sorted(selector.items())) or "<none>",
    ]


Printer = tuple[list[Column], Callable[[Obj, float], list[Any]]]

TABLE_RESOURCES: dict[str, Printer] = {
    "pods": (_POD_COLUMNS, _pod_cells),
    "deployments": (_DEPLOYMENT_COLUMNS, _deployment_cells),
    "replicasets": (_REPLICASET_COLUMNS, _replicaset_cells),
    "namespaces": (_NAMESPACE_COLUMNS, _namespace_cells),
    "nodes": (_NODE_COLUMNS, _node_cells),
    "events": (_EVENT_COLUMNS, _event_cells),
    "secrets": (_SECRET_COLUMNS, _secret_cells),
    "configmaps": (_CONFIGMAP_COLUMNS, _configmap_cells),
    "serviceaccounts": (_SERVICEACCOUNT_COLUMNS, _serviceaccount_cells),
    "services": (_SERVICE_COLUMNS, _service_cells),
    "jobs": (JOB_COLUMNS, job_cells),
    "cronjobs": (CRONJOB_COLUMNS, cronjob_cells),
}


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
    columns, cells = TABLE_RESOURCES.get(resource, ([_NAME, _AGE], _default_cells))
    rows = []
    for obj in objects:
        row: Obj = {"cells": cells(obj, now)}
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
        "columnDefinitions": _column_definitions(columns) if headers else [],
        "rows": rows,
    }


def _default_cells(obj: Obj, now: float) -> list[Any]:
    return [_meta(obj).get("name", ""), _created(obj, now)]
