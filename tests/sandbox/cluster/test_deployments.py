"""The Deployment and ReplicaSet controllers, in process, on a fast clock."""

from __future__ import annotations

import copy
from typing import Any

from kubectl_trace.sandbox.store import Change
from tests.sandbox.cluster.harness import API, Sim, is_ready, run_cluster, validate, web_deployment

Obj = dict[str, Any]


def replay_bounds(
    initial: list[Obj], changes: list[Change], namespace: str, labels: dict[str, str]
) -> tuple[int, int, int]:
    """Replay pod changes from ``initial``; return (max active, min ready active, changes seen).

    "Active" is what the controllers count: not being deleted and not terminal.
    """
    pods: dict[str, Obj] = {p["metadata"]["name"]: p for p in initial}
    most, fewest_ready, seen = 0, 10**9, 0
    for change in changes:
        if change.resource != "pods" or change.namespace != namespace:
            continue
        obj_labels = change.object["metadata"].get("labels") or {}
        if any(obj_labels.get(k) != v for k, v in labels.items()):
            continue
        name = change.object["metadata"]["name"]
        if change.type == "DELETED":
            pods.pop(name, None)
        else:
            pods[name] = change.object
        active = [
            p
            for p in pods.values()
            if not p["metadata"].get("deletionTimestamp")
            and p["status"].get("phase") not in ("Succeeded", "Failed")
        ]
        seen += 1
        most = max(most, len(active))
        fewest_ready = min(fewest_ready, sum(1 for p in active if is_ready(p)))
    return most, fewest_ready, seen


def snapshot_pods(sim: Sim, namespace: str, labels: dict[str, str]) -> list[Obj]:
    """The pods that exist now (the replay's starting point)."""
    return [copy.deepcopy(p) for p in sim.pods(namespace, **labels)]


