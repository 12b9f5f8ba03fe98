"""The simulated cluster end to end: the real kubectl (and the Python client) against sandboxes.

Rollouts that change the demo apps run on a private sandbox; scenarios that only need a
namespace of their own run on the shared session sandbox.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from kubectl_trace.kube.queries import LogQuery, Selection
from tests.factories import deployment_manifest, namespace, process_container, seq_of
from tests.sandbox.cluster.harness import API

Obj = dict[str, Any]


class PodWatch:
    """Pod watch events collected in a thread (the "observed moments")."""

    def __init__(self, kube: Any, namespace: str, selector: str) -> None:
        self.events: list[Obj] = []
        self._stream, events = kube.watch_stream(
            Selection("pods", namespace, label_selector=selector), timeout_seconds=300
        )
        self._thread = threading.Thread(target=self._run, args=(events,), daemon=True)
        self._thread.start()

    def _run(self, events: Iterator[Obj]) -> None:
        try:
            for event in events:
                self.events.append(event)
        except Exception:  # the stream is closed when the test is done with it
            pass

    def close(self) -> None:
        self._stream.close()
        self._thread.join(timeout=5)

    def bounds(self, after: int) -> tuple[int, int]:
        """(max active pods, min ready active pods) over every event from index ``after`` on."""
        pods: dict[str, Obj] = {}
        most, fewest = 0, 10**9
        for index, event in enumerate(self.events):
            obj = event["object"]
            if event["type"] == "BOOKMARK":
                continue
            name = obj["metadata"]["name"]
            if event["type"] == "DELETED":
                pods.pop(name, None)
            else:
                pods[name] = obj
            if index < after:
                continue
            active = [
                p
                for p in pods.values()
                if not p["metadata"].get("deletionTimestamp")
                and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
            ]
            ready = [
                p
                for p in active
                if any(
                    c["type"] == "Ready" and c["status"] == "True"
                    for c in p["status"].get("conditions") or []
                )
            ]
            most, fewest = max(most, len(active)), min(fewest, len(ready))
        return most, fewest


def revisions(history: str) -> list[tuple[int, str]]:
    out = []
    for line in history.splitlines():
        match = re.match(r"^(\d+)\s+(.*)$", line.strip())
        if match:
            out.append((int(match.group(1)), match.group(2).strip()))
    return out


def web_pods(kube: Any, namespace: str, selector: str) -> list[Obj]:
    return [
        p
        for p in kube.list("pods", namespace, label_selector=selector).items
        if not p["metadata"].get("deletionTimestamp")
    ]


def test_set_image_status_history_undo_with_the_real_kubectl(
    private_sandbox: Any, kubectl_for: Callable[[Any], Any], kube_for: Callable[[Any], Any], eventually: Any
) -> None:
    kubectl = kubectl_for(private_sandbox)
    kube = kube_for(private_sandbox)
    selector = "app=trace-api,process=web"
    eventually(lambda: len(web_pods(kube, "production", selector)) == 3, message="fixture pods")
    kubectl("rollout", "status", "deploy/trace-api-web", "-n", "production", "--timeout=60s", check=True)
    history = revisions(
        kubectl("rollout", "history", "deploy/trace-api-web", "-n", "production", check=True).stdout
    )
    assert history == [(1, "deploy trace-api 8b1d0e4"), (2, "deploy trace-api 3f9c2a1")]

    watch = PodWatch(kube, "production", selector)
    eventually(lambda: len(watch.events) >= 3, message="initial watch events")
    start = len(watch.events)
    kubectl("set", "image", "deploy/trace-api-web", f"web={API}:abc1234", "-n", "production", check=True)
    status = kubectl(
        "rollout", "status", "deploy/trace-api-web", "-n", "production", "--timeout=90s", check=True
    )
    assert 'deployment "trace-api-web" successfully rolled out' in status.stdout
    eventually(lambda: len(web_pods(kube, "production", selector)) == 3, message="old pods terminated")
    eventually(
        lambda: sum(1 for e in watch.events[start:] if e["type"] == "DELETED") >= 3,
        message="deletions observed",
    )
    watch.close()
    most, fewest = watch.bounds(start)
    assert most == 4, "maxSurge 1 above 3 replicas, reached and never exceeded"
    assert fewest == 3, "maxUnavailable 0: three ready pods at every observed moment"
    images = {p["spec"]["containers"][0]["image"] for p in web_pods(kube, "production", selector)}
    assert images == {f"{API}:abc1234"}
    history = revisions(
        kubectl("rollout", "history", "deploy/trace-api-web", "-n", "production", check=True).stdout
    )
    assert [r for r, _ in history] == [1, 2, 3]

    undo = kubectl("rollout", "undo", "deploy/trace-api-web", "-n", "production", check=True)
    assert "rolled back" in undo.stdout
    kubectl("rollout", "status", "deploy/trace-api-web", "-n", "production", "--timeout=90s", check=True)
    eventually(
        lambda: (
            {p["spec"]["containers"][0]["image"] for p in web_pods(kube, "production", selector)}
            == {f"{API}:3f9c2a1"}
        ),
        message="back on 3f9c2a1",
    )
    history = revisions(
        kubectl("rollout", "history", "deploy/trace-api-web", "-n", "production", check=True).stdout
    )
    assert [r for r, _ in history] == [1, 3, 4]  # revision 2 came back as 4
    detail = kubectl(
        "rollout", "history", "deploy/trace-api-web", "-n", "production", "--revision=4", check=True
    ).stdout
    assert f"{API}:3f9c2a1" in detail

    kubectl("scale", "deploy/trace-api-web", "--replicas=4", "-n", "production", check=True)
    kubectl("rollout", "status", "deploy/trace-api-web", "-n", "production", "--timeout=60s", check=True)
    eventually(lambda: len(web_pods(kube, "production", selector)) == 4, message="scaled to 4")
    before = {p["metadata"]["name"] for p in web_pods(kube, "production", selector)}
    kubectl("rollout", "restart", "deploy/trace-api-web", "-n", "production", check=True)
    kubectl("rollout", "status", "deploy/trace-api-web", "-n", "production", "--timeout=90s", check=True)
    eventually(
        lambda: (
            len(web_pods(kube, "production", selector)) == 4
            and not ({p["metadata"]["name"] for p in web_pods(kube, "production", selector)} & before)
        ),
        message="every pod replaced",
    )
    kubectl("rollout", "pause", "deploy/trace-api-worker", "-n", "production", check=True)
    paused = kubectl("rollout", "undo", "deploy/trace-api-worker", "-n", "production")
    assert paused.returncode != 0 and "paused" in paused.stderr
    kubectl("rollout", "resume", "deploy/trace-api-worker", "-n", "production", check=True)
    kubectl("rollout", "status", "deploy/trace-api-worker", "-n", "production", "--timeout=60s", check=True)


@contextmanager
def own_namespace(kubectl: Any) -> Iterator[str]:
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    kubectl("create", "-f", "-", "--validate=false", input=json.dumps(namespace(name)), check=True)
    try:
        yield name
    finally:
        kubectl("delete", "namespace", name, "--wait=false")


def app_manifest(namespace: str, name: str, tag: str, *, deadline: int = 40) -> str:
    web = process_container(
        image=f"{API}:{tag}",
        ports=[{"name": "http", "containerPort": 3000}],
        readinessProbe={
            "httpGet": {"path": "/healthz", "port": "http"},
            "initialDelaySeconds": 2,
            "periodSeconds": 5,
        },
    )
    rollout = {
        "progressDeadlineSeconds": deadline,
        "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
    }
    labels = {"app": name}
    pod_labels = {"app": name, "process": "web"}
    manifest = deployment_manifest(
        name, namespace, labels, [web], replicas=2, pod_labels=pod_labels, deployment_spec=rollout
    )
    return json.dumps(manifest)


def test_unready_release_stalls_and_rollout_status_reports_the_deadline(
    kubectl: Any, eventually: Any
) -> None:
    with own_namespace(kubectl) as ns:
        kubectl(
            "create", "-f", "-", "--validate=false", input=app_manifest(ns, "stall", "3f9c2a1"), check=True
        )
        kubectl("rollout", "status", "deploy/stall", "-n", ns, "--timeout=60s", check=True)
        kubectl("set", "image", "deploy/stall", f"web={API}:badc0de", "-n", ns, check=True)
        result = kubectl("rollout", "status", "deploy/stall", "-n", ns, "--timeout=90s", timeout=120)
        assert result.returncode == 1
        assert 'error: deployment "stall" exceeded its progress deadline' in result.stderr
        pods = json.loads(kubectl("get", "pods", "-n", ns, "-o", "json", check=True).stdout)["items"]
        bad = [p for p in pods if p["spec"]["containers"][0]["image"].endswith(":badc0de")]
        assert len(bad) == 1
        describe = kubectl("describe", "pod", bad[0]["metadata"]["name"], "-n", ns, check=True).stdout
        assert "Readiness probe failed: HTTP probe failed with statuscode: 503" in describe
        assert re.search(r"Warning\s+Unhealthy", describe)
        deploy = kubectl("describe", "deploy", "stall", "-n", ns, check=True).stdout
        assert "ProgressDeadlineExceeded" in deploy
        assert re.search(r"Scaled up replica set stall-\w+ from 0 to 1", deploy)


@pytest.mark.slow
def test_crash_loop_and_image_pull_back_off_as_kubectl_shows_them(kubectl: Any, eventually: Any) -> None:
    with own_namespace(kubectl) as ns:
        kubectl(
            "create", "-f", "-", "--validate=false", input=app_manifest(ns, "crash", "c0ffee1"), check=True
        )
        kubectl(
            "create", "-f", "-", "--validate=false", input=app_manifest(ns, "nopull", "0000000"), check=True
        )
        backoffs: set[str] = set()

        def growing() -> bool:
            out = kubectl(
                "get",
                "pods",
                "-n",
                ns,
                "-l",
                "app=crash",
                "-o",
                "jsonpath={range .items[*]}{.status.containerStatuses[0].state.waiting.message}{'\\n'}{end}",
            ).stdout
            backoffs.update(re.findall(r"back-off (\S+) restarting", out))
            return {"10s", "20s"} <= backoffs

        eventually(growing, timeout=60, interval=0.2, message="back-off 10s then 20s")
        table = kubectl("get", "pods", "-n", ns, check=True).stdout
        assert re.search(r"crash-\S+\s+0/1\s+CrashLoopBackOff", table), table
        eventually(
            lambda: re.search(
                r"nopull-\S+\s+0/1\s+ImagePullBackOff", kubectl("get", "pods", "-n", ns).stdout
            ),
            timeout=30,
            message="ImagePullBackOff in the table",
        )
        pods = json.loads(
            kubectl("get", "pods", "-n", ns, "-l", "app=crash", "-o", "json", check=True).stdout
        )
        pod = pods["items"][0]
        status = pod["status"]["containerStatuses"][0]
        assert status["lastState"]["terminated"]["exitCode"] == 1
        assert status["restartCount"] >= 2
        logs = kubectl("logs", pod["metadata"]["name"], "-n", ns, check=True).stdout
        assert "Error: Cannot find module 'pg-native'" in logs
        describe = kubectl("describe", "pod", pod["metadata"]["name"], "-n", ns, check=True).stdout
        assert "Back-off restarting failed container web in pod" in describe


def test_follow_logs_across_drop_streams_without_loss_or_repeat(
    sandbox_factory: Callable[..., Any], kube_for: Callable[[Any], Any], eventually: Callable[..., Any]
) -> None:
    handle = sandbox_factory(fixture="demo", log_rate=40.0)
    kube = kube_for(handle)

    def started_worker() -> dict[str, Any] | None:
        pods = kube.list("pods", "production", label_selector="app=trace-api,process=worker").items
        return next(
            (p for p in pods if (p["status"].get("containerStatuses") or [{}])[0].get("started")), None
        )

    pod = eventually(started_worker, timeout=30, message="a started worker pod")
    name = pod["metadata"]["name"]
    seen: list[int] = []
    reconnects = 0
    last_ts: str | None = None
    stop = time.monotonic() + 6
    drops = 0

    def dropper() -> None:
        nonlocal drops
        for _ in range(3):
            time.sleep(1.2)  # pacing the fault under test, not waiting for anything
            handle.admin("POST", "faults/drop-streams", {})
            drops += 1

    thread = threading.Thread(target=dropper, daemon=True)
    thread.start()
    while time.monotonic() < stop:
        stream = kube.pod_log(
            "production", name, LogQuery("worker", follow=True, timestamps=True, since_time=last_ts)
        )
        try:
            for raw in stream.lines():
                text = raw.decode().rstrip("\n")
                ts, _, line = text.partition(" ")
                if last_ts is not None and ts <= last_ts:
                    continue  # already printed: the resume starts at the last second
                last_ts = ts
                seen.append(seq_of(line))
                if time.monotonic() >= stop:
                    break
        except Exception:
            pass  # the fault cut the stream mid-way
        finally:
            stream.close()
        reconnects += 1
    thread.join(timeout=10)
    assert drops == 3 and reconnects >= 3
    assert len(seen) > 150
    assert seen == list(range(seen[0], seen[0] + len(seen))), "lines lost or repeated"


def test_logs_previous_after_a_kill_fault(
    private_sandbox: Any, kubectl_for: Callable[[Any], Any], kube_for: Callable[[Any], Any], eventually: Any
) -> None:
    kubectl = kubectl_for(private_sandbox)
    kube = kube_for(private_sandbox)
    pod = eventually(
        lambda: next(
            (
                p
                for p in kube.list("pods", "staging", label_selector="process=worker").items
                if (p["status"].get("containerStatuses") or [{}])[0].get("started")
            ),
            None,
        ),
        message="a running worker",
    )
    name = pod["metadata"]["name"]
    before = eventually(
        lambda: (out := kubectl("logs", name, "-n", "staging").stdout.splitlines()) and len(out) > 8 and out,
        message="some log lines",
    )
    private_sandbox.admin("POST", "faults/kill", {"namespace": "staging", "pod": name})
    eventually(
        lambda: kube.get("pods", name, "staging")["status"]["containerStatuses"][0]["restartCount"] == 1,
        message="restarted",
    )
    last = kube.get("pods", name, "staging")["status"]["containerStatuses"][0]["lastState"]["terminated"]
    assert (last["exitCode"], last["reason"]) == (137, "OOMKilled")
    previous = kubectl("logs", name, "-n", "staging", "--previous", check=True).stdout.splitlines()
    assert previous[: len(before)] == before
    numbers = [seq_of(line) for line in previous]
    assert numbers == list(range(1, len(numbers) + 1))
    current = kubectl("logs", name, "-n", "staging", check=True).stdout.splitlines()
    assert current and seq_of(current[0]) == 1
    table = kubectl("get", "pod", name, "-n", "staging", check=True).stdout
    assert re.search(rf"{name}\s+1/1\s+Running\s+1 \(", table) or re.search(rf"{name}\s+\S+\s+\S+\s+1", table)


@pytest.mark.parametrize(("path", "code"), [("/healthz", 200), ("/nothing-here", 404)])
def test_pod_proxy_answers_with_the_image_health(kube: Any, eventually: Any, path: str, code: int) -> None:
    pod = eventually(
        lambda: next(
            (
                p
                for p in kube.list("pods", "production", label_selector="app=trace-api,process=web").items
                if any(
                    c["type"] == "Ready" and c["status"] == "True"
                    for c in p["status"].get("conditions") or []
                )
            ),
            None,
        ),
        message="a ready web pod",
    )
    from kubectl_trace.kube.errors import ApiError

    path_ = f"/api/v1/namespaces/production/pods/{pod['metadata']['name']}:3000/proxy{path}"
    if code == 404:
        with pytest.raises(ApiError, match=f"Cannot GET {path}") as err:
            kube.open("GET", path_)
        assert err.value.status == 404
        return
    stream = kube.open("GET", path_)
    try:
        body = b"".join(stream.chunks())
    finally:
        stream.close()
    assert stream.status == code == 200
    payload = json.loads(body)
    assert payload["status"] == "ok" and payload["commit"] == "3f9c2a1" and payload["node"] == "v20.11.1"
