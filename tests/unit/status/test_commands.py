"""The pure parts of ``status`` and ``events``: report building, rendering, JSON, flag checks."""

import json
import re

from kubectl_trace.cli.cmd_events import _Printer, event_json
from kubectl_trace.health import event_record
from kubectl_trace.kube.targets import Target
from kubectl_trace.status.render import render_report
from kubectl_trace.status.report import PreviousLog, ProbeCheck, build_report, report_json
from tests.factories import (
    NOW,
    READINESS_503,
    STALLED_MESSAGE,
    container,
    deployment,
    event,
    pod,
    probe,
    replicaset,
    running,
    stalled_deployment,
    terminated,
    waiting,
)
from tests.inprocess import buffered_env, invoke

PASSWORD = "s3cr3t-Pa55-w0rd"


def make_env(width=140):
    return buffered_env(clock=lambda: NOW, width=width)


def stalled_world():
    d, rss = stalled_deployment()
    message = STALLED_MESSAGE
    new_pod = pod(
        "trace-api-web-6b7f4d9c8-abcde",
        uid="new-uid",
        template_hash="6b7f4d9c8",
        ready=False,
        containers=[container(tag="badc0de", readiness=probe(), liveness=probe())],
        statuses=[running(tag="badc0de", ready=False, started=-200)],
    )
    new_pod["metadata"]["labels"]["process"] = "web"
    old_pods = [pod(f"trace-api-web-7d9f8c6b5-{s}", uid=f"old-{s}") for s in ("aaaaa", "bbbbb", "ccccc")]
    events = [
        event(
            "Unhealthy",
            "Readiness probe failed: HTTP probe failed with statuscode: 503",
            name="trace-api-web-6b7f4d9c8-abcde",
            uid="new-uid",
            type="Warning",
            count=14,
            first=-190,
            last=-3,
        )
    ]
    target = Target(
        namespace="production", description="app trace-api", kind="app", deployments=(d,), app="trace-api"
    )
    report = build_report(
        namespace="production",
        context="nodeapp-sandbox",
        target=target,
        deployments=[d],
        replicasets=rss,
        pods=[new_pod, *old_pods],
        events=events,
        now=NOW,
    )
    return report, message


def render(report, width=140):
    env = make_env(width)
    from kubectl_trace.status.render import print_renderables

    print_renderables(env.console(width=width), env.stdout, render_report(report))
    return env.stdout.getvalue()


def test_stalled_report_names_rollout_and_probe_failure():
    report, message = stalled_world()
    assert not report.healthy
    text = render(report)
    assert "✗ unhealthy" in text
    assert "deploy/trace-api-web" in text and "Stalled" in text and message in text
    assert "3f9c2a1 → badc0de" in text
    assert "failing ×14 (503)" in text
    assert "readiness probe failing ×14 over 3m7s" in text and "statuscode: 503" in text
    # the pod table gives each pod its revision
    row = next(
        line for line in text.splitlines() if "trace-api-web-6b7f4d9c8-abcde" in line and "Running" in line
    )
    assert re.search(r"\b5\b", row)
    data = report_json(report)
    json.dumps(data)
    assert data["healthy"] is False
    assert {p["code"] for p in data["problems"]} == {"ProgressDeadlineExceeded", "ReadinessProbeFailing"}
    assert data["deployments"][0]["rollout"]["state"] == "stalled"


def test_probe_results_make_the_report_unhealthy_and_render():
    from dataclasses import replace

    report, _ = stalled_world()
    probes = (
        ProbeCheck(
            "trace-api-web-6b7f4d9c8-abcde",
            "web",
            ("readiness", "liveness"),
            "GET :8080/healthz",
            503,
            3.2,
            '{"status":"unavailable"}',
        ),
        ProbeCheck(
            "trace-api-web-7d9f8c6b5-aaaaa",
            "web",
            ("readiness", "liveness"),
            "GET :8080/healthz",
            200,
            2.1,
            '{"status":"ok"}',
        ),
    )
    report = replace(report, probes=probes)
    text = render(report)
    assert "probes run now" in text
    rows = [line for line in text.splitlines() if "GET :8080/healthz" in line]
    assert any("503" in r and "abcde" in r for r in rows) and any("200" in r and "aaaaa" in r for r in rows)
    assert [p["ok"] for p in report_json(report)["probes"]] == [False, True]


