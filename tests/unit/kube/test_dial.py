"""Proxy choice as kubectl makes it (Go's httpproxy rules), and proxy URL parsing."""

from __future__ import annotations

import pytest

from kubectl_trace.kube.dial import no_proxy_matches, parse_proxy, proxy_for
from kubectl_trace.kube.errors import KubeConfigError


@pytest.mark.parametrize(
    ("host", "port", "no_proxy", "direct"),
    [
        ("localhost", 443, "", True),  # loopback never goes through a proxy
        ("127.0.0.1", 443, "", True),
        ("::1", 443, "", True),
        ("api.example.com", 443, "", False),
        ("api.example.com", 443, "*", True),
        ("api.example.com", 443, "example.com", True),  # a domain matches itself and subdomains
        ("example.com", 443, "example.com", True),
        ("example.com", 443, ".example.com", False),  # a leading dot: subdomains only
        ("api.example.com", 443, ".example.com", True),
        ("api.example.com", 443, "*.example.com", True),
        ("badexample.com", 443, "example.com", False),
        ("api.example.com", 443, "example.com:6443", False),  # the port must match when given
        ("api.example.com", 6443, "example.com:6443", True),
        ("API.Example.com", 443, " other.org , EXAMPLE.com ", True),
        ("10.1.2.3", 443, "10.0.0.0/8", True),  # CIDR
        ("11.1.2.3", 443, "10.0.0.0/8", False),
        ("10.1.2.3", 443, "10.1.2.3", True),
        ("10.1.2.3", 443, "10.1.2.3:6443", False),
        ("10.1.2.3", 443, "1.2.3", False),
        ("10.1.2.3", 443, "2.3", False),  # domain entries never match an address
        ("fd00::5", 443, "fd00::/8", True),
        ("fd00::5", 443, "[fd00::5]:443", True),
        ("fd00::5", 443, "10.0.0.0/8", False),
    ],
)
def test_no_proxy_rules(host, port, no_proxy, direct):
    assert no_proxy_matches(host, port, no_proxy) is direct


def test_proxy_url_in_the_kubeconfig_always_applies():
    proxy = proxy_for(
        "https://127.0.0.1:6443", {"proxy-url": "http://u:p%40ss@proxy:3128"}, {"NO_PROXY": "*"}
    )
    assert proxy is not None
    assert (proxy.scheme, proxy.host, proxy.port, proxy.credentials) == ("http", "proxy", 3128, ("u", "p@ss"))
    assert proxy.display == "http://proxy:3128"  # no credentials in messages


def test_environment_variables_pick_by_scheme_upper_case_first():
    env = {"HTTPS_PROXY": "secure:1", "https_proxy": "lower:2", "HTTP_PROXY": "plain:3"}
    assert proxy_for("https://api.example.com", {}, env).host == "secure"
    assert proxy_for("http://api.example.com", {}, env).host == "plain"
    assert proxy_for("https://api.example.com", {}, {"https_proxy": "lower:2"}).host == "lower"
    assert proxy_for("https://api.example.com", {}, {"HTTP_PROXY": "plain:3"}) is None
    assert proxy_for("https://api.example.com", {}, {**env, "no_proxy": ".example.com"}) is None
    assert proxy_for("https://127.0.0.1:6443", {}, env) is None


@pytest.mark.parametrize(
    ("value", "scheme", "port"),
    [
        ("proxy:3128", "http", 3128),
        ("http://proxy", "http", 80),
        ("socks5://proxy", "socks5", 1080),
        ("https://proxy", "https", 443),
    ],
)
def test_parse_proxy(value, scheme, port):
    proxy = parse_proxy(value)
    assert (proxy.scheme, proxy.port) == (scheme, port)
    assert proxy.needs_full_client is (scheme == "https")


@pytest.mark.parametrize(
    ("value", "message"),
    [("ftp://proxy:21", 'unsupported proxy scheme "ftp"'), ("http://proxy:99999", "invalid proxy address")],
)
def test_bad_proxy_urls(value, message):
    with pytest.raises(KubeConfigError, match=message):
        parse_proxy(value)
