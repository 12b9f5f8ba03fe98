"""How the old pods of a rollout stopped: found, summed up per process, recorded, shown (pure)."""

from __future__ import annotations

import copy
from io import StringIO
from typing import Any

from rich.console import Console

from kubectl_trace.health.events import event_record
from kubectl_trace.release.follow import Stops, old_pods, pod_grace, waiting_text
from kubectl_trace.release.records import Ledger, Release, release_from_json, release_to_json
from kubectl_trace.release.shutdowns import ProcessShutdowns, rollout_stops, summarise_stops
from kubectl_trace.status.resources import MetricsAnswer, build_facts, facts_json, render_facts, with_recorded
from tests.factories import NOW, container, event, pod, running, terminated, ts
from tests.factories.release import deployment, replicaset
from tests.factories.release import pod as rs_pod

KILLED_TEXT = "killed after the 30s grace period (exit 137)"
NO_HANDLER = "no SIGTERM handler seen in the logs: the app keeps running until SIGKILL"


def _gone(name: str, code: int, *, kill: float, finished: float, process: str = "web") -> dict[str, Any]:
    """A deleted pod's last state, as the DELETED watch event carries it."""
    p = pod(
        name,
        statuses=[{**running(), "state": terminated(code, "Error", started=-600, finished=finished)}],
        deleted=kill,
    )
    p["metadata"]["labels"]["process"] = process
    return p


def _kill(name: str, at: float) -> dict[str, Any]:
    return event("Killing", "Stopping container web", name=name, first=at)


def _stops(*pods: dict[str, Any], logs: dict[tuple[str, str], tuple[str, ...]] | None = None) -> Stops:
    events = [event_record(_kill(str(p["metadata"]["name"]), -40)) for p in pods]
    return Stops(tuple(pods), tuple(events), logs or {})


def _summary(stops: Stops) -> tuple[ProcessShutdowns, ...]:
    return rollout_stops(stops.pods, stops.events, stops.logs, NOW)


def test_killed_old_pods_are_counted_per_process_with_the_cause_from_the_logs_read() -> None:
    a = _gone("trace-api-web-1-a", 137, kill=-40, finished=-10)
    b = _gone("trace-api-web-1-b", 137, kill=-40, finished=-10)
    c = _gone("trace-api-worker-1-c", 0, kill=-40, finished=-39, process="worker")
    logs = {("trace-api-web-1-a", "web"): ('{"message":"GET /api/traces 200"}',)}
    web, worker = _summary(_stops(a, b, c, logs=logs))
    assert web == ProcessShutdowns("web", KILLED_TEXT, (NO_HANDLER,), 2, 2, "killed")
    assert web.line() == f"! web: old pods {KILLED_TEXT} (2 of 2 shutdowns) — {NO_HANDLER}"
    assert web.status_text(4) == f"{KILLED_TEXT} (2 of 2), in the rollout of v4"
    assert worker == ProcessShutdowns("worker", "stopped gracefully in 1.0s", (), 0, 1, "graceful")
    assert worker.line() == "worker: old pods stopped gracefully in 1.0s"


def test_a_logged_sigterm_names_no_cause_and_graceful_stops_give_their_range() -> None:
    killed = _gone("trace-api-web-1-a", 137, kill=-40, finished=-10)
    logs = {("trace-api-web-1-a", "web"): ('{"message":"SIGTERM received, closing the server"}',)}
    (web,) = _summary(_stops(killed, logs=logs))
    assert web.causes == () and web.line() == f"! web: old pods {KILLED_TEXT}"
    quick = [_gone(f"trace-api-web-1-{s}", 0, kill=-40, finished=f) for s, f in (("a", -39.6), ("b", -38.9))]
    facts = _summary(_stops(*quick))
    assert [f.text for f in facts] == ["stopped gracefully in 0.0–1.0s"]  # whole-second timestamps
    assert summarise_stops(()) == ()


def test_old_pods_are_those_of_older_replicasets_stopping_or_deleted() -> None:
    d = deployment("web", "a41c9e7", replicas=1, revision=3)
    new_rs = replicaset(d, "a41c9e7", 3, hash_="new1", replicas=1)
    old_rs = replicaset(d, "3f9c2a1", 2, hash_="old1", replicas=0)
    new_pod = rs_pod(new_rs, "n")
    stopping = rs_pod(old_rs, "s")
    stopping["metadata"]["deletionTimestamp"] = ts(-3)
    stopping["metadata"]["deletionGracePeriodSeconds"] = 45
    running_old = rs_pod(old_rs, "r")  # not being deleted: not stopping
    gone = rs_pod(old_rs, "g")
    other = copy.deepcopy(gone)
    other["metadata"]["labels"]["process"] = "worker"  # another Deployment's pod
    live, ended = old_pods(
        ["trace-api-web", "trace-api-gone"],
        {"trace-api-web": d},
        [new_rs, old_rs],
        [new_pod, stopping, running_old],
        [gone, other, new_pod],
        NOW,
    )
    assert [p["metadata"]["name"] for p in live] == [stopping["metadata"]["name"]]
    assert [p["metadata"]["name"] for p in ended] == [gone["metadata"]["name"]]
    assert pod_grace(stopping) == 45 and pod_grace(new_pod) == 30 and pod_grace({}) == 30


