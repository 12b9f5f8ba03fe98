"""The resource calls every client answers, written once on top of two primitives.

``LiteKube`` (``http.client``, no ``kubernetes`` import: every kubeconfig our users have)
and ``Kube`` (the official client's transport: the fallback for legacy ``auth-provider``
entries and in-cluster config) both provide ``_send_once(…) -> body bytes`` (one attempt,
``KubeError`` for anything but a 2xx answer) and ``open(method, path, …) -> stream``. This
mixin builds the retrying, decoding ``request`` on the first — one retry policy
(``default_retry``), one timeout rule (``timeouts``: ``--request-timeout``, else 30 s) — and
``get``, ``list``, ``create``, ``replace``, ``patch``, ``delete``, ``watch_stream``,
``pod_log`` and friends on both, so the two clients cannot drift apart in paths,
parameters, retries or error handling. ``KubeClient`` is the typed face commands use.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from kubectl_trace.kube.errors import ApiError, KubeError, TransportError, api_error
from kubectl_trace.kube.resources import Resource, lookup
from kubectl_trace.kube.retry import Backoff, RetryDecision, RetryPolicy, call_with_retry

if TYPE_CHECKING:
    import socket

    from kubectl_trace.kube.config import Connection

__all__ = [
    "CONNECT_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "PATCH_TYPES",
    "UNSET",
    "KubeClient",
    "ObjectList",
    "Query",
    "ResourceCalls",
    "Stream",
    "default_retry",
    "query_value",
    "timeouts",
    "write_policy",
]

DEFAULT_TIMEOUT = 30.0  # seconds for a one-shot request without --request-timeout
CONNECT_TIMEOUT = 10.0  # seconds to open a connection (at most --request-timeout)
UNSET: Any = object()  # "no timeout given": the rule of ``timeouts`` applies


def default_retry() -> RetryPolicy:
    """The one policy for one-shot requests, whichever client sends them.

    Up to 4 attempts with back-off for what can heal (429, 5xx, dropped connections,
    timeouts); a refused connection fails at once: the cluster is down or the address is
    wrong, and a command should say so now (long-running follows pass their own policy).
    """
    return Backoff(max_attempts=4, retry_refused=False)


def timeouts(
    timeout: Any, request_timeout: float | None, *, stream: bool = False
) -> tuple[float, float | None]:
    """``(connect, read)`` seconds for a request.

    ``timeout`` is a number (both), a ``(connect, read)`` pair, or ``UNSET``/None: then
    ``--request-timeout`` (``request_timeout``) when given, else ``DEFAULT_TIMEOUT`` for a
    one-shot request and no read limit for a stream (a follow may be quiet for long).
    """
    if isinstance(timeout, tuple):
        connect, read = timeout
        return float(connect or CONNECT_TIMEOUT), (float(read) if read is not None else None)
    if timeout is not UNSET and timeout is not None:
        return float(timeout), float(timeout)
    connect = min(CONNECT_TIMEOUT, request_timeout) if request_timeout else CONNECT_TIMEOUT
    if request_timeout:
        return connect, float(request_timeout)
    return connect, (None if stream else DEFAULT_TIMEOUT)


PATCH_TYPES = {
    "strategic": "application/strategic-merge-patch+json",
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
}

Query = Mapping[str, Any] | Sequence[tuple[str, Any]]


@dataclass(frozen=True)
class ObjectList:
    """The items of a list request and the list's resourceVersion (to watch from)."""

    items: list[dict[str, Any]]
    resource_version: str


