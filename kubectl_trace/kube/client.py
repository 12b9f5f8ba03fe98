"""The one place that builds API clients and sends requests.

``Kube`` wraps the official client's ``ApiClient`` (configuration, auth, TLS, urllib3
pool) and speaks plain JSON dicts: objects stay as the wire has them (camelCase), which
is what the renderers and reducers read and costs no model validation on hot paths.
Every failure comes out as a ``KubeError`` with a one-line message.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from kubectl_trace.kube.config import Connection
from kubectl_trace.kube.errors import ApiError, KubeError, TransportError, api_error, transport_error
from kubectl_trace.kube.resources import Resource, lookup
from kubectl_trace.kube.retry import Backoff, RetryPolicy, call_with_retry

__all__ = ["Kube", "ObjectList", "RawStream", "connect"]

_PATCH_TYPES = {
    "strategic": "application/strategic-merge-patch+json",
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
}
_UNSET: Any = object()

Query = Mapping[str, Any] | Sequence[tuple[str, Any]]


@dataclass(frozen=True)
class ObjectList:
    """The items of a list request and the list's resourceVersion (to watch from)."""

    items: list[dict[str, Any]]
    resource_version: str


class RawStream:
    """A streaming HTTP answer (logs, watches): iterate chunks or lines; ``close()`` to stop."""

    def __init__(self, response: Any, on_error: Callable[[BaseException], KubeError]) -> None:
        self._response = response
        self._on_error = on_error
        self.closed = False

    @property
    def headers(self) -> Mapping[str, str]:
        """Response headers."""
        return self._response.headers

    @property
    def status(self) -> int:
        """The HTTP status code (2xx: errors are raised before a stream exists)."""
        return int(getattr(self._response, "status", 200) or 200)

    def chunks(self, size: int = 65536) -> Iterator[bytes]:
        """Bytes as they arrive (each HTTP chunk as soon as it is read)."""
        try:
            for chunk in self._response.stream(size, decode_content=False):
                if chunk:
                    yield chunk
        except Exception as exc:  # urllib3 ProtocolError, socket errors, SSL errors
            if self.closed:
                return
            raise self._on_error(exc) from None

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
        """Stop reading: shut the socket down so a blocked read in another thread returns."""
        if self.closed:
            return
        self.closed = True
        import socket

        try:
            sock = getattr(getattr(self._response, "connection", None), "sock", None)
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self._response.release_conn()
            self._response.close()
        except Exception:
            pass


