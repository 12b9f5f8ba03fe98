"""The kubelet: pod lifecycle, probes, back-offs, termination, logs, exec and proxy."""

from __future__ import annotations

import json
import re
import subprocess
import time
from typing import Any

import pytest

from kubectl_trace.sandbox.store import StoreError
from tests.sandbox.cluster.harness import API, Sim, is_ready, run_cluster, validate, web_deployment

Obj = dict[str, Any]


def container_status(pod: Obj) -> Obj:
    return pod["status"]["containerStatuses"][0]


def only_pod(sim: Sim, namespace: str, app: str) -> Obj | None:
    pods = [p for p in sim.pods(namespace, app=app) if not p["metadata"].get("deletionTimestamp")]
    return pods[0] if len(pods) == 1 else None


def all_lines(log: Any) -> list[str]:
    return [log.line(i)[1] for i in range(log.line_count(time.time()))]


def seqs(lines: list[str]) -> list[int]:
    out = []
    for line in lines:
        match = re.search(r'"seq":(\d+)\}$', line) or re.search(r" seq=(\d+)$", line)
        assert match, line
        out.append(int(match.group(1)))
    return out


def test_crash_loop_backs_off_10s_20s_40s_with_the_node_stack() -> None:
    async def scenario(sim: Sim) -> None:
        sim.create("deployments", web_deployment("default", "crash", "c0ffee1", replicas=1))
        backoffs: set[str] = set()

        def three_backoffs() -> bool:
            pod = only_pod(sim, "default", "crash")
            if pod is None:
                return False
            waiting = container_status(pod)["state"].get("waiting") or {}
            if waiting.get("reason") == "CrashLoopBackOff":
                backoffs.add(waiting["message"].split()[1])
            return {"10s", "20s", "40s"} <= backoffs

        await sim.wait(three_backoffs, timeout=30, message="back-offs 10s, 20s, 40s")
        pod = only_pod(sim, "default", "crash")
        assert pod is not None
        status = container_status(pod)
        assert status["restartCount"] >= 3
        assert status["ready"] is False
        assert pod["status"]["phase"] == "Running"
        last = status["lastState"]["terminated"]
        assert last["exitCode"] == 1 and last["reason"] == "Error"
        assert last["startedAt"] <= last["finishedAt"]
        waiting = status["state"]["waiting"]
        name, uid = pod["metadata"]["name"], pod["metadata"]["uid"]
        assert waiting["message"].endswith(f"restarting failed container=web pod={name}_default({uid})")
        backoff_events = sim.events("default", name=name, reason="BackOff")
        assert (
            backoff_events[0]["message"]
            == f"Back-off restarting failed container web in pod {name}_default({uid})"
        )
        assert backoff_events[0]["count"] >= 2
        validate("V1Pod", pod)
        runtime = sim.cluster.runtime
        current = all_lines(runtime.container_log("default", name, "web", previous=False))
        previous = all_lines(runtime.container_log("default", name, "web", previous=True))
        for lines in (current, previous):
            assert any("Error: Cannot find module 'pg-native'" in line for line in lines)
            assert lines[-1].startswith("Node.js v20.12.2")
            assert seqs(lines) == list(range(1, len(lines) + 1))

    run_cluster(scenario, fixture="empty", settle=False, time_scale=0.01)


def test_missing_image_goes_from_err_image_pull_to_image_pull_back_off() -> None:
    async def scenario(sim: Sim) -> None:
        sim.create("deployments", web_deployment("default", "missing", "0000000", replicas=1))
        reasons: list[str] = []

        def seen_both() -> bool:
            pod = only_pod(sim, "default", "missing")
            if pod is None or not pod["status"].get("containerStatuses"):
                return False
            reason = container_status(pod)["state"].get("waiting", {}).get("reason")
            if reason and (not reasons or reasons[-1] != reason):
                reasons.append(reason)
            return "ImagePullBackOff" in reasons and "ErrImagePull" in reasons

        await sim.wait(seen_both, timeout=20, message="ErrImagePull then ImagePullBackOff")
        assert reasons.index("ErrImagePull") < reasons.index("ImagePullBackOff")
        pod = only_pod(sim, "default", "missing")
        assert pod is not None and pod["status"]["phase"] == "Pending"
        name = pod["metadata"]["name"]
        failed = [e["message"] for e in sim.events("default", name=name, reason="Failed")]
        assert any(
            m.startswith(f'Failed to pull image "{API}:0000000": rpc error: code = NotFound') for m in failed
        )
        assert "Error: ErrImagePull" in failed and "Error: ImagePullBackOff" in failed
        with pytest.raises(StoreError) as err:
            sim.cluster.runtime.container_log("default", name, "web", previous=False)
        assert (
            err.value.message
            == f'container "web" in pod "{name}" is waiting to start: trying and failing to pull image'
        )

    run_cluster(scenario, fixture="empty", settle=False)


