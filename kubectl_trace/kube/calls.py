"""The resource calls every client answers, written once on top of two primitives.

``LiteKube`` (``http.client``, no ``kubernetes`` import: every kubeconfig our users have)
and ``Kube`` (the official client's transport: the fallback for legacy ``auth-provider``
entries and in-cluster config) both provide ``_send_once(request) -> body bytes`` (one attempt,
``KubeError`` for anything but a 2xx answer) and ``_open(request) -> stream``. This
base class builds the retrying, decoding ``request`` on the first — one retry policy
(``default_retry``), one timeout rule (``timeouts``: ``--request-timeout``, else 30 s) — and
``get``, ``list``, ``create``, ``replace``, ``patch``, ``delete``, ``watch_stream``,
``pod_log`` and friends on both, so the two clients cannot drift apart in paths,
parameters, retries or error handling. ``KubeClient`` (``ResourceCalls`` itself) is the
typed face commands use; a transport receives each request as one ``Request``. What a list
or a watch reads travels as one ``Selection``, what a log request asks for as one ``LogQuery``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, urlencode

from kubectl_trace.kube.errors import ApiError, KubeError, TransportError, api_error
from kubectl_trace.kube.queries import LogQuery, Selection
from kubectl_trace.kube.resources import Resource, lookup
from kubectl_trace.kube.retry import Backoff, RetryDecision, RetryPolicy, call_with_retry

if TYPE_CHECKING:
    import socket
    from typing import TypedDict, Unpack

    from kubectl_trace.kube.config import Connection

__all__ = [
    "CONNECT_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "PATCH_TYPES",
    "UNSET",
    "KubeClient",
    "ObjectList",
    "Query",
    "Request",
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

if TYPE_CHECKING:

    class RequestOptions(TypedDict, total=False):
        """What ``request`` and ``open`` take besides method and path (all optional)."""

        query: Query | None  # None values are left out
        body: Any  # a JSON value
        content_type: str | None  # with a body: application/json unless said (PATCH_TYPES)
        timeout: Any  # seconds, (connect, read), or UNSET: see ``timeouts``
        namespace: str | None  # for error messages


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


@dataclass(frozen=True)
class Request:
    """One HTTP request as the calls build it; each client's transport sends it its own way."""

    method: str
    path: str
    query: list[tuple[str, str]]
    timeout: tuple[float, float | None]  # (connect, read) seconds: see ``timeouts``
    body: Any = None  # a JSON value, or None for no body
    content_type: str | None = None
    accept: str = "application/json"
    namespace: str | None = None  # for error messages

    @property
    def target(self) -> str:
        """The path and the URL-encoded query."""
        return self.path + ("?" + urlencode(self.query, quote_via=quote) if self.query else "")

    def headers(self) -> dict[str, str]:
        """``Accept``, and ``Content-Type`` when there is a body."""
        headers = {"Accept": self.accept}
        if self.body is not None:
            headers["Content-Type"] = self.content_type or "application/json"
        return headers

    def payload(self) -> bytes | None:
        """The body as JSON bytes (None: no body)."""
        return None if self.body is None else json.dumps(self.body).encode("utf-8")


