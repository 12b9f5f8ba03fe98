"""API defaulting, as the API server applies it on create (``pkg/apis/*/v1/defaults.go``).

The sandbox's controllers apply these to what they create; the API server may call
``apply_defaults`` on what clients create, so that ``kubectl get -o yaml`` shows the
fields a real cluster fills in (imagePullPolicy, probe periods, strategy …).
"""

from __future__ import annotations

from typing import Any

__all__ = ["apply_defaults", "default_job_spec", "default_pod", "qos_class"]

Obj = dict[str, Any]


def _fill(obj: Obj, defaults: Obj) -> Obj:
    """Set, in this order, each of ``defaults`` that ``obj`` does not have yet (in place)."""
    for key, value in defaults.items():
        obj.setdefault(key, value)
    return obj


def _default_template(spec: Obj, *, metadata: bool = True) -> None:
    """The pod template of a workload spec: its metadata and its pod spec's defaults."""
    template = spec.setdefault("template", {})
    if metadata:
        template.setdefault("metadata", {})
    _default_pod_spec(template.setdefault("spec", {}))


def _default_probe(probe: Obj | None) -> None:
    if not isinstance(probe, dict):
        return
    _fill(probe, {"timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3})
    http = probe.get("httpGet")
    if isinstance(http, dict):
        _fill(http, {"scheme": "HTTP", "path": "/"})


def _pull_policy(image: str) -> str:
    last = (image or "").rsplit("/", 1)[-1]
    if "@" in last:
        return "IfNotPresent"
    if ":" not in last or last.endswith(":latest"):
        return "Always"
    return "IfNotPresent"


def _default_container(container: Obj) -> None:
    _fill(
        container,
        {
            "imagePullPolicy": _pull_policy(container.get("image", "")),
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
            "resources": {},
        },
    )
    for port in container.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
    for name in ("livenessProbe", "readinessProbe", "startupProbe"):
        _default_probe(container.get(name))
    for env in container.get("env") or []:
        ref = (env.get("valueFrom") or {}).get("fieldRef") if isinstance(env, dict) else None
        if isinstance(ref, dict):
            ref.setdefault("apiVersion", "v1")


def _default_pod_spec(spec: Obj) -> Obj:
    """Fill a pod spec's defaults in place (and return it)."""
    _fill(
        spec,
        {
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "securityContext": {},
            "schedulerName": "default-scheduler",
        },
    )
    if "serviceAccountName" not in spec:
        spec["serviceAccountName"] = spec.get("serviceAccount", "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    spec.setdefault("enableServiceLinks", True)
    for key in ("containers", "initContainers"):
        for container in spec.get(key) or []:
            if isinstance(container, dict):
                _default_container(container)
    return spec


def default_pod(pod: Obj) -> Obj:
    """Fill a pod's spec defaults, tolerations and priority, in place."""
    spec = pod.setdefault("spec", {})
    _default_pod_spec(spec)
    _fill(spec, {"priority": 0, "preemptionPolicy": "PreemptLowerPriority"})
    if "tolerations" not in spec:
        spec["tolerations"] = [
            {
                "key": f"node.kubernetes.io/{taint}",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            }
            for taint in ("not-ready", "unreachable")
        ]
    return pod


def _default_deployment(deployment: Obj) -> Obj:
    """Fill a Deployment's defaults in place (replicas 1, RollingUpdate 25%/25%, …)."""
    spec = deployment.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    strategy = spec.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        _fill(strategy.setdefault("rollingUpdate", {}), {"maxSurge": "25%", "maxUnavailable": "25%"})
    _fill(spec, {"revisionHistoryLimit": 10, "progressDeadlineSeconds": 600})
    _default_template(spec)
    return deployment


def _default_replicaset(rs: Obj) -> Obj:
    """Fill a ReplicaSet's defaults in place."""
    spec = rs.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    _default_template(spec, metadata=False)
    return rs


def default_job_spec(spec: Obj) -> Obj:
    """``SetDefaults_Job`` on a JobSpec (completions/parallelism 1, backoffLimit 6 …), in place."""
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    spec.setdefault("parallelism", 1)
    if spec.get("backoffLimit") is None:
        spec["backoffLimit"] = 6
    _fill(
        spec,
        {"completionMode": "NonIndexed", "suspend": False, "podReplacementPolicy": "TerminatingOrFailed"},
    )
    _default_template(spec)
    return spec


def _default_cronjob(cronjob: Obj) -> Obj:
    """``SetDefaults_CronJob``: Allow, not suspended, history limits 3 and 1, in place."""
    spec = cronjob.setdefault("spec", {})
    _fill(
        spec,
        {
            "concurrencyPolicy": "Allow",
            "suspend": False,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 1,
        },
    )
    _default_template(spec.setdefault("jobTemplate", {}).setdefault("spec", {}), metadata=False)
    return cronjob


def qos_class(spec: Obj) -> str:
    """The pod's QoS class from its containers' requests and limits."""
    containers = [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]
    any_set = False
    guaranteed = True
    for container in containers:
        resources = container.get("resources") or {}
        requests = resources.get("requests") or {}
        limits = resources.get("limits") or {}
        if requests or limits:
            any_set = True
        for res in ("cpu", "memory"):
            if res not in limits or (res in requests and requests[res] != limits[res]):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def apply_defaults(resource: str, obj: Obj) -> Obj:
    """Defaults for a newly created object of ``resource`` (plural), in place."""
    if resource == "pods":
        default_pod(obj)
        _fill(obj.setdefault("status", {}), {"phase": "Pending", "qosClass": qos_class(obj["spec"])})
    elif resource == "deployments":
        _default_deployment(obj)
    elif resource == "replicasets":
        _default_replicaset(obj)
    elif resource == "jobs":
        default_job_spec(obj.setdefault("spec", {}))
    elif resource == "cronjobs":
        _default_cronjob(obj)
    elif resource == "secrets":
        obj.setdefault("type", "Opaque")
    elif resource == "services":
        spec = _fill(obj.setdefault("spec", {}), {"type": "ClusterIP", "sessionAffinity": "None"})
        for port in spec.get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")
                port.setdefault("targetPort", port.get("port"))
    elif resource == "namespaces":
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj.setdefault("status", {}).setdefault("phase", "Active")
    return obj
