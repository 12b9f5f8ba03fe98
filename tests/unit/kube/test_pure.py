"""Pure parts of the client: selectors, TARGET classification, API errors, the retry policy."""

import re

import pytest

from kubectl_trace.errors import UsageError
from kubectl_trace.kube.errors import ApiError, TransportError, api_error, transport_error
from kubectl_trace.kube.retry import Backoff, RetryDecision, call_with_retry
from kubectl_trace.kube.selectors import (
    SelectorError,
    format_label_selector,
    match_label_selector_object,
    match_labels,
    parse_field_selector,
    parse_label_selector,
)
from kubectl_trace.kube.targets import Target, classify, deployment_process, pod_process
from tests import factories

# -- selectors ------------------------------------------------------------------------------


def test_label_selector_forms():
    reqs = parse_label_selector("app=trace-api,process in (web, worker),!canary,tier,env!=prod,x==y")
    labels = {"app": "trace-api", "process": "web", "tier": "a", "x": "y"}
    assert match_labels(reqs, labels)
    assert not match_labels(reqs, {**labels, "canary": "1"})
    assert not match_labels(reqs, {**labels, "process": "clock"})
    assert not match_labels(reqs, {**labels, "env": "prod"})
    assert match_labels(parse_label_selector("k notin (a)"), {})
    assert match_labels(parse_label_selector(""), {"any": "thing"})


@pytest.mark.parametrize("bad", ["a=b,", "=b", "a in (b", "a=b=c"])
def test_label_selector_rejects(bad):
    with pytest.raises(SelectorError):
        parse_label_selector(bad)


def test_label_selector_object_and_format():
    sel = {
        "matchLabels": {"app": "a"},
        "matchExpressions": [{"key": "process", "operator": "In", "values": ["web"]}],
    }
    assert match_label_selector_object(sel, {"app": "a", "process": "web"})
    assert not match_label_selector_object(sel, {"app": "a", "process": "worker"})
    assert not match_label_selector_object(None, {"app": "a"})
    assert match_label_selector_object({}, {"x": "y"})
    text = format_label_selector(sel)
    assert text == "app=a,process in (web)"
    assert match_labels(parse_label_selector(text), {"app": "a", "process": "web"})


def test_field_selector():
    reqs = parse_field_selector("involvedObject.name=p1,type!=Normal")
    fields = {"involvedObject.name": "p1", "type": "Warning"}
    assert all(r.matches(fields.get) for r in reqs)
    assert not all(r.matches({"involvedObject.name": "p1", "type": "Normal"}.get) for r in reqs)


# -- TARGET ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        (None, "all", ""),
        ("pod/web-1", "pod", "web-1"),
        ("deploy/trace-api-web", "deployment", "trace-api-web"),
        ("deployment.apps/x", "deployment", "x"),
        ("trace-api", "name", "trace-api"),
        ("web-.*-x2k", "regex", "web-.*-x2k"),
        ("^api", "regex", "^api"),
    ],
)
def test_classify(text, kind, value):
    q = classify(text)
    assert (q.kind, q.text) == (kind, value)


def test_classify_invalid_regex():
    with pytest.raises(UsageError, match=r"invalid TARGET regular expression '\(web'"):
        classify("(web")


def pod(name, labels=None, env=None, ns="production"):
    """Pod NAME with only ``labels`` and one container ``app`` with ``env``."""
    env_vars = [{"name": k, "value": v} for k, v in (env or {}).items()]
    return factories.pod(
        name, namespace=ns, labels=labels or {}, containers=[factories.container("app", env=env_vars)]
    )


def deployment(name, match, process=None):
    """Deployment NAME selecting ``match``; its pods also labelled ``process`` when given."""
    pod_labels = {**match, "process": process} if process else match
    return factories.deployment_manifest(name, "production", match, [], pod_labels=pod_labels)


def test_process_of_pod_label_or_env():
    assert pod_process({"process": "web"}, []) == "web"
    assert pod_process({}, [{"env": [{"name": "PROCESS_TYPE", "value": "clock"}]}]) == "clock"
    assert pod_process({}, [{"env": [{"name": "PROCESS_TYPE", "valueFrom": {}}]}]) is None
    assert deployment_process(deployment("d", {"app": "a"}, "worker")) == "worker"


def test_target_matches_app_deployments_and_process():
    web = deployment("trace-api-web", {"app": "trace-api", "process": "web"}, "web")
    worker = deployment("trace-api-worker", {"app": "trace-api", "process": "worker"}, "worker")
    target = Target(namespace="production", description="app", kind="app", deployments=(web, worker))
    p_web = pod("trace-api-web-1", {"app": "trace-api", "process": "web"})
    p_ui = pod("trace-ui-1", {"app": "trace-ui", "process": "web"})
    assert target.matches(p_web) and not target.matches(p_ui)
    assert not target.matches(pod("trace-api-web-2", {"app": "trace-api", "process": "web"}, ns="staging"))
    narrowed = Target(
        namespace="production", description="", kind="app", deployments=(web, worker), process="worker"
    )
    assert not narrowed.matches(p_web)
    assert narrowed.matches(pod("w", {"app": "trace-api", "process": "worker"}))
    by_env = Target(namespace=None, description="", kind="all", process="clock")
    assert by_env.matches(pod("c", {}, {"PROCESS_TYPE": "clock"}))
    regex = Target(namespace=None, description="", kind="regex", pod_regex=re.compile("web-[0-9]"))
    assert [p["metadata"]["name"] for p in regex.select([pod("web-2"), pod("web-x"), pod("web-1")])] == [
        "web-1",
        "web-2",
    ]


