"""A lean client for plain kubeconfigs, for commands that must start fast (``shell``).

Importing the official ``kubernetes`` package costs about half a second; a shell that
starts in a pod should not wait for it. ``connect_lite(settings, environ)`` returns a
``LiteKube`` when the selected context needs only a bearer token (or token file) and/or
a client certificate, and a CA (or ``insecure-skip-tls-verify``); for anything else
(exec or auth-provider plugins, ``proxy-url``, ``tls-server-name``, basic auth, in-cluster
config) it returns None and the caller uses ``Kube``.

``LiteKube`` answers the calls TARGET resolution and ``shell`` make — ``get``, ``list``,
``namespace_exists``, ``require_namespace`` — with the same JSON dicts and the same
``KubeError``s as ``Kube`` (same message builders, same retry policy), over one kept-alive
HTTPS connection (``http.client``, TLS verification on), and exposes what an exec
WebSocket needs (``open_upgrade``).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from kubectl_trace.kube.config import Connection, SelectedContext, select_context
from kubectl_trace.kube.errors import ApiError, KubeConfigError, KubeError, api_error, transport_error
from kubectl_trace.kube.resources import lookup
from kubectl_trace.kube.retry import Backoff, RetryPolicy, call_with_retry
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
        "extensions",
    }
)


def _data_or_file(entry: Mapping[str, Any], key: str) -> bytes | None:
    data = entry.get(f"{key}-data")
    if data:
        return base64.b64decode(data)
    path = entry.get(key)
    if path:
        with open(path, "rb") as handle:
            return handle.read()
    return None


def _ssl_context(selected: SelectedContext) -> ssl.SSLContext:
    cluster, user = selected.cluster, selected.user
    ca = _data_or_file(cluster, "certificate-authority")
    if cluster.get("insecure-skip-tls-verify"):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif ca:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verification and hostname check on
        context.load_verify_locations(cadata=ca.decode("ascii"))
    else:
        context = ssl.create_default_context()
    cert = _data_or_file(user, "client-certificate")
    key = _data_or_file(user, "client-key")
    if cert and key:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:  # ssl loads certificates from files only
            cert_path, key_path = os.path.join(tmp, "cert"), os.path.join(tmp, "key")
            for path, data in ((cert_path, cert), (key_path, key)):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
            context.load_cert_chain(cert_path, key_path)
    return context


def connect_lite(
    settings: KubeSettings, environ: Mapping[str, str] | None = None, *, retry: RetryPolicy | None = None
) -> LiteKube | None:
    """A ``LiteKube`` for the selected context, or None when it needs the full client.

    Raises ``KubeConfigError`` for a kubeconfig that is broken in a way the full client
    would report too (unknown context, missing files).
    """
    environ = os.environ if environ is None else environ
    selected = select_context(settings, environ)
    if selected is None:
        return None
    user, cluster = selected.user, selected.cluster
    if set(user) - _SIMPLE_USER_KEYS or set(cluster) - _SIMPLE_CLUSTER_KEYS:
        return None  # plugins, proxies, basic auth…: the official client knows them
    url = urlsplit(str(cluster["server"]))
    if url.scheme not in ("https", "http") or not url.hostname:
        return None
    headers = {"Accept": "application/json"}
    token = user.get("token")
    try:
        if not token and user.get("tokenFile"):
            with open(user["tokenFile"], encoding="utf-8") as handle:
                token = handle.read().strip()
        context = _ssl_context(selected) if url.scheme == "https" else None
    except (OSError, ValueError, ssl.SSLError) as exc:
        raise KubeConfigError(f"cannot load credentials of context {selected.name!r}: {exc}") from None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    from kubectl_trace import __version__

    headers["User-Agent"] = f"kubectl-nodeapp/{__version__}"
    conn = Connection(
        context=selected.name,
        cluster=selected.cluster_name,
        user=selected.user_name,
        namespace=selected.namespace,
        server=str(cluster["server"]),
        source=os.pathsep.join(selected.paths),
        request_timeout=settings.request_timeout,
    )
    return LiteKube(conn, context, headers, retry=retry)


_MAX_HEAD = 64 * 1024
_MAX_ERROR_BODY = 1024 * 1024


def _read_head(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Read an HTTP/1.1 response head: ``(status, headers (lower-case names), bytes after)``."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        if len(buf) > _MAX_HEAD:
            raise ValueError("the server sent an oversized HTTP response head")
        chunk = sock.recv(16384)
        if not chunk:
            raise ConnectionResetError("the server closed the connection before answering")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ValueError(f"not an HTTP response: {status_line[:80]!r}")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers, rest


def _read_body(sock: socket.socket, headers: Mapping[str, str], rest: bytes) -> bytes:
    """The body of a (small, error) response: by Content-Length, chunks, or until closed."""
    length = headers.get("content-length", "")
    chunked = headers.get("transfer-encoding", "").lower() == "chunked"
    body = rest
    while len(body) < _MAX_ERROR_BODY:
        if length.isdigit() and len(body) >= int(length):
            break
        if chunked and (body.startswith(b"0\r\n") or b"\r\n0\r\n" in body) and body.endswith(b"\r\n\r\n"):
            break
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    if chunked:
        return _dechunk(body)
    return body[: int(length)] if length.isdigit() else body


def _dechunk(data: bytes) -> bytes:
    out, pos = [], 0
    while True:
        end = data.find(b"\r\n", pos)
        if end < 0:
            break
        size = int(data[pos:end].split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out.append(data[end + 2 : end + 2 + size])
        pos = end + 2 + size + 2
    return b"".join(out)


class LiteKube:
    """The few read calls of ``Kube``, without the official client (see the module doc)."""

    def __init__(
        self,
        conn: Connection,
        ssl_context: ssl.SSLContext | None,
        headers: Mapping[str, str],
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.conn = conn
        self.ssl_context = ssl_context
        self.headers = dict(headers)
        self.retry: RetryPolicy = retry if retry is not None else Backoff(max_attempts=4)
        self._sleep = sleep
        url = urlsplit(conn.server)
        self._scheme = url.scheme
        self._host = url.hostname or ""
        self._port = url.port or (443 if url.scheme == "https" else 80)
        self._prefix = url.path.rstrip("/")
        self._http: http.client.HTTPConnection | None = None

    @property
    def namespace(self) -> str:
        """The namespace commands use unless told otherwise."""
        return self.conn.namespace

    def transport_error(self, exc: BaseException) -> KubeError:
        """Classify a transport exception for this connection (as ``Kube`` does)."""
        if isinstance(exc, KubeError):
            return exc
        return transport_error(
            exc, server=self.conn.server, context=self.conn.context, cluster=self.conn.cluster
        )

    # -- HTTP ----------------------------------------------------------------------------

    def _connection(self) -> http.client.HTTPConnection:
        if self._http is None:
            timeout = self.conn.request_timeout or 30.0
            if self._scheme == "https":
                self._http = http.client.HTTPSConnection(
                    self._host, self._port, timeout=timeout, context=self.ssl_context
                )
            else:
                self._http = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
        return self._http

    def _once(self, path: str, namespace: str | None) -> Any:
        for attempt in (1, 2):  # a kept-alive connection the server closed meanwhile: reconnect once
            conn = self._connection()
            try:
                conn.request("GET", self._prefix + path, headers=self.headers)
                response = conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self.close()
                if attempt == 2:
                    raise self.transport_error(exc) from None
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                raise self.transport_error(exc) from None
        if not 200 <= response.status <= 299:
            raise api_error(
                response.status,
                data,
                dict(response.getheaders()),
                server=self.conn.server,
                context=self.conn.context,
                namespace=namespace,
            )
        if not data:
            return {}
        try:
            return json.loads(data)
        except ValueError:
            raise ApiError(f"the API server sent invalid JSON for GET {path}", status=0) from None

    def request(
        self, path: str, *, query: Mapping[str, Any] | None = None, namespace: str | None = None
    ) -> Any:
        """GET ``path`` (with ``query``) and return its JSON, retrying what the policy allows."""
        params = {k: str(v) for k, v in (query or {}).items() if v is not None}
        full = path + ("?" + urlencode(params, quote_via=quote) if params else "")
        return call_with_retry(lambda: self._once(full, namespace), self.retry, sleep=self._sleep)

    def get_raw(
        self,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        namespace: str | None = None,
        accept: str = "*/*",
        limit: int | None = None,
        timeout: float | None = None,
    ) -> tuple[int, bytes]:
        """GET ``path`` once (no retry) and return ``(status, body)`` for a 2xx answer.

        For non-JSON answers (pod logs, the pod proxy). ``limit`` stops reading after that
        many bytes; ``timeout`` (seconds) applies to this request only. Errors raise
        ``ApiError``/``TransportError`` as ``get`` does. Like every call here, not for use
        from several threads at once (one connection).
        """
        params = {k: str(v) for k, v in (query or {}).items() if v is not None}
        full = self._prefix + path + ("?" + urlencode(params, quote_via=quote) if params else "")
        headers = {**self.headers, "Accept": accept}
        for attempt in (1, 2):  # a kept-alive connection the server closed meanwhile: reconnect once
            conn = self._connection()
            saved = conn.timeout
            try:
                if timeout is not None:
                    conn.timeout = timeout
                    if conn.sock is not None:
                        conn.sock.settimeout(timeout)
                conn.request("GET", full, headers=headers)
                response = conn.getresponse()
                data = response.read(limit) if limit is not None else response.read()
                if timeout is not None:
                    conn.timeout = saved
                    if conn.sock is not None:
                        conn.sock.settimeout(saved)
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self.close()
                if attempt == 2:
                    raise self.transport_error(exc) from None
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                raise self.transport_error(exc) from None
        if limit is not None and not response.isclosed():
            self.close()  # an unread rest: do not reuse the connection
        if not 200 <= response.status <= 299:
            raise api_error(
                response.status,
                data,
                dict(response.getheaders()),
                server=self.conn.server,
                context=self.conn.context,
                namespace=namespace,
            )
        return response.status, data

    def open_upgrade(
        self, target: str, headers: Mapping[str, str], *, timeout: float
    ) -> tuple[socket.socket, int, dict[str, str], bytes]:
        """Send ``GET target`` asking to switch protocols (a WebSocket upgrade) on a new socket.

        ``target`` is the path and query (the server's path prefix is added). The TLS session
        of the kept-alive connection is resumed when there is one (no second full handshake).
        Returns ``(socket, status, response headers with lower-case names, rest)``: after a
        101 the socket speaks the new protocol and ``rest`` holds the bytes that came after
        the head; otherwise ``rest`` is the body and the socket is closed.
        """
        previous = getattr(self._http, "sock", None) if self._http is not None else None
        session = getattr(previous, "session", None)
        try:
            raw = socket.create_connection((self._host, self._port), timeout=timeout)
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock: socket.socket = raw
            if self._scheme == "https":
                assert self.ssl_context is not None
                sock = self.ssl_context.wrap_socket(raw, server_hostname=self._host, session=session)
        except (OSError, ValueError) as exc:
            raise self.transport_error(exc) from None
        lines = [f"GET {self._prefix}{target} HTTP/1.1", f"Host: {urlsplit(self.conn.server).netloc}"]
        lines += [f"{k}: {v}" for k, v in {**self.headers, **headers}.items() if k.lower() != "accept"]
        try:
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            status, answer, rest = _read_head(sock)
            if status != 101:
                rest = _read_body(sock, answer, rest)
                sock.close()
        except (OSError, ValueError) as exc:
            sock.close()
            raise self.transport_error(exc) from None
        return sock, status, answer, rest

    def close(self) -> None:
        """Close the kept-alive connection."""
        if self._http is not None:
            self._http.close()
            self._http = None

    # -- the calls of Kube that shell needs -------------------------------------------------

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        """GET one object."""
        r = lookup(kind)
        ns = (namespace or self.namespace) if r.namespaced else None
        return self.request(r.path(ns, name), namespace=ns)

    def list(
        self,
        kind: str,
        namespace: str | None = None,
        *,
        all_namespaces: bool = False,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> Any:
        """LIST a collection (one namespace, or all): an ``ObjectList``."""
        from kubectl_trace.kube.client import ObjectList

        r = lookup(kind)
        ns = None if all_namespaces or not r.namespaced else (namespace or self.namespace)
        data = self.request(
            r.path(ns), query={"labelSelector": label_selector, "fieldSelector": field_selector}, namespace=ns
        )
        items = data.get("items") or []
        for item in items:
            item.setdefault("kind", r.kind)
            item.setdefault("apiVersion", r.api_version)
        return ObjectList(items, str((data.get("metadata") or {}).get("resourceVersion", "")))

    def namespace_exists(self, namespace: str) -> bool | None:
        """True/False, or None when we may not look (403)."""
        try:
            self.get("namespaces", namespace)
        except ApiError as exc:
            if exc.status == 404:
                return False
            if exc.status == 403:
                return None
            raise
        return True

    def require_namespace(self, namespace: str | None = None) -> None:
        """Raise a clear error when the namespace does not exist."""
        ns = namespace or self.namespace
        if self.namespace_exists(ns) is False:
            raise ApiError(
                f'namespace "{ns}" not found',
                "list them with: kubectl get namespaces",
                status=404,
                reason="NotFound",
            )
