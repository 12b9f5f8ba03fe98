"""The demo fixture: what a fresh sandbox holds.

Namespaces ``staging`` and ``production``; app ``trace-api`` — one image
``registry.sandbox.local/trace/trace-api:TAG``, three Deployments ``trace-api-web``
(3 replicas in production, 1 in staging), ``trace-api-worker`` (2 / 1) and
``trace-api-clock`` (1 / 1) choosing the process with ``PROCESS_TYPE``, labelled
``app=trace-api, process=web|worker|clock``; HTTP liveness and readiness probes on
``/healthz`` for web and worker; ``DATABASE_URL`` from the Secret ``trace-api-db``;
``terminationGracePeriodSeconds`` and a ``preStop`` hook on web; resource requests. App
``trace-ui`` (web, 2 replicas) in production only. Production runs ``3f9c2a1`` with
``8b1d0e4`` as the previous revision; staging runs ``a41c9e7`` (after ``3f9c2a1``).

The release history exists as real ReplicaSets (scaled to zero, with revisions and
change causes), so ``kubectl rollout history`` and ``undo`` work from the start.
"""

from __future__ import annotations

import base64
from typing import Any

from kubectl_trace.sandbox.controllers.util import new_replicaset, template_hash
from kubectl_trace.sandbox.defaults import apply_defaults
from kubectl_trace.sandbox.store import Store, rfc3339

__all__ = ["API_IMAGE", "NAMESPACES", "UI_IMAGE", "create_fixture", "fixture_images"]

Obj = dict[str, Any]

API_IMAGE = "registry.sandbox.local/trace/trace-api"
UI_IMAGE = "registry.sandbox.local/trace/trace-ui"
NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease", "staging", "production")
_DAY = 86_400.0
_CA = "-----BEGIN CERTIFICATE-----\nMIIBsandbox\n-----END CERTIFICATE-----\n"

# namespace → app → process → (replicas, [older tags …, current tag])
_RELEASES: dict[str, dict[str, dict[str, tuple[int, list[str]]]]] = {
    "production": {
        "trace-api": {
            "web": (3, ["8b1d0e4", "3f9c2a1"]),
            "worker": (2, ["8b1d0e4", "3f9c2a1"]),
            "clock": (1, ["8b1d0e4", "3f9c2a1"]),
        },
        "trace-ui": {"web": (2, ["2d4e6f8", "9e1f00a"])},
    },
    "staging": {
        "trace-api": {
            "web": (1, ["3f9c2a1", "a41c9e7"]),
            "worker": (1, ["3f9c2a1", "a41c9e7"]),
            "clock": (1, ["3f9c2a1", "a41c9e7"]),
        },
    },
}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _probe(port: str, initial: int, period: int, failures: int) -> Obj:
    return {
        "httpGet": {"path": "/healthz", "port": port, "scheme": "HTTP"},
        "initialDelaySeconds": initial,
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "successThreshold": 1,
        "failureThreshold": failures,
    }


def _api_container(namespace: str, process: str, tag: str) -> Obj:
    env: list[Obj] = [
        {"name": "PROCESS_TYPE", "value": process},
        {"name": "NODE_ENV", "value": "production"},
        {"name": "PORT", "value": "3000"},
        {
            "name": "LOG_LEVEL",
            "valueFrom": {"configMapKeyRef": {"name": "trace-api-config", "key": "LOG_LEVEL"}},
        },
        {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "trace-api-db", "key": "url"}}},
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
    ]
    resources = {
        "web": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
        "worker": {"requests": {"cpu": "200m", "memory": "384Mi"}, "limits": {"memory": "768Mi"}},
        "clock": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
    }[process]
    container: Obj = {
        "name": process,
        "image": f"{API_IMAGE}:{tag}",
        "env": env,
        "resources": resources,
    }
    if process == "web":
        container["ports"] = [{"name": "http", "containerPort": 3000, "protocol": "TCP"}]
        container["readinessProbe"] = _probe("http", 3, 5, 3)
        container["livenessProbe"] = _probe("http", 15, 10, 6)
        container["lifecycle"] = {"preStop": {"exec": {"command": ["sh", "-c", "sleep 5"]}}}
    elif process == "worker":
        container["ports"] = [{"name": "health", "containerPort": 3000, "protocol": "TCP"}]
        container["readinessProbe"] = _probe("health", 3, 10, 3)
        container["livenessProbe"] = _probe("health", 20, 15, 4)
    return container


def _ui_container(tag: str) -> Obj:
    return {
        "name": "web",
        "image": f"{UI_IMAGE}:{tag}",
        "env": [
            {"name": "PROCESS_TYPE", "value": "web"},
            {"name": "PORT", "value": "3000"},
            {"name": "API_URL", "value": "http://trace-api-web"},
        ],
        "ports": [{"name": "http", "containerPort": 3000, "protocol": "TCP"}],
        "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        "readinessProbe": _probe("http", 2, 5, 3),
        "livenessProbe": _probe("http", 10, 10, 3),
    }


def _template(namespace: str, app: str, process: str, tag: str) -> Obj:
    container = _api_container(namespace, process, tag) if app == "trace-api" else _ui_container(tag)
    spec: Obj = {"containers": [container]}
    if app == "trace-api":
        spec["terminationGracePeriodSeconds"] = {"web": 30, "worker": 60, "clock": 30}[process]
    return {"metadata": {"labels": {"app": app, "process": process}}, "spec": spec}