def test_the_waiting_line_says_how_long_since_sigterm_and_how_to_stop_waiting() -> None:
    assert waiting_text((3, 4.2, 30)) == (
        "waiting for 3 old pods to stop (SIGTERM 4s ago, grace period 30s; "
        "Ctrl-C stops waiting, the release is done)"
    )
    assert waiting_text((1, None, 60)).startswith("waiting for 1 old pod to stop (grace period 60s;")


def _release(number: int, shutdowns: tuple[ProcessShutdowns, ...] = ()) -> Release:
    return Release(number, "deploy", "a41c9e7", {}, "dev@example.com", NOW, "healthy", shutdowns=shutdowns)


def test_release_records_keep_shutdowns_and_read_records_without_them() -> None:
    web = ProcessShutdowns("web", KILLED_TEXT, (NO_HANDLER,), 3, 3, "killed")
    data = release_to_json(_release(4, (web,)))
    assert data["shutdowns"] == [
        {
            "process": "web",
            "text": KILLED_TEXT,
            "causes": [NO_HANDLER],
            "killed": 3,
            "total": 3,
            "outcome": "killed",
        }
    ]
    assert release_from_json(data).shutdowns == (web,)
    older = release_to_json(_release(3))
    assert "shutdowns" not in older and release_from_json(older).shutdowns == ()
    ledger = Ledger([_release(4)])
    assert ledger.with_outcome(4, "healthy", [web]) and ledger.releases[0].shutdowns == (web,)
    assert ledger.with_outcome(4, "healthy") and ledger.releases[0].shutdowns == (web,)  # kept
    assert not ledger.with_outcome(9, "healthy", [web])


def _render(facts: Any) -> str:
    console = Console(file=StringIO(), width=200, color_system=None)
    for item in render_facts(facts):
        console.print(item)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(out, str)
    return out


def test_status_shows_recorded_shutdowns_only_for_processes_without_a_live_one() -> None:
    web = ProcessShutdowns("web", KILLED_TEXT, (NO_HANDLER,), 3, 3, "killed")
    worker = ProcessShutdowns("worker", "stopped gracefully in 0.4s", (), 0, 2, "graceful")
    facts = build_facts([pod()], [], MetricsAnswer(()), NOW)
    assert with_recorded(facts, None) is facts and with_recorded(facts, _release(4)) is facts
    shown = with_recorded(facts, _release(4, (web, worker)))
    doc = facts_json(shown)
    assert doc["shutdowns"] == []
    first = doc["releaseShutdowns"][0]
    assert first["source"] == "release v4" and first["bad"] is True and first["causes"] == [NO_HANDLER]
    assert first["summary"] == f"{KILLED_TEXT} (3 of 3), in the rollout of v4"
    text = _render(shown)
    assert f"web: {KILLED_TEXT} (3 of 3), in the rollout of v4" in text
    assert f"why: {NO_HANDLER}" in text and "worker: stopped gracefully in 0.4s, in the rollout of v4" in text
    # a process with a live shutdown keeps it: the recorded one is not shown beside it
    c = container()
    last = terminated(137, "Error", started=-900, finished=-70)
    live = pod(containers=[c], statuses=[running(restarts=1, started=-69, last=last)])
    kill = event("Killing", "Container web definition changed, will be restarted", first=-100)
    both = with_recorded(build_facts([live], [kill], MetricsAnswer(()), NOW), _release(4, (web, worker)))
    assert [s.process for s in both.recorded] == ["worker"]


def test_plain_lines_say_the_wait_once_per_count_and_the_live_view_shows_it() -> None:
    from kubectl_trace.release.follow import PlainPrinter, Snapshot
    from kubectl_trace.release.view import progress_table

    lines: list[str] = []
    printer = PlainPrinter(lines.append)
    for count, since in ((3, 1.0), (3, 2.0), (1, 3.0)):
        printer(Snapshot(NOW, since, (), waiting=(count, since, 30)))
    printer(Snapshot(NOW, 4.0, ()))
    assert [line.split("] ", 1)[1].split(" (")[0] for line in lines] == [
        "waiting for 3 old pods to stop",
        "waiting for 1 old pod to stop",
    ]
    console = Console(file=StringIO(), width=200, color_system=None)
    console.print(progress_table(Snapshot(NOW, 5.0, (), waiting=(2, 4.0, 30)), "deploy"))
    assert "waiting for 2 old pods to stop (SIGTERM 4s ago, grace period 30s;" in console.file.getvalue()  # type: ignore[attr-defined]
