"""The client layer against a tiny loopback HTTP server that answers what each test scripts.

Malformed answers, and answers a scripted server makes exact (Retry-After, a 403 body), are
produced here; the sandbox's own 401/403/404/409 (its read-only context ``sandbox-readonly``)
are covered by tests/e2e/kube/test_calls_branches.py and the command tests. Every test runs with both clients
(the lean one commands use, and the official-client fallback): one request path, one
retry policy, one error vocabulary.
"""

import json
import threading
import time

import pytest

from kubectl_trace.kube.errors import ApiError, TransportError
from kubectl_trace.kube.queries import Selection
from kubectl_trace.kube.retry import Backoff
from kubectl_trace.kube.watch import ResilientWatch
from tests.inprocess import invoke
from tests.scripted_api import kube, status

pytestmark = pytest.mark.usefixtures("client_kind")  # every test with both clients


def test_token_is_sent_and_list_parsed(scripted_server, scripted_kubeconfig):
    scripted_server.answer(
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
    listed = kube(scripted_kubeconfig).list("pods")
    assert listed.resource_version == "42"
    assert listed.items == [{"metadata": {"name": "a"}, "kind": "Pod", "apiVersion": "v1"}]
    assert scripted_server.requests[-1][1] == "Bearer secret-token"


def test_403_is_one_line_with_hint(scripted_server, scripted_kubeconfig):
    message = 'pods is forbidden: User "dev" cannot list resource "pods" in API group "" in the namespace "production"'
    scripted_server.answer("*", (403, status(403, "Forbidden", message)))
    scripted_server.answer("/version", (200, {"gitVersion": "v1.37.0"}))
    with pytest.raises(ApiError) as info:
        kube(scripted_kubeconfig).list("pods")
    assert (str(info.value), info.value.hint) == (
        f"forbidden: {message}",
        "ask a cluster admin for access (check with: kubectl auth can-i …)",
    )
    out, err, code = invoke("info", "--kubeconfig", scripted_kubeconfig)
    assert code == 1 and err == ""
    assert "list pods         NO (forbidden)" in out
    assert "(cannot check (forbidden))" in out


def test_401(scripted_server, scripted_kubeconfig):
    scripted_server.answer("*", (401, status(401, "Unauthorized", "Unauthorized")))
    _, err, code = invoke("info", "--kubeconfig", scripted_kubeconfig)
    assert code == 1
    assert (
        err.splitlines()[0]
        == f'error: unauthorized: the API server at http://127.0.0.1:{scripted_server.server_port} rejected the credentials of context "t"'
    )


def test_missing_namespace_reported(scripted_server, scripted_kubeconfig):
    scripted_server.answer("/version", (200, {"gitVersion": "v1.37.0"}))
    scripted_server.answer(
        "/api/v1/namespaces/nope", (404, status(404, "NotFound", 'namespaces "nope" not found'))
    )
    scripted_server.answer("*", (200, {"items": [], "metadata": {"resourceVersion": "1"}}))
    out, _err, code = invoke("info", "--kubeconfig", scripted_kubeconfig, "-n", "nope")
    assert code == 1
    assert "nope  (NOT FOUND)" in out
    with pytest.raises(ApiError, match='namespace "nope" not found'):
        kube(scripted_kubeconfig).require_namespace("nope")


def test_429_retry_after_is_honoured(scripted_server, scripted_kubeconfig):
    sleeps = []
    scripted_server.answer(
        "/api/v1/namespaces/production/pods/p",
        (429, status(429, "TooManyRequests", "slow down"), {"Retry-After": "3"}),
        (200, {"metadata": {"name": "p"}}),
    )
    assert kube(scripted_kubeconfig, sleep=sleeps.append).get("pods", "p")["metadata"]["name"] == "p"
    assert sleeps == [3.0]


def test_5xx_gives_up_after_policy(scripted_server, scripted_kubeconfig):
    scripted_server.answer("*", (503, b"<html>upstream down</html>"))
    with pytest.raises(ApiError) as info:
        kube(scripted_kubeconfig, sleep=lambda s: None).get("pods", "p")
    assert info.value.status == 503 and str(info.value).startswith("the API server failed (503")
    assert len(scripted_server.requests) == 3


def test_invalid_json(scripted_server, scripted_kubeconfig):
    scripted_server.answer("*", (200, b"{not json"))
    with pytest.raises(ApiError, match="invalid JSON"):
        kube(scripted_kubeconfig).get("pods", "p")


def test_watch_resumes_from_last_rv_and_relists_on_410(scripted_server, scripted_kubeconfig):
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

    scripted_server.answer(pods, handle)
    watch = ResilientWatch(
        kube(scripted_kubeconfig),
        Selection("pods"),
        policy=Backoff(initial=0.01, jitter=0, max_attempts=None),
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
    watch_paths = [p for p, _ in scripted_server.requests if "watch=true" in p]
    assert "resourceVersion=10" in watch_paths[0]
    assert "resourceVersion=11" in watch_paths[1]  # resumed from the last event seen
    assert "resourceVersion=30" in watch_paths[2]  # after the relist
    assert watch.relists == 1


def test_a_watch_that_fails_is_closed_before_the_relist(scripted_server, scripted_kubeconfig):
    """410 Expired on a stream the server keeps open: the watch reads the event at once (it
    came with the headers), closes the stream, then relists."""
    pods = "/api/v1/namespaces/production/pods"
    closed = threading.Event()
    watches = iter(["expired", "quiet"])

    def handle(h):
        if "watch=true" not in h.path:
            return h._send(200, {"kind": "PodList", "metadata": {"resourceVersion": "10"}, "items": []})
        if next(watches, "quiet") == "quiet":
            return h._send(200, b"")
        expired = {"type": "ERROR", "object": status(410, "Expired", "too old resource version: 10 (20)")}
        h.protocol_version = "HTTP/1.1"  # as an API server answers a watch: chunked, kept open
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        line = json.dumps(expired).encode() + b"\n"
        h.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
        h.wfile.flush()
        h.connection.settimeout(10)
        try:  # the stream stays open: only the client can end it
            while h.connection.recv(1024):
                pass
            closed.set()
        except OSError:
            pass

    scripted_server.answer(pods, handle)
    watch = ResilientWatch(
        kube(scripted_kubeconfig),
        Selection("pods"),
        policy=Backoff(initial=0.01, jitter=0, max_attempts=None),
    )
    resets = 0
    started = time.monotonic()
    for event in watch:
        resets += event.type == "RESET"
        if resets == 2:  # the relist after the 410
            break
    watch.stop()
    assert watch.relists == 1
    assert closed.wait(5), "the expired watch stream was left open"
    assert time.monotonic() - started < 5, "the ERROR event was read only when the server gave up"


def test_request_timeout_is_honoured_by_both_clients(scripted_server, scripted_kubeconfig):
    """--request-timeout bounds each attempt; a timeout is retried by the one policy, then reported."""
    release = threading.Event()

    def slow(handler):
        release.wait(5)
        handler._send(200, {"kind": "Pod", "metadata": {"name": "p"}})

    scripted_server.answer("/api/v1/namespaces/production/pods/p", slow)
    client = kube(scripted_kubeconfig, request_timeout=0.3, sleep=lambda s: None)
    started = time.monotonic()
    try:
        with pytest.raises(TransportError) as caught:
            client.get("pods", "p")
    finally:
        release.set()
    assert caught.value.kind == "timeout"
    assert "did not answer in time" in caught.value.message
    assert len(scripted_server.requests) == 3  # the policy's three attempts
    assert time.monotonic() - started < 3
