"""The pure parts of ``forward``: the port spec, the choice of pod, following the watch."""

from __future__ import annotations

from typing import Any

import pytest

from kubectl_trace.debug.forward import PodFollower
from kubectl_trace.debug.pods import AppPods, PortSpec, next_pod, parse_ports, ready_pods, remote_port
from kubectl_trace.errors import NodeappError, UsageError
from kubectl_trace.kube.watch import WatchEvent


def pod(
    name: str,
    *,
    ready: bool = True,
    created: str = "2026-12-01T10:00:00Z",
    deleting: bool = False,
    app: str = "shop",
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "labels": {"app": app, "process": "web"},
        "creationTimestamp": created,
    }
    if deleting:
        meta["deletionTimestamp"] = "2026-12-01T11:00:00Z"
    return {
        "metadata": meta,
        "spec": {"containers": [{"name": "web", "ports": [{"name": "http", "containerPort": 3000}]}]},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


APP = AppPods(
    "shop",
    "ns",
    "web",
    ({"spec": {"selector": {"matchLabels": {"app": "shop", "process": "web"}}}},),
    "app=shop,process=web",
)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("3000", PortSpec(None, "3000")),
        ("8080:3000", PortSpec(8080, "3000")),
        ("0:3000", PortSpec(0, "3000")),
        (":3000", PortSpec(0, "3000")),
        ("9229:http", PortSpec(9229, "http")),
    ],
)
def test_port_specs_as_kubectl_reads_them(spec: str, expected: PortSpec) -> None:
    assert parse_ports(spec) == expected


@pytest.mark.parametrize(
    "spec",
    ["", "0", "70000", "3000:", "a:3000", "-1:3000", "1:2:3", "0:HTTP", "0:-x", "0:averyveryverylongname"],
)
def test_bad_port_specs_are_usage_errors(spec: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_ports(spec)
    assert "\n" not in caught.value.message


def test_a_port_name_is_looked_up_in_the_pod() -> None:
    assert remote_port(parse_ports("0:http"), pod("a")) == 3000
    with pytest.raises(NodeappError, match="no port named 'metrics'"):
        remote_port(parse_ports("0:metrics"), pod("a"))


def test_the_newest_ready_pod_is_chosen_and_kept_while_ready() -> None:
    pods = [
        pod("a", created="2026-12-01T10:00:00Z"),
        pod("b", created="2026-12-01T10:05:00Z"),
        pod("c", created="2026-12-01T10:09:00Z", ready=False),
        pod("d", created="2026-12-01T10:09:00Z", deleting=True),
    ]
    assert [p["metadata"]["name"] for p in ready_pods(pods)] == ["b", "a"]
    assert next_pod(None, pods) == "b"
    assert next_pod("a", pods) == "a"  # still ready: no needless move
    assert next_pod("c", pods) == "b"
    assert next_pod("a", []) is None


def test_the_follower_moves_when_its_pod_goes_and_says_why() -> None:
    moves: list[tuple[str | None, str | None, str]] = []
    follower = PodFollower(APP, "a", lambda old, new, why: moves.append((old, new, why)))
    follower.apply(WatchEvent("RESET", items=(pod("a"), pod("b"), pod("x", app="other"))))
    assert moves == [] and set(follower.pods) == {"a", "b"}
    follower.apply(WatchEvent("MODIFIED", pod("a", deleting=True)))
    assert moves == [("a", "b", "terminating")]
    follower.apply(WatchEvent("ADDED", pod("c", created="2026-12-01T12:00:00Z", ready=False)))
    follower.apply(WatchEvent("MODIFIED", pod("b", ready=False)))
    assert moves[-1] == ("b", None, "not ready")  # c is not ready yet: nowhere to go
    follower.apply(WatchEvent("MODIFIED", pod("c", created="2026-12-01T12:00:00Z")))
    assert moves[-1] == (None, "c", "")
    follower.apply(WatchEvent("DELETED", pod("c")))
    assert moves[-1] == ("c", None, "deleted")
    follower.apply(WatchEvent("DISCONNECTED"))
    assert len(moves) == 4


def test_an_outage_of_the_watch_is_said_once_and_its_end_too() -> None:
    import io

    from kubectl_trace.debug.forward import _follow
    from kubectl_trace.environment import Environment
    from kubectl_trace.kube.errors import TransportError

    err = io.StringIO()
    env = Environment(io.StringIO(), io.StringIO(), err, False, False, False)
    follower = PodFollower(APP, "a", lambda *_: None)
    lost = TransportError("cannot reach the API server: connection refused", kind="refused")
    events = [
        WatchEvent("RESET", items=(pod("a"),)),
        WatchEvent("DISCONNECTED", error=lost, retry_in=1),
        WatchEvent("DISCONNECTED", error=lost, retry_in=2),
        WatchEvent("DISCONNECTED", error=lost, retry_in=3),
        WatchEvent("RECONNECTED"),
        WatchEvent("MODIFIED", pod("a")),
    ]
    _follow(events, follower, env)
    assert err.getvalue().splitlines() == [
        "lost the watch of the app's pods (cannot reach the API server: connection refused); retrying, still forwarding",
        "watching the app's pods again",
    ]
