"""The kubeconfig a sandbox writes: context ``nodeapp-sandbox`` (CA, bearer token), ``sandbox-readonly``."""

from __future__ import annotations

import base64
import contextlib
import os
import tempfile
from typing import Any

__all__ = ["CONTEXT", "READONLY_CONTEXT", "VIEWER_USER", "kubeconfig_dict", "write_kubeconfig"]

CONTEXT = "nodeapp-sandbox"
READONLY_CONTEXT = "sandbox-readonly"  # the read-only user's context (server.identity)
VIEWER_USER = "viewer"


def kubeconfig_dict(
    server: str, ca_pem: bytes, token: str, namespace: str = "default", viewer_token: str | None = None
) -> dict[str, Any]:
    """The kubeconfig contents for one sandbox (plus context ``sandbox-readonly``, user ``viewer``)."""
    config: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": CONTEXT,
                "cluster": {
                    "server": server,
                    "certificate-authority-data": base64.b64encode(ca_pem).decode("ascii"),
                },
            }
        ],
        "users": [{"name": CONTEXT, "user": {"token": token}}],
        "contexts": [
            {
                "name": CONTEXT,
                "context": {"cluster": CONTEXT, "user": CONTEXT, "namespace": namespace},
            }
        ],
        "current-context": CONTEXT,
        "preferences": {},
    }
    if viewer_token:
        config["users"].append({"name": VIEWER_USER, "user": {"token": viewer_token}})
        config["contexts"].append(
            {
                "name": READONLY_CONTEXT,
                "context": {"cluster": CONTEXT, "user": VIEWER_USER, "namespace": namespace},
            }
        )
    return config


def write_kubeconfig(path: str, config: dict[str, Any]) -> None:
    """Write ``config`` to ``path`` atomically with mode 0600 (it holds a token)."""
    import yaml

    path = os.path.abspath(os.path.expanduser(path))
    home_config = os.path.abspath(os.path.expanduser("~/.kube/config"))
    if path == home_config:
        raise ValueError("refusing to overwrite ~/.kube/config; pass another --kubeconfig path")
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".kubeconfig-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            yaml.safe_dump(config, handle, default_flow_style=False, sort_keys=False)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
