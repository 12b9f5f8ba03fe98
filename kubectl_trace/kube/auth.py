"""Who we are to the API server: a bearer token and/or a client certificate, and the TLS context.

``Auth`` hands the lean client the ``Credentials`` to send with each request: fixed ones
(``token``, ``tokenFile``, ``client-certificate[-data]``) or those an exec credential plugin
gives (``kube.execauth``), which can change during the process (expiry, a 401). Each
credential gets its own ``ssl.SSLContext`` (the client certificate lives in it), built once.
"""

from __future__ import annotations

import base64
import os
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubectl_trace.kube.execauth import ExecAuthenticator, ExecCredential

__all__ = ["Auth", "Credentials", "data_or_file", "ssl_context"]


def data_or_file(entry: Mapping[str, Any], key: str) -> bytes | None:
    """``KEY-data`` (base64) or the contents of the file ``KEY`` names, else None."""
    data = entry.get(f"{key}-data")
    if data:
        return base64.b64decode(data)
    path = entry.get(key)
    if path:
        with open(path, "rb") as handle:
            return handle.read()
    return None


def ssl_context(
    cluster: Mapping[str, Any], cert: bytes | None = None, key: bytes | None = None
) -> ssl.SSLContext:
    """A client TLS context for ``cluster`` (its CA, or the system's), verification on.

    ``insecure-skip-tls-verify`` turns verification off (the caller warns once).
    """
    ca = data_or_file(cluster, "certificate-authority")
    if cluster.get("insecure-skip-tls-verify"):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif ca:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verification and hostname check on
        context.load_verify_locations(cadata=ca.decode("ascii"))
    else:
        context = ssl.create_default_context()
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


@dataclass(frozen=True, eq=False)
class Credentials:
    """What one request carries: an ``Authorization`` value (or None) and the TLS context."""

    authorization: str | None
    ssl_context: ssl.SSLContext | None
    source: ExecCredential | None = None


class Auth:
    """The credentials of one kubeconfig user (fixed, or from an exec plugin)."""

    def __init__(
        self,
        fixed: Credentials,
        plugin: ExecAuthenticator | None = None,
        tls: Callable[[bytes | None, bytes | None], ssl.SSLContext | None] | None = None,
    ) -> None:
        self._fixed = fixed
        self.plugin = plugin
        self._tls = tls
        self._lock = threading.Lock()
        self._last: Credentials | None = None

    @classmethod
    def fixed(cls, token: str | None, context: ssl.SSLContext | None) -> Auth:
        """Credentials that never change."""
        return cls(Credentials(f"Bearer {token}" if token else None, context))

    def _wrap(self, cred: ExecCredential) -> Credentials:
        with self._lock:
            last = self._last
            if last is not None and last.source is cred:
                return last
            if last is not None and last.source is not None and last.source.cert_pem == cred.cert_pem:
                context = last.ssl_context  # same certificate: keep the context (and its sessions)
            elif cred.cert_pem and self._tls is not None:
                context = self._tls(cred.cert_pem, cred.key_pem)
            else:
                context = self._fixed.ssl_context
            token = cred.token
            authorization = f"Bearer {token}" if token else self._fixed.authorization
            self._last = Credentials(authorization, context, cred)
            return self._last

    def current(self) -> Credentials:
        """The credentials to send now (may run the plugin)."""
        if self.plugin is None:
            return self._fixed
        return self._wrap(self.plugin.credential())

    def rejected(self, used: Credentials) -> Credentials | None:
        """The server said 401 to ``used``: new credentials to try once, or None."""
        if self.plugin is None or used.source is None:
            return None
        fresh = self.plugin.rejected(used.source)
        return self._wrap(fresh) if fresh is not None else None