def test_fixture_settles_with_release_history_and_valid_objects() -> None:
    async def scenario(sim: Sim) -> None:
        store = sim.store
        names = {(d["metadata"]["namespace"], d["metadata"]["name"]) for d in store.list("deployments")}
        assert names == {
            ("production", "trace-api-web"),
            ("production", "trace-api-worker"),
            ("production", "trace-api-clock"),
            ("production", "trace-ui"),
            ("staging", "trace-api-web"),
            ("staging", "trace-api-worker"),
            ("staging", "trace-api-clock"),
        }
        for ns, name in names:
            assert sim.complete(ns, name), (ns, name, sim.deployment(ns, name)["status"])
        web = sim.deployment("production", "trace-api-web")
        assert web["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
        tags = {
            rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: rs["spec"]["template"][
                "spec"
            ]["containers"][0]["image"].rsplit(":", 1)[1]
            for rs in sim.replicasets("production", "trace-api-web")
        }
        assert tags == {"1": "8b1d0e4", "2": "3f9c2a1"}
        staging = sim.deployment("staging", "trace-api-web")
        assert staging["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":a41c9e7")
        assert len(sim.pods("production", app="trace-api", process="web")) == 3
        assert len(sim.pods("production", app="trace-api", process="worker")) == 2
        assert len(sim.pods("production", app="trace-ui")) == 2
        assert len(sim.pods("staging", app="trace-api")) == 3
        assert not sim.pods("staging", app="trace-ui")
        for pod in sim.pods("production", app="trace-api"):
            container = pod["spec"]["containers"][0]
            env = {e["name"]: e for e in container["env"]}
            assert env["PROCESS_TYPE"]["value"] == pod["metadata"]["labels"]["process"]
            assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": "trace-api-db", "key": "url"}
            assert container["resources"]["requests"]
            if pod["metadata"]["labels"]["process"] in ("web", "worker"):
                assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
                assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
            if pod["metadata"]["labels"]["process"] == "web":
                assert container["lifecycle"]["preStop"]
                assert pod["spec"]["terminationGracePeriodSeconds"] == 30
        kinds = {
            "pods": "V1Pod",
            "deployments": "V1Deployment",
            "replicasets": "V1ReplicaSet",
            "events": "CoreV1Event",
            "nodes": "V1Node",
            "namespaces": "V1Namespace",
            "secrets": "V1Secret",
            "configmaps": "V1ConfigMap",
            "services": "V1Service",
        }
        checked = 0
        for resource, kind in kinds.items():
            for obj in store.list(resource):
                validate(kind, obj)
                checked += 1
        assert checked > 50

    run_cluster(scenario)


def test_rolling_update_never_exceeds_surge_or_unavailability() -> None:
    async def scenario(sim: Sim) -> None:
        labels = {"app": "trace-api", "process": "web"}
        start = len(sim.changes)
        baseline = snapshot_pods(sim, "production", labels)
        sim.set_image("production", "trace-api-web", f"{API}:abc1234")
        await sim.wait(lambda: sim.complete("production", "trace-api-web"), message="rollout complete")
        await sim.wait(lambda: len(sim.pods("production", **labels)) == 3, message="old pods gone")
        most, fewest_ready, seen = replay_bounds(baseline, sim.changes[start:], "production", labels)
        assert seen > 20
        assert most == 4  # replicas 3 + maxSurge 1, reached and never exceeded
        assert fewest_ready == 3  # maxUnavailable 0
        for pod in sim.pods("production", **labels):
            assert pod["spec"]["containers"][0]["image"].endswith(":abc1234")
        messages = [
            e["message"] for e in sim.events("production", name="trace-api-web", reason="ScalingReplicaSet")
        ]
        assert any(
            m.startswith("Scaled up replica set trace-api-web-") and m.endswith("from 0 to 1")
            for m in messages
        )
        assert any("Scaled down replica set" in m and m.endswith("from 1 to 0") for m in messages)
        d = sim.deployment("production", "trace-api-web")
        assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
        assert d["status"]["observedGeneration"] == d["metadata"]["generation"] == 2

    run_cluster(scenario)


def test_percentages_and_bigger_steps_respect_bounds() -> None:
    async def scenario(sim: Sim) -> None:
        sim.create(
            "deployments",
            web_deployment("default", "api", "1111111", replicas=8, surge="25%", unavailable="25%"),
        )
        await sim.wait(lambda: sim.complete("default", "api"), message="first rollout")
        baseline = snapshot_pods(sim, "default", {"app": "api"})
        start = len(sim.changes)
        sim.set_image("default", "api", f"{API}:2222222")
        await sim.wait(lambda: sim.complete("default", "api"), message="second rollout")
        most, fewest_ready, _ = replay_bounds(baseline, sim.changes[start:], "default", {"app": "api"})
        assert most <= 8 + 2  # 25% of 8, rounded up
        assert fewest_ready >= 8 - 2  # 25% of 8, rounded down
        assert most > 8 and fewest_ready < 8  # both allowances were used

    run_cluster(scenario)


def test_undo_reuses_the_old_replicaset_with_a_new_revision() -> None:
    async def scenario(sim: Sim) -> None:
        before = {rs["metadata"]["name"] for rs in sim.replicasets("production", "trace-api-web")}
        old = next(
            rs
            for rs in sim.replicasets("production", "trace-api-web")
            if rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
        )
        template = copy.deepcopy(old["spec"]["template"])
        del template["metadata"]["labels"]["pod-template-hash"]

        def undo(d: Obj) -> None:  # what kubectl rollout undo patches
            d["spec"]["template"] = template

        sim.edit("deployments", "production", "trace-api-web", undo)
        await sim.wait(lambda: sim.complete("production", "trace-api-web"), message="undo rolled out")
        after = {rs["metadata"]["name"]: rs for rs in sim.replicasets("production", "trace-api-web")}
        assert set(after) == before  # no new ReplicaSet
        reused = after[old["metadata"]["name"]]
        assert reused["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
        assert reused["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"] == "1"
        assert reused["spec"]["replicas"] == 3
        d = sim.deployment("production", "trace-api-web")
        assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
        for pod in sim.pods("production", app="trace-api", process="web"):
            if not pod["metadata"].get("deletionTimestamp"):
                assert pod["spec"]["containers"][0]["image"].endswith(":8b1d0e4")

    run_cluster(scenario)


def test_unready_release_stalls_until_the_progress_deadline() -> None:
    async def scenario(sim: Sim) -> None:
        labels = {"app": "trace-api", "process": "web"}
        old_pods = {p["metadata"]["name"] for p in sim.pods("production", **labels)}
        sim.set_image("production", "trace-api-web", f"{API}:badc0de")
        cond = await sim.wait(
            lambda: (
                (c := sim.condition("production", "trace-api-web", "Progressing"))
                and c["reason"] == "ProgressDeadlineExceeded"
                and c
            ),
            timeout=30,
            message="progress deadline",
        )
        assert cond["status"] == "False"
        assert cond["message"].endswith("has timed out progressing.")
        status = sim.deployment("production", "trace-api-web")["status"]
        assert status["updatedReplicas"] == 1 and status["availableReplicas"] == 3
        assert {p["metadata"]["name"] for p in sim.pods("production", **labels) if is_ready(p)} == old_pods
        new = [p for p in sim.pods("production", **labels) if p["metadata"]["name"] not in old_pods]
        assert len(new) == 1
        unhealthy = sim.events("production", name=new[0]["metadata"]["name"], reason="Unhealthy")
        assert any(
            e["message"] == "Readiness probe failed: HTTP probe failed with statuscode: 503"
            and e["count"] >= 2
            for e in unhealthy
        )
        assert all(e["type"] == "Warning" and e["source"]["component"] == "kubelet" for e in unhealthy)
        assert sim.condition("production", "trace-api-web", "Available")["status"] == "True"

    run_cluster(scenario, time_scale=0.01)


def test_recreate_stops_every_old_pod_before_starting_new_ones() -> None:
    async def scenario(sim: Sim) -> None:
        labels = {"app": "trace-api", "process": "clock"}
        old = {p["metadata"]["name"] for p in sim.pods("production", **labels)}
        start = len(sim.changes)
        sim.set_image("production", "trace-api-clock", f"{API}:abc1234")
        await sim.wait(lambda: sim.complete("production", "trace-api-clock"), message="recreate done")
        alive: set[str] = set(old)
        for change in sim.changes[start:]:
            if change.resource != "pods" or change.namespace != "production":
                continue
            if (change.object["metadata"].get("labels") or {}).get("process") != "clock":
                continue
            name = change.object["metadata"]["name"]
            if change.type == "ADDED":
                assert not (alive & old), f"{name} created while {alive & old} still ran"
                alive.add(name)
            elif change.type == "DELETED" or change.object["status"].get("phase") in ("Succeeded", "Failed"):
                alive.discard(name)  # as upstream's oldPodsRunning: terminal pods no longer count

    run_cluster(scenario)


def test_pause_holds_template_changes_and_resume_rolls_them_out() -> None:
    async def scenario(sim: Sim) -> None:
        def pause(d: Obj) -> None:
            d["spec"]["paused"] = True

        sim.edit("deployments", "production", "trace-api-worker", pause)
        await sim.wait(
            lambda: (
                (c := sim.condition("production", "trace-api-worker", "Progressing"))
                and c["reason"] == "DeploymentPaused"
            ),
            message="paused condition",
        )
        rs_before = len(sim.replicasets("production", "trace-api-worker"))
        sim.set_image("production", "trace-api-worker", f"{API}:abc1234")
        await sim.wait(
            lambda: sim.deployment("production", "trace-api-worker")["status"].get("observedGeneration") == 3,
            message="observed",
        )
        assert len(sim.replicasets("production", "trace-api-worker")) == rs_before

        def resume(d: Obj) -> None:
            d["spec"]["paused"] = False

        sim.edit("deployments", "production", "trace-api-worker", resume)
        await sim.wait(lambda: sim.complete("production", "trace-api-worker"), message="resumed rollout")
        assert len(sim.replicasets("production", "trace-api-worker")) == rs_before + 1
        reasons = [
            e["message"]
            for e in sim.events("production", name="trace-api-worker", reason="ScalingReplicaSet")
        ]
        assert reasons

    run_cluster(scenario)


def test_restarted_at_annotation_rolls_new_pods() -> None:
    async def scenario(sim: Sim) -> None:
        old = {p["metadata"]["name"] for p in sim.pods("staging", app="trace-api", process="web")}

        def restart(d: Obj) -> None:
            annotations = d["spec"]["template"]["metadata"].setdefault("annotations", {})
            annotations["kubectl.kubernetes.io/restartedAt"] = "2025-01-01T00:00:00Z"

        sim.edit("deployments", "staging", "trace-api-web", restart)
        await sim.wait(lambda: sim.complete("staging", "trace-api-web"), message="restart rolled out")
        await sim.wait(
            lambda: len(sim.pods("staging", app="trace-api", process="web")) == 1, message="old gone"
        )
        pods = sim.pods("staging", app="trace-api", process="web")
        assert not ({p["metadata"]["name"] for p in pods} & old)
        assert (
            pods[0]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"] == "2025-01-01T00:00:00Z"
        )

    run_cluster(scenario)


def test_scaling_up_and_down_and_proportionally_mid_rollout() -> None:
    async def scenario(sim: Sim) -> None:
        def scale(n: int) -> Any:
            def change(d: Obj) -> None:
                d["spec"]["replicas"] = n

            return change

        sim.edit("deployments", "production", "trace-api-web", scale(5))
        await sim.wait(lambda: sim.complete("production", "trace-api-web"), message="scaled to 5")
        assert len(sim.pods("production", app="trace-api", process="web")) == 5
        messages = [
            e["message"] for e in sim.events("production", name="trace-api-web", reason="ScalingReplicaSet")
        ]
        assert any(m.endswith("from 3 to 5") for m in messages)
        sim.edit("deployments", "production", "trace-api-web", scale(2))
        await sim.wait(
            lambda: (
                sim.complete("production", "trace-api-web")
                and len(sim.pods("production", app="trace-api", process="web")) == 2
            ),
            message="scaled to 2",
        )
        # a stalled rollout, then a scale: the replicas are spread over both ReplicaSets
        sim.set_image("production", "trace-api-web", f"{API}:badc0de")
        await sim.wait(
            lambda: sim.deployment("production", "trace-api-web")["status"].get("updatedReplicas") == 1,
            message="one new pod",
        )
        sim.edit("deployments", "production", "trace-api-web", scale(6))
        await sim.wait(
            lambda: sum(rs["spec"]["replicas"] for rs in sim.replicasets("production", "trace-api-web")) == 7,
            message="proportional scale",
        )
        sizes = sorted(rs["spec"]["replicas"] for rs in sim.replicasets("production", "trace-api-web"))
        assert sizes[-2:] == [2, 5] or sizes[-2:] == [3, 4], sizes

    run_cluster(scenario)


def test_revision_history_limit_cleans_up_old_replicasets() -> None:
    async def scenario(sim: Sim) -> None:
        sim.create(
            "deployments",
            web_deployment(
                "default", "hist", "1000001", replicas=1, probes=False, extra={"revisionHistoryLimit": 1}
            ),
        )
        await sim.wait(lambda: sim.complete("default", "hist"))
        for tag in ("1000002", "1000003", "1000004"):
            sim.set_image("default", "hist", f"{API}:{tag}")
            await sim.wait(lambda: sim.complete("default", "hist"), message=tag)
        await sim.wait(lambda: len(sim.replicasets("default", "hist")) == 2, message="cleanup")
        revisions = sorted(
            int(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"])
            for rs in sim.replicasets("default", "hist")
        )
        assert revisions == [3, 4]

    run_cluster(scenario, fixture="empty", settle=False)


def test_deleting_a_deployment_collects_its_replicasets_and_pods() -> None:
    async def scenario(sim: Sim) -> None:
        rs_names = [rs["metadata"]["name"] for rs in sim.replicasets("production", "trace-ui")]
        assert len(rs_names) == 2
        sim.store.remove("deployments", "production", "trace-ui")
        await sim.wait(
            lambda: not any(sim.store.try_get("replicasets", "production", n) for n in rs_names),
            message="replicasets collected",
        )
        await sim.wait(lambda: not sim.pods("production", app="trace-ui"), timeout=30, message="pods gone")
        killing = sim.events("production", reason="Killing")
        assert any(e["involvedObject"]["name"].startswith("trace-ui-") for e in killing)

    run_cluster(scenario)


def test_replicaset_replaces_a_deleted_pod_and_reports_status() -> None:
    async def scenario(sim: Sim) -> None:
        pods = sim.pods("staging", app="trace-api", process="worker")
        victim = pods[0]["metadata"]["name"]
        sim.store.remove("pods", "staging", victim)
        await sim.wait(
            lambda: (
                (p := sim.pods("staging", app="trace-api", process="worker"))
                and p[0]["metadata"]["name"] != victim
                and is_ready(p[0])
            ),
            message="replacement ready",
        )
        rs = next(r for r in sim.replicasets("staging", "trace-api-worker") if r["spec"]["replicas"] == 1)
        assert rs["status"]["replicas"] == 1 and rs["status"]["readyReplicas"] == 1
        created = [
            e["message"]
            for e in sim.events("staging", name=rs["metadata"]["name"], reason="SuccessfulCreate")
        ]
        assert len(created) == 2

    run_cluster(scenario)
