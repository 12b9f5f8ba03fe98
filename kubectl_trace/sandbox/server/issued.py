"""Credentials the sandbox issues besides its main token: short-lived tokens, client certificates.

``POST /sandbox/v1/credentials/token`` ``{seconds}`` issues a bearer token that the API
accepts until it expires (so a client's re-run of its credential plugin after a 401 can be
tested); ``POST /sandbox/v1/credentials/client-certificate`` ``{user, groups}`` issues a
certificate signed by the sandbox CA, which the API accepts as a client certificate (the TLS
layer verifies it; any verified certificate authenticates). Kept apart from the main
token check in ``app`` so other kinds of users can be added beside it.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kubectl_trace.sandbox.server.tls import ServerCredentials, issue_client_certificate

__all__ = ["IssuedCredentials"]


class IssuedCredentials:
    """The short-lived tokens issued so far and the CA that signs client certificates."""

    def __init__(self, server: ServerCredentials, clock: Callable[[], float] = time.time) -> None:
        self._server = server
        self._clock = clock
        self._tokens: dict[str, float] = {}  # token → expiry (seconds since the epoch)

    def issue_token(self, seconds: float) -> dict[str, Any]:
        """A new token valid for ``seconds`` (wall time, not the sandbox's time scale)."""
        now = self._clock()
        self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now}  # forget expired ones
        token = secrets.token_urlsafe(24)
        expires = now + seconds
        self._tokens[token] = expires
        stamp = datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"token": token, "expirationTimestamp": stamp, "expires": expires}

    def issue_client_certificate(self, user: str, groups: tuple[str, ...] = ()) -> dict[str, str]:
        """A client certificate and key (PEM) for ``user``."""
        cert, key = issue_client_certificate(self._server, user, groups)
        return {"certificate": cert.decode("ascii"), "key": key.decode("ascii")}

    def accepts(self, authorization: str, peercert: Any) -> bool:
        """Whether a request with this ``Authorization`` header and TLS peer certificate may pass."""
        if peercert:
            return True  # the TLS layer verified it against the sandbox CA
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return False
        now = self._clock()
        presented = given.strip().encode("utf-8")
        return any(
            hmac.compare_digest(presented, token.encode("utf-8")) and expires > now
            for token, expires in list(self._tokens.items())
        )
