"""Writes are decoded strictly and validated as a real API server does.

The real kubectl and the official Python client against the session sandbox, each test in a
namespace of its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from kubectl_trace.kube.resources import RESOURCES
from kubectl_trace.sandbox.schema.decode import decode
from kubectl_trace.sandbox.schema.models import schema_for
from kubectl_trace.sandbox.schema.validate import validate_object
from tests.sandbox.fidelity.conftest import deployment, status_of


def _apply(kubectl: Callable[..., Any], ns: str, manifest: dict[str, Any], *args: str) -> Any:
    return kubectl("apply", "-n", ns, "-f", "-", *args, input=json.dumps(manifest))


def test_a_non_integer_replicas_is_refused_and_every_read_still_works(
    kubectl: Callable[..., Any], namespace: str
) -> None:
    _apply(kubectl, namespace, deployment("web"))
    manifest = json.loads(kubectl("get", "deploy", "web", "-n", namespace, "-o", "json", check=True).stdout)
    manifest["spec"]["replicas"] = "notanumber"
    refused = kubectl("replace", "-f", "-", input=json.dumps(manifest))
    assert refused.returncode == 1
    assert (
        'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string '
        "into Go struct field DeploymentSpec.spec.replicas of type int32"
    ) in refused.stderr
    edited = kubectl(
        "patch", "deploy", "web", "-n", namespace, "--type=merge", "-p", '{"spec":{"replicas":"x"}}'
    )
    assert edited.returncode == 1 and "cannot unmarshal string" in edited.stderr
    listed = kubectl("get", "deploy", "-n", namespace, check=True)
    assert listed.stdout.split("\n")[1].split()[0] == "web"
    kubectl("get", "deploy", "-A", check=True)


def test_negative_replicas_answer_422_with_causes(official: Any, namespace: str) -> None:
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    apps = client.AppsV1Api(official)
    with pytest.raises(ApiException) as info:
        apps.create_namespaced_deployment(namespace, deployment("neg", replicas=-1))
    assert info.value.status == 422
    status = status_of(info.value)
    assert status["reason"] == "Invalid"
    assert status["message"] == (
        'Deployment.apps "neg" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0'
    )
    assert status["details"]["kind"] == "Deployment" and status["details"]["group"] == "apps"
    assert status["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "message": "Invalid value: -1: must be greater than or equal to 0",
            "field": "spec.replicas",
        }
    ]
    with pytest.raises(ApiException):
        apps.read_namespaced_deployment("neg", namespace)


def test_unknown_fields_strict_warn_and_ignore(kubectl: Callable[..., Any], namespace: str) -> None:
    manifest = deployment("unk", replicaz=3)
    strict = _apply(kubectl, namespace, manifest, "--validate=strict")
    assert strict.returncode == 1
    assert 'strict decoding error: unknown field "spec.replicaz"' in strict.stderr
    default = _apply(kubectl, namespace, manifest)  # kubectl's default is strict too
    assert default.returncode == 1 and "strict decoding error" in default.stderr
    warned = _apply(kubectl, namespace, manifest, "--validate=warn")
    assert warned.returncode == 0, warned.stderr
    assert 'Warning: unknown field "spec.replicaz"' in warned.stderr
    stored = json.loads(kubectl("get", "deploy", "unk", "-n", namespace, "-o", "json", check=True).stdout)
    assert "replicaz" not in stored["spec"]
    deeper = deployment("deep")
    deeper["spec"]["template"]["spec"]["containers"][0]["imagee"] = "x"
    refused = _apply(kubectl, namespace, deeper, "--validate=strict")
    assert 'unknown field "spec.template.spec.containers[0].imagee"' in refused.stderr


def test_selector_is_immutable_and_must_match_the_template(official: Any, namespace: str) -> None:
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    apps = client.AppsV1Api(official)
    apps.create_namespaced_deployment(namespace, deployment("sel"))
    with pytest.raises(ApiException) as info:
        apps.patch_namespaced_deployment(
            "sel",
            namespace,
            {
                "spec": {
                    "selector": {"matchLabels": {"app": "other"}},
                    "template": {"metadata": {"labels": {"app": "other"}}},
                }
            },
        )
    status = status_of(info.value)
    assert info.value.status == 422
    assert [c["field"] for c in status["details"]["causes"]] == ["spec.selector"]
    assert status["details"]["causes"][0]["message"].endswith(": field is immutable")
    assert 'v1.LabelSelector{MatchLabels:map[string]string{"app":"other"}' in status["message"]
    bad = deployment("mismatch")
    bad["spec"]["template"]["metadata"]["labels"] = {"app": "else"}
    with pytest.raises(ApiException) as info:
        apps.create_namespaced_deployment(namespace, bad)
    assert "`selector` does not match template `labels`" in status_of(info.value)["message"]


def test_names_labels_and_required_fields(kubectl: Callable[..., Any], namespace: str) -> None:
    bad_name = kubectl("create", "deployment", "BadName", "--image=nginx", "-n", namespace)
    assert bad_name.returncode == 1
    assert 'metadata.name: Invalid value: "BadName": a lowercase RFC 1123 subdomain' in bad_name.stderr
    bad_label = deployment("lbl")
    bad_label["metadata"]["labels"] = {"team": "a b"}
    refused = _apply(kubectl, namespace, bad_label)
    assert 'metadata.labels: Invalid value: "a b": a valid label must be' in refused.stderr
    no_image = deployment("noimg")
    del no_image["spec"]["template"]["spec"]["containers"][0]["image"]
    refused = _apply(kubectl, namespace, no_image)
    assert "spec.template.spec.containers[0].image: Required value" in refused.stderr
    service = kubectl("create", "service", "clusterip", "9svc", "--tcp=80:80", "-n", namespace)
    assert "a DNS-1035 label must consist of" in service.stderr


def test_a_pod_spec_may_change_only_where_a_real_server_allows(official: Any, namespace: str) -> None:
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    core = client.CoreV1Api(official)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "app", "image": "reg/app:1"}]},
    }
    core.create_namespaced_pod(namespace, pod)
    changed = core.patch_namespaced_pod(
        "p", namespace, {"spec": {"containers": [{"name": "app", "image": "reg/app:2"}]}}
    )
    assert changed.spec.containers[0].image == "reg/app:2"
    with pytest.raises(ApiException) as info:
        core.patch_namespaced_pod(
            "p", namespace, {"spec": {"containers": [{"name": "app", "env": [{"name": "A", "value": "1"}]}]}}
        )
    status = status_of(info.value)
    assert info.value.status == 422
    assert status["details"]["causes"][0]["field"] == "spec"
    assert "pod updates may not change fields other than `spec.containers[*].image`" in status["message"]
    labelled = core.patch_namespaced_pod("p", namespace, {"metadata": {"labels": {"x": "y"}}})
    assert labelled.metadata.labels == {"x": "y"}


def test_everything_the_demo_stores_decodes_strictly(kubectl: Callable[..., Any]) -> None:
    """The sandbox's own objects follow the schema it enforces (no unknown fields, all valid)."""
    for resource in RESOURCES.values():
        name = f"{resource.plural}.{resource.group}" if resource.group else resource.plural
        items = json.loads(kubectl("get", name, "-A", "-o", "json", check=True).stdout)["items"]
        model = schema_for(resource.api_version, resource.kind)
        assert model is not None, resource.kind
        for item in items:
            decoded = decode(item, model)
            assert decoded.unknown == [], (resource.plural, item["metadata"]["name"])
            assert validate_object(resource.plural, decoded.object, model) == [], item["metadata"]["name"]


def test_kubectl_edit_with_an_invalid_value_is_refused(
    kubectl: Callable[..., Any], namespace: str, tmp_path: Any
) -> None:
    import sys

    _apply(kubectl, namespace, deployment("edited"))
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import re, sys\n"
        "path = sys.argv[1]\n"
        "text = open(path).read()\n"
        "open(path, 'w').write(re.sub(r'(?m)^  replicas: 1$', '  replicas: notanumber', text, count=1))\n"
    )
    edited = kubectl(
        "edit", "deploy", "edited", "-n", namespace, env={"KUBE_EDITOR": f"{sys.executable} {editor}"}
    )
    assert edited.returncode == 1
    assert (
        "cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"
        in edited.stderr
    )
    kubectl("get", "deploy", "-n", namespace, check=True)
    stored = json.loads(kubectl("get", "deploy", "edited", "-n", namespace, "-o", "json", check=True).stdout)
    assert stored["spec"]["replicas"] == 1
