"""Following through a rollout, and reliability under faults (private sandboxes).

Every sandbox line carries its instance's sequence number, so "nothing lost, nothing
repeated" is checked exactly: per container instance the printed numbers are contiguous
and unique.
"""

from __future__ import annotations

import json
import time

import pytest

from kubectl_trace.timeparse import parse_rfc3339
from tests.factories import app_deployment, namespace, seq_of

from ._follow import follower, gaps_and_repeats, json_objects, sequences


def running_pods(kube, ns, selector):
    out = []
    for p in kube.list("pods", ns, label_selector=selector).items:
        statuses = (p.get("status") or {}).get("containerStatuses") or []
        if statuses and all("running" in (s.get("state") or {}) for s in statuses):
            out.append(p)
    return out


def check_contiguous(seqs):
    for key, numbers in seqs.items():
        missing, repeats = gaps_and_repeats(numbers)
        assert not missing, f"{key}: lost lines {missing[:20]}"
        assert not repeats, f"{key}: repeated lines {repeats[:20]}"
        assert numbers == sorted(numbers), f"{key}: out of order"


def test_following_a_rollout(private_sandbox, kubectl_for, kube_for, eventually):
    sandbox = private_sandbox
    kubectl, kube = kubectl_for(sandbox), kube_for(sandbox)
    eventually(lambda: len(running_pods(kube, "production", "app=trace-api,process=web")) == 3, timeout=60)
    old = {p["metadata"]["name"] for p in running_pods(kube, "production", "app=trace-api,process=web")}
    f = follower("deploy/trace-api-web", "-n", "production", "-o", "json", kubeconfig=sandbox.kubeconfig)
    try:
        eventually(
            lambda: {json.loads(x)["pod"] for x in f.text()} >= old, timeout=30, message="the old pods"
        )
        kubectl(
            "set", "image", "deploy/trace-api-web", "web=registry.sandbox.local/trace/trace-api:a1b2c3d",
            "-n", "production", check=True,
        )  # fmt: skip
        kubectl(
            "rollout",
            "status",
            "deploy/trace-api-web",
            "-n",
            "production",
            "--timeout=90s",
            check=True,
            timeout=120,
        )

        def new_pods():
            pods = {
                p["metadata"]["name"] for p in running_pods(kube, "production", "app=trace-api,process=web")
            }
            return pods - old if len(pods - old) == 3 else None

        new = eventually(new_pods, timeout=60, message="three new web pods")

        def settled():
            objs = json_objects(f.text())
            seen = {o["pod"] for o in objs}
            done = {o["pod"] for o in objs if "shutdown complete" in o["raw"]}
            return seen >= new and done >= old

        eventually(settled, timeout=60, message="lines of every new pod and the old pods' shutdown")
    finally:
        code = f.interrupt()
        print("follower stderr:", *f.stderr, sep="\n  ")  # shown when the test fails
    assert code == 130
    arrivals = f.snapshot()
    objs = [(t, json.loads(line)) for t, line in arrivals]
    check_contiguous(sequences(o for _, o in objs))
    first: dict[str, tuple[float, dict]] = {}
    for t, o in objs:
        first.setdefault(o["pod"], (t, o))
    for pod in new:
        t, o = first[pod]
        assert seq_of(o["raw"].split("\n")[0]) == 1, f"{pod} not followed from its first line"
        # its first line's kubelet timestamp is when the container started writing
        assert t - parse_rfc3339(o["timestamp"]) < 2.0, f"{pod}: first line printed late"
    for pod in old:
        shutdown = [o["message"] for _, o in objs if o["pod"] == pod and "SIGTERM" in o["message"]]
        assert shutdown, f"no graceful-shutdown lines of {pod}"


@pytest.fixture
def rel_app(sandbox_factory, kubectl_for, kube_for, eventually):
    """``rel_app(pods, log_rate)``: a private empty sandbox whose app ``rel`` (namespace ``rel``)
    runs ``pods`` pods, each logging ``log_rate`` lines a second; returns the sandbox."""

    def make(pods, log_rate):
        sandbox = sandbox_factory(fixture="empty", log_rate=log_rate)
        kubectl, kube = kubectl_for(sandbox), kube_for(sandbox)
        for obj in (namespace("rel"), app_deployment("rel", "rel", pods)):
            kubectl("create", "--validate=false", "-f", "-", input=json.dumps(obj), check=True)
        eventually(
            lambda: len(running_pods(kube, "rel", "app=rel")) == pods,
            timeout=60,
            message=f"{pods} running pods",
        )
        return sandbox

    return make


def pods_seen(f):
    return {json.loads(x)["pod"] for x in f.text()}


