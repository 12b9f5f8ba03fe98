import json

import pytest

from kubectl_trace.health import deployment_findings, pod_findings, to_json
from kubectl_trace.health.findings import looks_like_credential
from tests.factories import container, deployment, pod, probe

REQUESTS = {"cpu": "100m", "memory": "128Mi"}
PASSWORD = "hunter2-Zq9!wX"


def codes(findings):
    return sorted((f.code, f.container) for f in findings)


def test_good_deployment_has_no_findings():
    assert deployment_findings(deployment()) == []


def test_literal_password_no_readiness_and_latest_get_exactly_those_findings():
    c = container(
        "web",
        tag="latest",
        liveness=probe("/livez", failureThreshold=6),
        requests=REQUESTS,
        env=[
            {"name": "PROCESS_TYPE", "value": "web"},
            {"name": "DB_PASSWORD", "value": PASSWORD},
            {"name": "DB_USER", "value": "trace"},
        ],
    )
    d = deployment("trace-api-web", namespace="staging", containers=[c], replicas=1)
    findings = deployment_findings(d)
    assert codes(findings) == [
        ("image-tag-latest", "web"),
        ("literal-credential", "web"),
        ("no-readiness-probe", "web"),
    ]
    credential = next(f for f in findings if f.code == "literal-credential")
    assert "DB_PASSWORD" in credential.message and "secretKeyRef" in credential.fix
    assert PASSWORD not in json.dumps(to_json(findings))
    for f in findings:
        assert f.object == "deploy/trace-api-web" and f.why and f.fix


def test_secret_key_ref_is_fine():
    c = container(
        readiness=probe(),
        liveness=probe("/livez", failureThreshold=6),
        requests=REQUESTS,
        env=[
            {
                "name": "DB_PASSWORD",
                "valueFrom": {"secretKeyRef": {"name": "trace-api-db", "key": "password"}},
            }
        ],
    )
    assert deployment_findings(deployment(containers=[c])) == []


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DB_PASSWORD", "x", True),
        ("STRIPE_SECRET_KEY", "sk_live_1", True),
        ("GITHUB_TOKEN", "ghp_1", True),
        ("AWS_ACCESS_KEY_ID", "AKIA1", True),
        ("DATABASE_URL", "postgres://trace:s3cret@db:5432/trace", True),
        ("DATABASE_URL", "postgres://db:5432/trace", False),
        ("DB_PASSWORD_FILE", "/run/secrets/db", False),
        ("DB_PASSWORD", "", False),
        ("LOG_LEVEL", "info", False),
        ("PWD", "/app", False),
    ],
)
def test_looks_like_credential(name, value, expected):
    assert looks_like_credential(name, value) is expected


def test_liveness_identical_to_readiness_with_low_threshold():
    same = container(readiness=probe(), liveness=probe(), requests=REQUESTS)
    assert codes(deployment_findings(deployment(containers=[same]))) == [("liveness-equals-readiness", "web")]
    patient = container(readiness=probe(), liveness=probe(failureThreshold=6), requests=REQUESTS)
    assert deployment_findings(deployment(containers=[patient])) == []
    other_path = container(readiness=probe(), liveness=probe("/livez"), requests=REQUESTS)
    assert deployment_findings(deployment(containers=[other_path])) == []


def test_graceful_shutdown():
    c = container(readiness=probe(), liveness=probe("/livez"), requests=REQUESTS, prestop=False)
    assert codes(deployment_findings(deployment(containers=[c]))) == [("no-prestop", "web")]
    c = container(readiness=probe(), liveness=probe("/livez"), requests=REQUESTS)
    found = deployment_findings(deployment(containers=[c], termination_grace=2))
    assert codes(found) == [("short-grace-period", None)]
    assert "2" in found[0].message
    # A worker gets no Service traffic (its port is for /healthz): no preStop needed.
    worker = container(
        "worker", readiness=probe(), liveness=probe("/livez"), requests=REQUESTS, prestop=False
    )
    assert deployment_findings(deployment("trace-api-worker", containers=[worker], process="worker")) == []
    # Without a process type, declared ports decide.
    plain = container("api", readiness=probe(), liveness=probe("/livez"), requests=REQUESTS, prestop=False)
    plain["env"] = []
    d = deployment("api", containers=[plain])
    del d["spec"]["template"]["metadata"]["labels"]["process"]
    assert codes(deployment_findings(d)) == [("no-prestop", "api")]
    del plain["ports"]
    assert deployment_findings(d) == []


def test_clock_needs_no_readiness_probe():
    clock = container("clock", requests=REQUESTS, prestop=False, ports=False)
    assert (
        deployment_findings(deployment("trace-api-clock", containers=[clock], process="clock", replicas=1))
        == []
    )


def test_image_without_tag_and_with_digest():
    untagged = container(tag=None, readiness=probe(), liveness=probe("/livez"), requests=REQUESTS)
    [f] = deployment_findings(deployment(containers=[untagged]))
    assert f.code == "image-tag-latest" and "no tag" in f.message
    pinned = container(readiness=probe(), liveness=probe("/livez"), requests=REQUESTS)
    pinned["image"] = "registry.sandbox.local/trace/trace-api@sha256:" + "a" * 64
    assert deployment_findings(deployment(containers=[pinned])) == []


def test_single_replica_in_production():
    assert codes(deployment_findings(deployment(replicas=1))) == [("single-replica-production", None)]
    assert deployment_findings(deployment(replicas=1, namespace="staging")) == []
    assert deployment_findings(deployment(replicas=1, namespace="prod")) != []
    assert deployment_findings(deployment("trace-api-clock", replicas=1, process="clock")) == []
    assert deployment_findings(deployment(replicas=0)) == []
    live = deployment(replicas=1, namespace="live")
    assert codes(deployment_findings(live, production_namespaces=("live",))) == [
        ("single-replica-production", None)
    ]


def test_resource_requests():
    none = container(readiness=probe(), liveness=probe("/livez"))
    [f] = deployment_findings(deployment(containers=[none]))
    assert f.code == "no-resource-requests" and "cpu or memory" in f.message
    partial = container(readiness=probe(), liveness=probe("/livez"), requests={"memory": "128Mi"})
    [f] = deployment_findings(deployment(containers=[partial]))
    assert "no cpu request" in f.message


def test_bare_pod_findings():
    p = pod()
    found = codes(pod_findings(p))
    assert ("liveness-equals-readiness", "web") in found and ("no-resource-requests", "web") in found
    assert all(f.object.startswith("pod/") for f in pod_findings(p))
