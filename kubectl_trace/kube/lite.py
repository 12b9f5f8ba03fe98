"""The lean client: every kubeconfig our users have, without importing ``kubernetes``.

Importing the official ``kubernetes`` package costs about half a second; small commands
(``shell``, ``logs``, ``status``, ``events``, completion) should not wait for it.
``connect_lite(settings, environ)`` returns a ``LiteKube`` for a context whose user has a
bearer token (or token file), a client certificate, or an exec credential plugin
(``kube.execauth``), and whose cluster has a CA (or ``insecure-skip-tls-verify``),
``tls-server-name``, ``proxy-url`` or proxy variables (``kube.dial``: HTTP CONNECT and
SOCKS5), ``disable-compression`` (we never ask for compressed answers anyway). For what
only the official client does (legacy ``auth-provider`` entries such as ``oidc``, basic
auth, an ``https://`` proxy, in-cluster config) it returns None and ``kube.client.connect_best``
falls back to ``Kube``.

Why ``http.client`` and not urllib3 (which the official client uses): importing urllib3
(which brings ``http.client`` and ``ssl`` with it) costs a command more than twice what
those two cost alone, while sequential requests are no faster — measured side by side by
``bench/transport.py`` (BENCHMARKS.md, "Transport"). What urllib3 would add here is
pooling across threads (each of our threads keeps one connection), HTTPS proxies (left to
the fallback) and its retries (we have our own policy). What is hand-written on top of
``http.client`` is small: the proxy handshakes (``kube.dial``), a chunk decoder for fast
log streams and the WebSocket upgrade head (``kube.http1``).

``LiteKube`` answers every call of ``kube.calls.ResourceCalls`` — reads, writes, watches,
logs — through the same code as ``Kube``: both inherit the calls, the retrying ``request``
and the error messages from ``ResourceCalls`` and differ only in how one attempt is sent
(``_send_once``, ``open``). TLS verification is on. It is thread-safe: each thread
keeps its own kept-alive connection for one-shot requests, and each stream (watch, log)
gets a connection of its own. ``open_upgrade`` gives an exec WebSocket its socket.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from typing import TypeVar
from urllib.parse import urlsplit

from kubectl_trace.kube.auth import Auth, Credentials, data_or_file, ssl_context
from kubectl_trace.kube.calls import CONNECT_TIMEOUT, Request, ResourceCalls
from kubectl_trace.kube.config import Connection, SelectedContext, select_context
from kubectl_trace.kube.dial import Http1Connection, Proxy, connect_socket
from kubectl_trace.kube.errors import ApiError, KubeConfigError, KubeError, api_error, transport_error
from kubectl_trace.kube.http1 import Http1Stream, request_upgrade
from kubectl_trace.kube.retry import RetryPolicy
from kubectl_trace.kube.settings import KubeSettings

__all__ = ["LiteKube", "connect_lite"]

_SIMPLE_USER_KEYS = frozenset(
    {
        "token",
        "tokenFile",
        "client-certificate",
        "client-certificate-data",
        "client-key",
        "client-key-data",
        "exec",
        "extensions",
    }
)
_SIMPLE_CLUSTER_KEYS = frozenset(
    {
        "server",
        "certificate-authority",
        "certificate-authority-data",
        "insecure-skip-tls-verify",
        "disable-compression",
        "tls-server-name",
        "proxy-url",
        "extensions",
    }
)
T = TypeVar("T")
_RECONNECT = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


def _auth(selected: SelectedContext, environ: Mapping[str, str], https: bool) -> Auth:
    """The credentials of the selected user (an exec plugin runs only when first needed)."""
    user, cluster = selected.user, selected.cluster
    plugin = None
    if user.get("exec"):
        from kubectl_trace.kube.execauth import ExecAuthenticator, parse_exec_config

        config = parse_exec_config(selected.user_name, user["exec"])
        plugin = ExecAuthenticator(config, cluster=cluster, environ=environ)
    token = user.get("token")
    if not token and user.get("tokenFile"):
        with open(user["tokenFile"], encoding="utf-8") as handle:
            token = handle.read().strip()
    cert = data_or_file(user, "client-certificate")
    key = data_or_file(user, "client-key")
    context = ssl_context(cluster, cert, key) if https else None
    fixed = Credentials(f"Bearer {token}" if token else None, context)

    def with_cert(cert_pem: bytes | None, key_pem: bytes | None) -> ssl.SSLContext | None:
        return ssl_context(cluster, cert_pem, key_pem) if https else None

    return Auth(fixed, plugin, with_cert)


def connect_lite(
    settings: KubeSettings,
    environ: Mapping[str, str] | None = None,
    *,
    retry: RetryPolicy | None = None,
    selected: SelectedContext | None = None,
) -> LiteKube | None:
    """A ``LiteKube`` for the selected context, or None when it needs the full client.

    ``selected`` is the context already chosen by the caller (saves reading the kubeconfig
    again). Raises ``KubeConfigError`` for a kubeconfig that is broken in a way the full
    client would report too (unknown context, missing files, an invalid ``exec`` entry).
    """
    environ = os.environ if environ is None else environ
    if selected is None:
        selected = select_context(settings, environ)
    if selected is None:
        return None
    user, cluster = selected.user, selected.cluster
    if set(user) - _SIMPLE_USER_KEYS or set(cluster) - _SIMPLE_CLUSTER_KEYS:
        return None  # auth-provider, proxies, basic auth…: the official client knows them
    url = urlsplit(str(cluster["server"]))
    if url.scheme not in ("https", "http") or not url.hostname:
        return None
    from kubectl_trace.kube.dial import proxy_for

    proxy = proxy_for(str(cluster["server"]), cluster, environ)
    if proxy is not None and proxy.needs_full_client:
        return None  # TLS inside TLS: the official client's urllib3 does it
    try:
        auth = _auth(selected, environ, url.scheme == "https")
    except (OSError, ValueError, ssl.SSLError) as exc:
        raise KubeConfigError(f"cannot load credentials of context {selected.name!r}: {exc}") from None
    from kubectl_trace import __version__

    headers = {"Accept": "application/json", "User-Agent": f"kubectl-nodeapp/{__version__}"}
    conn = selected.connection(settings)
    server_name = str(cluster.get("tls-server-name") or "") or None
    return LiteKube(conn, auth, headers, retry=retry, proxy=proxy, tls_server_name=server_name)


class LiteKube(ResourceCalls):
    """Every call of ``Kube`` without the official client (see the module doc)."""

    def __init__(
        self,
        conn: Connection,
        auth: Auth,
        headers: Mapping[str, str],
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        proxy: Proxy | None = None,
        tls_server_name: str | None = None,
    ) -> None:
        super().__init__(conn, retry=retry, sleep=sleep)
        self.auth = auth
        self.proxy = proxy
        self.headers = dict(headers)
        url = urlsplit(conn.server)
        self._scheme = url.scheme
        self._host = url.hostname or ""
        self._port = url.port or (443 if url.scheme == "https" else 80)
        self._server_hostname = tls_server_name or self._host
        self._prefix = url.path.rstrip("/")
        self._local = threading.local()
        self._lock = threading.Lock()
        self._kept: list[http.client.HTTPConnection] = []

    def transport_error(self, exc: BaseException) -> KubeError:
        """Classify a transport exception for this connection (as ``Kube`` does)."""
        if isinstance(exc, KubeError):
            return exc
        return transport_error(
            exc, server=self.conn.server, context=self.conn.context, cluster=self.conn.cluster
        )

    # -- connections ------------------------------------------------------------------

    def _dial(self, timeout: float | None) -> socket.socket:
        return connect_socket(self._host, self._port, timeout, self.proxy)

    def _new_connection(self, timeout: float | None, creds: Credentials) -> http.client.HTTPConnection:
        return Http1Connection(
            self._host,
            self._port,
            timeout=timeout,
            tls=creds.ssl_context if self._scheme == "https" else None,
            server_hostname=self._server_hostname,
            dial=self._dial,
        )

    def _kept_alive(self, creds: Credentials) -> tuple[http.client.HTTPConnection, bool]:
        """The kept-alive connection of the calling thread, and whether it is new.

        A connection made with another TLS context (a rotated client certificate) is replaced.
        """
        conn = getattr(self._local, "http", None)
        if conn is not None and getattr(self._local, "tls", None) is creds.ssl_context:
            return conn, False
        if conn is not None:
            self._drop_kept()
        conn = self._local.http = self._new_connection(CONNECT_TIMEOUT, creds)
        self._local.tls = creds.ssl_context
        with self._lock:
            self._kept.append(conn)
        return conn, True

    def _headers(self, creds: Credentials, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = {**self.headers, **(extra or {})}
        if creds.authorization:
            headers["Authorization"] = creds.authorization
        return headers

    def _with_credentials(self, send: Callable[[Credentials], T]) -> T:
        """``send(credentials)``; after a 401, once more with the plugin's fresh credentials."""
        creds = self.auth.current()
        try:
            return send(creds)
        except ApiError as exc:
            if exc.status != 401:
                raise
            fresh = self.auth.rejected(creds)
            if fresh is None:
                raise
        return send(fresh)

    def _drop_kept(self) -> None:
        conn = getattr(self._local, "http", None)
        self._local.http = None
        if conn is not None:
            conn.close()

    def _error(self, status: int, data: bytes, headers: Mapping[str, str], namespace: str | None) -> ApiError:
        return api_error(
            status, data, headers, server=self.conn.server, context=self.conn.context, namespace=namespace
        )

    def _exchange(
        self,
        creds: Credentials,
        method: str,
        url: str,
        headers: Mapping[str, str],
        payload: bytes | None,
        *,
        timeout: tuple[float, float | None],
        limit: int | None = None,
    ) -> tuple[http.client.HTTPResponse, bytes]:
        """One request on this thread's kept-alive connection.

        A kept-alive connection the server closed meanwhile is replaced once: always for a
        GET, for a write only when sending failed (the server cannot have seen it).
        """
        for _attempt in (1, 2):
            conn, fresh = self._kept_alive(creds)
            connect, read = timeout
            conn.timeout = connect  # for opening the connection, if it is not open yet
            try:
                conn.request(method, url, body=payload, headers=dict(headers))
                if conn.sock is not None:
                    conn.sock.settimeout(read)
            except _RECONNECT as exc:
                self._drop_kept()
                if fresh:
                    raise self.transport_error(exc) from None
                continue
            except (OSError, http.client.HTTPException) as exc:
                self._drop_kept()
                raise self.transport_error(exc) from None
            try:
                response = conn.getresponse()
                data = response.read(limit) if limit is not None else response.read()
            except _RECONNECT as exc:
                self._drop_kept()
                if fresh or method != "GET":
                    raise self.transport_error(exc) from None
                continue
            except (OSError, http.client.HTTPException) as exc:
                self._drop_kept()
                raise self.transport_error(exc) from None
            if limit is not None and not response.isclosed():
                self._drop_kept()  # an unread rest: do not reuse the connection
            return response, data
        raise AssertionError("unreachable")  # pragma: no cover

    # -- the transport primitives of ResourceCalls ------------------------------------

    def _fetch(self, req: Request, limit: int | None = None) -> tuple[int, bytes]:
        """One exchange on this thread's kept-alive connection: ``(status, body)`` of a 2xx answer.

        A 401 re-runs the credential plugin and tries once more.
        """
        url = self._prefix + req.target
        payload = req.payload()

        def send(creds: Credentials) -> tuple[int, bytes]:
            headers = self._headers(creds, req.headers())
            response, data = self._exchange(
                creds, req.method, url, headers, payload, timeout=req.timeout, limit=limit
            )
            if not 200 <= response.status <= 299:
                raise self._error(response.status, data, dict(response.getheaders()), req.namespace)
            return response.status, data

        return self._with_credentials(send)

    def _send_once(self, req: Request) -> bytes:
        """One attempt (``ResourceCalls.request`` retries and decodes)."""
        return self._fetch(req)[1]

    def _get_raw(self, req: Request, limit: int | None) -> tuple[int, bytes]:
        """On the kept-alive connection (a stream of its own is not needed for a small answer)."""
        return self._fetch(req, limit)

    def _open(self, req: Request) -> Http1Stream:
        """Send one request on a connection of its own and return the open answer."""
        connect, read = req.timeout
        url = self._prefix + req.target
        payload = req.payload()

        def send(creds: Credentials) -> Http1Stream:
            conn = self._new_connection(connect, creds)
            try:
                conn.request(req.method, url, body=payload, headers=self._headers(creds, req.headers()))
                # taken now: a response that ends the connection (HTTP/1.0, Connection: close)
                # takes the socket over and http.client forgets it
                sock = conn.sock
                response = conn.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                raise self.transport_error(exc) from None
            if not 200 <= response.status <= 299:
                try:
                    data = response.read()
                except (OSError, http.client.HTTPException):
                    data = b""
                conn.close()
                raise self._error(response.status, data, dict(response.getheaders()), req.namespace)
            if sock is not None:
                sock.settimeout(read)
            return Http1Stream(conn, sock, response, self.transport_error)

        return self._with_credentials(send)

    def open_upgrade(
        self, target: str, headers: Mapping[str, str], *, timeout: float
    ) -> tuple[socket.socket, int, dict[str, str], bytes]:
        """Send ``GET target`` asking to switch protocols (a WebSocket upgrade) on a new socket.

        ``target`` is the path and query (the server's path prefix is added). The TLS session
        of this thread's kept-alive connection is resumed when there is one (no second full
        handshake). Returns ``(socket, status, response headers with lower-case names, rest)``:
        after a 101 the socket speaks the new protocol and ``rest`` holds the bytes that came
        after the head; otherwise ``rest`` is the body and the socket is closed.
        """
        creds = self.auth.current()
        answer = self._upgrade_once(creds, target, headers, timeout)
        if answer[1] == 401:
            fresh = self.auth.rejected(creds)
            if fresh is not None:
                answer = self._upgrade_once(fresh, target, headers, timeout)
        return answer

    def _upgrade_once(
        self, creds: Credentials, target: str, headers: Mapping[str, str], timeout: float
    ) -> tuple[socket.socket, int, dict[str, str], bytes]:
        session = None
        if getattr(self._local, "tls", None) is creds.ssl_context:
            session = getattr(getattr(getattr(self._local, "http", None), "sock", None), "session", None)
        try:
            sock = self._dial(timeout)
            if self._scheme == "https":
                assert creds.ssl_context is not None
                try:
                    sock = creds.ssl_context.wrap_socket(
                        sock, server_hostname=self._server_hostname, session=session
                    )
                except BaseException:
                    sock.close()
                    raise
        except (OSError, ValueError) as exc:
            raise self.transport_error(exc) from None
        host = urlsplit(self.conn.server).netloc
        try:
            status, answer, rest = request_upgrade(
                sock, host, self._prefix + target, self._headers(creds, headers)
            )
        except (OSError, ValueError) as exc:
            raise self.transport_error(exc) from None
        return sock, status, answer, rest

    def close(self) -> None:
        """Close every kept-alive connection (streams are closed by their owners)."""
        with self._lock:
            kept, self._kept = self._kept, []
        for conn in kept:
            with contextlib.suppress(Exception):
                conn.close()
        self._local = threading.local()
