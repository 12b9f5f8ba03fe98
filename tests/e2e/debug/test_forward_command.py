"""``kubectl nodeapp forward`` end to end: the real command, the real kubectl for the rollout."""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tests.e2e.debug.apps import own_app, ready_pods

ROOT = Path(__file__).resolve().parents[3]


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
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def _healthz(port: int) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request("GET", "/healthz")
        answer = conn.getresponse()
        return answer.status, json.loads(answer.read())
    finally:
        conn.close()


def test_forward_answers_and_follows_a_rollout(
    sandbox: Any, kube: Any, kubectl: Any, eventually: Any
) -> None:
    with own_app(kube, eventually) as namespace:
        before = set(ready_pods(kube, namespace, "shop"))
        running = Running(["forward", "shop", "0:3000", "-n", namespace, "--kubeconfig", sandbox.kubeconfig])
        try:
            found = running.line(
                "out", r"Forwarding http://127\.0\.0\.1:(\d+) -> (shop-web-\S+):3000 \(Ctrl-C"
            )
            port, first = int(found.group(1)), found.group(2)
            assert first in before
            status, body = _healthz(port)
            assert status == 200 and body["status"] == "ok"

            kubectl("rollout", "restart", "deployment/shop-web", "-n", namespace, check=True)
            moved = running.line(
                "err",
                rf"pod {re.escape(first)} is (terminating|deleted|not ready); forwarding to (shop-web-\S+) now",
                timeout=60,
            )
            new = moved.group(2)
            assert new not in before
            eventually(lambda: _healthz(port)[0] == 200, timeout=20, message="the forward answers again")
            assert _healthz(port)[1]["status"] == "ok"
        finally:
            code = running.interrupt()
        assert code == 0, running.seen


def test_bad_input_is_one_line_and_no_traceback(invoke: Any, sandbox: Any) -> None:
    cases = {
        ("forward", "trace-api", "99999", "-n", "production"): "invalid remote port '99999'",
        ("forward", "trace-api", "x:3000", "-n", "production"): "invalid local port 'x'",
        ("forward", "no-such-app", "3000", "-n", "production"): "no app 'no-such-app' in production",
        (
            "forward",
            "trace-api",
            "0:3000",
            "--pod",
            "nope",
            "-n",
            "production",
        ): "pod nope is not a pod of app trace-api (web)",
        ("forward", "trace-api", "0:nothere", "-n", "production"): "has no port named 'nothere'",
    }
    for argv, message in cases.items():
        result = invoke(*argv, kubeconfig=sandbox.kubeconfig)
        assert result.exit_code != 0, argv
        first = result.stderr.splitlines()[0]
        assert first.startswith("error: ") and message in first, result.stderr
        assert "Traceback" not in result.stderr and result.stdout == ""
