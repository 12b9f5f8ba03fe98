import re

from kubectl_trace.logs.instances import check_instance, container_names, container_view


def pod(statuses, containers=("web",), uid="u1", name="web-1"):
    return {
        "metadata": {"name": name, "namespace": "production", "uid": uid},
        "spec": {"containers": [{"name": c} for c in containers]},
        "status": {"containerStatuses": statuses},
    }


def running(cid, restarts=0, last=None, name="web"):
    status = {
        "name": name,
        "containerID": cid,
        "restartCount": restarts,
        "state": {"running": {"startedAt": "2026-01-02T15:04:05Z"}},
        "lastState": {},
    }
    if last:
        status["lastState"] = {"terminated": last}
    return status


def test_container_names_with_include_and_exclude():
    p = pod([], containers=("web", "istio-proxy", "log-shipper"))
    assert container_names(p) == (["web", "istio-proxy", "log-shipper"], 3)
    assert container_names(p, re.compile("web|proxy")) == (["web", "istio-proxy"], 3)
    assert container_names(p, None, re.compile("proxy|shipper")) == (["web"], 3)


def test_running_container():
    v = container_view(pod([running("containerd://a")]), "web")
    assert (v.instance, v.running, v.restart_count, v.previous) == ("containerd://a", True, 0, None)
    assert v.started_at == "2026-01-02T15:04:05Z"


def test_restarted_container_names_its_previous_instance_and_exit():
    last = {"containerID": "containerd://a", "exitCode": 137, "reason": "OOMKilled"}
    v = container_view(pod([running("containerd://b", 1, last)]), "web")
    assert (v.instance, v.previous, v.last_exit_code, v.last_reason) == (
        "containerd://b",
        "containerd://a",
        137,
        "OOMKilled",
    )


def test_without_container_ids_the_restart_count_stands_in():
    s = running(None, 2, {"exitCode": 1, "reason": "Error"})
    del s["containerID"]
    v = container_view(pod([s]), "web")
    assert (v.instance, v.previous) == ("#2", "#1")


def test_waiting_container():
    s = {"name": "web", "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}
    v = container_view(pod([s]), "web")
    assert v.instance is None and v.waiting_reason == "ContainerCreating"
    assert container_view(pod([]), "web").instance is None


def test_crash_loop_serves_the_last_run():
    s = {
        "name": "web",
        "restartCount": 3,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"containerID": "containerd://c", "exitCode": 1, "reason": "Error"}},
    }
    v = container_view(pod([s]), "web")
    assert (v.instance, v.previous, v.running) == ("containerd://c", "containerd://c", False)


def test_terminated_container():
    s = {
        "name": "web",
        "restartCount": 0,
        "containerID": "containerd://t",
        "state": {"terminated": {"containerID": "containerd://t", "exitCode": 0, "reason": "Completed"}},
    }
    v = container_view(pod([s]), "web")
    assert (v.instance, v.running) == ("containerd://t", False)


def test_check_instance_verdicts():
    now = pod([running("containerd://b", 1, {"containerID": "containerd://a", "exitCode": 137})])
    assert check_instance(now, "u1", "web", "containerd://b").verdict == "running"
    ended = check_instance(now, "u1", "web", "containerd://a")
    assert (ended.verdict, ended.previous) == ("ended", True)
    assert check_instance(None, "u1", "web", "containerd://b").verdict == "gone"
    assert check_instance(now, "other-uid", "web", "containerd://b").verdict == "gone"
    assert check_instance(now, "u1", "web", "containerd://zzz").verdict == "gone"
    done = pod(
        [{"name": "web", "restartCount": 0, "state": {"terminated": {"containerID": "containerd://b"}}}]
    )
    assert (check_instance(done, "u1", "web", "containerd://b").verdict, False) == ("ended", False)