# -- errors and retries --------------------------------------------------------------------


def test_api_error_messages():
    body = {
        "kind": "Status",
        "message": 'pods is forbidden: User "x" cannot list resource "pods"',
        "reason": "Forbidden",
        "code": 403,
    }
    err = api_error(403, body)
    assert str(err) == 'forbidden: pods is forbidden: User "x" cannot list resource "pods"'
    assert err.hint and "access" in err.hint and not err.retriable
    err = api_error(
        404, {"message": 'deployments.apps "web" not found', "reason": "NotFound"}, namespace="prod"
    )
    assert str(err) == 'deployments.apps "web" not found in namespace "prod"'
    err = api_error(401, b"Unauthorized", server="https://s", context="c")
    assert str(err) == 'unauthorized: the API server at https://s rejected the credentials of context "c"'
    err = api_error(429, {"message": "slow down"}, {"Retry-After": "2"})
    assert err.retriable and err.retry_after == 2.0 and "retry in 2s" in str(err)
    err = api_error(503, b"<html>oops</html>")
    assert err.retriable and str(err).startswith("the API server failed (503")
    assert api_error(409, {"reason": "Conflict", "message": "m"}).conflict
    assert not api_error(409, {"reason": "AlreadyExists", "message": "m"}).conflict
    assert api_error(410, {"message": "too old"}).expired


def test_transport_error_classification():
    refused = ConnectionRefusedError(111, "Connection refused")
    err = transport_error(refused, server="https://127.0.0.1:9", context="a")
    assert (err.kind, str(err)) == (
        "refused",
        "cannot reach the API server at https://127.0.0.1:9: connection refused",
    )
    import ssl

    tls = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    err = transport_error(tls, server="https://s")
    assert err.kind == "tls" and not err.retriable and "TLS verification failed" in str(err)
    assert transport_error(TimeoutError("timed out")).kind == "timeout"


def test_backoff_policy():
    policy = Backoff(initial=1, factor=2, cap=5, jitter=0, max_attempts=4)
    retriable = TransportError("x", kind="connection")
    assert [policy(retriable, n).delay for n in (1, 2, 3)] == [1, 2, 4]
    assert policy(retriable, 4) == RetryDecision(False)
    assert policy(api_error(503, {}, {"Retry-After": "7"}), 1) == RetryDecision(True, 7.0)
    assert not policy(api_error(404, {}), 1).retry
    assert not policy(ValueError("x"), 1).retry
    assert not Backoff(retry_refused=False)(TransportError("r", kind="refused"), 1).retry
    forever = Backoff(max_attempts=None, jitter=0, cap=3)
    assert forever(retriable, 1000) == RetryDecision(True, 3)


def test_call_with_retry_honours_policy():
    calls, sleeps = [], []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise api_error(429, {}, {"Retry-After": "1"})
        return "ok"

    assert call_with_retry(flaky, Backoff(max_attempts=5), sleep=sleeps.append) == "ok"
    assert sleeps == [1.0, 1.0]
    with pytest.raises(ApiError):
        call_with_retry(lambda: (_ for _ in ()).throw(api_error(403, {})), Backoff(), sleep=sleeps.append)


def test_pod_status_column_like_kubectl():
    from kubectl_trace.kube.podstatus import pod_status_column

    def pod(**status):
        return {"metadata": {"name": "p"}, "status": status}

    running = {"state": {"running": {}}, "ready": True}
    assert pod_status_column(pod(phase="Running", containerStatuses=[running])) == "Running"
    crash = {"state": {"waiting": {"reason": "CrashLoopBackOff"}}}
    assert pod_status_column(pod(phase="Running", containerStatuses=[running, crash])) == "CrashLoopBackOff"
    assert (
        pod_status_column(
            pod(phase="Failed", containerStatuses=[{"state": {"terminated": {"exitCode": 137, "signal": 9}}}])
        )
        == "Signal:9"
    )
    assert (
        pod_status_column(pod(phase="Failed", containerStatuses=[{"state": {"terminated": {"exitCode": 3}}}]))
        == "ExitCode:3"
    )
    init = [{"state": {"terminated": {"exitCode": 0}}}, {"state": {"waiting": {"reason": "PodInitializing"}}}]
    assert pod_status_column(pod(phase="Pending", initContainerStatuses=init)) == "Init:1/2"
    done = {"state": {"terminated": {"reason": "Completed", "exitCode": 0}}}
    assert (
        pod_status_column(pod(phase="Running", containerStatuses=[done, running]), ready=False) == "NotReady"
    )
    gone = {
        "metadata": {"name": "p", "deletionTimestamp": "2026-01-01T00:00:00Z"},
        "status": {"phase": "Running"},
    }
    assert pod_status_column(gone) == "Terminating"
