"""Defaulting of objects written through the API, as the API server's defaulters do.

Only the defaults that clients and the simulated controllers read: pod spec policies and
container fields, Deployment strategy and limits, Service type and cluster IP, Secret type,
Namespace phase. Applied in place to a fresh copy (never to a stored object).
"""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = ["apply_defaults"]

Obj = dict[str, Any]


def _probe(probe: Obj | None) -> None:
    if not isinstance(probe, dict):
        return
    probe.setdefault("timeoutSeconds", 1)
    probe.setdefault("periodSeconds", 10)
    probe.setdefault("successThreshold", 1)
    probe.setdefault("failureThreshold", 3)
    http = probe.get("httpGet")
    if isinstance(http, dict):
        http.setdefault("scheme", "HTTP")
        http.setdefault("path", "/")


def _container(container: Obj) -> None:
    image = str(container.get("image") or "")
    tag = image.rsplit("/", 1)[-1]
    latest = ":" not in tag or tag.endswith(":latest")
    if "@" not in image:
        container.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
    else:
        container.setdefault("imagePullPolicy", "IfNotPresent")
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("resources", {})
    for port in container.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
    for key in ("livenessProbe", "readinessProbe", "startupProbe"):
        _probe(container.get(key))


def _pod_spec(spec: Obj | None) -> None:
    if not isinstance(spec, dict):
        return
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for key in ("containers", "initContainers"):
        for container in spec.get(key) or []:
            if isinstance(container, dict):
                _container(container)


def _template(owner_spec: Obj) -> None:
    template = owner_spec.get("template")
    if isinstance(template, dict):
        template.setdefault("metadata", {})
        _pod_spec(template.get("spec"))


def _cluster_ip(obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    digest = hashlib.sha256(f"{meta.get('namespace')}/{meta.get('name')}".encode()).digest()
    return f"10.96.{digest[0]}.{max(1, digest[1]) % 255 or 1}"


def apply_defaults(resource: str, obj: Obj) -> Obj:
    """Fill defaulted fields of ``obj`` (a fresh dict about to be stored); returns it."""
    meta = obj.setdefault("metadata", {})
    if resource == "pods":
        _pod_spec(obj.setdefault("spec", {}))
        status = obj.setdefault("status", {})
        status.setdefault("phase", "Pending")
        status.setdefault("qosClass", "BestEffort")
    elif resource in ("deployments", "replicasets"):
        spec = obj.setdefault("spec", {})
        spec.setdefault("replicas", 1)
        if resource == "deployments":
            spec.setdefault("revisionHistoryLimit", 10)
            spec.setdefault("progressDeadlineSeconds", 600)
            strategy = spec.setdefault("strategy", {})
            strategy.setdefault("type", "RollingUpdate")
            if strategy["type"] == "RollingUpdate":
                rolling = strategy.setdefault("rollingUpdate", {})
                rolling.setdefault("maxUnavailable", "25%")
                rolling.setdefault("maxSurge", "25%")
        _template(spec)
        obj.setdefault("status", {})
    elif resource == "services":
        spec = obj.setdefault("spec", {})
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        if spec["type"] != "ExternalName":
            spec.setdefault("clusterIP", _cluster_ip(obj))
            spec.setdefault("clusterIPs", [spec["clusterIP"]])
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
            spec.setdefault("internalTrafficPolicy", "Cluster")
        for port in spec.get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")
                port.setdefault("targetPort", port.get("port"))
        obj.setdefault("status", {"loadBalancer": {}})
    elif resource == "secrets":
        obj.setdefault("type", "Opaque")
    elif resource == "namespaces":
        name = meta.get("name")
        if name:
            meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = name
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj.setdefault("status", {}).setdefault("phase", "Active")
    return obj
