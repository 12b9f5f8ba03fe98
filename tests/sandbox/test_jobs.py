"""batch/v1 Jobs and CronJobs in the sandbox, through the real kubectl and the official client."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kubectl_trace.sandbox.cron import CronError, parse_schedule
from kubectl_trace.timeparse import parse_rfc3339
from tests.factories import job_manifest
from tests.sandbox.modelcheck import validate

IMAGE = "registry.sandbox.local/trace/trace-api:a41c9e7"


def _get(kubectl: Any, ns: str, *what: str) -> Any:
    return json.loads(kubectl("get", *what, "-n", ns, "-o", "json", check=True).stdout)


def _job(name: str, ns: str, container: dict[str, Any], **spec: Any) -> str:
    """A Job manifest (JSON) whose one container runs IMAGE with ``container``'s fields."""
    return json.dumps(job_manifest(name, ns, {"image": IMAGE, **container}, **spec))


def test_create_job_wait_and_logs(kubectl: Any, ns: str, eventually: Any) -> None:
    kubectl("create", "job", "j", f"--image={IMAGE}", "-n", ns, "--", "sh", "-c", "echo hi", check=True)
    kubectl("wait", "--for=condition=complete", "job/j", "-n", ns, "--timeout=60s", check=True)
    assert kubectl("logs", "job/j", "-n", ns, check=True).stdout == "hi\n"
    job = _get(kubectl, ns, "job", "j")
    validate(job)
    uid = job["metadata"]["uid"]
    assert job["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    assert job["metadata"]["labels"]["job-name"] == "j"
    assert [c["type"] for c in job["status"]["conditions"]] == ["SuccessCriteriaMet", "Complete"]
    assert job["status"]["succeeded"] == 1 and job["status"]["completionTime"]
    pods = _get(kubectl, ns, "pods", "-l", "batch.kubernetes.io/job-name=j")["items"]
    assert len(pods) == 1
    pod = pods[0]
    assert pod["metadata"]["labels"]["controller-uid"] == uid
    assert pod["metadata"]["ownerReferences"][0]["kind"] == "Job"
    assert pod["status"]["phase"] == "Succeeded"
    terminated = pod["status"]["containerStatuses"][0]["state"]["terminated"]
    assert terminated["exitCode"] == 0 and terminated["reason"] == "Completed"
    table = kubectl("get", "jobs", "-n", ns, check=True).stdout.splitlines()
    assert table[0].split() == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    assert table[1].split()[:3] == ["j", "Complete", "1/1"]
    kubectl("delete", "job", "j", "-n", ns, check=True)
    eventually(
        lambda: not _get(kubectl, ns, "pods")["items"], timeout=30, message="the Job's pod is collected"
    )


def test_failing_job_counts_the_exit_code_and_fails(kubectl: Any, ns: str) -> None:
    manifest = _job("bad", ns, {"command": ["sh", "-c", "echo no >&2; exit 3"]}, backoffLimit=0)
    kubectl("apply", "-f", "-", input=manifest, check=True)
    kubectl("wait", "--for=condition=failed", "job/bad", "-n", ns, "--timeout=60s", check=True)
    job = _get(kubectl, ns, "job", "bad")
    conditions = [(c["type"], c["reason"]) for c in job["status"]["conditions"]]
    assert conditions == [("FailureTarget", "BackoffLimitExceeded"), ("Failed", "BackoffLimitExceeded")]
    assert job["status"]["failed"] == 1 and "completionTime" not in job["status"]
    pod = _get(kubectl, ns, "pods", "-l", "job-name=bad")["items"][0]
    assert pod["status"]["phase"] == "Failed"
    assert pod["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 3
    assert kubectl("logs", "job/bad", "-n", ns, check=True).stdout == "no\n"
    assert "Failed" in kubectl("get", "job", "bad", "-n", ns, check=True).stdout


def test_job_template_must_not_restart_always(kubectl: Any, ns: str) -> None:
    manifest = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "always", "namespace": ns},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": IMAGE}]}}},
    }
    result = kubectl("apply", "-f", "-", input=json.dumps(manifest))
    assert result.returncode != 0
    assert "spec.template.spec.restartPolicy" in result.stderr


