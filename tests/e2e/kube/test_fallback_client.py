"""The official client as the named fallback: legacy auth-provider entries; quiet when insecure.

Everything else goes through the lean client (``tests/e2e/kube/test_kubeconfig_kinds.py``).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import yaml

from kubectl_trace.kube.client import Kube, connect_best
from kubectl_trace.kube.errors import InsecureConnectionWarning
from kubectl_trace.kube.lite import LiteKube
from kubectl_trace.kube.settings import KubeSettings
from tests.e2e.pods import running_pod_names
from tests.proxies import TunnelProxy


def _variant(sandbox, tmp_path: Path, *, user=None, insecure=False, proxy_url=None) -> str:
    config = yaml.safe_load(Path(sandbox.kubeconfig).read_text())
    token = config["users"][0]["user"]["token"]
    if user is not None:
        config["users"][0]["user"] = user(token)
    if insecure:
        cluster = config["clusters"][0]["cluster"]
        cluster.pop("certificate-authority-data")
        cluster["insecure-skip-tls-verify"] = True
    if proxy_url is not None:
        config["clusters"][0]["cluster"]["proxy-url"] = proxy_url
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def _legacy_gcp(token: str) -> dict:
    """A legacy ``auth-provider`` entry with a cached, unexpired access token (no network)."""
    return {
        "auth-provider": {"name": "gcp", "config": {"access-token": token, "expiry": "2099-01-01T00:00:00Z"}}
    }


def test_a_legacy_auth_provider_uses_the_official_client(sandbox, tmp_path, invoke):
    kubeconfig = _variant(sandbox, tmp_path, user=_legacy_gcp)
    client = connect_best(KubeSettings(kubeconfig=kubeconfig), {})
    try:
        assert isinstance(client, Kube)
        assert client.get("namespaces", "production")["metadata"]["name"] == "production"
    finally:
        client.close()
    result = invoke("status", "trace-api", "-n", "production", kubeconfig=kubeconfig)
    assert result.exit_code == 0, result.stderr
    assert "trace-api" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("fallback", [False, True], ids=["lean", "fallback"])
def test_insecure_skip_tls_verify_is_said_once_in_one_line(sandbox, tmp_path, invoke, fallback, capfd):
    kubeconfig = _variant(sandbox, tmp_path, user=_legacy_gcp if fallback else None, insecure=True)
    expected = Kube if fallback else LiteKube
    with pytest.warns(InsecureConnectionWarning):
        client = connect_best(KubeSettings(kubeconfig=kubeconfig), {})
    client.close()
    assert isinstance(client, expected)
    capfd.readouterr()
    result = invoke("status", "trace-api", "-n", "production", kubeconfig=kubeconfig)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (
        'warning: TLS verification is off for cluster "nodeapp-sandbox" (insecure-skip-tls-verify): '
        "the server's identity is not checked\n"
    )
    assert "Warning" not in capfd.readouterr().err  # nothing from urllib3 on the process's stderr


def test_in_cluster_config_uses_the_official_client(sandbox, tmp_path, monkeypatch):
    """No kubeconfig, a service account mounted: the fallback reads it (as client-go would)."""
    import base64

    import kubectl_trace.kube.config as config_module

    config = yaml.safe_load(Path(sandbox.kubeconfig).read_text())
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text(config["users"][0]["user"]["token"])
    (account / "ca.crt").write_bytes(
        base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"])
    )
    (account / "namespace").write_text("production\n")
    monkeypatch.setattr(config_module, "_SA_DIR", str(account))
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.kube/config
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(sandbox.port))
    client = connect_best(KubeSettings(), None)
    try:
        assert isinstance(client, Kube)
        assert client.conn.context == "in-cluster"
        assert client.namespace == "production"
        assert client.get("deployments", "trace-api-web")["metadata"]["namespace"] == "production"
    finally:
        client.close()


@pytest.mark.parametrize("insecure", [False, True], ids=["verified", "insecure"])
def test_exec_goes_through_the_official_clients_proxy_and_tls(sandbox, tmp_path, kube, eventually, insecure):
    """The one WebSocket handshake on a socket ``Kube`` opens from the official configuration."""
    from kubectl_trace.kube.exec import run_command

    pod = eventually(
        lambda: (running_pod_names(kube, "production", "app=trace-api,process=web") or [None])[0],
        timeout=60,
        message="a running web pod",
    )
    with TunnelProxy() as proxy:
        kubeconfig = _variant(sandbox, tmp_path, user=_legacy_gcp, insecure=insecure, proxy_url=proxy.url)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InsecureConnectionWarning)
            client = connect_best(KubeSettings(kubeconfig=kubeconfig), {})
        try:
            assert isinstance(client, Kube)
            result = run_command(
                client, "production", pod, None, ["sh", "-c", "cat; echo oops >&2; exit 3"], b"in\n"
            )
        finally:
            client.close()
    assert result == (3, b"in\n", b"oops\n")
    assert f"127.0.0.1:{sandbox.port}" in proxy.tunnels