class ResourceCalls:
    """Every call commands make, over a few transport primitives each client provides.

    ``LiteKube`` and ``Kube`` implement ``_send_once``, ``_open``, ``open_upgrade``,
    ``transport_error`` and ``close`` (``LiteKube`` also its own ``_get_raw``); everything
    else, and every public signature, is written here once (see the module doc).
    """

    def __init__(
        self,
        conn: Connection,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.conn = conn
        self.retry: RetryPolicy = retry if retry is not None else default_retry()
        self._sleep = sleep

    # -- the transport primitives --------------------------------------------------------

    def _send_once(self, req: Request) -> bytes:  # pragma: no cover - each client sends its own way
        """One attempt: the body of a 2xx answer; ``KubeError`` for anything else."""
        raise NotImplementedError

    def _open(self, req: Request) -> Stream:  # pragma: no cover - each client sends its own way
        """Send ``req`` and return the open answer (2xx); ``KubeError`` for anything else."""
        raise NotImplementedError

    def _get_raw(self, req: Request, limit: int | None) -> tuple[int, bytes]:
        """``(status, body)`` of a 2xx answer to ``req``, at most ``limit`` bytes read."""
        stream = self._open(req)
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

    def open_upgrade(  # pragma: no cover - each client opens sockets its own way
        self, target: str, headers: Mapping[str, str], *, timeout: float
    ) -> tuple[socket.socket, int, dict[str, str], bytes]:
        """Send ``GET target`` asking to switch protocols, on a socket of its own (``kube.upgrade``).

        Returns ``(socket, status, response headers with lower-case names, rest)``: after a
        101 the socket speaks the new protocol and ``rest`` holds the bytes that came after
        the head; otherwise ``rest`` is the body and the socket is closed.
        """
        raise NotImplementedError

    def transport_error(self, exc: BaseException) -> KubeError:  # pragma: no cover - per client
        """Classify a transport exception for this connection."""
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover - each client owns its connections
        """Release the client's connections."""
        raise NotImplementedError

    # -- requests -------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        options: RequestOptions,
        *,
        stream: bool,
        accept: str = "application/json",
    ) -> Request:
        limits = timeouts(options.get("timeout", UNSET), self.conn.request_timeout, stream=stream)
        query = query_pairs(options.get("query"))
        body = options.get("body")
        return Request(
            method, path, query, limits, body, options.get("content_type"), accept, options.get("namespace")
        )

    def request(
        self, method: str, path: str, *, retry: RetryPolicy | None = None, **options: Unpack[RequestOptions]
    ) -> Any:
        """Send a request and return its JSON answer, retrying what the policy allows.

        GETs retry every retriable failure; writes retry only when the request surely did
        not take effect (connection refused, 429, 503). ``timeout``: see ``timeouts``.
        """
        req = self._request(method, path, options, stream=False)

        def once() -> Any:
            data = self._send_once(req)
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

    def open(
        self, method: str, path: str, *, accept: str = "application/json", **options: Unpack[RequestOptions]
    ) -> Stream:
        """Send one request (no retry) and return the open streaming answer (``chunks``, ``lines``)."""
        return self._open(self._request(method, path, options, stream=True, accept=accept))

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
        """GET ``path`` once (no retry) and return ``(status, body)`` for a 2xx answer.

        For non-JSON answers (pod logs, the pod proxy). ``limit`` stops reading after that
        many bytes; ``timeout`` (seconds) applies to this request only.
        """
        limits = timeouts(timeout, self.conn.request_timeout)
        req = Request("GET", path, query_pairs(query), limits, accept=accept, namespace=namespace)
        return self._get_raw(req, limit)

    @property
    def namespace(self) -> str:
        """The namespace commands use unless told otherwise."""
        return str(self.conn.namespace)

    def _ns(self, resource: Resource, namespace: str | None) -> str | None:
        if not resource.namespaced:
            return None
        return namespace or self.namespace

    def _selected(self, selection: Selection) -> tuple[Resource, str | None]:
        """The resource of ``selection`` and the namespace in its path (None: every namespace)."""
        r = lookup(selection.kind)
        return r, None if selection.all_namespaces else self._ns(r, selection.namespace)

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
        """LIST a collection (one namespace, or all): ``list_selection`` with its fields spelled out."""
        selection = Selection(kind, namespace, all_namespaces, label_selector, field_selector)
        return self.list_selection(selection, retry=retry)

    def list_selection(self, selection: Selection, *, retry: RetryPolicy | None = None) -> ObjectList:
        """LIST what ``selection`` selects."""
        r, ns = self._selected(selection)
        data = self.request("GET", r.path(ns), query=selection.query(), namespace=ns, retry=retry)
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
        self, selection: Selection, *, resource_version: str | None = None, timeout_seconds: int | None = None
    ) -> tuple[Stream, Iterator[dict[str, Any]]]:
        """Open one watch request on ``selection``; return the stream (to close) and its decoded events.

        An ``ERROR`` event is raised as ApiError (410 Expired included). The iterator ends
        when the server ends the stream.
        """
        r, ns = self._selected(selection)
        query = {
            "watch": "true",
            "allowWatchBookmarks": "true",
            "resourceVersion": resource_version or None,
            **selection.query(),
            "timeoutSeconds": timeout_seconds,
        }
        timeout = (CONNECT_TIMEOUT, (timeout_seconds or 300) + 30)
        stream = self.open("GET", r.path(ns), query=query, timeout=timeout, namespace=ns)
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

    def pod_log(self, namespace: str, pod: str, query: LogQuery | None = None) -> Stream:
        """Open a pod's log (``/log``), as ``query`` asks; read it with ``chunks()`` or ``lines()``."""
        query = query or LogQuery()
        return self.open(
            "GET",
            lookup("pods").path(namespace, pod, "log"),
            query=query.query(),
            accept="*/*",
            timeout=(CONNECT_TIMEOUT, None) if query.follow else timeouts(UNSET, self.conn.request_timeout),
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


# The typed face commands use: both clients are ``ResourceCalls``, which states every call once.
KubeClient = ResourceCalls
