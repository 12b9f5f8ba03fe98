"""The client layer against a tiny loopback HTTP server that answers what each test scripts.

The sandbox has no RBAC, so 403 (and malformed answers) are produced here; everything else
is also covered against the sandbox by the command tests. Every test runs with both clients
(the lean one commands use, and the official-client fallback): one request path, one
retry policy, one error vocabulary.
"""

import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from kubectl_trace.cli.runner import run
from kubectl_trace.environment import Environment
from kubectl_trace.kube.client import Kube
from kubectl_trace.kube.config import load_connection
from kubectl_trace.kube.errors import ApiError, TransportError
from kubectl_trace.kube.lite import connect_lite
from kubectl_trace.kube.retry import Backoff
from kubectl_trace.kube.settings import KubeSettings
from kubectl_trace.kube.watch import ResilientWatch


class Scripted(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.routes = {}
        self.requests = []

    def answer(self, path, *responses):
        self.routes[path] = list(responses)

    def handle_error(self, request, client_address):
        # a client that gives up (the timeout tests) breaks the pipe under the handler:
        # expected here, and socketserver would print a traceback into the test output
        self.errors = [*getattr(self, "errors", []), client_address]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        server = self.server
        path = self.path.split("?")[0]
        server.requests.append((self.path, self.headers.get("Authorization")))
        queue = server.routes.get(path) or server.routes.get("*")
        if not queue:
            return self._send(
                404, {"kind": "Status", "reason": "NotFound", "message": f"{path} not found", "code": 404}
            )
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        if callable(item):
            return item(self)
        status, body, *headers = item
        self._send(status, body, headers[0] if headers else {})

    def _send(self, status, body, headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server():
    srv = Scripted()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def kubeconfig(server, tmp_path):
    path = tmp_path / "config"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "t",
                "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{server.server_port}"}}],
                "users": [{"name": "u", "user": {"token": "secret-token"}}],
                "contexts": [
                    {"name": "t", "context": {"cluster": "c", "user": "u", "namespace": "production"}}
                ],
            }
        )
    )
    return str(path)


CLIENT = {"kind": "lean"}


@pytest.fixture(autouse=True, params=["lean", "official"])
def client_kind(request, monkeypatch):
    monkeypatch.setitem(CLIENT, "kind", request.param)
    return request.param


def kube(kubeconfig, request_timeout=None, **kw):
    retry = Backoff(initial=0.01, jitter=0, max_attempts=3)
    settings = KubeSettings(kubeconfig=kubeconfig, request_timeout=request_timeout)
    if CLIENT["kind"] == "official":
        return Kube(load_connection(settings), retry=retry, **kw)
    client = connect_lite(settings, {}, retry=retry)
    assert client is not None
    if "sleep" in kw:
        client._sleep = kw["sleep"]
    return client


def status(code, reason, message):
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "reason": reason,
        "message": message,
        "code": code,
    }


def invoke(*argv):
    env = Environment(io.StringIO(), io.StringIO(), io.StringIO(), False, False, False, {})
    code = run(list(argv), env)
    return env.stdout.getvalue(), env.stderr.getvalue(), code


def test_token_is_sent_and_list_parsed(server, kubeconfig):
    server.answer(
        "/api/v1/namespaces/production/pods",
        (
            200,
            {
                "kind": "PodList",
                "metadata": {"resourceVersion": "42"},
                "items": [{"metadata": {"name": "a"}}],
            },
        ),
    )
    listed = kube(kubeconfig).list("pods")
    assert listed.resource_version == "42"
    assert listed.items == [{"metadata": {"name": "a"}, "kind": "Pod", "apiVersion": "v1"}]
    assert server.requests[-1][1] == "Bearer secret-token"


def test_403_is_one_line_with_hint(server, kubeconfig):
    message = 'pods is forbidden: User "dev" cannot list resource "pods" in API group "" in the namespace "production"'
    server.answer("*", (403, status(403, "Forbidden", message)))
    server.answer("/version", (200, {"gitVersion": "v1.37.0"}))
    with pytest.raises(ApiError) as info:
        kube(kubeconfig).list("pods")
    assert (str(info.value), info.value.hint) == (
        f"forbidden: {message}",
        "ask a cluster admin for access (check with: kubectl auth can-i …)",
    )
    out, err, code = invoke("info", "--kubeconfig", kubeconfig)
    assert code == 1 and err == ""
    assert "list pods         NO (forbidden)" in out
    assert "(cannot check (forbidden))" in out


def test_401(server, kubeconfig):
    server.answer("*", (401, status(401, "Unauthorized", "Unauthorized")))
    _, err, code = invoke("info", "--kubeconfig", kubeconfig)
    assert code == 1
    assert (
        err.splitlines()[0]
        == f'error: unauthorized: the API server at http://127.0.0.1:{server.server_port} rejected the credentials of context "t"'
    )


