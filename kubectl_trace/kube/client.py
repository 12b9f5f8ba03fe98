"""The one place that builds API clients: ``connect_best`` picks the lean client or the fallback.

``kube.lite.LiteKube`` serves every kubeconfig our users have (tokens, client certificates,
exec credential plugins, proxies). ``Kube``, the fallback, wraps the official client's
``ApiClient`` (configuration, auth, TLS, urllib3 pool) for what only it does: legacy
``auth-provider`` entries (``oidc``, ``gcp``, ``azure``), basic auth, an ``https://`` proxy,
in-cluster config. Both speak plain JSON dicts (objects as the wire has them, camelCase)
through the calls of ``kube.calls`` — one request path, one retry policy, one timeout rule
— and every failure comes out as a ``KubeError`` with a one-line message. urllib3's own
warnings never reach the user; an insecure connection is reported once by the CLI runner
(``InsecureConnectionWarning``).
"""

from __future__ import annotations

import base64
import socket
import ssl
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from kubectl_trace.kube.calls import KubeClient, ObjectList, Request, ResourceCalls
from kubectl_trace.kube.errors import KubeError, TransportError, api_error, transport_error
from kubectl_trace.kube.retry import RetryPolicy
from kubectl_trace.kube.stream import StreamBase

if TYPE_CHECKING:
    from kubectl_trace.kube.dial import Proxy
    from kubectl_trace.kube.settings import KubeSettings

__all__ = ["Kube", "ObjectList", "RawStream", "connect", "connect_best"]


class RawStream(StreamBase):
    """A streaming HTTP answer over the official client's urllib3 (logs, watches)."""

    def __init__(self, response: Any, on_error: Callable[[BaseException], KubeError]) -> None:
        super().__init__(on_error)
        self._response = response

    @property
    def headers(self) -> Mapping[str, str]:
        """Response headers."""
        headers: Mapping[str, str] = self._response.headers
        return headers

    @property
    def status(self) -> int:
        """The HTTP status code (2xx: errors are raised before a stream exists)."""
        return int(getattr(self._response, "status", 200) or 200)

    def _read_chunks(self, size: int) -> Iterator[bytes]:
        for chunk in self._response.stream(size, decode_content=False):  # each chunk as it is read
            if chunk:
                yield chunk

    def _socket(self) -> Any:
        return getattr(getattr(self._response, "connection", None), "sock", None)

    def _release(self) -> None:
        self._response.release_conn()
        self._response.close()


class Kube(ResourceCalls):
    """A connection to one cluster, as one user, with one default namespace."""

    @cached_property
    def api_client(self) -> Any:
        """The official client's ApiClient for this connection."""
        from kubernetes import client

        configuration = self.conn.configuration
        configuration.retries = 0  # our own policy decides (urllib3 would retry silently)
        if not configuration.verify_ssl:  # we say it once, in one line (connect_best)
            import urllib3

            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        api = client.ApiClient(configuration)
        from kubectl_trace import __version__

        api.user_agent = f"kubectl-nodeapp/{__version__}"
        return api

    def close(self) -> None:
        """Release pooled connections."""
        if "api_client" in self.__dict__:
            self.api_client.rest_client.close()

    # -- errors -----------------------------------------------------------------------

    def transport_error(self, exc: BaseException) -> TransportError:
        """Classify a transport exception for this connection."""
        return transport_error(
            exc, server=self.conn.server, context=self.conn.context, cluster=self.conn.cluster
        )

    def _as_kube_error(self, exc: BaseException) -> KubeError:
        if isinstance(exc, KubeError):
            return exc
        status = getattr(exc, "status", None)
        if type(exc).__name__.endswith("Exception") and isinstance(status, int) and status > 0:
            return api_error(
                status,
                getattr(exc, "body", None),
                getattr(exc, "headers", None),
                server=self.conn.server,
                context=self.conn.context,
            )
        return self.transport_error(exc)

    # -- the transport primitives of ResourceCalls ------------------------------------

    def _open(self, req: Request) -> RawStream:
        """Send one request and return the open answer; raise KubeError on failure."""
        api = self.api_client
        try:
            m, url, hdrs, payload, _ = api.param_serialize(
                method=req.method,
                resource_path=req.path,
                query_params=req.query,
                header_params=req.headers(),
                body=req.body,
                auth_settings=["BearerToken"],
            )
            response = api.call_api(m, url, header_params=hdrs, body=payload, _request_timeout=req.timeout)
        except Exception as exc:
            raise self._as_kube_error(exc) from None
        raw = response.response
        if not 200 <= response.status <= 299:
            try:
                data = raw.data
            except Exception:
                data = b""
            raise api_error(
                response.status,
                data,
                raw.headers,
                server=self.conn.server,
                context=self.conn.context,
                namespace=req.namespace,
            )
        return RawStream(raw, self._as_kube_error)

    def _send_once(self, req: Request) -> bytes:
        """One attempt (``ResourceCalls.request`` retries and decodes)."""
        stream = self._open(req)
        try:
            return bytes(stream._response.data or b"")
        except Exception as exc:
            raise self._as_kube_error(exc) from None
        finally:
            stream._response.release_conn()

    def open_upgrade(
        self, target: str, headers: Mapping[str, str], *, timeout: float
    ) -> tuple[socket.socket, int, dict[str, str], bytes]:
        """``LiteKube.open_upgrade`` from the official client's configuration.

        The token comes from the configuration as for every request (a legacy auth-provider
        refreshes it there); CA, client certificate and proxy as ``kubernetes.stream`` uses
        them. The socket is opened here (``kube.dial``) and the upgrade sent on it
        (``kube.http1.request_upgrade``), as the lean client does.
        """
        from kubectl_trace.kube.dial import connect_socket
        from kubectl_trace.kube.http1 import request_upgrade

        api = self.api_client
        configuration = api.configuration
        _, _, auth, _, _ = api.param_serialize(
            method="GET", resource_path="/", header_params={}, auth_settings=["BearerToken"]
        )
        sent = {k: v for k, v in auth.items() if k.lower() in ("authorization", "user-agent")}
        sent.update(headers)
        url = urlsplit(configuration.host)
        secure = url.scheme == "https"
        host, port = url.hostname or "", url.port or (443 if secure else 80)
        try:
            sock = connect_socket(host, port, timeout, _proxy(configuration, configuration.host))
            if secure:
                try:
                    sock = _tls_context(configuration).wrap_socket(
                        sock, server_hostname=configuration.tls_server_name or host
                    )
                except BaseException:
                    sock.close()
                    raise
            status, answer, rest = request_upgrade(sock, url.netloc, url.path.rstrip("/") + target, sent)
        except (OSError, ValueError) as exc:
            raise self.transport_error(exc) from None
        return sock, status, answer, rest


