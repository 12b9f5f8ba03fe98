"""Helpers of the debug tests: an app of one's own in the session sandbox, a command run as a process."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.e2e.pods import is_ready, is_running, live_pods
from tests.processes import end

ROOT = Path(__file__).resolve().parents[3]

IMAGE = "registry.sandbox.local/trace/trace-api:3f9c2a1"


def web_deployment(app: str, replicas: int = 2) -> dict[str, Any]:
    """A Deployment ``APP-web`` labelled app=APP, process=web, serving /healthz on port 3000 (http)."""
    labels = {"app": app, "process": "web"}
    probe = {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 2}
    container = {
        "name": "web",
        "image": IMAGE,
        "env": [{"name": "PROCESS_TYPE", "value": "web"}, {"name": "PORT", "value": "3000"}],
        "ports": [{"name": "http", "containerPort": 3000}],
        "readinessProbe": probe,
    }
    return {
        "metadata": {"name": f"{app}-web", "labels": {"app": app}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }


def ready_pods(kube: Any, namespace: str, app: str) -> list[str]:
    """Names of the app's running, ready, not terminating pods."""
    pods = live_pods(kube, namespace, f"app={app}", lambda pod: is_running(pod) and is_ready(pod))
    return sorted(str(pod["metadata"]["name"]) for pod in pods)


@contextmanager
def own_app(kube: Any, eventually: Any, app: str = "shop", replicas: int = 2) -> Iterator[str]:
    """A fresh namespace with ``APP-web`` ready; the namespace's name. Deleted afterwards."""
    namespace = f"dbg-{uuid.uuid4().hex[:8]}"
    kube.create("namespaces", {"metadata": {"name": namespace}})
    try:
        kube.create("deployments", web_deployment(app, replicas), namespace)
        eventually(
            lambda: len(ready_pods(kube, namespace, app)) == replicas, timeout=60, message=f"{app} ready"
        )
        yield namespace
    finally:
        kube.delete("namespaces", namespace)


class Running:
    """``kubectl nodeapp forward …`` as a process: its stdout and stderr lines as they come."""

    def __init__(self, argv: list[str]) -> None:
        env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kubectl_trace", *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        self.lines: dict[str, queue.Queue[str]] = {"out": queue.Queue(), "err": queue.Queue()}
        self.seen: dict[str, list[str]] = {"out": [], "err": []}
        for name, stream in (("out", self.process.stdout), ("err", self.process.stderr)):
            threading.Thread(target=self._read, args=(name, stream), daemon=True).start()

    def _read(self, name: str, stream: Any) -> None:
        for line in stream:
            self.lines[name].put(line)

    def line(self, which: str, pattern: str, timeout: float = 30) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                text = self.lines[which].get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            self.seen[which].append(text)
            found = re.search(pattern, text)
            if found:
                return found
        raise AssertionError(f"no {which} line matching {pattern!r}; saw {self.seen}")

    def interrupt(self) -> int:
        return end(self.process, signal.SIGINT)
