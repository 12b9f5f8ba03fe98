import json

from kubectl_trace.health import index_events, pod_health, to_json
from tests.factories import (
    NOW,
    READINESS_503,
    conditions,
    container,
    event,
    pod,
    probe,
    running,
    terminated,
    waiting,
)


def test_healthy_pod():
    h = pod_health(pod(), [], NOW)
    assert h.verdict == "healthy" and h.ok and h.ready
    assert h.status == "Running"
    assert h.ready_text == "1/1"
    assert h.restarts == 0 and h.restarts_text(NOW) == "0"
    assert h.problems == ()
    assert h.summary == "ready"
    web = h.containers[0]
    assert (web.readiness.state, web.liveness.state, web.startup.state) == ("ok", "ok", "none")
    assert web.readiness.description == "GET :8080/healthz"
    assert web.tag == "3f9c2a1"
    assert h.template_hash == "7d9f8c6b5" and h.owner == "trace-api-web-7d9f8c6b5"


def test_readiness_failing_with_count_span_and_message():
    p = pod(ready=False, statuses=[running(ready=False, started=-200)])
    events = [event("Unhealthy", READINESS_503, type="Warning", count=12, first=-180, last=-2)]
    h = pod_health(p, events, NOW)
    r = h.containers[0].readiness
    assert r.state == "failing"
    assert r.failures == 12
    assert r.last_failure == "HTTP probe failed with statuscode: 503"
    assert r.first_failure_at == NOW - 180 and r.last_failure_at == NOW - 2
    assert r.short == "failing ×12 (503)"
    assert h.verdict == "unhealthy" and not h.ok
    [problem] = h.problems
    assert problem.code == "ReadinessProbeFailing" and problem.severity == "error"
    assert "×12 over 2m" in problem.message and "statuscode: 503" in problem.message
    assert h.summary == problem.message
    assert h.probe("readiness") is r


def test_readiness_failures_of_an_earlier_instance_do_not_count_as_current():
    p = pod(ready=False, statuses=[running(ready=False, started=-5, restarts=1)])
    events = [event("Unhealthy", READINESS_503, type="Warning", count=4, first=-300, last=-240)]
    r = pod_health(p, events, NOW).containers[0].readiness
    assert r.state == "unknown" and r.detail == "not passed yet"
    assert r.failures == 4  # history is kept


def test_ready_container_with_old_failures_is_ok():
    events = [event("Unhealthy", READINESS_503, type="Warning", count=2, first=-400, last=-390)]
    h = pod_health(pod(), events, NOW)
    assert h.containers[0].readiness.state == "ok"
    assert h.verdict == "healthy"


def test_crash_loop_with_last_termination():
    last = terminated(1, "Error", started=-40, finished=-39)
    p = pod(
        ready=False,
        statuses=[
            waiting(
                reason="CrashLoopBackOff",
                message="back-off 40s restarting failed container=web pod=trace-api-web-7d9f8c6b5-x2k4q",
                restarts=4,
                last=last,
            )
        ],
    )
    events = [
        event(
            "BackOff",
            "Back-off restarting failed container web in pod trace-api-web-7d9f8c6b5-x2k4q_production",
            type="Warning",
            count=9,
            first=-200,
            last=-3,
        )
    ]
    h = pod_health(p, events, NOW)
    assert h.status == "CrashLoopBackOff"
    assert h.verdict == "unhealthy"
    c = h.containers[0]
    assert c.crash_looping
    assert c.last_termination is not None and c.last_termination.exit_code == 1
    assert c.readiness.state == "unknown" and c.readiness.detail == "container CrashLoopBackOff"
    [problem] = h.problems
    assert problem.code == "CrashLoopBackOff"
    assert "exited 1 (Error) 39s ago" in problem.message and "4 restarts" in problem.message
    assert h.restarts == 4
    assert h.restarts_text(NOW) == "4 (Error exit 1 39s)"
    assert h.last_termination_container == "web"


def test_container_just_exited_after_restarts_is_crash_looping():
    status = waiting(reason="x", restarts=2)
    status["state"] = terminated(1, "Error", started=-3, finished=-2)
    h = pod_health(pod(ready=False, statuses=[status]), [], NOW)
    assert h.status == "Error"
    assert h.containers[0].crash_looping
    assert [p.code for p in h.problems] == ["CrashLoopBackOff"]
    assert "exited 1 (Error) 2s ago" in h.problems[0].message


