"""How the lean client reaches the API server: directly, through an HTTP CONNECT proxy, or SOCKS5.

Which proxy: the cluster's ``proxy-url`` always (as client-go's ``http.ProxyURL``); else
``HTTPS_PROXY``/``https_proxy`` for an https server (``HTTP_PROXY``/``http_proxy`` for
http), unless ``NO_PROXY``/``no_proxy`` or the loopback rule says to go direct — the rules
of Go's ``golang.org/x/net/http/httpproxy``, which kubectl applies: ``localhost`` and
loopback addresses never use a proxy; ``*`` matches everything; an entry is a CIDR
(``10.0.0.0/8``), an IP (``10.1.2.3``, ``[::1]:443``) or a domain that matches itself and its
subdomains (``example.com``), only subdomains (``.example.com``, ``*.example.com``),
optionally with a port; a proxy value without a scheme means ``http://``.

``http://`` proxies carry a ``CONNECT host:port`` tunnel (with ``Proxy-Authorization:
Basic`` when the URL has user info), so TLS still runs end to end with the API server;
``socks5://`` and ``socks5h://`` proxies are spoken to directly (RFC 1928, no-auth or
username/password of RFC 1929; host names are resolved by the proxy, as Go's dialer does).
An ``https://`` proxy would need TLS inside TLS, which ``ssl`` sockets cannot nest:
``needs_full_client`` says so and the caller uses the official client (urllib3 does it).
"""

from __future__ import annotations

import base64
import http.client
import socket
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from kubectl_trace.kube.errors import KubeConfigError, ProxyError

if TYPE_CHECKING:
    import ipaddress

__all__ = [
    "Http1Connection",
    "Proxy",
    "connect_socket",
    "no_proxy_matches",
    "parse_proxy",
    "proxy_for",
]

_SCHEMES = ("http", "https", "socks5", "socks5h")
_DEFAULT_PORTS = {"http": 80, "https": 443, "socks5": 1080, "socks5h": 1080}


@dataclass(frozen=True)
class Proxy:
    """A proxy to reach the API server through.

    ``credentials``: (user, password) when the URL or the client's Proxy-Authorization header
    gave any.
    """

    scheme: str
    host: str
    port: int
    credentials: tuple[str, str] | None = field(default=None, repr=False)  # never in a repr

    @property
    def display(self) -> str:
        """The URL without credentials (for messages)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def needs_full_client(self) -> bool:
        """An https:// proxy: TLS to the proxy and TLS inside it (see the module doc)."""
        return self.scheme == "https"


def parse_proxy(value: str, *, where: str = "proxy-url") -> Proxy:
    """Parse a proxy URL (``host:port`` alone means ``http://``)."""
    text = value.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        url = urlsplit(text)
        port = url.port
    except ValueError as exc:
        raise KubeConfigError(f'invalid proxy address "{value}" ({where}): {exc}') from None
    scheme = url.scheme.lower()
    if scheme not in _SCHEMES:
        raise KubeConfigError(
            f'unsupported proxy scheme "{url.scheme}" in {where} (use http, https, socks5 or socks5h)'
        )
    if not url.hostname:
        raise KubeConfigError(f'invalid proxy address "{value}" ({where}): no host')
    user, password = unquote(url.username or ""), unquote(url.password or "")
    credentials = (user, password) if user or password else None
    return Proxy(scheme, url.hostname, port or _DEFAULT_PORTS[scheme], credentials)


