"""Exec credential plugins for tests: tiny Python scripts written into a test's directory.

``write_plugin(directory, token=…)`` writes an executable that prints an ``ExecCredential``
(a token and/or a client certificate, optionally expiring) and, when ``log`` is given,
appends one JSON line per run holding its argv, ``KUBERNETES_EXEC_INFO`` and the variables
named in ``record``. ``exit_code`` makes it fail after printing ``stderr`` text.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

V1 = "client.authentication.k8s.io/v1"
V1BETA1 = "client.authentication.k8s.io/v1beta1"

_SCRIPT = """#!{python}
import json, os, sys, datetime
spec = {spec}
if spec["log"]:
    with open(spec["log"], "a") as handle:
        handle.write(json.dumps({{
            "argv": sys.argv[1:],
            "info": json.loads(os.environ.get("KUBERNETES_EXEC_INFO", "null")),
            "env": {{name: os.environ.get(name) for name in spec["record"]}},
            "stdin_is_tty": os.isatty(0),
        }}) + "\\n")
if spec["stderr"]:
    sys.stderr.write(spec["stderr"] + "\\n")
if spec["exit_code"]:
    sys.exit(spec["exit_code"])
token = spec["token"]
if spec["token_file"]:
    with open(spec["token_file"]) as handle:
        token = handle.read().strip()
status = {{}}
if token:
    status["token"] = token
if spec["cert"]:
    status["clientCertificateData"] = spec["cert"]
    status["clientKeyData"] = spec["key"]
if spec["expires_in"] is not None:
    when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=spec["expires_in"])
    status["expirationTimestamp"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
print(json.dumps({{"apiVersion": spec["answer_version"], "kind": "ExecCredential", "status": status}}))
"""


def write_plugin(
    directory: Path,
    *,
    name: str = "credential-plugin",
    token: str | None = None,
    token_file: str | None = None,
    cert: str | None = None,
    key: str | None = None,
    api_version: str = V1,
    answer_version: str | None = None,
    expires_in: float | None = None,
    exit_code: int = 0,
    stderr: str = "",
    log: Path | None = None,
    record: tuple[str, ...] = (),
) -> Path:
    """Write the plugin script and return its path (see the module doc)."""
    spec = {
        "token": token,
        "token_file": token_file,
        "cert": cert,
        "key": key,
        "answer_version": answer_version or api_version,
        "expires_in": expires_in,
        "exit_code": exit_code,
        "stderr": stderr,
        "log": str(log) if log else None,
        "record": list(record),
    }
    path = directory / name
    path.write_text(_SCRIPT.format(python=sys.executable, spec=repr(spec)))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def runs(log: Path) -> list[dict[str, Any]]:
    """The runs a plugin logged."""
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def exec_user(command: str | os.PathLike[str], api_version: str = V1, **extra: Any) -> dict[str, Any]:
    """A kubeconfig ``user`` entry that runs ``command``."""
    entry: dict[str, Any] = {"apiVersion": api_version, "command": str(command)}
    if api_version == V1:
        entry["interactiveMode"] = "Never"
    entry.update(extra)
    return {"exec": entry}
