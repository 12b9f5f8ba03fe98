"""Exec credential plugins (``users[].user.exec``), run the way client-go runs them.

``gke-gcloud-auth-plugin``, ``aws eks get-token``, ``kubelogin``: the kubeconfig names a
command; we run it (an argument list, never a shell) with the kubeconfig's ``env`` added to
ours and ``KUBERNETES_EXEC_INFO`` holding an ``ExecCredential`` (``spec.interactive``, and
``spec.cluster`` when ``provideClusterInfo`` is set), read an ``ExecCredential`` from its
stdout and use ``status.token`` or ``status.clientCertificateData``/``clientKeyData``.

As in client-go's ``plugin/pkg/client/auth/exec``: the plugin's stderr goes to ours; its
stdin is ours only when it runs interactively (``interactiveMode`` Never / IfAvailable (the
v1beta1 default) / Always, which fails without a terminal); the credential is kept for the
life of the process until its ``expirationTimestamp``; after a 401 the plugin runs again
unless another thread already replaced the credential that was rejected. Failures read like
kubectl's: ``getting credentials: exec: executable X failed with exit code 1``, ``… not
found`` with the kubeconfig's ``installHint``.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubectl_trace.kube.errors import KubeConfigError, KubeError

__all__ = [
    "API_VERSIONS",
    "CredentialError",
    "ExecAuthenticator",
    "ExecConfig",
    "ExecCredential",
    "parse_exec_config",
]

API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
_MODES = ("Never", "IfAvailable", "Always")
_DOCS = (
    "It looks like you are trying to use a client-go credential plugin that is not installed; see "
    "https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins"
)


class CredentialError(KubeError):
    """The credential plugin could not give us credentials (nothing was sent to the server)."""


@dataclass(frozen=True)
class ExecConfig:
    """The ``exec`` entry of a kubeconfig user, validated."""

    command: str
    api_version: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    install_hint: str = ""
    provide_cluster_info: bool = False
    interactive_mode: str = "IfAvailable"


def parse_exec_config(user_name: str, entry: Any) -> ExecConfig:
    """Validate ``entry`` (the ``exec`` mapping) as clientcmd's validation does."""
    where = f"user {user_name!r}"
    if not isinstance(entry, Mapping):
        raise KubeConfigError(f"invalid kubeconfig: exec of {where} must be a mapping")
    command = entry.get("command")
    if not isinstance(command, str) or not command:
        raise KubeConfigError(f"command must be specified for {user_name} to use exec authentication plugin")
    api_version = entry.get("apiVersion")
    if not api_version:
        raise KubeConfigError(
            f"apiVersion must be specified for {user_name} to use exec authentication plugin"
        )
    if api_version not in API_VERSIONS:
        raise KubeConfigError(f'exec plugin: invalid apiVersion "{api_version}" ({where})')
    mode = entry.get("interactiveMode") or ""
    if not mode and api_version.endswith("/v1beta1"):
        mode = "IfAvailable"  # client-go's default for v1beta1; v1 must say
    if not mode:
        raise KubeConfigError(
            f"interactiveMode must be specified for {user_name} to use exec authentication plugin"
        )
    if mode not in _MODES:
        raise KubeConfigError(f'invalid interactiveMode for {user_name}: "{mode}"')
    env: list[tuple[str, str]] = []
    for item in entry.get("env") or ():
        name = item.get("name") if isinstance(item, Mapping) else None
        if not isinstance(name, str) or not name:
            raise KubeConfigError(
                f"env variable name must be specified for {user_name} to use exec authentication plugin"
            )
        env.append((name, str(item.get("value") or "")))
    args = entry.get("args") or ()
    if not isinstance(args, (list, tuple)):
        raise KubeConfigError(f"invalid kubeconfig: exec args of {where} must be a list")
    return ExecConfig(
        command=command,
        api_version=str(api_version),
        args=tuple(str(a) for a in args),
        env=tuple(env),
        install_hint=str(entry.get("installHint") or ""),
        provide_cluster_info=bool(entry.get("provideClusterInfo")),
        interactive_mode=mode,
    )


@dataclass(frozen=True, eq=False)
class ExecCredential:
    """What a plugin gave: a token and/or a client certificate (PEM), until ``expires``."""

    token: str = ""
    cert_pem: bytes = b""
    key_pem: bytes = b""
    expires: float | None = None  # seconds since the epoch


