"""API and transport failures turned into one-line messages with the object and a hint.

The client layer raises only these; the CLI runner prints them as ``error: …`` / ``hint: …``.
"""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import Iterator, Mapping
from typing import Any

from kubectl_trace.errors import InsecureConnectionWarning, NodeappError

__all__ = [
    "ApiError",
    "InsecureConnectionWarning",
    "KubeConfigError",
    "KubeError",
    "ProxyError",
    "TransportError",
    "api_error",
    "parse_retry_after",
    "transport_error",
]


class KubeError(NodeappError):
    """Anything that went wrong talking to the cluster."""

    retriable = False
    retry_after: float | None = None


class KubeConfigError(KubeError):
    """The kubeconfig is missing, broken, or does not name what was asked for."""


class ApiError(KubeError):
    """The API server answered with an error Status."""

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        status: int,
        reason: str = "",
        retry_after: float | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.status = status
        self.reason = reason
        self.retry_after = retry_after
        self.body = dict(body or {})
        self.retriable = status == 429 or status >= 500 or status == 0

    @property
    def not_found(self) -> bool:
        """404."""
        return self.status == 404

    @property
    def conflict(self) -> bool:
        """409 Conflict (a stale resourceVersion), not AlreadyExists."""
        return self.status == 409 and self.reason != "AlreadyExists"

    @property
    def expired(self) -> bool:
        """410 Gone / Expired: a watch must relist."""
        return self.status == 410


class TransportError(KubeError):
    """No usable answer: connection refused, TLS failure, timeout, dropped stream."""

    retriable = True

    def __init__(self, message: str, hint: str | None = None, *, kind: str) -> None:
        super().__init__(message, hint)
        self.kind = kind
        # A certificate problem, an unknown host or a proxy that will not carry us will not
        # fix itself; everything else may.
        self.retriable = kind not in ("tls", "dns", "proxy")


class ProxyError(OSError):
    """The proxy could not be reached or would not carry us (a transport failure)."""


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds form), else None."""
    if not headers:
        return None
    value = headers.get("Retry-After") or headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _status_body(body: bytes | str | Mapping[str, Any] | None) -> dict[str, Any]:
    if body is None:
        return {}
    if isinstance(body, Mapping):
        return dict(body)
    try:
        data = json.loads(body)
    except (ValueError, TypeError):
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        return {"message": text.strip()[:300]}
    return data if isinstance(data, dict) else {}


def api_error(
    status: int,
    body: bytes | str | Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    *,
    server: str = "",
    context: str = "",
    namespace: str | None = None,
    hint: str | None = None,
) -> ApiError:
    """Build the ApiError for an HTTP error answer (a Kubernetes Status body, ideally)."""
    data = _status_body(body)
    message = str(data.get("message") or "").strip()
    reason = str(data.get("reason") or "")
    retry_after = parse_retry_after(headers)
    where = f' in namespace "{namespace}"' if namespace else ""
    kw: dict[str, Any] = {"status": status, "reason": reason, "retry_after": retry_after, "body": data}
    if status == 401:
        return ApiError(
            f"unauthorized: the API server at {server} rejected the credentials"
            + (f' of context "{context}"' if context else ""),
            hint or "refresh the token or client certificate in your kubeconfig",
            **kw,
        )
    if status == 403:
        return ApiError(
            f"forbidden: {message or 'the API server refused the request'}",
            hint or "ask a cluster admin for access (check with: kubectl auth can-i …)",
            **kw,
        )
    if status == 404:
        text = message or "not found"
        if namespace and "namespace" not in text:
            text += where
        return ApiError(text, hint, **kw)
    if status == 409:
        if reason == "AlreadyExists":
            return ApiError(message or "already exists", hint, **kw)
        return ApiError(
            message or "conflict: the object was changed meanwhile",
            hint or "someone changed it at the same time; run the command again",
            **kw,
        )
    if status == 410:
        return ApiError(f"expired: {message or 'resource version too old'}", hint, **kw)
    if status == 422:
        causes = (data.get("details") or {}).get("causes") or []
        detail = "; ".join(f"{c.get('field', '')}: {c.get('message', '')}".strip(": ") for c in causes[:3])
        return ApiError(f"invalid: {message or detail or 'the API server rejected the object'}", hint, **kw)
    if status == 429:
        wait = f"; retry in {retry_after:g}s" if retry_after is not None else ""
        return ApiError(
            f"the API server is throttling requests (429 Too Many Requests){wait}",
            hint or "try again in a moment",
            **kw,
        )
    if status >= 500:
        return ApiError(
            f"the API server failed ({status} {reason or 'error'})" + (f": {message}" if message else ""),
            hint or "try again; if it persists, check the cluster's health",
            **kw,
        )
    if status == 400:
        return ApiError(f"bad request: {message or 'the API server refused the request'}", hint, **kw)
    return ApiError(f"API error {status}" + (f": {message}" if message else ""), hint, **kw)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for nxt in (getattr(current, "reason", None), current.__cause__, current.__context__):
            if isinstance(nxt, BaseException):
                stack.append(nxt)
        for arg in getattr(current, "args", ()):
            if isinstance(arg, BaseException):
                stack.append(arg)


def transport_error(
    exc: BaseException, *, server: str = "", context: str = "", cluster: str = ""
) -> TransportError:
    """Classify a transport exception (urllib3, ssl, socket, websocket) into one line."""
    names = {type(e).__name__ for e in _chain(exc)}
    text = " ".join(str(e) for e in _chain(exc))
    at = f" at {server}" if server else ""
    ctx = f' (context "{context}")' if context else ""
    for e in _chain(exc):
        if isinstance(e, ProxyError):
            return TransportError(
                str(e),
                "check proxy-url in the kubeconfig, or HTTPS_PROXY / NO_PROXY" + ctx,
                kind="proxy",
            )
    for e in _chain(exc):
        if isinstance(e, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(e):
            detail = getattr(e, "verify_message", None) or "certificate verify failed"
            return TransportError(
                f"TLS verification failed for {server or 'the API server'}: {detail}",
                f'check certificate-authority of cluster "{cluster or context}" in the kubeconfig',
                kind="tls",
            )
    if "SSLError" in names or "SSLError" in text:
        return TransportError(
            f"TLS handshake with {server or 'the API server'} failed",
            "check that the server address is HTTPS and the kubeconfig's certificates are right",
            kind="tls",
        )
    for e in _chain(exc):
        if isinstance(e, ConnectionRefusedError) or "Connection refused" in str(e):
            return TransportError(
                f"cannot reach the API server{at}: connection refused",
                f"is the cluster running?{ctx}",
                kind="refused",
            )
        if isinstance(e, socket.gaierror) or "Name or service not known" in str(e):
            return TransportError(
                f"cannot reach the API server{at}: unknown host",
                f"check the server address in the kubeconfig{ctx}",
                kind="dns",
            )
    if names & {
        "ReadTimeoutError",
        "ConnectTimeoutError",
        "TimeoutError",
        "timeout",
        "WebSocketTimeoutException",
    }:
        return TransportError(
            f"the API server{at} did not answer in time",
            "raise --request-timeout, or check the network to the cluster",
            kind="timeout",
        )
    return TransportError(
        f"the connection to the API server{at} failed: {_first_line(exc)}",
        f"check the network to the cluster{ctx}",
        kind="connection",
    )


def _first_line(exc: BaseException) -> str:
    for e in _chain(exc):
        text = str(e).strip()
        if text:
            return text.splitlines()[0][:200]
    return type(exc).__name__