class Kube:
    """A connection to one cluster, as one user, with one default namespace."""

    def __init__(
        self,
        conn: Connection,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.conn = conn
        self.retry: RetryPolicy = retry if retry is not None else Backoff(max_attempts=4, retry_refused=False)
        self._sleep = sleep

    @property
    def namespace(self) -> str:
        """The namespace commands use unless told otherwise."""
        return self.conn.namespace

    @cached_property
    def api_client(self) -> Any:
        """The official client's ApiClient for this connection."""
        from kubernetes import client

        configuration = self.conn.configuration
        configuration.retries = 0  # our own policy decides (urllib3 would retry silently)
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

    # -- raw requests ---------------------------------------------------------------------

    def open(
        self,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        body: Any = None,
        content_type: str | None = None,
        accept: str = "application/json",
        timeout: Any = _UNSET,
        namespace: str | None = None,
    ) -> RawStream:
        """Send one request and return the open answer; raise KubeError on failure."""
        headers = {"Accept": accept}
        if body is not None:
            headers["Content-Type"] = content_type or "application/json"
        params = [
            (k, _query_value(v))
            for k, v in (query.items() if isinstance(query, Mapping) else query or ())
            if v is not None
        ]
        if timeout is _UNSET:
            timeout = self.conn.request_timeout
        api = self.api_client
        try:
            m, url, hdrs, payload, _ = api.param_serialize(
                method=method,
                resource_path=path,
                query_params=params,
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
            )
            response = api.call_api(m, url, header_params=hdrs, body=payload, _request_timeout=timeout)
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
                namespace=namespace,
            )
        return RawStream(raw, self._as_kube_error)

    def get_raw(
        self,
        path: str,
        *,
        query: Query | None = None,
        namespace: str | None = None,
        accept: str = "*/*",
        limit: int | None = None,
        timeout: Any = _UNSET,
    ) -> tuple[int, bytes]:
        """GET ``path`` once (no retry) and return ``(status, body)`` for a 2xx answer.

        For non-JSON answers (pod logs, the pod proxy); the same call exists on ``LiteKube``.
        ``limit`` stops reading after that many bytes.
        """
        stream = self.open("GET", path, query=query, accept=accept, timeout=timeout, namespace=namespace)
        body = b""
        try:
            for chunk in stream.chunks():
                body += chunk
                if limit is not None and len(body) >= limit:
                    body = body[:limit]
                    break
        finally:
            stream.close()
        return stream.status, body

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        body: Any = None,
        content_type: str | None = None,
        timeout: Any = _UNSET,
        namespace: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> Any:
        """Send a request and return its JSON answer, retrying what the policy allows.

        GETs retry every retriable failure; writes retry only when the request surely did
        not take effect (connection refused, 429, 503).
        """

        def once() -> Any:
            stream = self.open(
                method,
                path,
                query=query,
                body=body,
                content_type=content_type,
                timeout=timeout,
                namespace=namespace,
            )
            try:
                data = stream._response.data
            except Exception as exc:
                raise self._as_kube_error(exc) from None
            finally:
                stream._response.release_conn()
            if not data:
                return {}
            try:
                return json.loads(data)
            except ValueError:
                raise ApiError(f"the API server sent invalid JSON for {method} {path}", status=0) from None

        policy = retry or self.retry
        if method != "GET":
            base = policy

            def policy(error: BaseException, attempt: int) -> Any:
                safe = (isinstance(error, ApiError) and error.status in (429, 503)) or (
                    isinstance(error, TransportError) and error.kind == "refused"
                )
                return base(error, attempt) if safe else base(ValueError(), attempt)

        return call_with_retry(once, policy, sleep=self._sleep)

    # -- objects --------------------------------------------------------------------------

    def _ns(self, resource: Resource, namespace: str | None) -> str | None:
        if not resource.namespaced:
            return None
        return namespace or self.namespace

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        """GET one object."""
        r = lookup(kind)
        ns = self._ns(r, namespace)
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
    ) -> ObjectList:
        """LIST a collection (one namespace, or all)."""
        r = lookup(kind)
        ns = None if all_namespaces else self._ns(r, namespace)
        data = self.request(
            "GET",
            r.path(ns),
            query={"labelSelector": label_selector, "fieldSelector": field_selector},
            namespace=ns,
            retry=retry,
        )
        items = data.get("items") or []
        for item in items:  # lists omit kind/apiVersion on items; put them back
            item.setdefault("kind", r.kind)
            item.setdefault("apiVersion", r.api_version)
        return ObjectList(items, str((data.get("metadata") or {}).get("resourceVersion", "")))

    def create(self, kind: str, obj: Mapping[str, Any], namespace: str | None = None) -> dict[str, Any]:
        """POST a new object."""
        r = lookup(kind)
        ns = self._ns(r, namespace or (obj.get("metadata") or {}).get("namespace"))
        return self.request("POST", r.path(ns), body=dict(obj), namespace=ns)

    def replace(self, kind: str, obj: Mapping[str, Any], namespace: str | None = None) -> dict[str, Any]:
        """PUT an object (its metadata.resourceVersion guards against lost updates)."""
        r = lookup(kind)
        meta = obj.get("metadata") or {}
        ns = self._ns(r, namespace or meta.get("namespace"))
        return self.request("PUT", r.path(ns, meta["name"]), body=dict(obj), namespace=ns)

    def patch(
        self,
        kind: str,
        name: str,
        patch: Any,
        namespace: str | None = None,
        *,
        patch_type: str = "strategic",
        subresource: str | None = None,
        field_manager: str = "kubectl-nodeapp",
    ) -> dict[str, Any]:
        """PATCH an object: ``strategic``, ``merge`` or ``json`` (a list of operations)."""
        r = lookup(kind)
        ns = self._ns(r, namespace)
        return self.request(
            "PATCH",
            r.path(ns, name, subresource),
            query={"fieldManager": field_manager},
            body=patch,
            content_type=_PATCH_TYPES[patch_type],
            namespace=ns,
        )

    def delete(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        """DELETE an object."""
        r = lookup(kind)
        ns = self._ns(r, namespace)
        return self.request("DELETE", r.path(ns, name), namespace=ns)

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
        """Raise a clear error when the namespace does not exist (lists in it return nothing)."""
        ns = namespace or self.namespace
        if self.namespace_exists(ns) is False:
            from kubectl_trace.kube.errors import ApiError as _ApiError

            raise _ApiError(
                f'namespace "{ns}" not found',
                "list them with: kubectl get namespaces",
                status=404,
                reason="NotFound",
            )

    def server_version(self) -> dict[str, Any]:
        """``/version``."""
        return self.request("GET", "/version")

    # -- streams --------------------------------------------------------------------------

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
    ) -> tuple[RawStream, Iterator[dict[str, Any]]]:
        """Open one watch request; return the stream (to close) and its decoded events.

        An ``ERROR`` event is raised as ApiError (410 Expired included). The iterator ends
        when the server ends the stream.
        """
        r = lookup(kind)
        ns = None if all_namespaces else self._ns(r, namespace)
        read_timeout = (timeout_seconds or 300) + 30
        stream = self.open(
            "GET",
            r.path(ns),
            query={
                "watch": "true",
                "allowWatchBookmarks": "true",
                "resourceVersion": resource_version or None,
                "labelSelector": label_selector,
                "fieldSelector": field_selector,
                "timeoutSeconds": timeout_seconds,
            },
            timeout=(10, read_timeout),
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
    ) -> RawStream:
        """Open a pod's log (``/log``); read it with ``chunks()`` or ``lines()``."""
        r = lookup("pods")
        return self.open(
            "GET",
            r.path(namespace, pod, "log"),
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
            accept="*/*",
            timeout=(10, None) if follow else self.conn.request_timeout,
            namespace=namespace,
        )


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def connect(settings: Any, *, retry: RetryPolicy | None = None) -> Kube:
    """Load the kubeconfig for ``settings`` (a KubeSettings) and return a client."""
    from kubectl_trace.kube.config import load_connection

    return Kube(load_connection(settings), retry=retry)
