"""``metrics.k8s.io/v1beta1``: PodMetrics and NodeMetrics, as metrics-server serves them.

``kubectl top pods|nodes`` and our ``status`` read these. Figures come from
``sandbox.usage`` (plausible, slowly moving numbers for simulated containers). Containers
whose commands were exec'd do not change them: the figures stay simulated.

Served paths: the discovery document ``/apis/metrics.k8s.io/v1beta1``, ``pods`` and
``nodes`` lists (``labelSelector`` honoured), ``namespaces/NS/pods[/NAME]`` and
``nodes/NAME``. Only pods with running containers have metrics (404 otherwise).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from kubectl_trace.kube.selectors import SelectorError, match_labels, parse_label_selector
from kubectl_trace.sandbox.server.responses import json_response
from kubectl_trace.sandbox.store import StoreError, rfc3339

if TYPE_CHECKING:
    from kubectl_trace.sandbox.server.api import ApiServer

__all__ = ["GROUP", "GROUP_VERSION", "metrics_discovery", "serve_metrics"]

GROUP = "metrics.k8s.io"
GROUP_VERSION = f"{GROUP}/v1beta1"
PREFIX = f"/apis/{GROUP_VERSION}"
_WINDOW = "15s"
_NODE_OVERHEAD = (180.0, 900 * 2**20)  # system daemons and the kubelet itself

Obj = dict[str, Any]


def group_entry() -> Obj:
    """The group's entry in ``/apis``."""
    version = {"groupVersion": GROUP_VERSION, "version": "v1beta1"}
    return {"name": GROUP, "versions": [version], "preferredVersion": version}


def metrics_discovery() -> Obj:
    """The ``APIResourceList`` at ``/apis/metrics.k8s.io/v1beta1``."""
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": GROUP_VERSION,
        "resources": [
            {
                "name": "nodes",
                "singularName": "",
                "namespaced": False,
                "kind": "NodeMetrics",
                "verbs": ["get", "list"],
            },
            {
                "name": "pods",
                "singularName": "",
                "namespaced": True,
                "kind": "PodMetrics",
                "verbs": ["get", "list"],
            },
        ],
    }


def _not_found(kind: str, name: str) -> StoreError:
    return StoreError(
        404,
        "NotFound",
        f'{kind}.{GROUP} "{name}" not found',
        details={"name": name, "group": GROUP, "kind": kind},
    )


def _cpu(millicores: float) -> str:
    return f"{round(millicores * 1_000_000)}n"


def _memory(size: int) -> str:
    return f"{size // 1024}Ki"


def _container_usages(api: ApiServer, pod: Obj, now: float) -> list[tuple[str, float, int]]:
    from kubectl_trace.sandbox.images import parse_image
    from kubectl_trace.sandbox.usage import container_usage
    from kubectl_trace.timeparse import parse_rfc3339

    spec_by_name = {c.get("name"): c for c in (pod.get("spec") or {}).get("containers") or []}
    faults = api.runtime.image_faults()
    measure = getattr(api.runtime, "measured_usage", None) or (lambda namespace, pod, container: None)
    out: list[tuple[str, float, int]] = []
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        running = (status.get("state") or {}).get("running")
        spec = spec_by_name.get(status.get("name"))
        if not running or spec is None:
            continue
        try:
            started = parse_rfc3339(running.get("startedAt") or "")
        except ValueError:
            started = now
        measured = measure(pod["metadata"].get("namespace", ""), pod["metadata"]["name"], status.get("name"))
        if measured is not None:  # a real process: its /proc figures
            out.append((str(status.get("name")), measured.cpu_millicores, measured.memory_bytes))
            continue
        env = {e.get("name"): e.get("value") for e in spec.get("env") or [] if isinstance(e, dict)}
        process = env.get("PROCESS_TYPE") or spec.get("name") or "web"
        ref = parse_image(spec.get("image") or "")
        usage = container_usage(
            key=f"{pod['metadata'].get('uid', '')}/{spec.get('name')}",
            resources=spec.get("resources"),
            process=process if process in ("web", "worker", "clock") else "web",
            log_rate=api.options.log_rate,
            now=now,
            started=started,
            fault=faults.get(ref.tag) if ref is not None else None,
            time_factor=api.options.time_scale,
        )
        out.append((str(status.get("name")), usage.cpu_millicores, usage.memory_bytes))
    return out


def _metadata(obj: Obj, now: float) -> Obj:
    meta = obj["metadata"]
    out: Obj = {"name": meta["name"], "creationTimestamp": rfc3339(now)}
    if meta.get("namespace"):
        out["namespace"] = meta["namespace"]
    if meta.get("labels"):
        out["labels"] = dict(meta["labels"])
    return out


def pod_metrics(api: ApiServer, pod: Obj, now: float) -> Obj | None:
    """The PodMetrics of one pod, or None when none of its containers runs."""
    usages = _container_usages(api, pod, now)
    if not usages:
        return None
    return {
        "kind": "PodMetrics",
        "apiVersion": GROUP_VERSION,
        "metadata": _metadata(pod, now),
        "timestamp": rfc3339(now),
        "window": _WINDOW,
        "containers": [
            {"name": name, "usage": {"cpu": _cpu(cpu), "memory": _memory(mem)}} for name, cpu, mem in usages
        ],
    }