def deployment_report(d, pods=()):
    """The report of ``status deployment/NAME`` (context ``c``) on ``d`` and ``pods`` alone."""
    namespace, name = d["metadata"]["namespace"], d["metadata"]["name"]
    target = Target(
        namespace=namespace, description=f"deployment {name}", kind="deployment", deployments=(d,)
    )
    return build_report(
        namespace=namespace,
        context="c",
        target=target,
        deployments=[d],
        replicasets=[],
        pods=list(pods),
        events=[],
        now=NOW,
    )


def test_crash_loop_report_shows_previous_lines():
    from dataclasses import replace

    d = deployment(tag="c0ffee1", revision=6)
    last = terminated(1, "Error", started=-12, finished=-11)
    crashing = pod(
        "trace-api-web-1a2b3c4d5-zzzzz",
        ready=False,
        template_hash="1a2b3c4d5",
        statuses=[waiting(tag="c0ffee1", reason="CrashLoopBackOff", restarts=3, last=last)],
    )
    report = deployment_report(d, pods=[crashing])
    report = replace(
        report,
        previous_logs=(
            PreviousLog(
                crashing["metadata"]["name"],
                "web",
                report.pods[0].containers[0].last_termination,
                (
                    "Error: Cannot find module 'express'",
                    "    at Module._resolveFilename (node:internal/modules/cjs/loader:1145:15)",
                ),
            ),
        ),
    )
    text = render(report)
    assert "CrashLoopBackOff" in text and "exited 1 (Error)" in text
    assert "Cannot find module 'express'" in text
    assert "previous instance of web" in text


def test_literal_password_never_rendered():
    c = container(
        tag="latest",
        requests={"cpu": "100m", "memory": "128Mi"},
        env=[{"name": "DB_PASSWORD", "value": PASSWORD}],
        liveness=probe("/livez", failureThreshold=6),
    )
    d = deployment("secrets-demo", namespace="staging", containers=[c], replicas=2)
    report = deployment_report(d)
    text = render(report)
    assert "DB_PASSWORD" in text and PASSWORD not in text
    assert PASSWORD not in json.dumps(report_json(report))


def test_event_printer_lines_and_json():
    env = make_env()
    printer = _Printer(env, "pretty")
    records = [
        event_record(
            event(
                "ScalingReplicaSet",
                "Scaled up replica set trace-api-web-6b7f4d9c8 to 1 from 0",
                kind="Deployment",
                name="trace-api-web",
                container=None,
                first=-200,
                component="deployment-controller",
            )
        ),
        event_record(event("Unhealthy", READINESS_503, type="Warning", count=12, first=-180, last=-2)),
    ]
    printer.fit(records)
    printer.header()
    printer.emit(records, NOW)
    lines = env.stdout.getvalue().splitlines()
    assert lines[0].split()[:3] == ["LAST", "SEEN", "TYPE"]
    assert "deploy/trace-api-web" in lines[1] and "ScalingReplicaSet" in lines[1]
    assert "⚠ Warning" in lines[2] and lines[2].rstrip().endswith("×12 over 2m58s")
    data = event_json(records[1])
    assert data["object"] == "pod/trace-api-web-7d9f8c6b5-x2k4q" and data["count"] == 12
    assert data["last_at"] == "2026-03-01T11:59:58Z" and data["span"] == "×12 over 2m58s"


def test_bad_flags_are_usage_errors():
    out, err, code = invoke("events", "--types", "Critical")
    assert code == 2 and err.startswith("error: invalid --types") and out == ""
    out, err, code = invoke("events", "--since", "yesterday")
    assert code == 2 and "invalid --since" in err
    out, err, code = invoke("status", "([")
    assert code == 2 and "invalid TARGET regular expression" in err
    assert "Traceback" not in err


def test_compact_log_lines():
    from kubectl_trace.status.render import compact_log_line

    line = json.dumps(
        {
            "severity": "ERROR",
            "message": "db not connected",
            "err": {
                "name": "Error",
                "message": "connect ECONNREFUSED",
                "stack": "Error: connect ECONNREFUSED\n    at x",
            },
        }
    )
    assert compact_log_line(line) == "ERROR db not connected — Error: connect ECONNREFUSED"
    assert compact_log_line("Error: Cannot find module 'express'") == "Error: Cannot find module 'express'"


