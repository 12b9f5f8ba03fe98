"""Which instances get tailed, and how: the Supervisor's decisions, with recording tailers."""

import re

from kubectl_trace.kube.settings import KubeSettings
from kubectl_trace.kube.targets import Target
from kubectl_trace.logs.follow import Supervisor
from kubectl_trace.logs.options import LogsOptions


class FakeKube:
    namespace = "production"


class RecordingTailer:
    started: list["RecordingTailer"] = []

    def __init__(self, kube, source, *, uid, request, sink, marker, clock, on_done, gate):
        self.source, self.uid, self.request, self.marker, self.on_done = source, uid, request, marker, on_done
        self.running = False

    def start(self):
        self.running = True
        RecordingTailer.started.append(self)

    def stop(self):
        self.running = False

    def terminating(self):
        self.pod_terminating = True

    def abandon(self):
        self.abandoned = True
        self.stop()

    def join(self, timeout=None):
        pass

    def finish(self):
        self.running = False
        self.on_done(self)


def pod(name, *, cid="containerd://1", restarts=0, state="running", last=None, uid=None, containers=("web",)):
    statuses = []
    for c in containers:
        status = {
            "name": c,
            "restartCount": restarts,
            "containerID": cid,
            "state": {state: {"startedAt": "2026-01-02T15:04:05Z"}},
        }
        if state == "waiting":
            status["state"] = {"waiting": {"reason": "ContainerCreating"}}
            del status["containerID"]
        if last:
            status["lastState"] = {"terminated": last}
        statuses.append(status)
    return {
        "metadata": {
            "name": name,
            "namespace": "production",
            "uid": uid or f"uid-{name}",
            "labels": {"app": "trace-api"},
        },
        "spec": {"containers": [{"name": c} for c in containers]},
        "status": {"containerStatuses": statuses},
    }


def supervisor(**options):
    RecordingTailer.started = []
    notices = []
    target = Target(namespace="production", description="app trace-api", kind="app", app="trace-api")
    opts = LogsOptions(kube=KubeSettings(), **options)
    sup = Supervisor(FakeKube(), target, opts, notices.append, make_tailer=RecordingTailer)
    return sup, notices


def test_pods_present_at_start_use_tail_and_later_ones_start_from_their_first_line():
    sup, _ = supervisor(tail=10)
    sup.reset((pod("web-a"),), initial=True)
    sup.update(pod("web-b"), initial=False)
    first, second = RecordingTailer.started
    assert (first.source.pod, first.request.tail_lines, first.request.follow) == ("web-a", 10, True)
    assert (second.source.pod, second.request.tail_lines) == ("web-b", None)
    assert first.marker is None and second.marker is None


def test_a_pod_seen_waiting_at_start_is_read_from_its_first_line_once_it_runs():
    sup, _ = supervisor(tail=10)
    sup.reset((pod("web-a", state="waiting"),), initial=True)
    assert RecordingTailer.started == []
    sup.update(pod("web-a"), initial=False)
    assert RecordingTailer.started[0].request.tail_lines is None


def test_a_restart_starts_the_new_instance_with_a_marker():
    sup, _ = supervisor()
    sup.reset((pod("web-a", cid="containerd://1"),), initial=True)
    sup.update(pod("web-a", cid="containerd://1"), initial=False)  # nothing new
    assert len(RecordingTailer.started) == 1
    last = {"containerID": "containerd://1", "exitCode": 137, "reason": "OOMKilled"}
    sup.update(pod("web-a", cid="containerd://2", restarts=1, last=last), initial=False)
    new = RecordingTailer.started[1]
    assert new.source.instance == "containerd://2" and new.request.tail_lines is None
    assert new.marker.text == "web-a container restarted (exit 137, OOMKilled)"
    assert new.marker.ts == "2026-01-02T15:04:05.000000000Z"


def test_container_filters_exclude_pod_and_labels_for_several_containers():
    sup, _ = supervisor(container=re.compile("web|proxy"), exclude_container=re.compile("proxy"))
    sup.reset((pod("web-a", containers=("web", "proxy", "shipper")),), initial=True)
    assert [t.source.label for t in RecordingTailer.started] == ["web-a/web"]
    sup, _ = supervisor(exclude_pod=re.compile("-b$"))
    sup.reset((pod("web-a"), pod("web-b")), initial=True)
    assert [t.source.pod for t in RecordingTailer.started] == ["web-a"]


def test_more_containers_than_max_streams_wait_their_turn_with_one_warning():
    sup, notices = supervisor(max_streams=2)
    sup.reset(tuple(pod(f"web-{i}") for i in range(5)), initial=True)
    assert [t.source.pod for t in RecordingTailer.started] == ["web-0", "web-1"]
    assert notices == [
        ("notice", "warning: 5 containers match but --max-streams is 2: 3 are not followed "
         "(raise --max-streams to see them all)"),
    ]  # fmt: skip
    assert sup.waiting == 3
    RecordingTailer.started[0].finish()  # a stream ends: the next one starts
    assert [t.source.pod for t in RecordingTailer.started] == ["web-0", "web-1", "web-2"]


def test_previous_reads_only_containers_that_restarted():
    sup, _ = supervisor(previous=True, follow=False, tail=None)
    last = {"containerID": "containerd://0", "exitCode": 1, "reason": "Error"}
    sup.list_once([pod("web-a", restarts=1, last=last), pod("web-b")])
    (only,) = RecordingTailer.started
    assert (only.source.pod, only.source.instance, only.request.previous) == ("web-a", "containerd://0", True)
    assert sup.no_previous == 1


def test_without_follow_the_end_is_announced_when_every_tailer_finished():
    sup, notices = supervisor(follow=False, tail=None)
    assert sup.list_once([pod("web-a"), pod("web-b")]) == 2
    assert all(not t.request.follow for t in RecordingTailer.started)
    RecordingTailer.started[0].finish()
    assert ("end",) not in notices
    RecordingTailer.started[1].finish()
    assert notices[-1] == ("end",)


def test_a_deleted_pod_is_forgotten_and_its_tailers_stop_after_the_grace():
    sup, _ = supervisor()
    sup.grace = 0.0
    sup.reset((pod("web-a"),), initial=True)
    tailer = RecordingTailer.started[0]
    sup.removed(pod("web-a"))
    for timer in sup._timers:
        timer.join(5)
    assert not tailer.running and tailer.abandoned  # abandoned: it reports unread lines
    sup.update(pod("web-a", uid="uid-2"), initial=False)  # same name, new pod: read from the start
    assert RecordingTailer.started[-1].request.tail_lines is None


def test_a_terminating_pod_tells_its_tailers_to_retry_without_long_waits():
    sup, _ = supervisor()
    sup.reset((pod("web-a"), pod("web-b", uid="uid-b")), initial=True)
    a, b = RecordingTailer.started[-2:]
    doomed = pod("web-a")
    doomed["metadata"]["deletionTimestamp"] = "2026-01-02T15:04:09Z"
    sup.update(doomed, initial=False)
    assert getattr(a, "pod_terminating", False) and not getattr(b, "pod_terminating", False)
