"""``kubectl nodeapp logs`` against the shared demo sandbox: selection, filters, formats, errors."""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid

import pytest

from kubectl_trace.timeparse import format_rfc3339_nano, parse_rfc3339
from tests.factories import app_deployment, namespace, seq_of

from ._follow import BIN, child_env, follower, json_objects, run_logs

NS = "production"
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")


def pods_of(kube, selector: str, namespace: str = NS) -> list[str]:
    return sorted(p["metadata"]["name"] for p in kube.list("pods", namespace, label_selector=selector).items)


def prefixes(stdout: str) -> set[str]:
    return {line.split(" ", 1)[0] for line in stdout.splitlines() if line}


def wait_running(kube, eventually, selector, count, namespace=NS):
    def ready():
        pods = kube.list("pods", namespace, label_selector=selector).items
        running = [
            p
            for p in pods
            if any(
                "running" in (s.get("state") or {})
                for s in (p.get("status") or {}).get("containerStatuses") or []
            )
        ]
        return len(running) >= count and running

    return eventually(ready, timeout=60, message=f"{count} running pods with {selector}")


@pytest.fixture
def demo(sandbox, kube, eventually):
    """The session sandbox once the production app runs (web 3, worker 2, clock 1)."""
    wait_running(kube, eventually, "app=trace-api", 6)
    return sandbox


def test_every_web_worker_and_clock_pod_appears(demo, kube, invoke):
    result = invoke("logs", "trace-api", "-n", NS, "--no-follow", "--tail", "5", kubeconfig=demo.kubeconfig)
    assert result.exit_code == 0, result.stderr
    expected = pods_of(kube, "app=trace-api")
    assert {p.split("-")[2] for p in expected} == {"web", "worker", "clock"}
    assert prefixes(result.stdout) == set(expected)
    assert not any(line.startswith("trace-ui") for line in result.stdout.splitlines())


def test_process_narrows_to_workers(demo, kube, invoke):
    result = invoke(
        "logs",
        "trace-api",
        "--process",
        "worker",
        "-n",
        NS,
        "--no-follow",
        "--tail",
        "3",
        kubeconfig=demo.kubeconfig,
    )
    assert result.exit_code == 0, result.stderr
    assert prefixes(result.stdout) == set(pods_of(kube, "app=trace-api,process=worker"))


def test_level_error_shows_only_errors_with_their_stack_block(demo, invoke, eventually):
    def errors_with_stack():
        r = invoke(
            "logs", "trace-api", "-n", NS, "--no-follow", "--level", "error", kubeconfig=demo.kubeconfig
        )
        assert r.exit_code == 0, r.stderr
        return r.stdout if re.search(r"^\S+ ERROR .*\n\S+     \S", r.stdout, re.M) else None

    out = eventually(
        errors_with_stack, timeout=90, interval=1, message="an error with a stack in the demo logs"
    )
    for line in out.splitlines():
        _pod, rest = line.split(" ", 1)
        # an ERROR/FATAL line, a stack block line (indented under it), or a plain error that says so
        assert rest.startswith(("ERROR ", "FATAL ", "    ")) or re.match(r"(\w*Error|ERROR|\[?ERR)", rest), (
            line
        )


def test_json_output_one_valid_object_per_line(demo, kube, invoke):
    result = invoke(
        "logs", "trace-api", "-n", NS, "--no-follow", "--tail", "20", "-o", "json", kubeconfig=demo.kubeconfig
    )
    assert result.exit_code == 0, result.stderr
    objects = json_objects(result.stdout.splitlines())
    assert {o["pod"] for o in objects} == set(pods_of(kube, "app=trace-api"))
    for obj in objects:
        assert list(obj) == [
            "namespace",
            "pod",
            "container",
            "timestamp",
            "level",
            "message",
            "fields",
            "raw",
        ]
        assert obj["namespace"] == NS
        assert TS.match(obj["timestamp"])
        assert isinstance(obj["fields"], dict) and isinstance(obj["raw"], str)
        if obj["raw"].startswith("{"):
            assert obj["level"] in ("trace", "debug", "info", "warn", "error", "fatal")
            original = json.loads(obj["raw"])
            assert original.get("message", original.get("msg")) == obj["message"]


def test_tail_gives_the_last_n_lines_of_each_container(demo, kube, invoke):
    result = invoke(
        "logs", "trace-api", "-n", NS, "--no-follow", "--tail", "4", "-o", "json", kubeconfig=demo.kubeconfig
    )
    counts: dict[str, int] = {}
    for obj in json_objects(result.stdout.splitlines()):
        counts[obj["pod"]] = counts.get(obj["pod"], 0) + obj["raw"].count("\n") + 1
    assert counts == {pod: 4 for pod in pods_of(kube, "app=trace-api")}


