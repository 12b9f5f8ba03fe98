"""The lean client through proxies (HTTP CONNECT, SOCKS5), tls-server-name, and NO_PROXY."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest
import yaml

from kubectl_trace.kube.errors import TransportError
from kubectl_trace.kube.lite import connect_lite
from kubectl_trace.kube.settings import KubeSettings
from tests.conftest import KUBECTL
from tests.proxies import TunnelProxy

NAME = "api.sandbox.test"  # only the test proxy knows it (it maps it to 127.0.0.1)


def with_cluster(sandbox, tmp_path: Path, **changes) -> str:
    config = yaml.safe_load(Path(sandbox.kubeconfig).read_text())
    cluster = config["clusters"][0]["cluster"]
    for key, value in changes.items():
        if value is None:
            cluster.pop(key.replace("_", "-"), None)
        else:
            cluster[key.replace("_", "-")] = value
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def named_server(sandbox) -> str:
    return f"https://{NAME}:{sandbox.port}"


def lite_for(kubeconfig: str, environ: dict[str, str] | None = None):
    client = connect_lite(KubeSettings(kubeconfig=kubeconfig), environ or {})
    assert client is not None
    return client


@pytest.mark.parametrize("kind", ["connect", "socks5"])
def test_proxy_url_carries_every_kind_of_request(sandbox, tmp_path, kind):
    with TunnelProxy() as proxy:
        url = proxy.url if kind == "connect" else proxy.socks_url
        client = lite_for(with_cluster(sandbox, tmp_path, proxy_url=url))
        try:
            assert client.get("namespaces", "production")["metadata"]["name"] == "production"
            pods = client.list("pods", "production").items
            stream = client.open(
                "GET", "/api/v1/namespaces/production/pods", query={"watch": "true", "timeoutSeconds": 1}
            )
            try:
                assert next(stream.lines())
            finally:
                stream.close()
            name = next(p["metadata"]["name"] for p in pods if p["status"].get("phase") == "Running")
            status, _ = client.get_raw(
                f"/api/v1/namespaces/production/pods/{name}/log", query={"tailLines": 1}
            )
            assert status == 200
        finally:
            client.close()
        assert len(proxy.tunnels) >= 2  # the kept-alive connection and the watch
        assert set(proxy.tunnels) == {f"127.0.0.1:{sandbox.port}"}


def test_https_proxy_variable_with_tls_server_name(sandbox, tmp_path):
    """A server name only the proxy resolves; the certificate is checked against tls-server-name."""
    with TunnelProxy(hosts={NAME: "127.0.0.1"}) as proxy:
        kubeconfig = with_cluster(
            sandbox, tmp_path, server=named_server(sandbox), tls_server_name="localhost"
        )
        client = lite_for(kubeconfig, {"HTTPS_PROXY": proxy.url})
        try:
            assert client.get("namespaces", "production")["metadata"]["name"] == "production"
        finally:
            client.close()
        assert proxy.tunnels == [f"{NAME}:{sandbox.port}"]
        # kubectl takes the same way
        done = subprocess.run(
            [KUBECTL, "--kubeconfig", kubeconfig, "get", "ns", "production", "-o", "name"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "HTTPS_PROXY": proxy.url, "NO_PROXY": ""},
        )
        assert done.returncode == 0, done.stderr
        assert len(proxy.tunnels) >= 2


def test_without_tls_server_name_the_certificate_does_not_match(sandbox, tmp_path):
    with TunnelProxy(hosts={NAME: "127.0.0.1"}) as proxy:
        client = lite_for(
            with_cluster(sandbox, tmp_path, server=named_server(sandbox)), {"HTTPS_PROXY": proxy.url}
        )
        with pytest.raises(TransportError) as caught:
            client.get("namespaces", "production")
        assert caught.value.kind == "tls"


def test_no_proxy_sends_the_request_directly(sandbox, tmp_path):
    with TunnelProxy(hosts={NAME: "127.0.0.1"}) as proxy:
        kubeconfig = with_cluster(
            sandbox, tmp_path, server=named_server(sandbox), tls_server_name="localhost"
        )
        client = lite_for(kubeconfig, {"HTTPS_PROXY": proxy.url, "NO_PROXY": ".sandbox.test"})
        with pytest.raises(TransportError) as caught:
            client.get("namespaces", "production")
        assert caught.value.kind == "dns"  # went direct: nobody outside the proxy knows the name
        assert proxy.tunnels == []
        # and the session sandbox's own address (loopback) never goes through a proxy
        direct = lite_for(sandbox.kubeconfig, {"HTTPS_PROXY": proxy.url})
        try:
            assert direct.get("namespaces", "production")
        finally:
            direct.close()
        assert proxy.tunnels == []


@pytest.mark.parametrize("kind", ["connect", "socks5"])
def test_proxy_credentials(sandbox, tmp_path, kind):
    with TunnelProxy(credentials=("nodeapp", "s3cret")) as proxy:
        scheme = "http" if kind == "connect" else "socks5"
        bare = lite_for(with_cluster(sandbox, tmp_path, proxy_url=f"{scheme}://127.0.0.1:{proxy.port}"))
        with pytest.raises(TransportError) as caught:
            bare.get("namespaces", "production")
        assert caught.value.kind == "proxy"
        assert "s3cret" not in caught.value.message
        expected = (
            "407 Proxy Authentication Required" if kind == "connect" else "wants an authentication method"
        )
        assert expected in caught.value.message
        client = lite_for(
            with_cluster(sandbox, tmp_path, proxy_url=f"{scheme}://nodeapp:s3cret@127.0.0.1:{proxy.port}")
        )
        try:
            assert client.get("namespaces", "production")
        finally:
            client.close()
        assert proxy.tunnels


def test_an_unreachable_proxy_is_named(sandbox, tmp_path):
    with socket.socket() as bound:  # bound, not listening: connections to it are refused
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        client = lite_for(with_cluster(sandbox, tmp_path, proxy_url=f"http://127.0.0.1:{port}"))
        with pytest.raises(TransportError) as caught:
            client.get("namespaces", "production")
    assert caught.value.message.startswith(f"cannot reach the proxy at http://127.0.0.1:{port}")
    assert caught.value.kind == "proxy"


def test_an_https_proxy_is_left_to_the_official_client(sandbox, tmp_path):
    assert (
        connect_lite(
            KubeSettings(kubeconfig=with_cluster(sandbox, tmp_path, proxy_url="https://127.0.0.1:1")), {}
        )
        is None
    )
