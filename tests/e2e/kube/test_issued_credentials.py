"""Client certificates and expiring tokens the sandbox issues, through every client we have.

And the exec plugin's one re-run after a 401: the credential it gave expired on the server.
"""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
import yaml

from kubectl_trace.kube.client import connect
from kubectl_trace.kube.errors import ApiError
from kubectl_trace.kube.lite import connect_lite
from kubectl_trace.kube.queries import LogQuery
from kubectl_trace.kube.settings import KubeSettings
from tests.conftest import KUBECTL
from tests.credential_plugins import exec_user, runs, write_plugin


def with_user(sandbox, tmp_path: Path, user: dict, name: str = "kubeconfig") -> str:
    config = yaml.safe_load(Path(sandbox.kubeconfig).read_text())
    config["users"][0]["user"] = user
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config))
    return str(path)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_a_client_certificate_user_through_kubectl_and_both_clients(sandbox, tmp_path):
    issued = sandbox.admin("POST", "credentials/client-certificate", {"user": "alice", "groups": ["dev"]})
    assert issued["certificate"].startswith("-----BEGIN CERTIFICATE-----")
    user = {"client-certificate-data": b64(issued["certificate"]), "client-key-data": b64(issued["key"])}
    kubeconfig = with_user(sandbox, tmp_path, user)
    done = subprocess.run(
        [KUBECTL, "--kubeconfig", kubeconfig, "get", "deploy", "-n", "production", "-o", "name"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "deployment.apps/trace-api-web" in done.stdout.split()
    settings = KubeSettings(kubeconfig=kubeconfig)
    lite = connect_lite(settings, {})
    assert lite is not None
    official = connect(settings)
    try:
        for client in (lite, official):
            assert (
                client.get("deployments", "trace-api-web", "production")["metadata"]["name"]
                == "trace-api-web"
            )
    finally:
        lite.close()
        official.close()


def test_without_any_credential_the_api_says_401(sandbox, tmp_path):
    lite = connect_lite(KubeSettings(kubeconfig=with_user(sandbox, tmp_path, {})), {})
    assert lite is not None
    with pytest.raises(ApiError) as caught:
        lite.get("deployments", "trace-api-web", "production")
    assert caught.value.status == 401


def test_an_issued_token_works_until_it_expires(sandbox, tmp_path, eventually):
    issued = sandbox.admin("POST", "credentials/token", {"seconds": 1})
    lite = connect_lite(KubeSettings(kubeconfig=with_user(sandbox, tmp_path, {"token": issued["token"]})), {})
    assert lite is not None

    def rejected() -> bool:
        try:
            lite.get("namespaces", "production")
        except ApiError as exc:
            return exc.status == 401
        return False

    try:
        assert not rejected()
        eventually(rejected, timeout=10, message="the issued token never expired")
    finally:
        lite.close()


def test_the_plugin_runs_again_once_after_a_401(sandbox, tmp_path, eventually):
    token_file = tmp_path / "token"
    token_file.write_text(sandbox.admin("POST", "credentials/token", {"seconds": 1})["token"])
    log = tmp_path / "runs"
    plugin = write_plugin(tmp_path, token_file=str(token_file), log=log)  # no expiry: kept until a 401
    lite = connect_lite(KubeSettings(kubeconfig=with_user(sandbox, tmp_path, exec_user(plugin))), {})
    assert lite is not None
    try:
        assert lite.get("namespaces", "production")["metadata"]["name"] == "production"
        assert len(runs(log)) == 1
        short = lite.auth.current()
        eventually(
            lambda: _status_with(sandbox, short.authorization) == 401,
            timeout=10,
            message="the issued token never expired",
        )
        token_file.write_text(sandbox.admin("POST", "credentials/token", {"seconds": 600})["token"])
        assert lite.get("namespaces", "production")["metadata"]["name"] == "production"
        assert len(runs(log)) == 2  # one re-run, and the request went through
        token_file.write_text("not-a-token")
        assert lite.get("namespaces", "default")["metadata"]["name"] == "default"
        assert len(runs(log)) == 2  # the fresh credential is kept
    finally:
        lite.close()


def test_a_plugin_that_cannot_do_better_gives_the_401(sandbox, tmp_path):
    log = tmp_path / "runs"
    plugin = write_plugin(tmp_path, token="wrong", log=log)
    lite = connect_lite(KubeSettings(kubeconfig=with_user(sandbox, tmp_path, exec_user(plugin))), {})
    assert lite is not None
    try:
        with pytest.raises(ApiError) as caught:
            lite.get("namespaces", "production")
        assert caught.value.status == 401
        assert len(runs(log)) == 2  # the first run and one re-run, no more
    finally:
        lite.close()


def _status_with(sandbox, authorization: str | None) -> int:
    import http.client
    import ssl

    config = yaml.safe_load(Path(sandbox.kubeconfig).read_text())
    ca = base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"]).decode()
    conn = http.client.HTTPSConnection(
        "127.0.0.1", sandbox.port, context=ssl.create_default_context(cadata=ca), timeout=5
    )
    try:
        conn.request("GET", "/api/v1/namespaces/default", headers={"Authorization": authorization or ""})
        return conn.getresponse().status
    finally:
        conn.close()


@pytest.mark.parametrize("operation", ["stream", "raw", "upgrade"])
def test_streams_raw_gets_and_upgrades_re_run_the_plugin_after_a_401(
    sandbox, tmp_path, eventually, kube, operation
):
    token_file = tmp_path / "token"
    token_file.write_text(sandbox.admin("POST", "credentials/token", {"seconds": 1})["token"])
    log = tmp_path / "runs"
    plugin = write_plugin(tmp_path, token_file=str(token_file), log=log)
    lite = connect_lite(KubeSettings(kubeconfig=with_user(sandbox, tmp_path, exec_user(plugin))), {})
    assert lite is not None
    pod = next(
        p["metadata"]["name"]
        for p in kube.list("pods", "production", label_selector="app=trace-api,process=web").items
        if p["status"].get("phase") == "Running"
    )
    try:
        lite.get("namespaces", "production")
        short = lite.auth.current()
        eventually(lambda: _status_with(sandbox, short.authorization) == 401, timeout=10)
        token_file.write_text(sandbox.admin("POST", "credentials/token", {"seconds": 600})["token"])
        if operation == "stream":
            stream = lite.pod_log("production", pod, LogQuery(tail_lines=1))
            try:
                assert next(stream.lines())
            finally:
                stream.close()
        elif operation == "raw":
            status, _body = lite.get_raw(
                f"/api/v1/namespaces/production/pods/{pod}/log", query={"tailLines": 1}
            )
            assert status == 200
        else:
            headers = {
                "Upgrade": "websocket",
                "Connection": "Upgrade",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Protocol": "v5.channel.k8s.io",
            }
            target = f"/api/v1/namespaces/production/pods/{pod}/exec?command=true&stdout=true"
            sock, status, _answer, _rest = lite.open_upgrade(target, headers, timeout=10)
            sock.close()
            assert status == 101
        assert len(runs(log)) == 2
    finally:
        lite.close()