def test_kill_is_oom_killed_137_and_previous_log_keeps_the_last_lines() -> None:
    async def scenario(sim: Sim) -> None:
        pod = sim.pods("production", app="trace-api", process="worker")[0]
        name = pod["metadata"]["name"]
        runtime = sim.cluster.runtime
        before = runtime.container_log("production", name, "worker", previous=False)
        await sim.wait(lambda: before.line_count(time.time()) > 20, message="some lines")
        runtime.kill("production", name, "worker")
        killed_at = time.time()
        assert before.finished
        final = all_lines(before)

        def restarted() -> Obj | None:
            p = sim.store.get("pods", "production", name)
            s = container_status(p)
            return p if s["restartCount"] == 1 and "running" in s["state"] else None

        pod = await sim.wait(restarted, message="restarted")
        last = container_status(pod)["lastState"]["terminated"]
        assert (last["exitCode"], last["reason"]) == (137, "OOMKilled")
        previous = runtime.container_log("production", name, "worker", previous=True)
        assert all_lines(previous) == final
        assert previous.line(len(final) - 1)[0] <= killed_at
        assert seqs(final) == list(range(1, len(final) + 1))
        current = all_lines(runtime.container_log("production", name, "worker", previous=False))
        assert seqs(current)[:1] == [1]
        with pytest.raises(StoreError):
            runtime.kill("production", name, "nope")

    run_cluster(scenario)


def test_deletion_honours_prestop_and_logs_a_graceful_shutdown() -> None:
    async def scenario(sim: Sim) -> None:
        pod = sim.pods("staging", app="trace-api", process="web")[0]
        name = pod["metadata"]["name"]
        log = sim.cluster.runtime.container_log("staging", name, "web", previous=False)
        scale = sim.cluster.scale.factor
        started = time.monotonic()

        def mark(draft: Obj) -> None:  # what the API server's DELETE does
            draft["metadata"]["deletionTimestamp"] = "2099-01-01T00:00:00Z"
            draft["metadata"]["deletionGracePeriodSeconds"] = 30

        sim.store.mutate("pods", "staging", name, mark)
        await sim.wait(lambda: sim.store.try_get("pods", "staging", name) is None, message="pod removed")
        took = time.monotonic() - started
        assert took >= 5 * scale  # the preStop hook sleeps 5 s (simulated)
        assert log.finished
        lines = all_lines(log)
        messages = [json.loads(line).get("message") for line in lines[-4:]]
        assert messages == [
            "SIGTERM received: closing HTTP server",
            "HTTP server closed",
            "postgres pool ended",
            "shutdown complete",
        ]
        assert seqs(lines) == list(range(1, len(lines) + 1))
        killing = sim.events("staging", name=name, reason="Killing")
        assert killing and killing[0]["message"] == "Stopping container web"

    run_cluster(scenario)


def test_grace_period_shorter_than_prestop_ends_in_sigkill() -> None:
    async def scenario(sim: Sim) -> None:
        pod = sim.pods("staging", app="trace-api", process="web")[0]
        name = pod["metadata"]["name"]
        codes: list[int] = []

        def capture(change: Any) -> None:
            if change.resource == "pods" and change.object["metadata"]["name"] == name:
                for cs in change.object["status"].get("containerStatuses") or []:
                    term = cs["state"].get("terminated")
                    if term:
                        codes.append(term["exitCode"])

        unsubscribe = sim.store.subscribe(capture)

        def mark(draft: Obj) -> None:
            draft["metadata"]["deletionTimestamp"] = "2099-01-01T00:00:00Z"
            draft["metadata"]["deletionGracePeriodSeconds"] = 2

        sim.store.mutate("pods", "staging", name, mark)
        await sim.wait(lambda: sim.store.try_get("pods", "staging", name) is None, message="pod removed")
        unsubscribe()
        assert codes and codes[-1] == 137

    run_cluster(scenario)


