"""Rollout outcome, failure explanation and the progress views, from objects as the API has them."""

import io

from rich.console import Console

from kubectl_trace.health import event_record
from kubectl_trace.release.explain import LogTail, compact_log_line, explain, failing_container
from kubectl_trace.release.follow import PlainPrinter, Snapshot, Tracked, plain_line, progress_of
from kubectl_trace.release.view import progress_table
from tests.factories.release import NOW, deployment, event, pod, replicaset


def rolling(tag_new="a41c9e7", *, stalled=False, generation=5, observed=5):
    d = deployment(
        "web",
        tag=tag_new,
        revision=3,
        generation=generation,
        status={
            "observedGeneration": observed,
            "replicas": 4,
            "updatedReplicas": 1,
            "readyReplicas": 3,
            "availableReplicas": 3,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                {
                    "type": "Progressing",
                    "status": "False" if stalled else "True",
                    "reason": "ProgressDeadlineExceeded" if stalled else "ReplicaSetUpdated",
                    "message": 'ReplicaSet "trace-api-web-new111" has timed out progressing.'
                    if stalled
                    else 'ReplicaSet "trace-api-web-new111" is progressing.',
                },
            ],
        },
    )
    old = replicaset(d, "3f9c2a1", 2, hash_="old000", replicas=3)
    new = replicaset(d, tag_new, 3, hash_="new111", replicas=1, ready=0)
    return d, [old, new]


def test_complete_only_after_our_generation_is_observed():
    d = deployment("web", generation=5)
    assert progress_of(Tracked("trace-api-web", 5), d, [], [], None, NOW).outcome == "complete"
    waiting = progress_of(Tracked("trace-api-web", 6), d, [], [], None, NOW)
    assert waiting.outcome == "running" and "controller" in waiting.reason


