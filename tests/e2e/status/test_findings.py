"""A Deployment with a literal DB_PASSWORD, no readiness probe and tag latest gets exactly those findings.

The password's value must never appear in any output of ``status`` or ``events``.
"""

from __future__ import annotations

import json

from tests.factories import deployment_manifest, process_container

from .helpers import own_namespace

PASSWORD = "Pa55w0rd-never-print-me-7f3a"


def _deployment(namespace: str) -> dict:
    web = process_container(
        tag="latest",
        ports=[{"name": "http", "containerPort": 3000}],
        env=[
            {"name": "PROCESS_TYPE", "value": "web"},
            {"name": "DB_USER", "value": "ledger"},
            {"name": "DB_PASSWORD", "value": PASSWORD},
        ],
        livenessProbe={
            "httpGet": {"path": "/healthz", "port": "http"},
            "initialDelaySeconds": 10,
            "failureThreshold": 6,
            "periodSeconds": 10,
        },
        lifecycle={"preStop": {"exec": {"command": ["sleep", "5"]}}},
        resources={"requests": {"cpu": "100m", "memory": "128Mi"}},
    )
    labels = {"app": "ledger", "process": "web"}
    return deployment_manifest(
        "ledger-web", namespace, labels, [web], replicas=2, terminationGracePeriodSeconds=30
    )


def test_literal_password_findings_and_no_leak(sandbox, kube, invoke, eventually):
    namespace = own_namespace(kube, "findings")
    try:
        kube.create("deployments", _deployment(namespace), namespace)
        cfg = sandbox.kubeconfig

        def settled():
            result = invoke("status", "deploy/ledger-web", "-n", namespace, "-o", "json", kubeconfig=cfg)
            doc = json.loads(result.stdout)
            pods = doc["deployments"][0]["pods"]
            complete = doc["deployments"][0]["rollout"]["state"] == "complete"
            return (result, doc) if complete and len(pods) == 2 and all(p["ready"] for p in pods) else None

        result, doc = eventually(settled, timeout=60, message="ledger-web rolled out")
        assert [p for p in doc["problems"] if p["severity"] == "error"] == [], doc["problems"]
        assert sorted((f["code"], f["container"]) for f in doc["findings"]) == [
            ("image-tag-latest", "web"),
            ("literal-credential", "web"),
            ("no-readiness-probe", "web"),
        ]
        credential = next(f for f in doc["findings"] if f["code"] == "literal-credential")
        assert "DB_PASSWORD" in credential["message"] and "secretKeyRef" in credential["fix"]
        assert result.exit_code == 0  # findings are advice, not failures

        outputs = [
            result.stdout,
            result.stderr,
            *(
                (r.stdout + r.stderr)
                for r in (
                    invoke("status", "deploy/ledger-web", "-n", namespace, kubeconfig=cfg),
                    invoke("status", "-n", namespace, "--probe", kubeconfig=cfg),
                    invoke("status", "ledger", "-n", namespace, "-o", "json", "--probe", kubeconfig=cfg),
                    invoke("events", "ledger", "-n", namespace, kubeconfig=cfg),
                    invoke("events", "-n", namespace, "-o", "json", kubeconfig=cfg),
                )
            ),
        ]
        screen = outputs[2]
        assert "DB_PASSWORD" in screen and "secretKeyRef" in screen
        for text in outputs:
            assert PASSWORD not in text
    finally:
        kube.delete("namespaces", namespace)
