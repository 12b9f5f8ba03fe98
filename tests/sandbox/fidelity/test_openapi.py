"""OpenAPI v3 with real schemas: ``kubectl explain`` and the documents themselves."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        (
            "deployment.spec.replicas",
            ["KIND:       Deployment", "FIELD: replicas <integer>", "Number of desired pods"],
        ),
        (
            "deployment.spec.strategy",
            ["FIELD: strategy <DeploymentStrategy>", "rollingUpdate\t<RollingUpdateDeployment>"],
        ),
        (
            "pods.spec.containers",
            ["FIELD: containers <[]Container>", "name\t<string> -required-", "image\t<string>"],
        ),
        (
            "svc.spec.ports.targetPort",
            ["FIELD: targetPort", "IntOrString is a type that can hold an int32 or a string."],
        ),
        ("configmap", ["KIND:       ConfigMap", "data\t<map[string]string>"]),
    ],
)
def test_kubectl_explain(kubectl: Callable[..., Any], field: str, expected: list[str]) -> None:
    out = kubectl("explain", field, check=True).stdout
    for text in expected:
        assert text in out, out


def test_explain_recursive_and_unknown_field(kubectl: Callable[..., Any]) -> None:
    recursive = kubectl("explain", "deployment.spec", "--recursive", check=True).stdout
    assert "minReadySeconds\t<integer>" in recursive and "containers\t<[]Container> -required-" in recursive
    missing = kubectl("explain", "deployment.spec.replicaz")
    assert missing.returncode == 1 and 'field "replicaz" does not exist' in missing.stderr


def test_group_version_documents_carry_schemas_for_every_kind(kubectl: Callable[..., Any]) -> None:
    root = json.loads(kubectl("get", "--raw", "/openapi/v3", check=True).stdout)
    assert {"api/v1", "apis/apps/v1"} <= set(root["paths"])
    for prefix, entry in root["paths"].items():
        url = entry["serverRelativeURL"]
        assert "?hash=" in url
        doc = json.loads(kubectl("get", "--raw", url, check=True).stdout)
        schemas = doc["components"]["schemas"]
        kinds = {
            gvk["kind"]
            for schema in schemas.values()
            for gvk in schema.get("x-kubernetes-group-version-kind", [])
        }
        assert kinds, prefix
        for schema in schemas.values():
            for prop in schema.get("properties", {}).values():
                for ref in [prop.get("$ref")] + [a.get("$ref") for a in prop.get("allOf", [])]:
                    if ref:
                        assert ref.removeprefix("#/components/schemas/") in schemas, ref
    apps = json.loads(kubectl("get", "--raw", "/openapi/v3/apis/apps/v1", check=True).stdout)
    deployment = apps["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"]
    assert deployment["x-kubernetes-group-version-kind"] == [
        {"group": "apps", "kind": "Deployment", "version": "v1"}
    ]
    spec = apps["components"]["schemas"]["io.k8s.api.apps.v1.DeploymentSpec"]
    assert spec["required"] == ["selector", "template"]
    assert spec["properties"]["replicas"] == {
        "description": spec["properties"]["replicas"]["description"],
        "type": "integer",
        "format": "int32",
    }


def test_openapi_v2_protobuf_for_kubectl_and_json_for_others(kubectl: Callable[..., Any]) -> None:
    v2 = kubectl("explain", "deployment.spec.replicas", "--output=plaintext-openapiv2", check=True).stdout
    assert "VERSION:  apps/v1" in v2 and "FIELD:    replicas <integer>" in v2
    events = kubectl(
        "explain", "events.note", "--api-version=events.k8s.io/v1", "--output=plaintext-openapiv2", check=True
    ).stdout
    assert "VERSION:  events.k8s.io/v1" in events and "FIELD:    note <string>" in events
    doc = json.loads(kubectl("get", "--raw", "/openapi/v2", check=True).stdout)
    assert doc["swagger"] == "2.0"
    pod = doc["definitions"]["io.k8s.api.core.v1.Pod"]
    assert pod["x-kubernetes-group-version-kind"] == [{"group": "", "kind": "Pod", "version": "v1"}]
    assert pod["properties"]["spec"]["$ref"] == "#/definitions/io.k8s.api.core.v1.PodSpec"