def test_readiness_failing_is_running_until_the_deadline():
    d, rss = rolling()
    p = pod(rss[1], "aaaaa", ready=False)
    ev = event(p, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", count=4)
    item = progress_of(Tracked("trace-api-web", 5, "3f9c2a1 → a41c9e7"), d, rss, [p], [ev], NOW)
    assert item.outcome == "running"
    assert [x.name for x in item.pods] == ["trace-api-web-new111-aaaaa"]
    assert "readiness probe failing (503)" in plain_line(item)

    d, rss = rolling(stalled=True)
    stalled = progress_of(Tracked("trace-api-web", 5), d, rss, [p], [ev], NOW)
    assert stalled.outcome == "failed"
    assert stalled.reason == (
        'progress deadline (600s) exceeded: ReplicaSet "trace-api-web-new111" has timed out progressing.'
    )


def test_crash_loop_and_pull_errors_fail_at_once():
    d, rss = rolling()
    crashing = pod(rss[1], "bbbbb", ready=False, waiting="CrashLoopBackOff", restarts=2, last_exit=1)
    item = progress_of(Tracked("trace-api-web", 5), d, rss, [crashing], [], NOW)
    assert item.outcome == "failed" and "CrashLoopBackOff" in item.reason
    pulling = pod(rss[1], "ccccc", ready=False, waiting="ImagePullBackOff")
    item = progress_of(Tracked("trace-api-web", 5), d, rss, [pulling], [], NOW)
    assert item.outcome == "failed" and "ImagePullBackOff" in item.reason
    # an old pod in trouble is not the new rollout's failure
    old_bad = pod(rss[0], "ddddd", ready=False, waiting="CrashLoopBackOff", restarts=3, last_exit=1)
    assert progress_of(Tracked("trace-api-web", 5), d, rss, [old_bad], [], NOW).outcome == "running"


def test_deleted_and_paused():
    assert progress_of(Tracked("gone", 1), None, [], [], None, NOW).outcome == "failed"
    paused = deployment("web", paused=True)
    assert progress_of(Tracked("trace-api-web", 1), paused, [], [], None, NOW).outcome == "failed"


def test_explain_shows_probe_failure_events_and_log():
    d, rss = rolling(stalled=True)
    p = pod(rss[1], "aaaaa", ready=False)
    ev = event(p, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", count=6)
    item = progress_of(Tracked("trace-api-web", 5, "3f9c2a1 → a41c9e7"), d, rss, [p], [ev], NOW)
    snap = Snapshot(NOW, 12.0, (item,), (event_record(ev),))
    assert failing_container(item) == ("trace-api-web-new111-aaaaa", "web", False)
    log = LogTail(
        "trace-api-web-new111-aaaaa",
        "web",
        False,
        (
            '{"severity":"ERROR","message":"db not connected","err":{"stack":"Error: x\\n    at a (b.js:1:2)"}}',
            "plain",
        ),
    )
    text = "\n".join(explain(item, snap, log, NOW))
    assert text.splitlines()[0].startswith(
        "✗ trace-api-web (3f9c2a1 → a41c9e7): progress deadline (600s) exceeded"
    )
    assert "readiness probe failing ×6" in text and "statuscode: 503" in text
    assert (
        "Warning events:" in text
        and "pod/trace-api-web-new111-aaaaa  Unhealthy: Readiness probe failed" in text
    )
    assert "ERROR db not connected" in text and "at a (b.js:1:2)" in text and "    plain" in text


def test_compact_log_line_cuts_long_plain_lines():
    assert compact_log_line("x" * 300, width=20) == ["x" * 19 + "…"]


def test_plain_printer_prints_changes_only():
    d, rss = rolling()
    item = progress_of(Tracked("trace-api-web", 5, "3f9c2a1 → a41c9e7"), d, rss, [], [], NOW)
    out = []
    printer = PlainPrinter(out.append)
    printer(Snapshot(NOW, 0.5, (item,)))
    printer(Snapshot(NOW, 0.7, (item,)))
    assert len(out) == 1
    assert out[0] == "[   0.5s] trace-api-web  3f9c2a1 → a41c9e7  1/3 updated, 3 ready, 3 available\n"
    printer(Snapshot(NOW, 0.9, (item.__class__(**{**item.__dict__, "outcome": "failed", "reason": "boom"}),)))
    assert out[1] == "[   0.9s] trace-api-web  3f9c2a1 → a41c9e7  FAILED: boom\n"


def test_progress_table_renders_each_deployment():
    d, rss = rolling()
    running = progress_of(Tracked("trace-api-web", 5, "3f9c2a1 → a41c9e7"), d, rss, [], [], NOW)
    done = progress_of(
        Tracked("trace-api-worker", 4, "3f9c2a1 → a41c9e7"), deployment("worker"), [], [], None, NOW
    )
    console = Console(width=140, file=io.StringIO(), color_system=None)
    console.print(progress_table(Snapshot(NOW, 3.0, (running, done)), "deploy a41c9e7 · production"))
    text = console.file.getvalue()
    assert "deploy a41c9e7 · production · 3s" in text
    web = next(line for line in text.splitlines() if "trace-api-web" in line)
    assert "1/3" in web and "3/3" in web and "old pods to replace" in web
    worker = next(line for line in text.splitlines() if "trace-api-worker" in line)
    assert "✓" in worker and "rolled out" in worker


def test_select_log_lines_starts_at_the_last_error_block():
    from kubectl_trace.release.explain import LOG_LINES, select_log_lines

    crash = [
        "> trace-api@1.4.2 start",
        "node:internal/modules/cjs/loader:1148",
        "  throw err;",
        "Error: Cannot find module 'pg-native'",
        "    at Module._resolveFilename (node:internal/modules/cjs/loader:1145:15)",
        "Node.js v20.12.2",
    ]
    assert select_log_lines(crash) == tuple(crash[3:])
    assert select_log_lines(["TypeError: x is not a function", "  at y"]) == (
        "TypeError: x is not a function",
        "  at y",
    )
    plain = [f"line {i}" for i in range(40)]
    assert select_log_lines(plain) == tuple(plain[-LOG_LINES:])


def test_a_paused_deployment_still_scales_but_does_not_roll_out():
    d = deployment("web", paused=True, generation=5)
    rs = replicaset(d, "3f9c2a1", 2, hash_="aaa111", replicas=3)
    assert progress_of(Tracked("trace-api-web", 5), d, [rs], [], None, NOW).outcome == "complete"
    scaling = deployment("web", paused=True, generation=6, replicas=5)
    scaling["status"].update(
        observedGeneration=6, replicas=3, updatedReplicas=3, readyReplicas=3, availableReplicas=3
    )
    assert progress_of(Tracked("trace-api-web", 6), scaling, [rs], [], None, NOW).outcome == "running"
    new_tag = deployment("web", tag="a41c9e7", paused=True, generation=7)
    item = progress_of(Tracked("trace-api-web", 7), new_tag, [rs], [], None, NOW)
    assert item.outcome == "failed" and "paused" in item.reason


def test_compact_log_line_keeps_the_error_line_of_the_stack():
    import json

    line = json.dumps(
        {
            "severity": "ERROR",
            "message": "db query failed",
            "stack": "Error: connect ECONNREFUSED 10.96.112.7:5432\n"
            "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)\n"
            "    at Pool.connect (/app/node_modules/pg-pool/index.js:45:11)\n"
            "    at Db.query (/app/dist/db.js:12:9)",
        }
    )
    out = compact_log_line(line)
    assert out[0] == "ERROR db query failed"
    assert out[1].strip() == "Error: connect ECONNREFUSED 10.96.112.7:5432"
    assert out[2].strip().startswith("at TCPConnectWrap.afterConnect") and len(out) == 4
    same = json.dumps(
        {"severity": "ERROR", "message": "Error: boom", "stack": "Error: boom\n    at f (x.js:1:1)"}
    )
    assert [s.strip() for s in compact_log_line(same)] == ["ERROR Error: boom", "at f (x.js:1:1)"]


def test_a_complete_looking_rollout_with_a_crashed_new_pod_fails():
    """A pod without a readiness probe is available as it starts; its crash fails the rollout."""
    d = deployment("clock", tag="c0ffee1", replicas=1, revision=3, generation=5)
    new = replicaset(d, "c0ffee1", 3, hash_="new111", replicas=1)
    d["spec"]["strategy"] = {"type": "Recreate"}
    d["status"] = {
        "observedGeneration": 5,
        "replicas": 1,
        "updatedReplicas": 1,
        "readyReplicas": 1,
        "availableReplicas": 1,
        "conditions": [
            {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": "done"},
        ],
    }
    healthy = pod(new, "aaaaa")
    assert progress_of(Tracked("trace-api-clock", 5), d, [new], [healthy], [], NOW).outcome == "complete"
    restarted = pod(new, "aaaaa", restarts=1, last_exit=1)  # running again after one crash
    item = progress_of(Tracked("trace-api-clock", 5), d, [new], [restarted], [], NOW)
    assert item.outcome == "failed" and item.short == "CrashLoopBackOff (exit 1)"
    assert "container clock exited with code 1" in item.reason


def test_the_follower_holds_an_unprobed_rollout_until_its_containers_ran_a_while():
    from kubectl_trace.health import pod_health
    from kubectl_trace.release.follow import DeploymentProgress, Follower

    d = deployment("clock", tag="c0ffee1", replicas=1)
    new = replicaset(d, "c0ffee1", 3, hash_="new111", replicas=1)
    unprobed = pod(new, "aaaaa")
    unprobed["spec"]["containers"][0].pop("readinessProbe")
    item = DeploymentProgress(
        "trace-api-clock", "", None, (pod_health(unprobed, None, NOW),), 0, "complete", ""
    )
    follower = Follower(None, "ns", [], since=NOW, settle=1.0)
    # started 60 s ago (the pod's startedAt): nothing to wait for
    assert follower._settled(item, NOW).outcome == "complete"
    fresh = DeploymentProgress(
        "trace-api-clock", "", None, (pod_health(unprobed, None, NOW - 59.5),), 0, "complete", ""
    )
    follower = Follower(None, "ns", [], since=NOW - 60, settle=1.0)
    young = follower._settled(fresh, NOW - 59.5)
    assert young.outcome == "running" and young.reason == "checking that the new pods stay up"
    assert follower._settled(fresh, NOW - 58.4).outcome == "complete"  # looked complete for 1 s
