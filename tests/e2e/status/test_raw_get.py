"""``get_raw`` (pod logs, the pod proxy) answers the same through ``Kube`` and ``LiteKube``."""

from __future__ import annotations

import json
import os

import pytest

from kubectl_trace.kube.errors import ApiError
from kubectl_trace.kube.lite import connect_lite
from kubectl_trace.kube.settings import KubeSettings
from tests.e2e.pods import is_running, live_pods


def test_get_raw_through_both_clients(sandbox, kube, eventually):
    lite = connect_lite(KubeSettings(kubeconfig=sandbox.kubeconfig), os.environ)
    assert lite is not None
    try:
        pods = eventually(
            lambda: live_pods(kube, "production", "app=trace-api,process=web", is_running), timeout=60
        )
        name = pods[0]["metadata"]["name"]
        path = f"/api/v1/namespaces/production/pods/{name}:3000/proxy/healthz"
        answers = [
            client.get_raw(path, namespace="production", limit=4096, timeout=5) for client in (kube, lite)
        ]
        for status, body in answers:
            assert status == 200 and json.loads(body)["status"] == "ok"
        log_path = f"/api/v1/namespaces/production/pods/{name}/log"
        for client in (kube, lite):
            status, body = client.get_raw(
                log_path, query={"container": "web", "tailLines": 3}, namespace="production"
            )
            assert status == 200 and 1 <= len(body.decode().splitlines()) <= 3
            with pytest.raises(ApiError) as caught:
                client.get_raw(log_path, query={"container": "nope"}, namespace="production")
            assert caught.value.status == 400
    finally:
        lite.close()