def test_probe_failures_restart_through_liveness_and_slow_start_gets_ready() -> None:
    async def scenario(sim: Sim) -> None:
        runtime = sim.cluster.runtime
        runtime.mark_image("5105105", "slow-start")
        assert runtime.image_faults()["5105105"] == "slow-start"
        sim.create("deployments", web_deployment("default", "slow", "5105105", replicas=1))
        sim.create("deployments", web_deployment("default", "sick", "badc0de", replicas=1))
        await sim.wait(
            lambda: (p := only_pod(sim, "default", "slow")) and is_ready(p), timeout=30, message="slow ready"
        )
        slow = only_pod(sim, "default", "slow")
        assert slow is not None
        started = container_status(slow)["state"]["running"]["startedAt"]
        ready_at = next(c for c in slow["status"]["conditions"] if c["type"] == "Ready")["lastTransitionTime"]
        assert ready_at >= started
        slow_events = [
            e["message"] for e in sim.events("default", name=slow["metadata"]["name"], reason="Unhealthy")
        ]
        assert "Readiness probe failed: HTTP probe failed with statuscode: 503" in slow_events

        def sick_restarted() -> bool:
            pod = only_pod(sim, "default", "sick")
            return bool(
                pod and pod["status"].get("containerStatuses") and container_status(pod)["restartCount"] >= 1
            )

        await sim.wait(sick_restarted, timeout=30, message="liveness restart")
        sick = only_pod(sim, "default", "sick")
        assert sick is not None and not is_ready(sick)
        name = sick["metadata"]["name"]
        killing = [e["message"] for e in sim.events("default", name=name, reason="Killing")]
        assert killing == ["Container web failed liveness probe, will be restarted"]
        unhealthy = {e["message"] for e in sim.events("default", name=name, reason="Unhealthy")}
        assert "Liveness probe failed: HTTP probe failed with statuscode: 503" in unhealthy
        runtime.mark_image("5105105", None)
        assert "5105105" not in runtime.image_faults()

    run_cluster(scenario, fixture="empty", settle=False, time_scale=0.01)