NODE_CRASH = """> trace-api@1.4.2 start
> node dist/worker.js
node:internal/modules/cjs/loader:1148
  throw err;
  ^
Error: Cannot find module 'pg-native'
Require stack:
- /app/dist/worker.js
    at Module._resolveFilename (node:internal/modules/cjs/loader:1145:15)
    at Module._load (node:internal/modules/cjs/loader:986:27)
    at Module.require (node:internal/modules/cjs/loader:1233:19)
    at require (node:internal/modules/helpers:179:18)
    at Object.<anonymous> (/app/dist/worker.js:4:14) {
  code: 'MODULE_NOT_FOUND',
  requireStack: [ '/app/dist/worker.js' ]
}
Node.js v20.12.2""".splitlines()


def test_crash_excerpt_starts_at_the_error_and_folds_frames():
    from kubectl_trace.status.checks import crash_excerpt

    out = crash_excerpt(NODE_CRASH, limit=20)
    assert out[0] == "Error: Cannot find module 'pg-native'"
    assert "    … 2 more frames" in out and out[-1] == "Node.js v20.12.2"
    assert sum(1 for line in out if line.strip().startswith("at ")) == 3
    short = crash_excerpt(NODE_CRASH, limit=6)
    assert (
        len(short) == 6
        and short[0].startswith("Error: Cannot find module")
        and short[-1] == "Node.js v20.12.2"
    )
    plain = ["starting", "listening on 3000", "bye"]
    assert crash_excerpt(plain, limit=2) == ["listening on 3000", "bye"]
    assert crash_excerpt(["TypeError [ERR_INVALID_ARG_TYPE]: bad", "    at x"])[0].startswith("TypeError")


def test_status_all_groups_by_namespace_and_sums_up():
    from kubectl_trace.status.all import all_json, render_all, reports_by_namespace

    message = 'ReplicaSet "trace-api-web-6b7f4d9c8" has timed out progressing.'  # production stalls
    healthy = deployment(namespace="staging", uid="staging-web")
    listed = {
        "deployments": [
            deployment(
                tag="badc0de",
                revision=5,
                progressing=("False", "ProgressDeadlineExceeded", message),
                status={"replicas": 4, "updatedReplicas": 1, "readyReplicas": 3, "availableReplicas": 3},
            ),
            healthy,
        ],
        "replicasets": [replicaset(healthy, "7d9f8c6b5", revision=4, tag="3f9c2a1", replicas=3)],
        "pods": [
            pod(f"trace-api-web-7d9f8c6b5-{s}", namespace="staging", uid=f"s-{s}") for s in ("a1", "b2", "c3")
        ],
        "events": [],
    }
    reports = reports_by_namespace(listed, context="ctx", now=NOW)
    assert [r.namespace for r in reports] == ["production", "staging"]
    assert [r.healthy for r in reports] == [False, True]
    doc = all_json(reports, "ctx")
    json.dumps(doc)
    assert doc["healthy"] is False and [n["namespace"] for n in doc["namespaces"]] == [
        "production",
        "staging",
    ]

    env = make_env(160)
    from kubectl_trace.status.render import print_renderables

    print_renderables(env.console(width=160), env.stdout, render_all(reports, "ctx"))
    lines = env.stdout.getvalue().splitlines()
    assert lines[0] == "every namespace · context ctx  ✗ unhealthy: 1 of 2 in 1 namespace"
    rows = {tuple(line.split()[:2]): line for line in lines[3:] if line.strip()}
    assert (
        "✗ stalled" in rows[("production", "trace-api-web")]
        and message in rows[("production", "trace-api-web")]
    )
    assert rows[("staging", "trace-api-web")].split()[2:6] == ["✓", "complete", "3/3", "0"]
    assert lines[-1] == "why: kubectl nodeapp status deploy/trace-api-web -n production"


def test_status_all_refuses_a_target():
    out, err, code = invoke("status", "-A", "trace-api")
    assert code == 2 and out == ""
    assert err.startswith("error: -A sums up every namespace and takes no TARGET")
