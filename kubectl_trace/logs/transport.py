"""A lean, thread-safe client for what ``logs`` asks of the API, without the official client.

Importing ``kubernetes`` costs about half a second and tens of megabytes; ``logs`` needs
only GETs, lists, watches and log streams. ``connect_logs(settings)`` returns a
``LogsClient`` built on ``kube.lite`` (same kubeconfig rules, TLS verification on, same
``KubeError`` messages and retry policy) when the context is a plain one, else the full
``Kube``. Both answer the same calls: ``get``, ``list``, ``request``, ``namespace_exists``,
``require_namespace``, ``watch_stream``, ``pod_log``, ``close``.

Each stream gets its own HTTPS connection (one shared ``SSLContext``); one-shot GETs use
a kept-alive connection per thread, so tailer threads never share a socket.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple
from urllib.parse import quote, urlencode

from kubectl_trace.kube.errors import ApiError, KubeError, TransportError, api_error
from kubectl_trace.kube.resources import lookup
from kubectl_trace.kube.retry import Backoff, RetryPolicy, call_with_retry
from kubectl_trace.kube.settings import KubeSettings

__all__ = ["Listed", "LiteStream", "LogsClient", "connect_logs"]


class Listed(NamedTuple):
    """A list answer, shaped like ``kube.client.ObjectList`` (that module is not imported here)."""

    items: list[dict[str, Any]]
    resource_version: str


class LiteStream:
    """An open streaming answer: ``chunks()`` / ``lines()`` as they arrive; ``close()`` to stop."""

    def __init__(
        self, conn: http.client.HTTPConnection, response: http.client.HTTPResponse, client: LogsClient
    ):
        self._conn = conn
        self._response = response
        self._client = client
        self.closed = False

    @property
    def headers(self) -> Mapping[str, str]:
        """Response headers."""
        return dict(self._response.getheaders())

    def chunks(self, size: int = 65536) -> Iterator[bytes]:
        """Bytes as they arrive (at most about ``size`` at a time)."""
        try:
            if self._response.chunked:
                yield from _dechunk(self._response.fp, min(size, 16384))
            else:
                read1 = self._response.read1
                while True:
                    data = read1(size)
                    if not data:
                        return
                    yield data
        except Exception as exc:  # IncompleteRead (a dropped body), socket and TLS errors
            if self.closed:
                return
            raise self._client.transport_error(exc) from None

    def lines(self) -> Iterator[bytes]:
        """Complete lines (without the newline); a final unterminated line too."""
        pending = b""
        for chunk in self.chunks():
            data = pending + chunk if pending else chunk
            start = 0
            while True:
                nl = data.find(b"\n", start)
                if nl < 0:
                    break
                yield data[start:nl]
                start = nl + 1
            pending = data[start:]
        if pending:
            yield pending

    def close(self) -> None:
        """Stop reading: shut the socket down so that a blocked read in another thread returns."""
        if self.closed:
            return
        self.closed = True
        sock = self._conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            self._conn.close()


def _dechunk(fp: Any, size: int) -> Iterator[bytes]:
    """Decode a chunked body read from ``fp`` (the response's buffered socket file).

    ``http.client`` makes several Python calls per chunk; a follower gets one chunk per
    line or two, so this loop takes the chunk framing apart itself, many chunks per read.
    Raises ``IncompleteRead`` when the connection ends before the last chunk.
    """
    # Read into one buffer of our own: ``read1(size)`` would allocate ``size`` bytes per
    # read and shrink them, and across hundreds of threads that churn fragments the heap.
    scratch = bytearray(size)
    view = memoryview(scratch)
    readinto1 = fp.readinto1
    buf = b""
    remaining = 0  # bytes of the current chunk's data still to come
    trailer = False  # the CRLF after a chunk's data is still to come
    while True:
        count = readinto1(view)
        if not count:
            raise http.client.IncompleteRead(buf)
        data = view[:count].tobytes()
        buf = buf + data if buf else data
        out: list[bytes] = []
        pos = 0
        end = len(buf)
        while pos < end:
            if remaining:
                take = min(remaining, end - pos)
                out.append(buf[pos : pos + take])
                pos += take
                remaining -= take
                if remaining:
                    break
                trailer = True
            if trailer:
                if end - pos < 2:
                    break
                pos += 2
                trailer = False
            nl = buf.find(b"\r\n", pos)
            if nl < 0:
                break
            length = int(buf[pos:nl].split(b";", 1)[0], 16)
            pos = nl + 2
            if length == 0:  # the last chunk (trailers, if any, are not read)
                if out:
                    yield b"".join(out)
                return
            remaining = length
        buf = buf[pos:]
        if out:
            yield out[0] if len(out) == 1 else b"".join(out)


class LogsClient:
    """The calls of ``Kube`` that ``logs`` makes, over ``http.client`` (see the module doc)."""

    def __init__(self, lite: Any, *, retry: RetryPolicy | None = None) -> None:
        self.lite = lite
        self.conn = lite.conn
        self.retry: RetryPolicy = retry if retry is not None else Backoff(max_attempts=4)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[http.client.HTTPConnection] = []

    @property
    def namespace(self) -> str:
        """The namespace commands use unless told otherwise."""
        return str(self.conn.namespace)

    def transport_error(self, exc: BaseException) -> KubeError:
        """Classify a transport exception (as ``Kube`` does)."""
        if isinstance(exc, KubeError):
            return exc
        return self.lite.transport_error(exc)

    # -- connections ------------------------------------------------------------------

    def _new_connection(self, timeout: float | None) -> http.client.HTTPConnection:
        lite = self.lite
        if lite._scheme == "https":
            return http.client.HTTPSConnection(
                lite._host, lite._port, timeout=timeout, context=lite.ssl_context
            )
        return http.client.HTTPConnection(lite._host, lite._port, timeout=timeout)

    def _url(self, path: str, query: Mapping[str, Any] | None) -> str:
        params = {k: _query_value(v) for k, v in (query or {}).items() if v is not None}
        return self.lite._prefix + path + ("?" + urlencode(params, quote_via=quote) if params else "")

    def _error(
        self, status: int, data: bytes, response: http.client.HTTPResponse, namespace: str | None
    ) -> ApiError:
        return api_error(
            status,
            data,
            dict(response.getheaders()),
            server=self.conn.server,
            context=self.conn.context,
            namespace=namespace,
        )

    def _get_once(self, url: str, namespace: str | None) -> Any:
        timeout = self.conn.request_timeout or 30.0
        for attempt in (1, 2):  # a kept-alive connection the server closed meanwhile: reconnect once
            conn = getattr(self._local, "conn", None)
            fresh = conn is None
            if conn is None:
                conn = self._local.conn = self._new_connection(timeout)
                with self._lock:
                    self._connections.append(conn)
            try:
                conn.request("GET", url, headers=self.lite.headers)
                response = conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self._drop_local()
                if attempt == 2 or fresh:
                    raise self.transport_error(exc) from None
            except (OSError, http.client.HTTPException) as exc:
                self._drop_local()
                raise self.transport_error(exc) from None
        if not 200 <= response.status <= 299:
            raise self._error(response.status, data, response, namespace)
        if not data:
            return {}
        try:
            return json.loads(data)
        except ValueError:
            raise ApiError(f"the API server sent invalid JSON for GET {url}", status=0) from None

    def _drop_local(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()

    # -- requests ---------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        namespace: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> Any:
        """GET ``path`` and return its JSON, retrying what the policy allows (GET only)."""
        if method != "GET":
            raise ValueError("the logs client only reads")
        url = self._url(path, query)
        return call_with_retry(lambda: self._get_once(url, namespace), retry or self.retry)

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        """GET one object."""
        r = lookup(kind)
        ns = (namespace or self.namespace) if r.namespaced else None
        return self.request("GET", r.path(ns, name), namespace=ns)

    def list(
        self,
        kind: str,
        namespace: str | None = None,
        *,
        all_namespaces: bool = False,
        label_selector: str | None = None,
        field_selector: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> Listed:
        """LIST a collection (one namespace, or all)."""
        r = lookup(kind)
        ns = None if all_namespaces or not r.namespaced else (namespace or self.namespace)
        data = self.request(
            "GET",
            r.path(ns),
            query={"labelSelector": label_selector, "fieldSelector": field_selector},
            namespace=ns,
            retry=retry,
        )
        items = data.get("items") or []
        for item in items:
            item.setdefault("kind", r.kind)
            item.setdefault("apiVersion", r.api_version)
        return Listed(items, str((data.get("metadata") or {}).get("resourceVersion", "")))

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

    # -- streams ----------------------------------------------------------------------

    def open(
        self,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        read_timeout: float | None = None,
        namespace: str | None = None,
        accept: str = "application/json",
    ) -> LiteStream:
        """GET ``path`` on a connection of its own and return the open answer."""
        conn = self._new_connection(10.0)
        headers = dict(self.lite.headers)
        headers["Accept"] = accept
        try:
            conn.request("GET", self._url(path, query), headers=headers)
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
            raise self._error(response.status, data, response, namespace)
        if conn.sock is not None:
            conn.sock.settimeout(read_timeout)
        return LiteStream(conn, response, self)

    def watch_stream(
        self,
        kind: str,
        namespace: str | None = None,
        *,
        resource_version: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        timeout_seconds: int | None = None,
        all_namespaces: bool = False,
    ) -> tuple[LiteStream, Iterator[dict[str, Any]]]:
        """One watch request (as ``Kube.watch_stream``): the stream and its decoded events."""
        r = lookup(kind)
        ns = None if all_namespaces or not r.namespaced else (namespace or self.namespace)
        stream = self.open(
            r.path(ns),
            query={
                "watch": "true",
                "allowWatchBookmarks": "true",
                "resourceVersion": resource_version or None,
                "labelSelector": label_selector,
                "fieldSelector": field_selector,
                "timeoutSeconds": timeout_seconds,
            },
            read_timeout=(timeout_seconds or 300) + 30,
            namespace=ns,
        )

        def events() -> Iterator[dict[str, Any]]:
            for line in stream.lines():
                if not line.strip():
                    continue
                try:
                    event = json.loads(line)
                except ValueError:
                    raise TransportError(
                        "the API server sent a malformed watch event", kind="protocol"
                    ) from None
                if event.get("type") == "ERROR":
                    status = event.get("object") or {}
                    raise api_error(int(status.get("code") or 500), status, server=self.conn.server)
                yield event

        return stream, events()

    def pod_log(
        self,
        namespace: str,
        pod: str,
        *,
        container: str | None = None,
        follow: bool = False,
        previous: bool = False,
        timestamps: bool = False,
        since_seconds: int | None = None,
        since_time: str | None = None,
        tail_lines: int | None = None,
        limit_bytes: int | None = None,
    ) -> LiteStream:
        """Open a pod's log, as ``Kube.pod_log`` does."""
        return self.open(
            lookup("pods").path(namespace, pod, "log"),
            query={
                "container": container,
                "follow": "true" if follow else None,
                "previous": "true" if previous else None,
                "timestamps": "true" if timestamps else None,
                "sinceSeconds": since_seconds,
                "sinceTime": since_time,
                "tailLines": tail_lines,
                "limitBytes": limit_bytes,
            },
            read_timeout=None if follow else (self.conn.request_timeout or 60.0),
            namespace=namespace,
            accept="*/*",
        )

    def close(self) -> None:
        """Close every kept-alive connection."""
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            with contextlib.suppress(Exception):
                conn.close()
        self.lite.close()


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def connect_logs(settings: KubeSettings) -> Any:
    """A ``LogsClient`` for plain contexts (token, client certificate, CA), else a full ``Kube``."""
    from kubectl_trace.kube.lite import connect_lite

    lite = connect_lite(settings)
    if lite is not None:
        return LogsClient(lite)
    from kubectl_trace.kube.client import connect

    return connect(settings)