def query_value(value: Any) -> str:
    """A query parameter as the API server reads it (booleans lower-case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def query_pairs(query: Query | None) -> list[tuple[str, str]]:
    """``query`` without the None values, as (name, value) strings."""
    items = query.items() if isinstance(query, Mapping) else query or ()
    return [(k, query_value(v)) for k, v in items if v is not None]


def write_policy(policy: RetryPolicy) -> RetryPolicy:
    """``policy``, limited to failures after which a write surely did not take effect.

    Connection refused, 429 and 503 answer before anything changed; anything else (a
    timeout, a dropped connection) might have applied the write, so it is not repeated.
    """

    def decide(error: BaseException, attempt: int) -> RetryDecision:
        safe = (isinstance(error, ApiError) and error.status in (429, 503)) or (
            isinstance(error, TransportError) and error.kind == "refused"
        )
        return policy(error, attempt) if safe else RetryDecision(False)

    return decide


class ResourceCalls:
    """Object and stream calls over ``self._send_once`` and ``self.open`` (see the module doc)."""

    conn: Connection
    retry: RetryPolicy
    _sleep: Callable[[float], None] = staticmethod(time.sleep)

    def _send_once(  # pragma: no cover - each client sends its own way
        self,
        method: str,
        path: str,
        *,
        query: Query | None,
        body: Any,
        content_type: str | None,
        timeout: tuple[float, float | None],
        namespace: str | None,
    ) -> bytes:
        """One attempt: the body of a 2xx answer; ``KubeError`` for anything else."""
        raise NotImplementedError

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        body: Any = None,
        content_type: str | None = None,
        timeout: Any = UNSET,
        namespace: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> Any:
        """Send a request and return its JSON answer, retrying what the policy allows.

        GETs retry every retriable failure; writes retry only when the request surely did
        not take effect (connection refused, 429, 503). ``timeout``: see ``timeouts``.
        """
        limits = timeouts(timeout, self.conn.request_timeout)
        ctype = (content_type or "application/json") if body is not None else None

        def once() -> Any:
            data = self._send_once(
                method, path, query=query, body=body, content_type=ctype, timeout=limits, namespace=namespace
            )
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

    def _object(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        """``request`` for the calls whose answer is one JSON object (an object, a Status)."""
        data = self.request(method, path, **options)
        if not isinstance(data, dict):
            raise ApiError(f"the API server answered {method} {path} with no JSON object", status=0)
        return data

    def open(  # pragma: no cover - each client sends its own way
        self,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        body: Any = None,
        content_type: str | None = None,
        accept: str = "application/json",
        timeout: Any = None,
        namespace: str | None = None,
    ) -> Any:
        """Send a request and return the open streaming answer (``chunks``, ``lines``, ``close``)."""
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover - each client owns its connections
        """Release the client's connections."""
        raise NotImplementedError

    @property
    def namespace(self) -> str:
        """The namespace commands use unless told otherwise."""
        return str(self.conn.namespace)

    def _ns(self, resource: Resource, namespace: str | None) -> str | None:
        if not resource.namespaced:
            return None
        return namespace or self.namespace

    # -- objects --------------------------------------------------------------------------

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        """GET one object."""
        r = lookup(kind)
        ns = self._ns(r, namespace)
        return self._object("GET", r.path(ns, name), namespace=ns)

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
        return self._object("POST", r.path(ns), body=dict(obj), namespace=ns)

    def replace(self, kind: str, obj: Mapping[str, Any], namespace: str | None = None) -> dict[str, Any]:
        """PUT an object (its metadata.resourceVersion guards against lost updates)."""
        r = lookup(kind)
        meta = obj.get("metadata") or {}
        ns = self._ns(r, namespace or meta.get("namespace"))
        return self._object("PUT", r.path(ns, meta["name"]), body=dict(obj), namespace=ns)

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
        return self._object(
            "PATCH",
            r.path(ns, name, subresource),
            query={"fieldManager": field_manager},
            body=patch,
            content_type=PATCH_TYPES[patch_type],
            namespace=ns,
        )

    def delete(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        """DELETE an object."""
        r = lookup(kind)
        ns = self._ns(r, namespace)
        return self._object("DELETE", r.path(ns, name), namespace=ns)

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
            raise ApiError(
                f'namespace "{ns}" not found',
                "list them with: kubectl get namespaces",
                status=404,
                reason="NotFound",
            )

    def server_version(self) -> dict[str, Any]:
        """``/version``."""
        return self._object("GET", "/version")

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
    ) -> tuple[Any, Iterator[dict[str, Any]]]:
        """Open one watch request; return the stream (to close) and its decoded events.

        An ``ERROR`` event is raised as ApiError (410 Expired included). The iterator ends
        when the server ends the stream.
        """
        r = lookup(kind)
        ns = None if all_namespaces else self._ns(r, namespace)
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
            timeout=(CONNECT_TIMEOUT, (timeout_seconds or 300) + 30),
            namespace=ns,
        )
        server = self.conn.server

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
                    raise api_error(int(status.get("code") or 500), status, server=server)
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
    ) -> Any:
        """Open a pod's log (``/log``); read it with ``chunks()`` or ``lines()``."""
        return self.open(
            "GET",
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
            accept="*/*",
            timeout=(CONNECT_TIMEOUT, None) if follow else timeouts(UNSET, self.conn.request_timeout),
            namespace=namespace,
        )