def test_image_pull_back_off_uses_the_pull_error_event():
    image = "registry.sandbox.local/trace/trace-api:0000000"
    p = pod(
        ready=False,
        containers=[container(tag="0000000", readiness=probe())],
        statuses=[
            waiting(tag="0000000", reason="ImagePullBackOff", message=f'Back-off pulling image "{image}"')
        ],
    )
    failed = (
        f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed to pull and unpack image '
        f'"{image}": not found'
    )
    events = [
        event("Pulling", f'Pulling image "{image}"', count=3, first=-90, last=-20),
        event("Failed", failed, type="Warning", count=3, first=-89, last=-19),
        event("Failed", "Error: ErrImagePull", type="Warning", count=3, first=-89, last=-19),
        event("BackOff", f'Back-off pulling image "{image}"', type="Warning", count=5, first=-85, last=-4),
    ]
    h = pod_health(p, events, NOW)
    assert h.status == "ImagePullBackOff"
    [problem] = h.problems
    assert problem.code == "ImagePullBackOff" and problem.severity == "error"
    assert image in problem.message and "not found" in problem.message


def test_err_image_pull_without_events_uses_the_waiting_message():
    p = pod(
        ready=False,
        statuses=[waiting(reason="ErrImagePull", message="rpc error: code = NotFound desc = not found")],
    )
    [problem] = pod_health(p, None, NOW).problems
    assert problem.code == "ErrImagePull" and "not found" in problem.message


def test_container_creating_is_starting_not_unhealthy():
    p = pod(
        ready=False,
        created=-3,
        statuses=[waiting(reason="ContainerCreating")],
        cond=conditions(ready=False, at=-3),
    )
    events = [
        event("Scheduled", "Successfully assigned production/x to sandbox-node-1", first=-3, container=None)
    ]
    h = pod_health(p, events, NOW)
    assert h.verdict == "starting" and h.ok
    assert h.status == "ContainerCreating"
    assert h.problems == ()
    assert h.summary == "starting (ContainerCreating)"


def test_unschedulable_pod():
    message = "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available."
    cond = [
        {
            "type": "PodScheduled",
            "status": "False",
            "reason": "Unschedulable",
            "message": message,
            "lastTransitionTime": "2026-03-01T11:59:00Z",
        }
    ]
    p = pod(phase="Pending", node=None, statuses=[], cond=cond)
    events = [
        event(
            "FailedScheduling",
            message,
            type="Warning",
            count=3,
            first=-60,
            last=-5,
            container=None,
            component="default-scheduler",
        )
    ]
    h = pod_health(p, events, NOW)
    assert h.scheduling == message
    assert h.status == "Pending"
    assert [(x.code, x.severity) for x in h.problems] == [("Unschedulable", "error")]
    assert "Insufficient cpu" in h.summary


def test_liveness_failing_now_and_recovered_after_restart():
    live = 'Liveness probe failed: Get "http://10.244.1.17:8080/healthz": dial tcp 10.244.1.17:8080: connect: connection refused'
    events = [event("Unhealthy", live, type="Warning", count=2, first=-25, last=-5)]
    failing = pod_health(pod(), events, NOW).containers[0].liveness
    assert failing.state == "failing" and failing.short == "failing ×2 (refused)"
    assert "connection refused" in failing.last_failure

    # The container was restarted after those failures: ok again, and the kill is remembered.
    old = [
        event("Unhealthy", live, type="Warning", count=3, first=-140, last=-120),
        event(
            "Killing",
            "Container web failed liveness probe, will be restarted",
            count=1,
            first=-120,
        ),
    ]
    last = terminated(137, "Error", started=-900, finished=-119)
    p = pod(statuses=[running(started=-118, restarts=1, last=last)])
    h = pod_health(p, old, NOW)
    c = h.containers[0]
    assert c.liveness.state == "ok" and c.liveness_kills == 1
    assert h.verdict == "healthy"
    [warning] = h.problems
    assert warning.severity == "warning" and "liveness probe failures" in warning.message
    assert h.last_restart_cause == "liveness" and h.restarts_text(NOW) == "1 (liveness 119s)"