def _deployment(namespace: str, app: str, process: str, replicas: int, tag: str, created: float) -> Obj:
    name = f"{app}-{process}" if app == "trace-api" else app
    strategy: Obj
    if process == "clock":
        strategy = {"type": "Recreate"}
    elif process == "web":
        strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    else:
        strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}
    deployment: Obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app": app, "process": process},
            "annotations": {"kubernetes.io/change-cause": f"deploy {app} {tag}"},
            "creationTimestamp": rfc3339(created),
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": app, "process": process}},
            "strategy": strategy,
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 120 if app == "trace-api" else 600,
            "template": _template(namespace, app, process, tag),
        },
    }
    return apply_defaults("deployments", deployment)


def _history_rs(
    deployment: Obj, template: Obj, revision: int, replicas: int, tag: str, created: float
) -> Obj:
    surge = 1 if deployment["spec"]["strategy"]["type"] == "RollingUpdate" else 0
    want = deployment["spec"]["replicas"]
    app = deployment["metadata"]["labels"]["app"]
    annotations = {
        "deployment.kubernetes.io/desired-replicas": str(want),
        "deployment.kubernetes.io/max-replicas": str(want + surge),
        "deployment.kubernetes.io/revision": str(revision),
        "kubernetes.io/change-cause": f"deploy {app} {tag}",
    }
    rs = new_replicaset(deployment, template, template_hash(template), replicas, annotations)
    rs["metadata"]["creationTimestamp"] = rfc3339(created)
    rs["status"] = {"replicas": 0, "observedGeneration": 1}
    return rs


def fixture_images() -> list[str]:
    """Images the fixture runs (already present on the nodes)."""
    out = set()
    for apps in _RELEASES.values():
        for app, processes in apps.items():
            repo = API_IMAGE if app == "trace-api" else UI_IMAGE
            for _, tags in processes.values():
                out.add(f"{repo}:{tags[-1]}")
    return sorted(out)


def create_namespaces(store: Store, now: float) -> None:
    """The standard namespaces plus staging and production, with ``kube-root-ca.crt``."""
    for name in NAMESPACES:
        if store.try_get("namespaces", None, name) is not None:
            continue
        store.create(
            "namespaces",
            {
                "metadata": {
                    "name": name,
                    "labels": {"kubernetes.io/metadata.name": name},
                    "creationTimestamp": rfc3339(now - 30 * _DAY),
                },
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            },
        )
        store.create(
            "configmaps",
            {"metadata": {"name": "kube-root-ca.crt", "namespace": name}, "data": {"ca.crt": _CA}},
        )


def create_fixture(store: Store, now: float) -> None:
    """Create the demo objects (namespaces must exist)."""
    for namespace, apps in _RELEASES.items():
        store.create(
            "secrets",
            {
                "metadata": {"name": "trace-api-db", "namespace": namespace, "labels": {"app": "trace-api"}},
                "type": "Opaque",
                "data": {
                    "url": _b64(
                        f"postgres://trace:s3cr3t-{namespace}@db.{namespace}.svc.cluster.local:5432/trace"
                    ),
                    "password": _b64(f"s3cr3t-{namespace}"),
                },
            },
        )
        store.create(
            "configmaps",
            {
                "metadata": {
                    "name": "trace-api-config",
                    "namespace": namespace,
                    "labels": {"app": "trace-api"},
                },
                "data": {
                    "LOG_LEVEL": "debug" if namespace == "staging" else "info",
                    "FEATURE_FLAGS": "new-search,span-sampling",
                },
            },
        )
        for index, (app, processes) in enumerate(apps.items()):
            if "web" in processes:
                name = "trace-api-web" if app == "trace-api" else app
                store.create(
                    "services",
                    apply_defaults(
                        "services",
                        {
                            "metadata": {"name": name, "namespace": namespace, "labels": {"app": app}},
                            "spec": {
                                "selector": {"app": app, "process": "web"},
                                "clusterIP": f"10.96.{12 + index}.{40 if namespace == 'production' else 80}",
                                "clusterIPs": [
                                    f"10.96.{12 + index}.{40 if namespace == 'production' else 80}"
                                ],
                                "ports": [
                                    {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}
                                ],
                            },
                        },
                    ),
                )
            for process, (replicas, tags) in processes.items():
                age = (21 if namespace == "production" else 9) * _DAY
                created = now - age
                deployment = _deployment(namespace, app, process, replicas, tags[-1], created)
                deployment["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = str(len(tags))
                stored = store.create("deployments", deployment)
                for revision, tag in enumerate(tags, start=1):
                    current = revision == len(tags)
                    template = _template(namespace, app, process, tag)
                    template = apply_defaults("deployments", {"spec": {"template": template}})["spec"][
                        "template"
                    ]
                    rs_created = created + (revision - 1) * (age - 2 * _DAY) / max(1, len(tags) - 1)
                    rs = _history_rs(stored, template, revision, replicas if current else 0, tag, rs_created)
                    if current:
                        rs["status"] = {"replicas": 0}
                    store.create("replicasets", rs)
