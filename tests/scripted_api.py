"""A tiny loopback HTTP API server that answers what each test scripts, and clients for it.

The sandbox has no RBAC, so 403s (and malformed answers) come from here. The fixtures
(``scripted_server``, ``scripted_kubeconfig``, ``client_kind``) are in ``tests/e2e/conftest.py``.
"""

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from kubectl_trace.kube.client import Kube
from kubectl_trace.kube.config import load_connection
from kubectl_trace.kube.lite import connect_lite
from kubectl_trace.kube.retry import Backoff
from kubectl_trace.kube.settings import KubeSettings


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


CLIENT = {"kind": "lean"}  # which client kube() makes; the client_kind fixture sets it


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