def test_recent_oom_kill_is_a_warning():
    last = terminated(137, "OOMKilled", started=-7200, finished=-60)
    h = pod_health(pod(statuses=[running(started=-59, restarts=1, last=last)]), [], NOW)
    assert h.verdict == "healthy"
    assert [(p.code, p.severity) for p in h.problems] == [("OOMKilled", "warning")]
    assert h.restarts_text(NOW) == "1 (OOMKilled 60s)"


def test_old_restart_is_only_history():
    last = terminated(137, "OOMKilled", started=-90000, finished=-4 * 3600)
    h = pod_health(pod(statuses=[running(started=-4 * 3600 + 1, restarts=1, last=last)]), [], NOW)
    assert h.problems == ()
    assert h.restarts_text(NOW) == "1 (OOMKilled 4h)"


def test_terminating_pod():
    h = pod_health(pod(deleted=-5), [], NOW)
    assert h.verdict == "terminating" and h.status == "Terminating" and h.ok
    assert h.deleted_at == NOW - 5
    stuck = pod_health(pod(deleted=-600), [], NOW)
    assert [p.code for p in stuck.problems] == ["StuckTerminating"]


def test_events_are_attributed_to_their_container():
    p = pod(
        ready=False,
        containers=[
            container("web", readiness=probe()),
            container("metrics", readiness=probe("/metrics", 9090)),
        ],
        statuses=[running("web", ready=True), running("metrics", ready=False)],
    )
    events = [
        event(
            "Unhealthy",
            'Readiness probe failed: Get "http://10.244.1.17:9090/metrics": context deadline exceeded',
            type="Warning",
            count=5,
            container="metrics",
        )
    ]
    h = pod_health(p, events, NOW)
    web, metrics = h.containers
    assert web.readiness.state == "ok"
    assert metrics.readiness.state == "failing" and metrics.readiness.short == "failing ×5 (timeout)"
    assert h.ready_text == "1/2"
    assert h.problems[0].container == "metrics" and "metrics:" in h.problems[0].message


def test_event_without_field_path_goes_to_the_only_container():
    p = pod(ready=False, statuses=[running(ready=False)])
    events = [event("Unhealthy", READINESS_503, type="Warning", count=3, container=None)]
    assert pod_health(p, events, NOW).containers[0].readiness.state == "failing"


def test_events_of_an_earlier_pod_with_the_same_name_are_ignored():
    p = pod(ready=False, statuses=[running(ready=False)])
    events = [event("Unhealthy", READINESS_503, type="Warning", count=3, uid="another-uid")]
    assert pod_health(p, events, NOW).containers[0].readiness.failures == 0


def test_index_and_list_give_the_same_answer():
    p = pod(ready=False, statuses=[running(ready=False, started=-200)])
    mine = event("Unhealthy", READINESS_503, type="Warning", count=7, first=-100, last=-1)
    other = event("Unhealthy", READINESS_503, type="Warning", count=1, name="trace-api-web-7d9f8c6b5-zzzzz")
    assert pod_health(p, [mine, other], NOW) == pod_health(p, index_events([mine, other]), NOW)


def test_init_container_status():
    init = {
        "name": "migrate",
        "image": "registry.sandbox.local/trace/migrate:1",
        "command": ["npm", "run", "migrate"],
    }

    def initializing(init_status):
        return pod(
            phase="Pending",
            ready=False,
            init_containers=[init],
            init_statuses=[init_status],
            statuses=[waiting(reason="PodInitializing")],
        )

    starting = initializing(waiting("migrate", reason="PodInitializing"))
    assert pod_health(starting, [], NOW).status == "Init:0/1"
    crash = waiting(
        "migrate",
        reason="CrashLoopBackOff",
        restarts=3,
        last=terminated(2, "Error", started=-20, finished=-19),
    )
    h = pod_health(initializing(crash), [], NOW)
    assert h.status == "Init:CrashLoopBackOff"
    assert h.problems[0].code == "CrashLoopBackOff" and "init container migrate" in h.problems[0].message


