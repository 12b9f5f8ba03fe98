"""``events`` against the sandbox: the demo's timeline validates as JSON; ``-w`` is live."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from kubectl_trace.timeparse import parse_rfc3339
from tests.factories import deployment_manifest, process_container

from .helpers import own_namespace

KEYS = {
    "name",
    "namespace",
    "kind",
    "object_name",
    "object",
    "type",
    "reason",
    "message",
    "count",
    "first_at",
    "last_at",
}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _event(
    namespace: str, name: str, reason: str, message: str, kind: str = "Pod", type_: str = "Normal"
) -> dict:
    now = _now()
    return {
        "metadata": {"name": f"{name}.{time.time_ns():x}", "namespace": namespace},
        "involvedObject": {"kind": kind, "namespace": namespace, "name": name},
        "reason": reason,
        "message": message,
        "type": type_,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
        "source": {"component": "e2e-test"},
    }


def _deployment(namespace: str, name: str, tag: str) -> dict:
    labels = {"app": name, "process": "web"}
    return deployment_manifest(f"{name}-web", namespace, labels, [process_container(tag=tag)], replicas=2)


def test_timeline_of_an_app_validates_as_json(sandbox, kube, invoke, eventually):
    namespace = own_namespace(kube, "events-timeline")
    try:
        kube.create("deployments", _deployment(namespace, "timeline", "3f9c2a1"), namespace)
        kube.create("deployments", _deployment(namespace, "other", "3f9c2a1"), namespace)

        def lines():
            result = invoke(
                "events", "timeline", "-n", namespace, "-o", "json", kubeconfig=sandbox.kubeconfig
            )
            assert result.exit_code == 0, result.stderr
            parsed = [json.loads(line) for line in result.stdout.splitlines()]
            kinds = {e["kind"] for e in parsed}
            started = sum(1 for e in parsed if e["reason"] == "Started")
            return parsed if {"Deployment", "ReplicaSet", "Pod"} <= kinds and started >= 2 else None

        events = eventually(lines, timeout=60, message="deployment, replica set and pod events")
        for e in events:
            assert set(e) >= KEYS, e
            assert isinstance(e["count"], int) and e["count"] >= 1
            assert e["type"] in ("Normal", "Warning")
            assert e["object_name"].startswith("timeline-web"), e  # nothing of the other app
        stamps = [parse_rfc3339(e["last_at"]) for e in events]
        assert stamps == sorted(stamps)
        reasons = [e["reason"] for e in events]
        assert (
            reasons.index("ScalingReplicaSet") < reasons.index("SuccessfulCreate") < reasons.index("Started")
        )

        pretty = invoke("events", "deploy/timeline-web", "-n", namespace, kubeconfig=sandbox.kubeconfig)
        assert pretty.exit_code == 0
        assert pretty.stdout.splitlines()[0].split()[:4] == ["LAST", "SEEN", "TYPE", "OBJECT"]
        assert "deploy/timeline-web" in pretty.stdout and "other-web" not in pretty.stdout
        warnings = invoke(
            "events",
            "timeline",
            "-n",
            namespace,
            "--types",
            "Warning",
            "-o",
            "json",
            kubeconfig=sandbox.kubeconfig,
        )
        assert all(json.loads(line)["type"] == "Warning" for line in warnings.stdout.splitlines())
    finally:
        kube.delete("namespaces", namespace)


def test_watch_prints_a_new_event_within_a_second(sandbox, kube):
    namespace = own_namespace(kube, "events-watch")
    proc = None
    try:
        kube.create("events", _event(namespace, "web-1", "Started", "Started container web"), namespace)
        proc = _follow_json(sandbox, "kubectl-nodeapp-events", "-n", namespace)
        reader = _LineReader(proc.stdout)
        first = reader.until(lambda e: e["reason"] == "Started", timeout=30)
        assert first is not None, "the initial timeline never arrived"

        created = kube.create(
            "events",
            _event(namespace, "web-1", "Unhealthy", "Readiness probe failed: 503", type_="Warning"),
            namespace,
        )
        t0 = time.monotonic()
        seen = reader.until(lambda e: e["reason"] == "Unhealthy", timeout=10)
        latency = time.monotonic() - t0
        assert seen is not None and seen["type"] == "Warning"
        assert latency < 1.0, f"new event printed after {latency:.2f}s"

        # an update of the same event (the recorder bumps count) is printed again
        created["count"] = 4
        created["lastTimestamp"] = _now()
        kube.replace("events", created, namespace)
        again = reader.until(lambda e: e["reason"] == "Unhealthy" and e["count"] == 4, timeout=10)
        assert again is not None
        assert proc.poll() is None  # still following
    finally:
        _stop(proc)
        kube.delete("namespaces", namespace)


def test_all_namespaces(sandbox, kube, invoke):
    first, second = own_namespace(kube, "events-a"), own_namespace(kube, "events-b")
    proc = None
    try:
        kube.create("events", _event(first, "web-1", "Started", "Started container web"), first)
        kube.create(
            "events", _event(second, "web-2", "Unhealthy", "Readiness probe failed", type_="Warning"), second
        )
        result = invoke("events", "-A", "-o", "json", kubeconfig=sandbox.kubeconfig)
        assert result.exit_code == 0, result.stderr
        seen = {(e["namespace"], e["object_name"]) for e in map(json.loads, result.stdout.splitlines())}
        assert {(first, "web-1"), (second, "web-2")} <= seen

        warnings = invoke("events", "-A", "--types", "Warning", kubeconfig=sandbox.kubeconfig)
        lines = warnings.stdout.splitlines()
        assert lines[0].split()[:4] == ["LAST", "SEEN", "NAMESPACE", "TYPE"]
        assert any(line.split()[1] == second and "pod/web-2" in line for line in lines[1:]), lines
        assert not any(first in line for line in lines)

        refused = invoke("events", "-A", "trace-api", kubeconfig=sandbox.kubeconfig)
        assert refused.exit_code == 2 and refused.stdout == ""
        assert refused.stderr.startswith("error: -A shows every namespace's events and takes no TARGET")

        # -w across namespaces: an event created in either namespace shows up
        proc = _follow_json(sandbox, "kubectl-nodeapp", "events", "-A")
        reader = _LineReader(proc.stdout)
        assert reader.until(lambda e: e["object_name"] == "web-1", timeout=30) is not None
        kube.create("events", _event(first, "web-3", "Killing", "Stopping container web"), first)
        assert reader.until(lambda e: e["object_name"] == "web-3", timeout=10) is not None
    finally:
        _stop(proc)
        kube.delete("namespaces", first)
        kube.delete("namespaces", second)


def _follow_json(sandbox, executable, *args):
    """``EXECUTABLE ARGS… -w -o json`` against the sandbox, its stdout a pipe."""
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / executable),
            *args,
            "-w",
            "-o",
            "json",
            "--kubeconfig",
            sandbox.kubeconfig,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if k != "KUBECONFIG"},
    )


def _stop(proc):
    if proc is not None:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()


class _LineReader:
    """Read JSON lines from a pipe with a deadline (no fixed sleeps)."""

    def __init__(self, pipe):
        self.pipe = pipe
        self.buffer = b""

    def until(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                if line.strip():
                    event = json.loads(line)
                    if predicate(event):
                        return event
            ready, _, _ = select.select([self.pipe], [], [], max(0.0, deadline - time.monotonic()))
            if ready:
                chunk = os.read(self.pipe.fileno(), 65536)
                if not chunk:
                    return None
                self.buffer += chunk
        return None