def test_image_pull_failure_keeps_the_job_running(kubectl: Any, ns: str, eventually: Any) -> None:
    bad = IMAGE.rsplit(":", 1)[0] + ":0000000"
    kubectl("create", "job", "pull", f"--image={bad}", "-n", ns, "--", "echo", "x", check=True)

    def waiting() -> str:
        pods = _get(kubectl, ns, "pods", "-l", "job-name=pull")["items"]
        statuses = (pods[0].get("status") or {}).get("containerStatuses") or [] if pods else []
        return ((statuses[0]["state"].get("waiting") or {}).get("reason", "")) if statuses else ""

    assert eventually(lambda: waiting() in ("ErrImagePull", "ImagePullBackOff") and waiting(), timeout=30)
    assert "Running" in kubectl("get", "job", "pull", "-n", ns, check=True).stdout


def test_ttl_after_finished_deletes_the_job_and_its_pods(kubectl: Any, ns: str, eventually: Any) -> None:
    manifest = _job("short", ns, {"args": ["true"]}, ttlSecondsAfterFinished=30)  # three real seconds
    kubectl("apply", "-f", "-", input=manifest, check=True)
    kubectl("wait", "--for=condition=complete", "job/short", "-n", ns, "--timeout=60s", check=True)
    eventually(lambda: not _get(kubectl, ns, "jobs")["items"], timeout=30, message="the TTL deletes the Job")
    eventually(lambda: not _get(kubectl, ns, "pods")["items"], timeout=30, message="and its pods")


