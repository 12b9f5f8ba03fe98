"""Identity: the admin and the read-only user, RBAC answers, self reviews, real 403s."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from kubectl_trace.sandbox.server.identity import ADMIN, VIEWER, Users, allowed

RO = ("--context", "sandbox-readonly")


def test_can_i_as_the_admin_and_as_the_viewer(kubectl: Any) -> None:
    assert (kubectl("auth", "can-i", "list", "pods").stdout, 0) == ("yes\n", 0)
    assert kubectl("auth", "can-i", "*", "*").stdout == "yes\n"
    denied = kubectl(*RO, "auth", "can-i", "create", "deployments")
    assert (denied.stdout, denied.returncode) == ("no\n", 1)
    assert kubectl(*RO, "auth", "can-i", "list", "pods", "-n", "production").stdout == "yes\n"
    assert kubectl(*RO, "auth", "can-i", "watch", "deployments.apps").stdout == "yes\n"
    for verb, what in (("get", "secrets"), ("create", "pods/exec"), ("delete", "pods"), ("*", "*")):
        assert kubectl(*RO, "auth", "can-i", verb, what).stdout == "no\n", (verb, what)
    assert kubectl(*RO, "auth", "can-i", "get", "/healthz").stdout == "yes\n"


def test_can_i_list(kubectl: Any) -> None:
    admin = kubectl("auth", "can-i", "--list", check=True).stdout
    assert "*.*" in admin and "[*]" in admin
    viewer = kubectl(*RO, "auth", "can-i", "--list", check=True).stdout.splitlines()
    rows = {line.split()[0]: line for line in viewer[1:] if line.split()}
    assert "[get list watch]" in rows["pods"] and "[get list watch]" in rows["deployments.apps"]
    assert "secrets" not in rows and "pods/exec" not in rows
    assert "[create]" in rows["selfsubjectaccessreviews.authorization.k8s.io"]


def test_whoami(kubectl: Any) -> None:
    admin = kubectl("auth", "whoami", check=True).stdout.splitlines()
    assert admin[1].split() == ["Username", "sandbox-admin"]
    assert "system:masters" in admin[-1]
    viewer = kubectl(*RO, "auth", "whoami", "-o", "json", check=True).stdout
    info = json.loads(viewer)["status"]["userInfo"]
    assert (info["username"], info["groups"]) == ("viewer", ["nodeapp:viewers", "system:authenticated"])


def test_the_viewer_reads_and_gets_real_403s_for_writes(kubectl: Any, kube: Any) -> None:
    assert "trace-api-web" in kubectl(*RO, "get", "deploy", "-n", "production", check=True).stdout
    created = kubectl(*RO, "create", "namespace", f"viewer-{uuid.uuid4().hex[:6]}")
    assert created.returncode == 1
    assert created.stderr == (
        'Error from server (Forbidden): namespaces is forbidden: User "viewer" cannot create resource '
        '"namespaces" in API group "" at the cluster scope\n'
    )
    scaled = kubectl(*RO, "scale", "deploy/trace-api-web", "-n", "production", "--replicas", "9")
    assert (
        scaled.returncode == 1
        and (
            'deployments.apps "trace-api-web" is forbidden: User "viewer" cannot patch resource '
            '"deployments/scale" in API group "apps" in the namespace "production"'
        )
        in scaled.stderr
    )
    assert kube.get("deployments", "trace-api-web", "production")["spec"]["replicas"] != 9
    secrets = kubectl(*RO, "get", "secrets", "-n", "production")
    assert secrets.returncode == 1 and 'cannot list resource "secrets"' in secrets.stderr
    pod = next(p["metadata"]["name"] for p in kube.list("pods", "production").items)
    assert kubectl(*RO, "logs", "-n", "production", pod, "--tail", "1").returncode == 0  # pods/log: readable
    admin = kubectl(*RO, "get", "--raw", "/sandbox/status")
    assert (admin.returncode, admin.stderr) == (
        1,
        'Error from server (Forbidden): forbidden: User "viewer" cannot get path "/sandbox/status"\n',
    )
    execed = kubectl(*RO, "exec", "-n", "production", pod, "--", "true")
    assert execed.returncode == 1 and 'cannot create resource "pods/exec"' in execed.stderr


@pytest.fixture
def viewer_api(sandbox: Any) -> Iterator[Any]:
    from kubernetes import config

    api = config.new_client_from_config(config_file=sandbox.kubeconfig, context="sandbox-readonly")
    yield api
    api.close()


def test_the_official_client_as_the_viewer(viewer_api: Any) -> None:
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    core = client.CoreV1Api(viewer_api)
    assert core.list_namespaced_pod("production").items
    body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="nope"), data={"a": "b"})
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map("production", body)
    status = json.loads(caught.value.body)
    assert (caught.value.status, status["kind"], status["reason"], status["code"]) == (
        403,
        "Status",
        "Forbidden",
        403,
    )
    assert status["details"] == {"kind": "configmaps"}
    authz = client.AuthorizationV1Api(viewer_api)
    review = authz.create_self_subject_access_review(
        client.V1SelfSubjectAccessReview(
            spec=client.V1SelfSubjectAccessReviewSpec(
                resource_attributes=client.V1ResourceAttributes(verb="list", resource="pods", namespace="x")
            )
        )
    )
    assert review.status.allowed is True and "view" in review.status.reason
    rules = authz.create_self_subject_rules_review(
        client.V1SelfSubjectRulesReview(spec=client.V1SelfSubjectRulesReviewSpec(namespace="production"))
    )
    assert rules.status.incomplete is False
    assert all(set(rule.verbs) <= {"get", "list", "watch", "create"} for rule in rules.status.resource_rules)
    me = client.AuthenticationV1Api(viewer_api).create_self_subject_review(client.V1SelfSubjectReview())
    assert me.status.user_info.username == "viewer"


def test_the_user_table() -> None:
    users = Users()
    users.add("admin-token", ADMIN)
    users.add("viewer-token", VIEWER)
    assert users.authenticate("Bearer admin-token") is ADMIN
    assert users.authenticate("bearer viewer-token") is VIEWER
    assert users.authenticate("Bearer other") is None and users.authenticate("Basic admin-token") is None
    assert allowed(VIEWER, "get", "apps", "deployments") and not allowed(
        VIEWER, "update", "apps", "deployments"
    )
    assert allowed(VIEWER, "get", "", "pods", "log") and not allowed(VIEWER, "create", "", "pods", "exec")
    assert allowed(ADMIN, "delete", "", "secrets")


def test_the_products_commands_as_the_viewer(sandbox: Any, invoke: Any, kube: Any) -> None:
    before = kube.get("deployments", "trace-api-web", "staging")
    ran = invoke(
        "restart", "trace-api", "-n", "staging", "--yes", "--context", "sandbox-readonly", kubeconfig=sandbox.kubeconfig
    )  # fmt: skip
    assert ran.exit_code == 1
    assert 'User "viewer" cannot patch resource "deployments" in API group "apps"' in ran.stderr
    after = kube.get("deployments", "trace-api-web", "staging")
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    status = invoke(
        "status", "trace-api", "-n", "staging", "--context", "sandbox-readonly", kubeconfig=sandbox.kubeconfig
    )
    assert status.exit_code in (0, 1) and "forbidden" not in status.stderr.lower(), status.stderr