def node_metrics(api: ApiServer, node: Obj, now: float) -> Obj:
    """The NodeMetrics of one node: its pods' usage plus the system's."""
    name = node["metadata"]["name"]
    cpu, memory = _NODE_OVERHEAD
    for pod in api.store.list("pods", predicate=lambda p: (p.get("spec") or {}).get("nodeName") == name):
        for _container, c, m in _container_usages(api, pod, now):
            cpu += c
            memory += m
    return {
        "kind": "NodeMetrics",
        "apiVersion": GROUP_VERSION,
        "metadata": _metadata(node, now),
        "timestamp": rfc3339(now),
        "window": _WINDOW,
        "usage": {"cpu": _cpu(cpu), "memory": _memory(int(memory))},
    }


def _selected(query: Any) -> Any:
    try:
        labels = parse_label_selector(query.get("labelSelector"))
    except SelectorError as exc:
        raise StoreError.bad_request(f"unable to parse requirement: {exc}") from None
    return lambda obj: not labels or match_labels(labels, (obj.get("metadata") or {}).get("labels"))


def _list(kind: str, items: list[Obj]) -> Obj:
    return {"kind": f"{kind}List", "apiVersion": GROUP_VERSION, "metadata": {}, "items": items}


def _usage(item: Obj) -> dict[str, str]:
    if "usage" in item:
        return dict(item["usage"])
    from kubectl_trace.health.quantity import parse_cpu, parse_memory

    cpu = sum(parse_cpu(c["usage"]["cpu"]) or 0.0 for c in item.get("containers") or [])
    memory = sum(parse_memory(c["usage"]["memory"]) or 0 for c in item.get("containers") or [])
    return {"cpu": _cpu(cpu), "memory": _memory(int(memory))}


def metrics_table(items: list[Obj]) -> Obj:
    """``as=Table`` (``kubectl get podmetrics``): Name, cpu, memory, Window, as metrics-server prints."""
    columns = [("Name", "name", "Name of the resource"), ("cpu", "quantity", "cpu usage")]
    columns += [
        ("memory", "quantity", "memory usage"),
        ("Window", "duration", "Interval used to calculate usage"),
    ]
    rows = []
    for item in items:
        usage = _usage(item)
        partial = {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": item["metadata"],
        }
        rows.append(
            {
                "cells": [item["metadata"]["name"], usage["cpu"], usage["memory"], item["window"]],
                "object": partial,
            }
        )
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {},
        "columnDefinitions": [
            {"name": n, "type": "string", "format": f, "description": d, "priority": 0} for n, f, d in columns
        ],
        "rows": rows,
    }


def _answer(request: web.Request, kind: str, items: list[Obj], *, single: bool = False) -> web.Response:
    from kubectl_trace.sandbox.server.tables import wants_table

    if wants_table(request.headers.get("Accept")):
        return json_response(metrics_table(items))
    return json_response(items[0] if single else _list(kind, items))


async def serve_metrics(api: ApiServer, request: web.Request, path: str) -> web.StreamResponse:
    """Answer one request under ``/apis/metrics.k8s.io``."""
    if request.method != "GET":
        raise StoreError(
            405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
        )
    if path == f"/apis/{GROUP}":
        return json_response({"kind": "APIGroup", "apiVersion": "v1", **group_entry()})
    if path == PREFIX:
        return json_response(metrics_discovery())
    parts = path[len(PREFIX) :].strip("/").split("/") if path.startswith(PREFIX + "/") else []
    now = api.store.clock()
    namespace: str | None = None
    if len(parts) >= 3 and parts[0] == "namespaces":
        namespace, parts = parts[1], parts[2:]
    if parts and parts[0] == "pods" and len(parts) <= 2:
        if len(parts) == 2:
            if namespace is None:
                raise StoreError(
                    404, "NotFound", "the server could not find the requested resource", details={}
                )
            pod = api.store.try_get("pods", namespace, parts[1])
            found = pod_metrics(api, pod, now) if pod is not None else None
            if found is None:  # metrics-server names it NAMESPACE/NAME
                raise _not_found("podmetrics", f"{namespace}/{parts[1]}")
            return _answer(request, "PodMetrics", [found], single=True)
        keep = _selected(request.query)
        items = [
            m for p in api.store.list("pods", namespace, keep) if (m := pod_metrics(api, p, now)) is not None
        ]
        return _answer(request, "PodMetrics", items)
    if parts and parts[0] == "nodes" and len(parts) <= 2 and namespace is None:
        if len(parts) == 2:
            node = api.store.try_get("nodes", None, parts[1])
            if node is None:
                raise _not_found("nodemetrics", parts[1])
            return _answer(request, "NodeMetrics", [node_metrics(api, node, now)], single=True)
        keep = _selected(request.query)
        return _answer(
            request, "NodeMetrics", [node_metrics(api, n, now) for n in api.store.list("nodes", None, keep)]
        )
    raise StoreError(404, "NotFound", "the server could not find the requested resource", details={})