def test_running_but_not_ready_without_failures_after_grace():
    fresh = pod(ready=False, statuses=[running(ready=False, started=-10)])
    assert pod_health(fresh, [], NOW).verdict == "starting"
    stale = pod(ready=False, statuses=[running(ready=False, started=-900)])
    h = pod_health(stale, [], NOW)
    assert h.verdict == "unhealthy" and h.problems[0].code == "NotReady"
    assert "15m" in h.problems[0].message


def test_pending_pod_warning_event_is_shown():
    p = pod(
        phase="Pending",
        ready=False,
        statuses=[waiting(reason="ContainerCreating")],
        cond=conditions(ready=False, at=-30),
    )
    events = [
        event(
            "FailedMount",
            'MountVolume.SetUp failed for volume "config" : configmap "trace-api-config" not found',
            type="Warning",
            count=4,
            container=None,
        )
    ]
    h = pod_health(p, events, NOW)
    assert h.verdict == "starting"
    assert [(x.code, x.severity) for x in h.problems] == [("FailedMount", "warning")]


def test_evicted_pod_is_a_warning():
    p = pod(
        phase="Failed",
        ready=False,
        statuses=[],
        status_extra={"reason": "Evicted", "message": "The node was low on resource: memory."},
    )
    h = pod_health(p, [], NOW)
    assert h.status == "Evicted"
    assert [(x.code, x.severity) for x in h.problems] == [("Evicted", "warning")]


def test_container_without_probes():
    h = pod_health(pod(containers=[container()]), [], NOW)
    c = h.containers[0]
    assert (c.readiness.state, c.liveness.state) == ("none", "none")
    assert c.readiness.short == "none" and h.probe("liveness").state == "none"


def test_startup_probe_gates_the_others():
    spec = container(
        readiness=probe(),
        liveness=probe(),
    )
    spec["startupProbe"] = probe(failureThreshold=30)
    status = running(ready=False)
    status["started"] = False
    h = pod_health(pod(ready=False, containers=[spec], statuses=[status]), [], NOW)
    c = h.containers[0]
    assert c.startup.state == "unknown" and c.startup.detail == "starting"
    assert c.readiness.detail == "waiting for the startup probe"


def test_json_form_is_plain_and_times_are_rfc3339():
    p = pod(ready=False, statuses=[running(ready=False, started=-200)])
    events = [event("Unhealthy", READINESS_503, type="Warning", count=3, first=-30, last=-1)]
    data = to_json(pod_health(p, events, NOW))
    text = json.dumps(data)
    assert json.loads(text)["containers"][0]["readiness"]["first_failure_at"] == "2026-03-01T11:59:30Z"
    assert data["created_at"] == "2026-03-01T11:50:00Z"
    assert data["verdict"] == "unhealthy"


def test_crash_loop_from_liveness_kills_says_so():
    live = "Liveness probe failed: HTTP probe failed with statuscode: 503"
    events = [
        event("Unhealthy", live, type="Warning", count=12, first=-120, last=-31),
        event(
            "Killing", "Container web failed liveness probe, will be restarted", count=4, first=-110, last=-30
        ),
    ]
    last = terminated(0, "Completed", started=-45, finished=-29)
    p = pod(ready=False, statuses=[waiting(reason="CrashLoopBackOff", restarts=4, last=last)])
    h = pod_health(p, events, NOW)
    [problem] = h.problems
    assert "killed for failing its liveness probe (HTTP probe failed with statuscode: 503)" in problem.message
    assert h.restarts_text(NOW) == "4 (liveness 29s)"


def test_a_single_failure_at_start_up_is_a_warning_not_a_verdict():
    refused = (
        'Readiness probe failed: Get "http://10.244.1.17:8080/healthz": dial tcp: connect: connection refused'
    )
    p = pod(ready=False, statuses=[running(ready=False, started=-3)])
    h = pod_health(p, [event("Unhealthy", refused, type="Warning", count=1, first=-1)], NOW)
    r = h.containers[0].readiness
    assert r.state == "failing" and r.threshold == 3 and not r.sustained
    assert h.verdict == "starting"
    assert [(x.code, x.severity) for x in h.problems] == [("ReadinessProbeFailing", "warning")]
    h = pod_health(p, [event("Unhealthy", refused, type="Warning", count=3, first=-3, last=-1)], NOW)
    assert h.containers[0].readiness.sustained and h.verdict == "unhealthy"