def test_cronjob_every_minute_keeps_its_history_limit(kubectl: Any, ns: str, eventually: Any) -> None:
    kubectl(
        "create", "cronjob", "tick", f"--image={IMAGE}", "--schedule=* * * * *", "-n", ns,
        "--", "sh", "-c", "echo tick", check=True,
    )  # fmt: skip
    kubectl(
        "patch", "cronjob", "tick", "-n", ns, "--type=merge",
        "-p", json.dumps({"spec": {"successfulJobsHistoryLimit": 1}}), check=True,
    )  # fmt: skip
    cronjob = _get(kubectl, ns, "cronjob", "tick")
    validate(cronjob)
    assert cronjob["spec"]["concurrencyPolicy"] == "Allow"

    # at --time-scale 0.1 a minute lasts six seconds: two schedules, then the first is deleted
    def events() -> str:
        selector = "--field-selector=involvedObject.name=tick"
        return str(kubectl("get", "events", "-n", ns, selector, "-o", "json", check=True).stdout)

    eventually(lambda: events().count('"Created job tick-') >= 2, timeout=40, message="two schedules")
    eventually(lambda: '"Deleted job tick-' in events(), timeout=30, message="history limit applied")
    jobs = _get(kubectl, ns, "jobs")["items"]
    complete = [j for j in jobs if any(c["type"] == "Complete" for c in j["status"].get("conditions") or [])]
    assert len(complete) <= 1
    cronjob = _get(kubectl, ns, "cronjob", "tick")
    assert cronjob["status"]["lastScheduleTime"]
    for job in jobs:
        assert job["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
        assert job["metadata"]["name"].startswith("tick-")
    table = kubectl("get", "cronjobs", "-n", ns, check=True).stdout.splitlines()
    assert table[0].split()[:4] == ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND"]


def test_official_client_creates_and_watches_a_job(sandbox: Any, ns: str) -> None:
    from kubernetes import client, config, watch

    api = config.new_client_from_config(config_file=sandbox.kubeconfig)
    batch = client.BatchV1Api(api)
    body = client.V1Job(
        metadata=client.V1ObjectMeta(name="py"),
        spec=client.V1JobSpec(
            backoff_limit=0,
            template=client.V1PodTemplateSpec(
                spec=client.V1PodSpec(
                    restart_policy="Never",
                    containers=[client.V1Container(name="c", image=IMAGE, command=["sh", "-c", "echo py"])],
                )
            ),
        ),
    )
    created = batch.create_namespaced_job(ns, body)
    assert created.spec.completions == 1 and created.spec.backoff_limit == 0
    seen: list[str] = []
    for event in watch.Watch().stream(
        batch.list_namespaced_job, ns, field_selector="metadata.name=py", timeout_seconds=60
    ):
        job = event["object"]
        seen.extend(c.type for c in job.status.conditions or [] if c.type not in seen)
        if "Complete" in seen:
            break
    assert seen == ["SuccessCriteriaMet", "Complete"]
    assert batch.read_namespaced_job_status("py", ns).status.succeeded == 1
    api.close()


def test_cron_schedules() -> None:
    every_minute = parse_schedule("* * * * *")
    start = parse_rfc3339("2026-01-01T10:00:30Z")
    assert every_minute.next_after(start) == parse_rfc3339("2026-01-01T10:01:00Z")
    quarter = parse_schedule("*/15 9-17 * * mon-fri")
    assert quarter.next_after(parse_rfc3339("2026-01-02T17:50:00Z")) == parse_rfc3339("2026-01-05T09:00:00Z")
    assert parse_schedule("@daily").next_after(start) == parse_rfc3339("2026-01-02T00:00:00Z")
    for bad in ("* * * *", "61 * * * *", "@every 5m", "TZ=UTC * * * * *"):
        with pytest.raises(CronError):
            parse_schedule(bad)


def test_attach_to_a_completed_pod_is_refused(kube: Any, kubectl: Any, ns: str) -> None:
    from kubectl_trace.kube.errors import ApiError
    from kubectl_trace.kube.exec import open_attach

    kubectl("create", "job", "done", f"--image={IMAGE}", "-n", ns, "--", "true", check=True)
    kubectl("wait", "--for=condition=complete", "job/done", "-n", ns, "--timeout=60s", check=True)
    pod = _get(kubectl, ns, "pods", "-l", "job-name=done")["items"][0]["metadata"]["name"]
    with pytest.raises(ApiError) as caught:
        open_attach(kube, ns, pod)
    assert caught.value.status == 400
    assert "cannot attach to a container in a completed pod; current phase is Succeeded" in str(caught.value)


def test_suspend_and_resume(kubectl: Any, ns: str, eventually: Any) -> None:
    kubectl("apply", "-f", "-", input=_job("later", ns, {"args": ["true"]}, suspend=True), check=True)
    kubectl("wait", "--for=condition=suspended", "job/later", "-n", ns, "--timeout=30s", check=True)
    assert "Suspended" in kubectl("get", "job", "later", "-n", ns, check=True).stdout
    assert not _get(kubectl, ns, "pods", "-l", "job-name=later")["items"]
    kubectl("patch", "job", "later", "-n", ns, "--type=merge", "-p", '{"spec":{"suspend":false}}', check=True)
    kubectl("wait", "--for=condition=complete", "job/later", "-n", ns, "--timeout=60s", check=True)
    suspended = next(
        c for c in _get(kubectl, ns, "job", "later")["status"]["conditions"] if c["type"] == "Suspended"
    )
    assert (suspended["status"], suspended["reason"]) == ("False", "JobResumed")


def test_create_job_from_a_cronjob(kubectl: Any, ns: str) -> None:
    kubectl(
        "create", "cronjob", "yearly", f"--image={IMAGE}", "--schedule=@yearly", "-n", ns,
        "--", "sh", "-c", "echo by hand", check=True,
    )  # fmt: skip
    kubectl("create", "job", "now", "--from=cronjob/yearly", "-n", ns, check=True)
    kubectl("wait", "--for=condition=complete", "job/now", "-n", ns, "--timeout=60s", check=True)
    assert kubectl("logs", "job/now", "-n", ns, check=True).stdout == "by hand\n"
    job = _get(kubectl, ns, "job", "now")
    assert job["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
    assert job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"


def test_completions_parallelism_and_deadline(kubectl: Any, ns: str, eventually: Any) -> None:
    def job(name: str, command: str, **spec: Any) -> str:
        return _job(name, ns, {"command": ["sh", "-c", command]}, **spec)

    kubectl("apply", "-f", "-", input=job("three", "echo part", completions=3, parallelism=2), check=True)
    kubectl("apply", "-f", "-", input=job("slow", "sleep 300", activeDeadlineSeconds=20), check=True)
    kubectl("wait", "--for=condition=complete", "job/three", "-n", ns, "--timeout=60s", check=True)
    three = _get(kubectl, ns, "job", "three")
    assert three["status"]["succeeded"] == 3
    assert len(_get(kubectl, ns, "pods", "-l", "job-name=three")["items"]) == 3
    assert "3/3" in kubectl("get", "job", "three", "-n", ns, check=True).stdout
    # 20 simulated seconds (two real ones at --time-scale 0.1); the running pod is stopped first
    kubectl("wait", "--for=condition=failed", "job/slow", "-n", ns, "--timeout=60s", check=True)
    conditions = [(c["type"], c["reason"]) for c in _get(kubectl, ns, "job", "slow")["status"]["conditions"]]
    assert conditions == [("FailureTarget", "DeadlineExceeded"), ("Failed", "DeadlineExceeded")]
    slow = _get(kubectl, ns, "job", "slow")["status"]
    assert slow["failed"] == 1 and "active" not in slow and slow["terminating"] == 0
    running = [
        p
        for p in _get(kubectl, ns, "pods", "-l", "job-name=slow")["items"]
        if p["status"]["phase"] == "Running"
    ]
    assert not running