@pytest.mark.slow
def test_drop_streams_loses_and_repeats_nothing(rel_app, eventually):
    sandbox = rel_app(pods=5, log_rate=50.0)
    f = follower("rel", "-n", "rel", "-o", "json", kubeconfig=sandbox.kubeconfig)
    try:
        eventually(lambda: len(pods_seen(f)) == 5, timeout=30, message="all pods")
        started = time.monotonic()
        for _ in range(11):
            time.sleep(2.5)  # pacing the fault under test, not waiting for anything
            dropped = sandbox.admin("POST", "faults/drop-streams")["dropped"]
            assert dropped >= 6  # five log streams and the pod watch, all back within 2.5 s, every time
        # the last drop 5 s before the end, as ever: the follower is reading again when it is stopped
        time.sleep(max(0.0, 32.5 - (time.monotonic() - started)))  # the test follows for 32.5 s
        total = len(f.text())
    finally:
        code = f.interrupt()
        print("follower stderr:", *f.stderr, sep="\n  ")  # shown when the test fails
    assert code == 130
    seqs = sequences(json_objects(f.text()))
    assert len(seqs) == 5
    check_contiguous(seqs)
    for numbers in seqs.values():
        assert len(numbers) >= 50 * 27  # ~32 s at 50 lines/s: the stream kept up
    assert total > 5 * 50 * 27


@pytest.mark.slow
def test_api_errors_during_a_follow_recover_by_themselves(rel_app, eventually):
    sandbox = rel_app(pods=3, log_rate=20.0)
    f = follower("rel", "-n", "rel", "-o", "json", kubeconfig=sandbox.kubeconfig)
    try:
        eventually(lambda: len(pods_seen(f)) == 3, timeout=30, message="all pods")
        sandbox.admin("POST", "faults/api-errors", {"rate": 0.3, "seconds": 10})
        for _ in range(3):  # drops during the errors: every resume must get through them
            time.sleep(2.5)  # pacing the fault under test
            sandbox.admin("POST", "faults/drop-streams")
        time.sleep(3)  # the rest of the 10 s fault window: the errors must end on their own
        # after the fault window: the stream is live again within a few seconds
        mark = len(f.text())
        eventually(lambda: len(f.text()) > mark + 3 * 20, timeout=20, message="lines after the errors")
    finally:
        code = f.interrupt()
        print("follower stderr:", *f.stderr, sep="\n  ")  # shown when the test fails
    assert code == 130
    codes = sandbox.status()["requests"]["byCode"]
    assert int(codes.get("503", 0)) + int(codes.get("429", 0)) > 0  # the fault did hit requests
    seqs = sequences(json_objects(f.text()))
    assert len(seqs) == 3
    check_contiguous(seqs)
    assert "Traceback" not in "\n".join(f.stderr)


@pytest.mark.slow
def test_killed_container_gets_a_marker_then_its_new_instance_from_the_first_line(
    private_sandbox, kube_for, eventually, invoke
):
    sandbox = private_sandbox
    kube = kube_for(sandbox)
    pods = eventually(lambda: running_pods(kube, "production", "app=trace-api,process=worker"), timeout=60)
    pod = pods[0]["metadata"]["name"]
    f = follower(pod, "-n", "production", "-o", "json", kubeconfig=sandbox.kubeconfig)
    try:
        eventually(lambda: len(f.text()) >= 5, timeout=30, message="some lines")
        sandbox.admin("POST", "faults/kill", {"namespace": "production", "pod": pod})

        def after_restart():
            objs = json_objects(f.text())
            marks = [i for i, o in enumerate(objs) if o["raw"] is None]
            return marks and len(objs) - marks[0] > 5 and (objs, marks[0])

        objs, mark = eventually(after_restart, timeout=60, message="a restart marker and new lines")
    finally:
        code = f.interrupt()
        print("follower stderr:", *f.stderr, sep="\n  ")  # shown when the test fails
    assert code == 130
    marker = objs[mark]
    assert marker["message"] == f"{pod} container restarted (exit 137, OOMKilled)"
    assert marker["fields"] == {"event": "restarted", "exitCode": 137, "reason": "OOMKilled"}
    assert seq_of(objs[mark + 1]["raw"].split("\n")[0]) == 1
    seqs = sequences(objs)
    assert set(seqs) == {(pod, "worker", 0), (pod, "worker", 1)}
    check_contiguous(seqs)
    # --previous: the killed instance's log, up to the kill
    previous = invoke(
        "logs", pod, "-n", "production", "--previous", "-o", "raw", kubeconfig=sandbox.kubeconfig
    )
    assert previous.exit_code == 0, previous.stderr
    numbers = [seq_of(x) for x in previous.stdout.splitlines()]
    assert numbers[0] == 1 and numbers[-1] == max(seqs[(pod, "worker", 0)])
    assert numbers == list(range(1, len(numbers) + 1))
