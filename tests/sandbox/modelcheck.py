"""Validate served JSON against the official Python client's (pydantic, strict) models."""

from __future__ import annotations

import json
from typing import Any

MODELS = {
    ("v1", "Pod"): "V1Pod",
    ("v1", "Namespace"): "V1Namespace",
    ("v1", "Node"): "V1Node",
    ("v1", "Event"): "CoreV1Event",
    ("v1", "Secret"): "V1Secret",
    ("v1", "ConfigMap"): "V1ConfigMap",
    ("v1", "Service"): "V1Service",
    ("v1", "Status"): "V1Status",
    ("apps/v1", "Deployment"): "V1Deployment",
    ("apps/v1", "ReplicaSet"): "V1ReplicaSet",
    ("batch/v1", "Job"): "V1Job",
    ("batch/v1", "CronJob"): "V1CronJob",
    ("batch/v1", "JobList"): "V1JobList",
    ("batch/v1", "CronJobList"): "V1CronJobList",
    ("autoscaling/v1", "Scale"): "V1Scale",
    ("v1", "PodList"): "V1PodList",
    ("v1", "NamespaceList"): "V1NamespaceList",
    ("v1", "NodeList"): "V1NodeList",
    ("v1", "EventList"): "CoreV1EventList",
    ("v1", "SecretList"): "V1SecretList",
    ("v1", "ConfigMapList"): "V1ConfigMapList",
    ("v1", "ServiceList"): "V1ServiceList",
    ("apps/v1", "DeploymentList"): "V1DeploymentList",
    ("apps/v1", "ReplicaSetList"): "V1ReplicaSetList",
    ("v1", "APIResourceList"): "V1APIResourceList",
    ("v1", "APIGroupList"): "V1APIGroupList",
    (None, "APIVersions"): "V1APIVersions",
}


def model_name(obj: dict[str, Any]) -> str:
    """The client model of a served object (from its apiVersion and kind)."""
    key = (obj.get("apiVersion"), obj.get("kind"))
    if key in MODELS:
        return MODELS[key]
    if obj.get("kind") == "APIVersions":
        return "V1APIVersions"
    from kubectl_trace.sandbox.schema.models import schema_for

    found = schema_for(str(obj.get("apiVersion") or ""), str(obj.get("kind") or ""))
    if found is None:
        raise KeyError(f"no model for {key}")
    return found


def validate(obj: dict[str, Any], model: str | None = None) -> Any:
    """Deserialize ``obj`` with the client's ApiClient (raises on any strict-model violation)."""
    from kubernetes.client import ApiClient

    api = ApiClient()
    name = model or model_name(obj)
    result = api.deserialize(json.dumps(obj), name, "application/json")
    assert result is not None
    return result
