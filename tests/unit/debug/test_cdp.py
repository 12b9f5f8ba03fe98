"""``debug.cdp`` against a real Node.js process (its inspector on a loopback port)."""

from __future__ import annotations

import io
import json
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from kubectl_trace.debug.cdp import (
    CdpError,
    CdpSession,
    close_inspector,
    cpu_profile,
    heap_snapshot,
    list_targets,
    local_urls,
)
from tests.unit.debug.nodeproc_fixture import node_with_inspector


def _session(port: int) -> CdpSession:
    target = list_targets(port)[0]
    return CdpSession(local_urls(target, port).websocket)


def test_targets_and_their_local_urls(tmp_path: Path) -> None:
    with node_with_inspector(tmp_path) as app:
        targets = list_targets(app.port)
        assert targets and targets[0]["type"] == "node"
        urls = local_urls(targets[0], 40123)  # as if forwarded to local port 40123
        uuid = targets[0]["id"]
        assert urls.websocket == f"ws://127.0.0.1:40123/{uuid}"
        assert urls.devtools.startswith("devtools://devtools/bundled/js_app.html?")
        assert urls.devtools.endswith(f"ws=127.0.0.1:40123/{uuid}")
        assert urls.title.endswith("app.js")


def test_a_cpu_profile_has_nodes_samples_and_time_deltas(tmp_path: Path) -> None:
    with node_with_inspector(tmp_path) as app, _session(app.port) as session:
        done = threading.Event()
        out = io.BytesIO()
        counts = cpu_profile(session, lambda: done.wait(0.5), out)
        profile = json.loads(out.getvalue())
    assert counts["samples"] == len(profile["samples"]) > 0
    assert counts["nodes"] == len(profile["nodes"]) > 1
    assert len(profile["timeDeltas"]) == len(profile["samples"])
    assert profile["endTime"] > profile["startTime"]
    names = {n["callFrame"]["functionName"] for n in profile["nodes"]}
    assert "busy" in names  # the app's hot function was sampled


def test_a_heap_snapshot_parses_as_json_with_its_meta(tmp_path: Path) -> None:
    with node_with_inspector(tmp_path) as app, _session(app.port) as session:
        out = io.BytesIO()
        written = heap_snapshot(session, out)
    snapshot: dict[str, Any] = json.loads(out.getvalue())
    assert written == len(out.getvalue()) > 100_000
    meta = snapshot["snapshot"]["meta"]
    assert "node_fields" in meta and "edge_fields" in meta
    assert snapshot["snapshot"]["node_count"] * len(meta["node_fields"]) == len(snapshot["nodes"])


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return True
    return False


def test_closing_the_inspector_frees_its_port_and_the_app_runs_on(tmp_path: Path, eventually: Any) -> None:
    with node_with_inspector(tmp_path) as app:
        with _session(app.port) as session:
            close_inspector(session)
        eventually(lambda: _refused(app.port), timeout=10, message="the inspector port closed")
        assert app.process.poll() is None


def test_an_error_answer_is_a_one_line_cdp_error(tmp_path: Path) -> None:
    with (
        node_with_inspector(tmp_path) as app,
        _session(app.port) as session,
        pytest.raises(CdpError) as caught,
    ):
        session.call("No.such")
    assert "No.such failed" in caught.value.message and "\n" not in caught.value.message


def test_only_loopback_addresses_are_dialled() -> None:
    with pytest.raises(CdpError, match="non-loopback"):
        CdpSession("ws://10.0.0.1:9229/abc")