def _tls_context(configuration: Any) -> ssl.SSLContext:
    """TLS as the official client sets it up: its CA (else certifi's), client certificate, checks."""
    if configuration.verify_ssl:
        import certifi

        context = ssl.create_default_context(cafile=configuration.ssl_ca_cert or certifi.where())
        if configuration.assert_hostname is not None:
            context.check_hostname = bool(configuration.assert_hostname)
    else:  # insecure-skip-tls-verify (the CLI has said so once)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if configuration.cert_file:
        context.load_cert_chain(configuration.cert_file, configuration.key_file or None)
    return context


def _proxy(configuration: Any, server: str) -> Proxy | None:
    """The configuration's proxy for ``server`` (None: direct), with its Basic credentials."""
    if not configuration.proxy:
        return None
    if configuration.no_proxy:
        from kubernetes.client.rest import should_bypass_proxies

        if should_bypass_proxies(server, configuration.no_proxy):
            return None
    from kubectl_trace.kube.dial import parse_proxy

    proxy = parse_proxy(configuration.proxy, where="the client configuration")
    if proxy.needs_full_client:
        raise TransportError(
            f"cannot open a WebSocket through the https:// proxy {proxy.display}",
            "use an http:// or socks5:// proxy for exec, attach and shell",
            kind="protocol",
        )
    basic = str((configuration.proxy_headers or {}).get("proxy-authorization", ""))
    if basic.startswith("Basic ") and proxy.credentials is None:
        user, _, password = base64.b64decode(basic.split()[1]).decode().partition(":")
        proxy = replace(proxy, credentials=(user, password))
    return proxy


def connect(settings: KubeSettings, *, retry: RetryPolicy | None = None) -> Kube:
    """Load the kubeconfig for ``settings`` (a KubeSettings) and return the official client."""
    from kubectl_trace.kube.config import load_connection

    return Kube(load_connection(settings), retry=retry)


def connect_best(
    settings: KubeSettings, environ: Mapping[str, str] | None = None, *, retry: RetryPolicy | None = None
) -> KubeClient:
    """The lean client when the context allows it (no ``kubernetes`` import), else the official one.

    Both answer the same calls (``kube.calls``). Warns (``InsecureConnectionWarning``) when
    TLS verification is off.
    """
    from kubectl_trace.kube.lite import connect_lite

    client: KubeClient | None = connect_lite(settings, environ, retry=retry)
    if client is None:
        client = connect(settings, retry=retry)
    if client.conn.insecure:
        import warnings

        from kubectl_trace.kube.errors import InsecureConnectionWarning

        warnings.warn(
            InsecureConnectionWarning(
                f'TLS verification is off for cluster "{client.conn.cluster}" '
                "(insecure-skip-tls-verify): the server's identity is not checked"
            ),
            stacklevel=2,
        )
    return client