def _parse_time(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _cluster_info(cluster: Mapping[str, Any]) -> dict[str, Any]:
    """``spec.cluster`` of the ExecCredential (client.authentication.k8s.io ``Cluster``)."""
    info: dict[str, Any] = {"server": cluster.get("server", "")}
    ca = cluster.get("certificate-authority-data")
    if not ca and cluster.get("certificate-authority"):
        try:
            with open(cluster["certificate-authority"], "rb") as handle:
                ca = base64.b64encode(handle.read()).decode("ascii")
        except OSError:
            ca = None
    for key in ("tls-server-name", "insecure-skip-tls-verify", "proxy-url", "disable-compression"):
        if cluster.get(key):
            info[key] = cluster[key]
    if ca:
        info["certificate-authority-data"] = ca
    for ext in cluster.get("extensions") or ():
        if isinstance(ext, Mapping) and ext.get("name") == "client.authentication.k8s.io/exec":
            info["config"] = ext.get("extension")
    return info


def _stdin_is_terminal() -> bool:
    try:
        return os.isatty(sys.stdin.fileno())
    except (AttributeError, ValueError, OSError):
        return False


@dataclass
class ExecAuthenticator:
    """Runs one plugin and keeps its credential (thread-safe; see the module doc)."""

    config: ExecConfig
    cluster: Mapping[str, Any] = field(default_factory=dict)
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    clock: Callable[[], float] = time.time
    is_terminal: Callable[[], bool] = _stdin_is_terminal
    runs: int = 0
    _cached: ExecCredential | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def credential(self) -> ExecCredential:
        """The current credential, running the plugin when there is none or it expired."""
        with self._lock:
            cached = self._cached
            if cached is not None and (cached.expires is None or self.clock() < cached.expires):
                return cached
            self._cached = self._run()
            return self._cached

    def rejected(self, used: ExecCredential) -> ExecCredential | None:
        """The server answered 401 to ``used``: a fresh credential, or None if nothing changed."""
        with self._lock:
            if self._cached is not used and self._cached is not None:
                return self._cached  # another thread already rotated it
            fresh = self._run()
            self._cached = fresh
        if fresh.token == used.token and fresh.cert_pem == used.cert_pem:
            return None
        return fresh

    # -- running the plugin -----------------------------------------------------------

    def _interactive(self) -> bool:
        mode = self.config.interactive_mode
        if mode == "Never":
            return False
        if mode == "IfAvailable":
            return self.is_terminal()
        if not self.is_terminal():
            raise CredentialError(
                "getting credentials: exec plugin cannot support interactive mode: "
                "standard input is not a terminal",
                "run the command in a terminal, or log in with the plugin first",
            )
        return True

    def _run(self) -> ExecCredential:
        cfg = self.config
        interactive = self._interactive()
        spec: dict[str, Any] = {"interactive": interactive}
        if cfg.provide_cluster_info:
            spec["cluster"] = _cluster_info(self.cluster)
        info = {"apiVersion": cfg.api_version, "kind": "ExecCredential", "spec": spec}
        env = {**self.environ, **dict(cfg.env), "KUBERNETES_EXEC_INFO": json.dumps(info)}
        self.runs += 1
        try:
            done = subprocess.run(
                [cfg.command, *cfg.args],
                env=env,
                stdin=None if interactive else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                check=False,
            )
        except FileNotFoundError:
            raise CredentialError(
                f"getting credentials: exec: executable {cfg.command} not found",
                cfg.install_hint.strip() or _DOCS,
            ) from None
        except OSError as exc:
            raise CredentialError(f"getting credentials: exec: {exc.strerror or exc}") from None
        if done.returncode != 0:
            code = done.returncode if done.returncode > 0 else -1
            raise CredentialError(
                f"getting credentials: exec: executable {cfg.command} failed with exit code {code}",
                "run the plugin by hand to see why (its own messages are above)",
            )
        return self._decode(done.stdout)

    def _decode(self, out: bytes) -> ExecCredential:
        cfg = self.config

        def fail(detail: str) -> CredentialError:
            return CredentialError(f"getting credentials: {detail}")

        try:
            data = json.loads(out)
        except ValueError as exc:
            raise fail(f"decoding stdout: {exc}") from None
        if not isinstance(data, dict) or data.get("kind") != "ExecCredential":
            raise fail("decoding stdout: the plugin did not print an ExecCredential")
        if data.get("apiVersion") != cfg.api_version:
            raise fail(
                f"exec plugin is configured to use API version {cfg.api_version}, "
                f"plugin returned version {data.get('apiVersion')}"
            )
        status = data.get("status")
        if not isinstance(status, dict):
            raise fail("exec plugin didn't return a status field")
        token = str(status.get("token") or "")
        cert = str(status.get("clientCertificateData") or "")
        key = str(status.get("clientKeyData") or "")
        if not token and not cert and not key:
            raise fail("exec plugin didn't return a token or cert/key pair")
        if bool(cert) != bool(key):
            raise fail("exec plugin returned only certificate or key, not both")
        expires = None
        stamp = status.get("expirationTimestamp")
        if stamp:
            try:
                expires = _parse_time(str(stamp))
            except ValueError:
                raise fail(f"decoding stdout: invalid expirationTimestamp {stamp!r}") from None
        return ExecCredential(token=token, cert_pem=cert.encode(), key_pem=key.encode(), expires=expires)
