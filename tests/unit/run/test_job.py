"""The Job of a one-off process, built from a process Deployment (pure)."""

from __future__ import annotations

import random
from typing import Any

from kubectl_trace.run.job import RUN_ANNOTATION, RunSpec, build_run_job, run_job_name


def _deployment() -> dict[str, Any]:
    probe = {"httpGet": {"path": "/healthz", "port": 3000}}
    return {
        "metadata": {"name": "trace-api-web", "namespace": "staging"},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "trace-api", "process": "web", "pod-template-hash": "abc"}},
                "spec": {
                    "serviceAccountName": "trace-api",
                    "volumes": [{"name": "tmp", "emptyDir": {}}],
                    "containers": [
                        {
                            "name": "proxy",
                            "image": "envoyproxy/envoy:v1.30",
                            "ports": [{"containerPort": 8080}],
                        },
                        {
                            "name": "web",
                            "image": "registry.example/trace-api:a41c9e7",
                            "args": ["node", "dist/server.js"],
                            "env": [
                                {"name": "PROCESS_TYPE", "value": "web"},
                                {"name": "NODE_ENV", "value": "production"},
                            ],
                            "envFrom": [{"configMapRef": {"name": "trace-api-config"}}],
                            "resources": {"requests": {"cpu": "100m"}},
                            "readinessProbe": probe,
                            "livenessProbe": probe,
                            "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
                            "ports": [{"containerPort": 3000}],
                            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                        },
                    ],
                },
            }
        },
    }


def _spec(**overrides: Any) -> RunSpec:
    base: dict[str, Any] = {
        "app": "trace-api",
        "command": ("npm", "run", "migrate"),
        "name": "trace-api-run-bcdfg",
        "user": "ana",
        "at": "2026-01-01T10:00:00Z",
        "repository": "registry.example/trace-api",
    }
    return RunSpec(**(base | overrides))


def test_the_app_container_runs_the_command_with_its_config() -> None:
    job = build_run_job(_deployment(), _spec())
    pod = job["spec"]["template"]["spec"]
    assert [c["name"] for c in pod["containers"]] == ["web"]  # the sidecar stays out
    web = pod["containers"][0]
    assert web["command"] == ["npm", "run", "migrate"] and "args" not in web
    assert web["image"] == "registry.example/trace-api:a41c9e7"
    assert {e["name"]: e["value"] for e in web["env"]} == {"NODE_ENV": "production", "PROCESS_TYPE": "run"}
    assert web["envFrom"] == [{"configMapRef": {"name": "trace-api-config"}}]
    assert web["resources"] == {"requests": {"cpu": "100m"}} and web["volumeMounts"]
    assert not {"readinessProbe", "livenessProbe", "lifecycle", "ports"} & set(web)
    assert pod["serviceAccountName"] == "trace-api" and pod["volumes"] == [{"name": "tmp", "emptyDir": {}}]
    assert pod["restartPolicy"] == "Never"
    assert job["spec"]["backoffLimit"] == 0 and job["spec"]["ttlSecondsAfterFinished"] == 3600
    assert "activeDeadlineSeconds" not in job["spec"]
    labels = job["spec"]["template"]["metadata"]["labels"]
    assert labels == {"app": "trace-api", "process": "run"}
    assert (
        job["metadata"]["annotations"][RUN_ANNOTATION]
        == "run by ana at 2026-01-01T10:00:00Z: npm run migrate"
    )
    assert job["metadata"]["namespace"] == "staging"


def test_tag_env_timeout_and_tty() -> None:
    job = build_run_job(
        _deployment(),
        _spec(
            tag="d4e5f6a", env=(("PROCESS_TYPE", "console"),), timeout_seconds=600, tty=True, kind="release"
        ),
    )
    web = job["spec"]["template"]["spec"]["containers"][0]
    assert web["image"] == "registry.example/trace-api:d4e5f6a"
    assert {e["name"]: e["value"] for e in web["env"]}["PROCESS_TYPE"] == "console"
    assert web["stdin"] and web["tty"]
    assert job["spec"]["activeDeadlineSeconds"] == 600
    assert job["metadata"]["annotations"][RUN_ANNOTATION].startswith("release by ana")


def test_names_are_dns_labels() -> None:
    name = run_job_name("a" * 70, rng=random.Random(1))
    assert len(name) <= 63 and name.split("-")[-2] == "run"
    assert run_job_name("trace-api", "release", random.Random(2)).startswith("trace-api-release-")