def test_since_and_timestamps(demo, invoke, eventually):
    since = time.time() - 3
    result = invoke(
        "logs", "deploy/trace-api-web", "-n", NS, "--no-follow", "--since", format_rfc3339_nano(since),
        "--timestamps", "-o", "raw", kubeconfig=demo.kubeconfig,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines
    for line in lines:
        ts, _, _ = line.partition(" ")
        assert TS.match(ts), line
        assert parse_rfc3339(ts) >= since - 1e-6
    base = ["logs", "deploy/trace-api-web", "-n", NS, "--no-follow"]

    def longer_since_shows_more():  # a young sandbox has only seconds of history
        short = invoke(*base, "--since", "2s", kubeconfig=demo.kubeconfig).stdout.splitlines()
        long = invoke(*base, "--since", "1h", kubeconfig=demo.kubeconfig).stdout.splitlines()
        return 0 < len(short) < len(long)

    eventually(longer_since_shows_more, timeout=30, interval=0.5, message="--since 2s shows less than 1h")
    pretty = invoke(
        "logs",
        "deploy/trace-api-web",
        "-n",
        NS,
        "--no-follow",
        "--tail",
        "1",
        "--timestamps",
        kubeconfig=demo.kubeconfig,
    )
    lines = pretty.stdout.splitlines()
    assert lines
    for x in lines:  # each entry starts with its time; a stack block below it is indented
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z trace-api-web-", x) or x.startswith(
            " " * 25
        ), x


def test_include_exclude_and_highlight(demo, invoke, eventually):
    base = ["logs", "deploy/trace-api-web", "-n", NS, "--no-follow", "--tail", "200", "-o", "raw"]
    # a young sandbox may not have logged a probe request yet
    inc = eventually(
        lambda: invoke(*base, "-i", "healthz", kubeconfig=demo.kubeconfig).stdout.splitlines(),
        timeout=30,
        interval=0.5,
        message="a /healthz line",
    )
    assert all("healthz" in line for line in inc)
    exc = invoke(*base, "-e", "healthz", kubeconfig=demo.kubeconfig).stdout.splitlines()
    assert exc and not any("healthz" in line for line in exc)
    both = invoke(*base, "-i", "GET", "-e", "healthz", kubeconfig=demo.kubeconfig).stdout.splitlines()
    assert both and all("GET" in x and "healthz" not in x for x in both)
    coloured = invoke(
        "logs", "deploy/trace-api-web", "-n", NS, "--no-follow", "--tail", "50", "-H", "GET", "--color", "always",
        kubeconfig=demo.kubeconfig,
    ).stdout  # fmt: skip
    assert "\x1b[30;43mGET\x1b[0m" in coloured


def test_container_filters_and_exclude_pod(demo, kube, invoke):
    web = pods_of(kube, "app=trace-api,process=web")
    args = ["logs", "trace-api", "-n", NS, "--no-follow", "--tail", "2"]
    only_web = invoke(*args, "-c", "^web$", kubeconfig=demo.kubeconfig)
    assert prefixes(only_web.stdout) == set(web)
    not_web = invoke(*args, "-E", "^web$", kubeconfig=demo.kubeconfig)
    assert prefixes(not_web.stdout) == set(pods_of(kube, "app=trace-api")) - set(web)
    minus_one = invoke(*args, "--exclude-pod", re.escape(web[0]), kubeconfig=demo.kubeconfig)
    assert prefixes(minus_one.stdout) == set(pods_of(kube, "app=trace-api")) - {web[0]}


def test_bad_input_is_one_line(demo, invoke):
    missing_ns = invoke(
        "logs", "trace-api", "-n", "no-such-namespace", "--no-follow", kubeconfig=demo.kubeconfig
    )
    assert missing_ns.exit_code == 1
    assert missing_ns.stderr.startswith('error: namespace "no-such-namespace" not found\n')
    nothing = invoke("logs", "no-such-app", "-n", NS, "--no-follow", kubeconfig=demo.kubeconfig)
    assert nothing.exit_code == 1 and nothing.stdout == ""
    assert nothing.stderr.splitlines()[0].startswith(
        "error: no containers with logs for pods matching /no-such-app/"
    )
    no_deploy = invoke("logs", "deploy/nope", "-n", NS, "--no-follow", kubeconfig=demo.kubeconfig)
    assert no_deploy.exit_code == 1 and "nope" in no_deploy.stderr and "Traceback" not in no_deploy.stderr
    assert invoke("logs", "trace-api", "--since", "yesterday", kubeconfig=demo.kubeconfig).exit_code == 2


