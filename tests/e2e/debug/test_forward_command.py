"""``kubectl nodeapp forward`` end to end: the real command, the real kubectl for the rollout."""

from __future__ import annotations

import http.client
import json
import re
from typing import Any

from tests.e2e.debug.tools import Running, own_app, ready_pods


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
