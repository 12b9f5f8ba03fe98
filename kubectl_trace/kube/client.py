"""The one place that builds API clients and sends requests.

``Kube`` wraps the official client's ``ApiClient`` (configuration, auth, TLS, urllib3
pool) and speaks plain JSON dicts: objects stay as the wire has them (camelCase), which
is what the renderers and reducers read and costs no model validation on hot paths.
Every failure comes out as a ``KubeError`` with a one-line message.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from functools import cached_property
from typing import Any

from kubectl_trace.kube.calls import ObjectList, Query, ResourceCalls, query_pairs, write_policy
from kubectl_trace.kube.config import Connection
from kubectl_trace.kube.errors import ApiError, KubeError, TransportError, api_error, transport_error
from kubectl_trace.kube.retry import Backoff, RetryPolicy, call_with_retry
from kubectl_trace.kube.stream import StreamBase

__all__ = ["Kube", "ObjectList", "RawStream", "connect", "connect_best"]

_UNSET: Any = object()


class RawStream(StreamBase):
    """A streaming HTTP answer over the official client's urllib3 (logs, watches)."""

    def __init__(self, response: Any, on_error: Callable[[BaseException], KubeError]) -> None:
        super().__init__(on_error)
        self._response = response

    @property
    def headers(self) -> Mapping[str, str]:
        """Response headers."""
        return self._response.headers

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
        params = query_pairs(query)
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
            policy = write_policy(policy)
        return call_with_retry(once, policy, sleep=self._sleep)


def connect(settings: Any, *, retry: RetryPolicy | None = None) -> Kube:
    """Load the kubeconfig for ``settings`` (a KubeSettings) and return the official client."""
    from kubectl_trace.kube.config import load_connection

    return Kube(load_connection(settings), retry=retry)


def connect_best(
    settings: Any, environ: Mapping[str, str] | None = None, *, retry: RetryPolicy | None = None
) -> ResourceCalls:
    """The lean client when the context allows it (no ``kubernetes`` import), else the official one.

    Both answer the same calls (``kube.calls``).
    """
    from kubectl_trace.kube.lite import connect_lite

    lite = connect_lite(settings, environ, retry=retry)
    if lite is not None:
        return lite
    return connect(settings, retry=retry)