def test_both_executables_and_the_kubectl_plugin_give_the_same_output(demo):
    start = time.time()
    since = format_rfc3339_nano(start - 6)
    args = [
        "trace-api",
        "-n",
        NS,
        "--no-follow",
        "--since",
        since,
        "--order",
        "time",
        "--timestamps",
        "-o",
        "raw",
    ]
    a = run_logs(*args, kubeconfig=demo.kubeconfig)
    b = run_logs(*args, kubeconfig=demo.kubeconfig, program="kubectl-nodeapp-logs")
    kubectl = subprocess.run(
        [str(BIN.parent / ".venv" / "bin" / "kubectl"), "nodeapp", "logs", *args, "--kubeconfig", demo.kubeconfig],
        capture_output=True, text=True, timeout=60, env=child_env(), check=False,
    )  # fmt: skip
    outputs = []
    for proc in (a, b, kubectl):
        assert proc.returncode == 0, proc.stderr
        # Runs end at different moments: compare what all of them could see (before start).
        outputs.append([x for x in proc.stdout.splitlines() if parse_rfc3339(x.split(" ", 1)[0]) < start])
    assert len(outputs[0]) > 20
    assert outputs[0] == outputs[1] == outputs[2]
    stamps = [parse_rfc3339(x.split(" ", 1)[0]) for x in outputs[0]]
    assert stamps == sorted(stamps)  # --order time


def test_following_waits_for_pods_then_prints_them_from_their_first_line(sandbox, kubectl, eventually):
    ns = f"logs-wait-{uuid.uuid4().hex[:6]}"
    kubectl("create", "--validate=false", "-f", "-", input=json.dumps(namespace(ns)), check=True)
    f = follower("waiter", "-n", ns, "-o", "json", kubeconfig=sandbox.kubeconfig)
    try:
        eventually(
            lambda: any("waiting" in x for x in f.stderr), timeout=30, message="a waiting note on stderr"
        )
        assert f.text() == []
        kubectl(
            "create",
            "--validate=false",
            "-f",
            "-",
            input=json.dumps(app_deployment(ns, "waiter", 2)),
            check=True,
        )
        eventually(
            lambda: len({json.loads(x)["pod"] for x in f.text()}) == 2, timeout=60, message="both pods"
        )
    finally:
        code = f.interrupt()
        kubectl("delete", "namespace", ns, "--wait=false")
    assert code == 130
    firsts: dict[str, int | None] = {}
    for obj in json_objects(f.text()):
        firsts.setdefault(obj["pod"], seq_of(obj["raw"].split("\n")[0]))
    assert set(firsts.values()) == {1}


def test_more_containers_than_max_streams_warns_and_follows_the_rest_later(demo, kube, eventually, invoke):
    f = follower("trace-api", "-n", NS, "--max-streams", "2", "-o", "json", kubeconfig=demo.kubeconfig)
    try:
        eventually(lambda: f.stderr, timeout=30, message="a warning")
        eventually(lambda: len({json.loads(x)["pod"] for x in f.text()}) == 2, timeout=30, message="two pods")
    finally:
        code = f.interrupt()
    assert code == 130
    assert f.stderr[0] == (
        "warning: 6 containers match but --max-streams is 2: 4 are not followed (raise --max-streams to see them all)"
    )
    assert len({json.loads(x)["pod"] for x in f.text()}) == 2
    # without -f every container is read, two at a time
    result = invoke(
        "logs",
        "trace-api",
        "-n",
        NS,
        "--no-follow",
        "--tail",
        "1",
        "--max-streams",
        "2",
        kubeconfig=demo.kubeconfig,
    )
    assert result.exit_code == 0 and result.stderr == ""
    assert prefixes(result.stdout) == set(pods_of(kube, "app=trace-api"))


def test_order_time_while_following_merges_pods_by_timestamp(demo, eventually):
    f = follower(
        "trace-api", "-n", NS, "--order", "time", "-o", "json", "--tail", "0", kubeconfig=demo.kubeconfig
    )
    try:
        eventually(lambda: len(f.text()) > 40, timeout=30, message="lines of several pods")
    finally:
        code = f.interrupt()
    assert code == 130
    objects = json_objects(f.text())
    assert len({o["pod"] for o in objects}) == 6
    stamps = [o["timestamp"] for o in objects]
    assert stamps == sorted(stamps)  # nine-digit RFC 3339 in UTC: text order is time order


def test_all_namespaces_and_follow_errors(demo, invoke):
    both = invoke("logs", "trace-api", "-A", "--no-follow", "--tail", "1", kubeconfig=demo.kubeconfig)
    assert both.exit_code == 0, both.stderr
    namespaces = {line.split("/", 1)[0] for line in both.stdout.splitlines()}
    # other tests copy trace-api into namespaces of their own on the shared sandbox
    assert {"production", "staging"} <= namespaces
    missing = invoke(
        "logs", "-n", "no-such-namespace", kubeconfig=demo.kubeconfig
    )  # following: fails at once
    assert missing.exit_code == 1
    assert missing.stderr.startswith('error: namespace "no-such-namespace" not found')