def test_missing_namespace_reported(server, kubeconfig):
    server.answer("/version", (200, {"gitVersion": "v1.37.0"}))
    server.answer("/api/v1/namespaces/nope", (404, status(404, "NotFound", 'namespaces "nope" not found')))
    server.answer("*", (200, {"items": [], "metadata": {"resourceVersion": "1"}}))
    out, _err, code = invoke("info", "--kubeconfig", kubeconfig, "-n", "nope")
    assert code == 1
    assert "nope  (NOT FOUND)" in out
    with pytest.raises(ApiError, match='namespace "nope" not found'):
        kube(kubeconfig).require_namespace("nope")


def test_429_retry_after_is_honoured(server, kubeconfig):
    sleeps = []
    server.answer(
        "/api/v1/namespaces/production/pods/p",
        (429, status(429, "TooManyRequests", "slow down"), {"Retry-After": "3"}),
        (200, {"metadata": {"name": "p"}}),
    )
    assert kube(kubeconfig, sleep=sleeps.append).get("pods", "p")["metadata"]["name"] == "p"
    assert sleeps == [3.0]


def test_5xx_gives_up_after_policy(server, kubeconfig):
    server.answer("*", (503, b"<html>upstream down</html>"))
    with pytest.raises(ApiError) as info:
        kube(kubeconfig, sleep=lambda s: None).get("pods", "p")
    assert info.value.status == 503 and str(info.value).startswith("the API server failed (503")
    assert len(server.requests) == 3


def test_invalid_json(server, kubeconfig):
    server.answer("*", (200, b"{not json"))
    with pytest.raises(ApiError, match="invalid JSON"):
        kube(kubeconfig).get("pods", "p")


def test_watch_resumes_from_last_rv_and_relists_on_410(server, kubeconfig):
    pods = "/api/v1/namespaces/production/pods"
    lists = iter(
        [
            {
                "metadata": {"resourceVersion": "10"},
                "items": [{"metadata": {"name": "a", "resourceVersion": "9"}}],
            },
            {
                "metadata": {"resourceVersion": "30"},
                "items": [{"metadata": {"name": "b", "resourceVersion": "29"}}],
            },
        ]
    )
    watches = iter(
        [
            [
                {"type": "ADDED", "object": {"metadata": {"name": "x", "resourceVersion": "11"}}}
            ],  # then the stream drops
            [{"type": "ERROR", "object": status(410, "Expired", "too old resource version: 11 (20)")}],
            [{"type": "MODIFIED", "object": {"metadata": {"name": "b", "resourceVersion": "31"}}}],
        ]
    )

    def handle(h):
        if "watch=true" in h.path:
            try:
                events = next(watches)
            except StopIteration:
                return h._send(200, b"")
            return h._send(200, b"".join(json.dumps(e).encode() + b"\n" for e in events))
        return h._send(200, next(lists))

    server.answer(pods, handle)
    watch = ResilientWatch(
        kube(kubeconfig), "pods", policy=Backoff(initial=0.01, jitter=0, max_attempts=None)
    )
    seen = []
    for event in watch:
        seen.append(
            (
                event.type,
                event.object["metadata"]["name"]
                if event.object
                else [i["metadata"]["name"] for i in event.items],
            )
        )
        if len(seen) == 4:
            watch.stop()
    assert seen == [("RESET", ["a"]), ("ADDED", "x"), ("RESET", ["b"]), ("MODIFIED", "b")]
    watch_paths = [p for p, _ in server.requests if "watch=true" in p]
    assert "resourceVersion=10" in watch_paths[0]
    assert "resourceVersion=11" in watch_paths[1]  # resumed from the last event seen
    assert "resourceVersion=30" in watch_paths[2]  # after the relist
    assert watch.relists == 1


def test_request_timeout_is_honoured_by_both_clients(server, kubeconfig):
    """--request-timeout bounds each attempt; a timeout is retried by the one policy, then reported."""
    release = threading.Event()

    def slow(handler):
        release.wait(5)
        handler._send(200, {"kind": "Pod", "metadata": {"name": "p"}})

    server.answer("/api/v1/namespaces/production/pods/p", slow)
    client = kube(kubeconfig, request_timeout=0.3, sleep=lambda s: None)
    started = time.monotonic()
    try:
        with pytest.raises(TransportError) as caught:
            client.get("pods", "p")
    finally:
        release.set()
    assert caught.value.kind == "timeout"
    assert "did not answer in time" in caught.value.message
    assert len(server.requests) == 3  # the policy's three attempts
    assert time.monotonic() - started < 3
