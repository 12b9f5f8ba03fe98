"""Running one sandbox: bind 127.0.0.1 with a fresh CA, write the kubeconfig and state, serve.

``serve(options, kubeconfig)`` runs until SIGTERM/SIGINT (or until the process named by
``exit_with_parent`` is gone), then ends every stream, stops the cluster and removes the
kubeconfig and state it wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
import secrets
import shutil
import signal
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from kubectl_trace.sandbox.interfaces import SandboxOptions
from kubectl_trace.sandbox.statedir import (
    LOG_FILE,
    STATE_FILE,
    file_sha256,
    remove_own_kubeconfig,
    state_dir_for,
)

__all__ = ["LoopbackError", "check_loopback", "serve"]


class LoopbackError(ValueError):
    """A bind address other than loopback."""


def check_loopback(host: str) -> str:
    """The address to bind, which must be a loopback address; LoopbackError otherwise."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise LoopbackError(
            f"refusing to bind {host!r}: the sandbox listens on loopback only (127.0.0.1)"
        ) from None
    if not address.is_loopback:
        raise LoopbackError(f"refusing to bind {host}: the sandbox listens on loopback only (127.0.0.1)")
    return str(address)


def _write_json(path: str, data: dict[str, Any]) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
    os.replace(tmp, path)


def _parent_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def _watch_parent(pid: int, stop: asyncio.Event) -> None:
    while not stop.is_set():
        if not _parent_alive(pid):
            stop.set()
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.5)


def _cleanup(state_dir: str, kubeconfig: str, kubeconfig_sha: str | None) -> None:
    remove_own_kubeconfig(kubeconfig, kubeconfig_sha)
    with contextlib.suppress(OSError):
        os.unlink(os.path.join(state_dir, STATE_FILE))
    for entry in os.listdir(state_dir) if os.path.isdir(state_dir) else []:
        if entry == LOG_FILE:
            continue
        path = os.path.join(state_dir, entry)
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(path)


def _isolation_problem(cluster: Any) -> str | None:
    """Why pods are not isolated (``sandbox.podbox``); None when they are."""
    envs = getattr(cluster, "envs", None)
    boxes = getattr(envs, "boxes", None)
    problem = getattr(boxes, "problem", None)
    return problem if isinstance(problem, str) else None


async def serve(
    options: SandboxOptions,
    kubeconfig: str,
    *,
    exit_with_parent: int | None = None,
    on_ready: Callable[[dict[str, Any]], None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run a sandbox until told to stop."""
    from aiohttp import web

    from kubectl_trace.sandbox.cluster import build_cluster
    from kubectl_trace.sandbox.server.api import ApiServer
    from kubectl_trace.sandbox.server.app import make_app
    from kubectl_trace.sandbox.server.kubeconfig import kubeconfig_dict, write_kubeconfig
    from kubectl_trace.sandbox.server.tls import make_credentials, server_ssl_context

    host = check_loopback(options.host)
    kubeconfig = os.path.abspath(os.path.expanduser(kubeconfig))
    state_dir = os.path.abspath(options.state_dir or state_dir_for(kubeconfig))
    os.makedirs(state_dir, mode=0o700, exist_ok=True)
    options = SandboxOptions(**{**asdict(options), "host": host, "state_dir": state_dir})
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)

    token = secrets.token_urlsafe(32)
    creds = make_credentials()
    ssl_context = server_ssl_context(creds, os.path.join(state_dir, "tls"))
    cluster = build_cluster(options)
    await cluster.start()
    from kubectl_trace.sandbox.server.issued import IssuedCredentials

    viewer_token = secrets.token_urlsafe(32)
    api = ApiServer(
        cluster.store,
        cluster.runtime,
        token=token,
        options=options,
        issued=IssuedCredentials(creds),
        viewer_token=viewer_token,
    )
    app = make_app(api)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=3.0)
    await runner.setup()
    kubeconfig_sha: str | None = None
    parent_task: asyncio.Task[None] | None = None
    try:
        site = web.TCPSite(runner, host, options.port, ssl_context=ssl_context, reuse_address=False)
        await site.start()
        port = int(runner.addresses[0][1])
        server = f"https://{host}:{port}" if ":" not in host else f"https://[{host}]:{port}"
        api.server_address = f"{host}:{port}"
        write_kubeconfig(kubeconfig, kubeconfig_dict(server, creds.ca_pem, token, viewer_token=viewer_token))
        kubeconfig_sha = file_sha256(kubeconfig)
        state = {
            "pid": os.getpid(),
            "host": host,
            "port": port,
            "server": server,
            "kubeconfig": kubeconfig,
            "kubeconfigSha256": kubeconfig_sha,
            "startedAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "started": time.time(),
            "options": {k: v for k, v in asdict(options).items() if k != "extra_images"},
            "podIsolationProblem": _isolation_problem(cluster),
            "containers": str(getattr(cluster, "containers_description", "simulated")),
        }
        _write_json(os.path.join(state_dir, STATE_FILE), state)
        if exit_with_parent:
            parent_task = asyncio.create_task(_watch_parent(exit_with_parent, stop))
        if on_ready is not None:
            on_ready(state)
        await stop.wait()
    finally:
        if parent_task is not None:
            parent_task.cancel()
        try:
            await runner.cleanup()
        finally:
            try:
                await cluster.stop()
            finally:
                _cleanup(state_dir, kubeconfig, kubeconfig_sha)