class Stream(Protocol):
    """An open streaming answer (``kube.stream.StreamBase``)."""

    closed: bool

    @property
    def status(self) -> int:
        """The HTTP status code."""
        ...

    @property
    def headers(self) -> Mapping[str, str]:
        """Response headers."""
        ...

    def chunks(self, size: int = 65536) -> Iterator[bytes]:
        """Bytes as they arrive."""
        ...

    def lines(self) -> Iterator[bytes]:
        """Complete lines."""
        ...

    def close(self) -> None:
        """Stop reading."""
        ...


class KubeClient(Protocol):
    """What commands may ask of a client: the calls above, typed (``LiteKube`` and ``Kube``)."""

    conn: Connection
    retry: RetryPolicy

    @property
    def namespace(self) -> str:
        """The namespace commands use unless told otherwise."""
        ...

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        body: Any = None,
        content_type: str | None = None,
        timeout: Any = UNSET,
        namespace: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> Any:
        """Send a request and return its JSON answer."""
        ...

    def open(
        self,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        body: Any = None,
        content_type: str | None = None,
        accept: str = "application/json",
        timeout: Any = UNSET,
        namespace: str | None = None,
    ) -> Stream:
        """Send a request and return the open answer."""
        ...

    def get_raw(
        self,
        path: str,
        *,
        query: Query | None = None,
        namespace: str | None = None,
        accept: str = "*/*",
        limit: int | None = None,
        timeout: Any = UNSET,
    ) -> tuple[int, bytes]:
        """GET a non-JSON answer once."""
        ...

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        """GET one object."""
        ...

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
        """LIST a collection."""
        ...

    def create(self, kind: str, obj: Mapping[str, Any], namespace: str | None = None) -> dict[str, Any]:
        """POST a new object."""
        ...

    def replace(self, kind: str, obj: Mapping[str, Any], namespace: str | None = None) -> dict[str, Any]:
        """PUT an object."""
        ...

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
        """PATCH an object."""
        ...

    def delete(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        """DELETE an object."""
        ...

    def namespace_exists(self, namespace: str) -> bool | None:
        """True/False, or None when we may not look."""
        ...

    def require_namespace(self, namespace: str | None = None) -> None:
        """Raise a clear error when the namespace does not exist."""
        ...

    def server_version(self) -> dict[str, Any]:
        """``/version``."""
        ...

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
    ) -> tuple[Any, Iterator[dict[str, Any]]]:
        """Open one watch request."""
        ...

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
    ) -> Any:
        """Open a pod's log."""
        ...

    def open_upgrade(
        self, target: str, headers: Mapping[str, str], *, timeout: float
    ) -> tuple[socket.socket, int, dict[str, str], bytes]:
        """Send ``GET target`` asking to switch protocols on a socket of its own (``kube.upgrade``)."""
        ...

    def transport_error(self, exc: BaseException) -> KubeError:
        """Classify a transport exception for this connection."""
        ...

    def close(self) -> None:
        """Release the client's connections."""
        ...