def test_exec_target_has_the_pod_environment_and_the_image_tools() -> None:
    async def scenario(sim: Sim) -> None:
        runtime = sim.cluster.runtime
        web = sim.pods("production", app="trace-api", process="web")[0]
        target = runtime.exec_target("production", web["metadata"]["name"], "web")
        env = target.env
        assert (
            env["DATABASE_URL"]
            == "postgres://trace:s3cr3t-production@db.production.svc.cluster.local:5432/trace"
        )
        assert env["PROCESS_TYPE"] == "web" and env["LOG_LEVEL"] == "info"
        assert env["POD_NAME"] == web["metadata"]["name"] == env["HOSTNAME"]
        assert env["KUBERNETES_SERVICE_HOST"] == "10.96.0.1"
        assert env["TRACE_API_WEB_SERVICE_PORT"] == "80"
        out = subprocess.run(
            [
                "sh",
                "-c",
                "node --version; command -v bash || echo no-bash; ls; node -p process.versions.node",
            ],
            cwd=target.cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout.split("\n")
        assert out[0] == "v20.11.1"  # 3f9c2a1 carries Node.js 20.11.1 on Debian (bash)
        assert out[1].endswith("/bash")
        assert "package.json" in out
        assert "20.11.1" in out
        staging = sim.pods("staging", app="trace-api", process="web")[0]
        alpine = runtime.exec_target("staging", staging["metadata"]["name"], "web")
        out2 = subprocess.run(
            ["sh", "-c", "node --version; command -v bash || echo no-bash"],
            cwd=alpine.cwd,
            env=alpine.env,
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout.split()
        assert out2 == ["v20.12.2", "no-bash"]  # a41c9e7 is Alpine-based
        with pytest.raises(StoreError) as err:
            runtime.exec_target("production", web["metadata"]["name"], "nope")
        assert err.value.code == 400

    run_cluster(scenario)


def test_proxy_answers_with_the_image_health() -> None:
    async def scenario(sim: Sim) -> None:
        runtime = sim.cluster.runtime
        web = sim.pods("production", app="trace-api", process="web")[0]["metadata"]["name"]
        ok = runtime.proxy("production", web, "3000", "/healthz", "GET")
        assert ok.status == 200
        body = json.loads(ok.body)
        assert body["status"] == "ok" and body["node"] == "v20.11.1" and body["commit"] == "3f9c2a1"
        assert runtime.proxy("production", web, "http", "/healthz", "GET").status == 200
        missing = runtime.proxy("production", web, "3000", "/nope", "GET")
        assert missing.status == 404 and b"Cannot GET /nope" in missing.body
        clock = sim.pods("production", app="trace-api", process="clock")[0]["metadata"]["name"]
        with pytest.raises(StoreError) as err:
            runtime.proxy("production", clock, "3000", "/healthz", "GET")
        assert err.value.code == 503 and "connection refused" in err.value.message
        sim.create("deployments", web_deployment("default", "sick", "badc0de", replicas=1))
        await sim.wait(
            lambda: (
                (p := only_pod(sim, "default", "sick"))
                and p["status"].get("containerStatuses")
                and "running" in container_status(p)["state"]
                and sim.events("default", name=p["metadata"]["name"], reason="Unhealthy")
            ),
            timeout=20,
            message="sick pod probed",
        )
        pod = only_pod(sim, "default", "sick")
        assert pod is not None
        sick = runtime.proxy("default", pod["metadata"]["name"], "3000", "/healthz", "GET")
        assert sick.status == 503 and json.loads(sick.body)["status"] == "error"

    run_cluster(scenario)


def test_missing_secret_is_a_create_container_config_error() -> None:
    async def scenario(sim: Sim) -> None:
        deployment = web_deployment("default", "nosecret", "1234567", replicas=1)
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        container["env"].append(
            {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "absent", "key": "url"}}}
        )
        sim.create("deployments", deployment)

        def waiting() -> Obj | None:
            pod = only_pod(sim, "default", "nosecret")
            if not pod or not pod["status"].get("containerStatuses"):
                return None
            state = container_status(pod)["state"].get("waiting") or {}
            return state if state.get("reason") == "CreateContainerConfigError" else None

        state = await sim.wait(waiting, message="config error")
        assert state["message"] == 'secret "absent" not found'
        pod = only_pod(sim, "default", "nosecret")
        assert pod is not None
        failed = [e["message"] for e in sim.events("default", name=pod["metadata"]["name"], reason="Failed")]
        assert 'Error: secret "absent" not found' in failed
        sim.create(
            "secrets", {"metadata": {"name": "absent", "namespace": "default"}, "data": {"url": "eDovL3k="}}
        )
        await sim.wait(
            lambda: (p := only_pod(sim, "default", "nosecret")) and is_ready(p),
            message="starts once it exists",
        )

    run_cluster(scenario, fixture="empty", settle=False)


def test_pod_statuses_validate_in_every_state() -> None:
    async def scenario(sim: Sim) -> None:
        for name, tag in (("a", "c0ffee1"), ("b", "0000000"), ("c", "badc0de"), ("d", "1234567")):
            sim.create("deployments", web_deployment("default", name, tag, replicas=1))
        seen: set[str] = set()

        def collect() -> bool:
            for pod in sim.store.list("pods", "default"):
                validate("V1Pod", pod)
                for cs in pod["status"].get("containerStatuses") or []:
                    state = next(iter(cs["state"]), "")
                    seen.add(
                        state + ":" + (cs["state"][state].get("reason", "") if state != "running" else "")
                    )
            return {"waiting:CrashLoopBackOff", "waiting:ImagePullBackOff", "running:"} <= seen

        await sim.wait(collect, timeout=30, message="all states")
        for event in sim.store.list("events", "default"):
            validate("CoreV1Event", event)
        for rs in sim.store.list("replicasets", "default"):
            validate("V1ReplicaSet", rs)

    run_cluster(scenario, fixture="empty", settle=False, time_scale=0.01)
