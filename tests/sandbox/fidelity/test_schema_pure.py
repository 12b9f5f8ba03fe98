"""The schema read from the official client's models, strict decoding and field rules (pure)."""

from __future__ import annotations

import pytest

from kubectl_trace.sandbox.schema.decode import DecodeError, decode
from kubectl_trace.sandbox.schema.models import fields_of, schema_for
from kubectl_trace.sandbox.schema.validate import validate_object, validate_update


def test_models_are_found_for_every_group_generically() -> None:
    assert schema_for("apps/v1", "Deployment") == "V1Deployment"
    assert schema_for("v1", "Event") == "CoreV1Event"
    assert schema_for("events.k8s.io/v1", "Event") == "EventsV1Event"
    assert schema_for("batch/v1", "Job") == "V1Job"
    assert schema_for("v1", "NoSuchKind") is None
    container = fields_of("V1Container")
    assert container["name"].required and not container["image"].required
    assert container["imagePullPolicy"].description.startswith("Image pull policy")
    assert fields_of("V1ServicePort")["targetPort"].int_or_string


def test_decode_types_quantities_and_int_or_string() -> None:
    pod = {
        "metadata": {"name": "p", "labels": None},
        "spec": {
            "containers": [
                {
                    "name": "c",
                    "image": "i",
                    "resources": {"limits": {"cpu": 1, "memory": "64Mi"}},
                    "ports": [{"containerPort": 3000}],
                }
            ]
        },
    }
    out = decode(pod, "V1Pod")
    assert out.unknown == [] and "labels" not in out.object["metadata"]
    svc = {"spec": {"ports": [{"port": 80, "targetPort": "http"}, {"port": 81, "targetPort": 8081}]}}
    assert decode(svc, "V1Service").unknown == []
    with pytest.raises(DecodeError, match=r"of type intstr\.IntOrString"):
        decode({"spec": {"ports": [{"port": 80, "targetPort": 1.5}]}}, "V1Service")
    with pytest.raises(DecodeError, match=r"Go struct field ObjectMeta\.metadata\.labels of type string"):
        decode({"metadata": {"labels": {"a": 1}}}, "V1Pod")
    with pytest.raises(DecodeError, match="cannot unmarshal bool into Go struct field DeploymentSpec"):
        decode({"spec": {"replicas": True}}, "V1Deployment")


def test_validation_messages() -> None:
    causes = validate_object("namespaces", {"metadata": {"name": "a.b"}}, "V1Namespace")
    assert causes[0]["field"] == "metadata.name" and "RFC 1123 label" in causes[0]["message"]
    assert validate_object("configmaps", {"metadata": {"generateName": "x-"}}, "V1ConfigMap") == []
    missing = validate_object("configmaps", {"metadata": {}}, "V1ConfigMap")
    assert missing == [
        {
            "reason": "FieldValueRequired",
            "message": "Required value: name or generateName is required",
            "field": "metadata.name",
        }
    ]
    old = {"spec": {"containers": [{"name": "a", "image": "1"}], "tolerations": [{"key": "k"}]}}
    ok = {"spec": {"containers": [{"name": "a", "image": "2"}], "tolerations": [{"key": "k"}, {"key": "n"}]}}
    assert validate_update("pods", ok, old) == []
    removed = {"spec": {"containers": [{"name": "a", "image": "1"}]}}
    assert validate_update("pods", removed, old)[0]["reason"] == "FieldValueForbidden"


def test_immutable_config_maps_and_secrets() -> None:
    old = {"data": {"a": "1"}, "immutable": True}
    assert (
        validate_update(
            "configmaps", {"data": {"a": "1"}, "immutable": True, "metadata": {"labels": {"x": "y"}}}, old
        )
        == []
    )
    changed = validate_update("secrets", {"data": {"a": "2"}, "immutable": True}, old)
    assert changed == [
        {
            "reason": "FieldValueForbidden",
            "message": "Forbidden: field is immutable when `immutable` is set",
            "field": "data",
        }
    ]
    assert validate_update("configmaps", {"data": {"a": "2"}}, {"data": {"a": "1"}}) == []


def test_jobs_validate_generically_from_their_model() -> None:
    job = {
        "metadata": {"name": "once"},
        "spec": {
            "template": {"spec": {"containers": [{"name": "c", "image": "i"}], "restartPolicy": "Never"}}
        },
    }
    model = schema_for("batch/v1", "Job")
    assert decode(job, model).unknown == [] and validate_object("jobs", job, model) == []
    job["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    causes = validate_object("jobs", job, model)
    assert causes[0]["message"] == 'Unsupported value: "Always": supported values: "OnFailure", "Never"'