def _env(environ: Mapping[str, str], *names: str) -> str:
    for name in names:
        value = environ.get(name, "")
        if value:
            return value
    return ""


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    import ipaddress  # only when a proxy is in play

    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _in_network(entry: str, ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool | None:
    """A CIDR entry: whether ``ip`` is inside it; None when ``entry`` is not a CIDR."""
    import ipaddress

    try:
        network = ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return None
    return ip is not None and ip.version == network.version and ip in network


def _host_and_port(entry: str) -> tuple[str, str]:
    """``host``, ``host:port``, ``[v6]`` or ``[v6]:port`` → (host, port or "")."""
    if entry.startswith("["):
        close = entry.find("]")
        rest = entry[close + 1 :]
        return entry[1:close], (rest[1:] if rest.startswith(":") else "")
    if entry.count(":") == 1:
        host, port = entry.split(":")
        return host, port
    return entry, ""


def _entry_matches(
    entry: str, host: str, ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None, port: str
) -> bool:
    """Whether one ``NO_PROXY`` entry (lower case, not ``*``) covers ``host:port``."""
    if "/" in entry:
        inside = _in_network(entry, ip)
        if inside is not None:
            return inside
    entry_host, entry_port = _host_and_port(entry)
    if not entry_host or entry_port not in ("", port):
        return False
    entry_ip = _ip(entry_host)
    if entry_ip is not None or ip is not None:  # domain entries never match an address
        return ip is not None and ip == entry_ip
    if entry_host.startswith("*."):
        entry_host = entry_host[1:]
    if entry_host.startswith("."):  # subdomains only
        return host.endswith(entry_host)
    return host == entry_host or host.endswith("." + entry_host)


def no_proxy_matches(host: str, port: int, no_proxy: str) -> bool:
    """Whether ``NO_PROXY`` (or the loopback rule) sends ``host:port`` directly."""
    host = host.strip("[]").lower().strip()
    if host == "localhost":
        return True
    ip = _ip(host)
    if ip is not None and ip.is_loopback:
        return True
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if entry == "*":
            return True
        if entry and _entry_matches(entry, host, ip, str(port)):
            return True
    return False


def proxy_for(server: str, cluster: Mapping[str, object], environ: Mapping[str, str]) -> Proxy | None:
    """The proxy to reach ``server`` through, or None to connect directly (see the module doc)."""
    explicit = cluster.get("proxy-url")
    if isinstance(explicit, str) and explicit:
        return parse_proxy(explicit)
    url = urlsplit(server)
    if url.scheme == "https":
        value, name = _env(environ, "HTTPS_PROXY", "https_proxy"), "HTTPS_PROXY"
    else:
        value, name = _env(environ, "HTTP_PROXY", "http_proxy"), "HTTP_PROXY"
    if not value:
        return None
    port = url.port or (443 if url.scheme == "https" else 80)
    if no_proxy_matches(url.hostname or "", port, _env(environ, "NO_PROXY", "no_proxy")):
        return None
    return parse_proxy(value, where=name)


# -- opening the socket ---------------------------------------------------------------------


def _recv_exact(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ProxyError("the proxy closed the connection during the handshake")
        data += chunk
    return data


def _http_tunnel(sock: socket.socket, proxy: Proxy, host: str, port: int) -> None:
    from kubectl_trace.kube.http1 import read_head

    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
    if proxy.credentials:
        basic = base64.b64encode(":".join(proxy.credentials).encode()).decode("ascii")
        lines.append(f"Proxy-Authorization: Basic {basic}")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    try:
        status, _headers, rest = read_head(sock)
    except (ValueError, ConnectionResetError) as exc:
        raise ProxyError(f"the proxy at {proxy.display} did not open a tunnel: {exc}") from None
    if status != 200:
        reason = http.client.responses.get(status, "")
        refusal = f"{status} {reason}".rstrip()
        raise ProxyError(f"the proxy at {proxy.display} refused the tunnel to {target}: {refusal}")
    if rest:
        raise ProxyError(f"the proxy at {proxy.display} sent data before the tunnel was used")


_SOCKS_REPLIES = {
    1: "general SOCKS server failure",
    2: "connection not allowed by ruleset",
    3: "network unreachable",
    4: "host unreachable",
    5: "connection refused",
    6: "TTL expired",
    7: "command not supported",
    8: "address type not supported",
}


def _socks5(sock: socket.socket, proxy: Proxy, host: str, port: int) -> None:
    sock.sendall(b"\x05\x02\x00\x02" if proxy.credentials else b"\x05\x01\x00")
    version, method = _recv_exact(sock, 2)
    if version != 5:
        raise ProxyError(f"{proxy.display} is not a SOCKS5 proxy")
    if method == 2 and proxy.credentials:
        user, password = (part.encode() for part in proxy.credentials)
        sock.sendall(b"\x01" + bytes([len(user)]) + user + bytes([len(password)]) + password)
        if _recv_exact(sock, 2)[1] != 0:
            raise ProxyError(f"the SOCKS5 proxy at {proxy.display} rejected the username or password")
    elif method != 0:
        raise ProxyError(f"the SOCKS5 proxy at {proxy.display} wants an authentication method we lack")
    ip = _ip(host)
    if ip is None:
        name = host.encode("idna")
        address = b"\x03" + bytes([len(name)]) + name
    else:
        address = (b"\x01" if ip.version == 4 else b"\x04") + ip.packed
    sock.sendall(b"\x05\x01\x00" + address + port.to_bytes(2, "big"))
    _version, reply, _reserved, kind = _recv_exact(sock, 4)
    if reply != 0:
        detail = _SOCKS_REPLIES.get(reply, f"error {reply}")
        raise ProxyError(f"the SOCKS5 proxy at {proxy.display} could not connect to {host}:{port}: {detail}")
    length = {1: 4, 4: 16}.get(kind)
    if length is None:
        length = _recv_exact(sock, 1)[0]
    _recv_exact(sock, length + 2)  # the bound address and port


def connect_socket(host: str, port: int, timeout: float | None, proxy: Proxy | None) -> socket.socket:
    """A TCP socket to ``host:port`` (through ``proxy`` when given), TCP_NODELAY set."""
    if proxy is None:
        sock = socket.create_connection((host, port), timeout=timeout)
    else:
        try:
            sock = socket.create_connection((proxy.host, proxy.port), timeout=timeout)
        except OSError as exc:
            raise ProxyError(f"cannot reach the proxy at {proxy.display}: {exc.strerror or exc}") from None
        try:
            if proxy.scheme == "http":
                _http_tunnel(sock, proxy, host, port)
            else:
                _socks5(sock, proxy, host, port)
        except BaseException:
            sock.close()
            raise
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class Http1Connection(http.client.HTTPConnection):
    """``http.client`` on a socket we open: directly or through a proxy; TLS with ``tls-server-name``."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float | None,
        tls: ssl.SSLContext | None,
        server_hostname: str,
        dial: Callable[[float | None], socket.socket],
    ) -> None:
        super().__init__(host, port, timeout=timeout)
        self.default_port = 443 if tls is not None else 80  # no ":443" in the Host header
        self._tls = tls
        self._server_hostname = server_hostname
        self._dial = dial

    def connect(self) -> None:
        """Open the socket (through the proxy, if any) and start TLS."""
        sock = self._dial(self.timeout)
        if self._tls is not None:
            try:
                sock = self._tls.wrap_socket(sock, server_hostname=self._server_hostname)
            except BaseException:
                sock.close()
                raise
        self.sock = sock
