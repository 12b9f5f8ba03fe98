"""App releases end to end: recorded in the cluster, whole-app rollback, strict app names, drift, races.

Each test that changes the app works on its own copy of trace-api in a fresh namespace of the
session sandbox (``appcopy``); out-of-band changes are made with the real kubectl.
"""

from __future__ import annotations

import base64
import calendar
import json
import re
import threading
import time

import pytest

from tests import factories

from .appcopy import copy_app
from .helpers import APP_DEPLOYMENTS, REPO, deployments, env_of, nodeapp, settled, tags


@pytest.fixture
def author(tmp_path, monkeypatch):
    """A git identity for the commands (the release author)."""
    config = tmp_path / "gitconfig"
    config.write_text("[user]\n\temail = dev@example.com\n\tname = Dev\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    return "dev@example.com"


def releases(handle, namespace):
    result = nodeapp(handle, "history", "trace-api", "-n", namespace, "-o", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def run_ok(handle, *args):
    result = nodeapp(handle, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_deploy_restart_env_set_then_rollback_puts_every_process_on_one_tag(
    sandbox, kube, eventually, author
):
    ns = copy_app(kube, eventually)
    before = releases(sandbox, ns)
    assert before["recorded"] is False and [r["release"] for r in before["releases"]] == [1]
    assert before["releases"][0]["legacy"] is True and before["releases"][0]["current"] is True

    run_ok(sandbox, "deploy", "trace-api", "-n", ns, "--tag", "9e1f00a")
    run_ok(sandbox, "restart", "trace-api", "--process", "worker", "-n", ns)
    env_set = run_ok(sandbox, "env", "trace-api", "set", "FEATURE_X=on", "--process", "worker", "-n", ns)
    assert "release v3 of trace-api: env set FEATURE_X" in env_set.stdout

    result = run_ok(sandbox, "rollback", "trace-api", "-n", ns)

    # the default target: the last release whose rollout completed healthy (v2, the deploy)
    assert re.search(
        r"to v2 \(deploy 9e1f00a; the last release whose rollout completed healthy\)", result.stdout
    )
    assert "release v4 of trace-api: rollback to v2" in result.stdout
    assert set(tags(kube, ns).values()) == {"9e1f00a"}
    assert "FEATURE_X" not in env_of(deployments(kube, ns)["trace-api-worker"])
    assert settled(kube, ns)
    doc = releases(sandbox, ns)
    newest = doc["releases"][0]
    assert (newest["release"], newest["action"], newest["argument"]) == (4, "rollback", "to v2")
    assert newest["author"] == author and newest["current"] is True and newest["outcome"] == "healthy"
    assert abs(time.time() - calendar.timegm(time.strptime(newest["time"], "%Y-%m-%dT%H:%M:%SZ"))) < 120
    assert {p: s["tag"] for p, s in newest["processes"].items()} == dict.fromkeys(
        ("clock", "web", "worker"), "9e1f00a"
    )
    assert [r["action"] for r in doc["releases"]] == ["rollback", "env set", "deploy", "kubectl"]
    assert doc["releases"][1]["argument"] == "FEATURE_X"  # keys, never values
    assert doc["drift"] == [] and doc["current"] == 4
    # the store is a ConfigMap of the namespace anyone can read
    cm = kube.get("configmaps", "nodeapp-releases-trace-api", ns)
    assert [r["release"] for r in json.loads(cm["data"]["releases"])] == [1, 2, 3, 4]
    text = run_ok(sandbox, "releases", "trace-api", "-n", ns).stdout.splitlines()
    assert re.fullmatch(
        r"v4\s+rollback to v2\s+clock,web,worker=9e1f00a\s+dev@example\.com\s+\d+s ago\s+current", text[1]
    )


def test_rollback_to_v1_and_to_tag_after_three_deploys(sandbox, kube, kubectl, eventually, author):
    ns = copy_app(kube, eventually)
    first = tags(kube, ns)
    assert set(first.values()) == {"a41c9e7"}
    for tag in ("9e1f00a", "2d4e6f8", "8b1d0e4"):
        run_ok(sandbox, "deploy", "trace-api", "-n", ns, "--tag", tag)

    back = run_ok(sandbox, "rollback", "trace-api", "-n", ns, "--to", "v1")

    for name in APP_DEPLOYMENTS:
        process = name.rsplit("-", 1)[1]
        assert re.search(rf"{name}\s+{process} 8b1d0e4 → a41c9e7", back.stdout), back.stdout
    assert tags(kube, ns) == first and settled(kube, ns)
    assert releases(sandbox, ns)["releases"][0]["argument"] == "to v1"

    # --to-tag: the newest release on that tag; its ReplicaSet pruned for one process → rebuilt
    web_rs = [
        rs["metadata"]["name"]
        for rs in kube.list("replicasets", ns, label_selector="app=trace-api,process=web").items
        if rs["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":2d4e6f8")
    ]
    assert len(web_rs) == 1
    kubectl("delete", "replicaset", web_rs[0], "-n", ns, check=True)
    by_tag = run_ok(sandbox, "rollback", "trace-api", "-n", ns, "--to-tag", "2d4e6f8")
    assert "to v3 (deploy 2d4e6f8; as asked)" in by_tag.stdout
    assert re.search(
        r"trace-api-web\s+web a41c9e7 → 2d4e6f8; rebuilt from the recorded template", by_tag.stdout
    )
    assert set(tags(kube, ns).values()) == {"2d4e6f8"} and settled(kube, ns)

    missing = nodeapp(sandbox, "rollback", "trace-api", "-n", ns, "--to", "v42")
    assert missing.returncode == 1 and missing.stderr.startswith(
        "error: there is no release v42 (releases: v6, v5"
    )
    bad = nodeapp(sandbox, "rollback", "trace-api", "-n", ns, "--to", "latest")
    assert bad.returncode == 2 and "--to takes a release like v3, not 'latest'" in bad.stderr


def test_a_prefix_of_apps_is_not_an_app_and_nothing_is_patched(sandbox, kube):
    generations = {
        d["metadata"]["name"]: d["metadata"]["generation"]
        for d in kube.list("deployments", "production").items
    }
    for args in (("restart", "trace"), ("scale", "trace", "web=2")):
        result = nodeapp(sandbox, *args, "-n", "production", "--dry-run")
        assert result.returncode == 1, result.stdout
        assert result.stderr.startswith(
            "error: no app 'trace' in production; apps here: trace-api, trace-ui\n"
        )
        assert result.stdout == ""
    after = {
        d["metadata"]["name"]: d["metadata"]["generation"]
        for d in kube.list("deployments", "production").items
    }
    assert after == generations
    # a labelled app is found by its label, whatever its Deployments are called
    ok = nodeapp(sandbox, "restart", "trace-ui", "-n", "production", "--dry-run")
    assert ok.returncode == 0 and ok.stdout.startswith(
        "rolling restart of app trace-ui in namespace production:\n  trace-ui "
    )


def test_scale_argument_below_zero_is_a_usage_error(sandbox):
    result = nodeapp(sandbox, "scale", "trace-api", "worker-5", "-n", "staging", "--dry-run")
    assert result.returncode == 2
    assert result.stderr.startswith(
        "error: worker-5: worker has 1 pod, it cannot lose 5 (to stop it say worker=0"
    )


def test_deploy_of_a_crashing_tag_fails_and_names_the_recreate_clock(sandbox, kube, eventually, author):
    ns = copy_app(kube, eventually)
    assert deployments(kube, ns)["trace-api-clock"]["spec"]["strategy"]["type"] == "Recreate"

    result = nodeapp(sandbox, "deploy", "trace-api", "-n", ns, "--tag", "c0ffee1")

    assert result.returncode == 1, result.stdout + result.stderr
    summary = next(
        line
        for line in result.stdout.splitlines()
        if "trace-api-clock" in line and line.startswith(("✓", "✗"))
    )
    assert re.search(r"✗ trace-api-clock: (crashed|CrashLoopBackOff) \(exit 1\)", summary), summary
    assert "✓ trace-api-clock" not in result.stdout
    assert result.stderr.startswith("error: deploy c0ffee1 failed: ")
    assert "trace-api-clock: " in result.stderr.splitlines()[0]
    # the error line itself is in the excerpt, and the hint is a command that works when pasted
    assert "Error: Cannot find module 'pg-native'" in result.stdout, result.stdout
    hint = next(line for line in result.stderr.splitlines() if line.startswith("hint: "))
    assert f"kubectl nodeapp rollback trace-api -n {ns} --kubeconfig {sandbox.kubeconfig} --to v1" in hint
    doc = releases(sandbox, ns)
    assert (doc["releases"][0]["release"], doc["releases"][0]["outcome"]) == (2, "failed")
    # pasted, the hint goes back to the release before the failed one
    pasted = hint.split(" with: ", 1)[1].split()
    assert pasted[:3] == ["kubectl", "nodeapp", "rollback"]
    run_ok(sandbox, *[a for a in pasted[2:] if a not in ("--kubeconfig", sandbox.kubeconfig)])
    assert set(tags(kube, ns).values()) == {"a41c9e7"}


def test_kubectl_set_image_behind_the_tools_back_is_drift_in_history_and_status(
    sandbox, kube, kubectl, eventually, author
):
    ns = copy_app(kube, eventually)
    run_ok(sandbox, "deploy", "trace-api", "-n", ns, "--tag", "9e1f00a")
    assert releases(sandbox, ns)["drift"] == []

    kubectl("set", "image", "deployment/trace-api-web", f"web={REPO}:2d4e6f8", "-n", ns, check=True)

    doc = releases(sandbox, ns)
    assert doc["drift"] == [
        {"process": "web", "deployment": "trace-api-web", "recordedTag": "9e1f00a", "liveTag": "2d4e6f8"}
    ]
    assert doc["current"] is None
    text = run_ok(sandbox, "history", "trace-api", "-n", ns).stdout
    assert (
        "drift: trace-api-web runs 2d4e6f8, not v2's 9e1f00a (changed outside nodeapp, e.g. kubectl)" in text
    )
    eventually(lambda: settled(kube, ns), timeout=60, message="the kubectl change rolled out")
    status = nodeapp(sandbox, "status", "trace-api", "-n", ns)
    assert "drift: trace-api-web runs 2d4e6f8, not v2's 9e1f00a" in status.stdout, status.stdout
    status_json = json.loads(nodeapp(sandbox, "status", "trace-api", "-n", ns, "-o", "json").stdout)
    assert status_json["release"]["drift"][0]["liveTag"] == "2d4e6f8"
    # the next release records what kubectl did before it, so nothing is lost
    run_ok(sandbox, "env", "trace-api", "set", "FEATURE_Z=1", "-n", ns)
    actions = [(r["action"], r["argument"]) for r in releases(sandbox, ns)["releases"][:2]]
    assert actions == [("env set", "FEATURE_Z"), ("kubectl", "(changed outside nodeapp)")]


def test_two_people_releasing_at_once_both_releases_are_recorded(sandbox, kube, eventually, author):
    ns = copy_app(kube, eventually)
    results = {}

    def release(name, *args):
        results[name] = nodeapp(sandbox, *args)

    threads = [
        threading.Thread(
            target=release, args=("deploy", "deploy", "trace-api", "-n", ns, "--tag", "9e1f00a")
        ),
        threading.Thread(target=release, args=("env", "env", "trace-api", "set", "FEATURE_Y=1", "-n", ns)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    for name, result in results.items():
        assert result.returncode == 0, name + result.stdout + result.stderr
    doc = releases(sandbox, ns)
    numbers = [r["release"] for r in doc["releases"]]
    assert sorted(numbers) == [1, 2, 3] and len(set(numbers)) == 3
    assert {r["action"] for r in doc["releases"][:2]} == {"deploy", "env set"}
    lines = {name: re.search(r"release v(\d+) of trace-api", r.stdout) for name, r in results.items()}
    assert {int(m.group(1)) for m in lines.values() if m} == {2, 3}


def test_the_store_gives_unique_numbers_to_concurrent_writers(sandbox, kube, kube_for, eventually):
    from kubectl_trace.release.records import ProcessState, Release
    from kubectl_trace.release.store import ReleaseStore

    ns = f"store-{int(time.time() * 1000) % 10_000_000}"
    kube.create("namespaces", factories.namespace(ns))
    numbers: list[int] = []
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        client = kube_for(sandbox)
        try:
            for j in range(3):
                made = ReleaseStore(client, ns, "race").append(
                    lambda n, i=i, j=j: Release(
                        n,
                        "deploy",
                        f"t{i}{j}",
                        {"web": ProcessState("race-web", f"t{i}{j}", "sha256:x")},
                        "w",
                        0.0,
                    ),
                    {},
                )
                numbers.append(made.number)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(numbers) == list(range(1, 19))
    ledger = ReleaseStore(kube, ns, "race").load()
    assert ledger is not None and [r.number for r in ledger.releases] == list(range(1, 19))
    assert sorted(r.argument for r in ledger.releases) == sorted(
        f"t{i}{j}" for i in range(6) for j in range(3)
    )


def test_dashboard_u_rolls_the_whole_app_back_as_a_release(sandbox, kube, kubectl, eventually, author):
    """What the dashboard's ``u`` does (the key itself is tested in the dashboard's unit tests)."""
    from kubectl_trace.dashboard.actions import perform
    from kubectl_trace.dashboard.ui import Action

    ns = copy_app(kube, eventually)
    run_ok(sandbox, "deploy", "trace-api", "-n", ns, "--tag", "9e1f00a")
    # a bad release made behind the tool's back on one process only
    kubectl("set", "image", "deployment/trace-api-worker", f"worker={REPO}:badc0de", "-n", ns, check=True)

    text = perform(kube, Action("app-rollback", ns, "trace-api-worker"), user="ana", now=time.time())

    assert text == (
        "rolling back app trace-api to v2 (deploy 9e1f00a): clock,web,worker=9e1f00a — release v4"
    )
    assert set(tags(kube, ns).values()) == {"9e1f00a"}
    doc = releases(sandbox, ns)
    assert [(r["release"], r["action"], r["argument"]) for r in doc["releases"][:2]] == [
        (4, "rollback", "to v2"),
        (3, "kubectl", "(changed outside nodeapp)"),  # the worker's badc0de, kept in the history
    ]
    assert doc["releases"][0]["author"] == author


def test_promote_the_current_release_with_config_differences_and_node_change(
    sandbox, kube, kubectl, eventually, author
):
    source, target = copy_app(kube, eventually, "src"), copy_app(kube, eventually, "dst")
    run_ok(sandbox, "deploy", "trace-api", "-n", source, "--tag", "9e1f00a")  # Node.js 18.20.4
    run_ok(sandbox, "env", "trace-api", "set", "FEATURE_P=1", "-n", source)

    plan = run_ok(sandbox, "promote", "trace-api", "--from", source, "--to", target, "--dry-run").stdout

    assert f"promote app trace-api: {source} v3 → {target}:" in plan
    assert "config differences, NOT copied (--with-config copies them):" in plan
    assert f"clock,web,worker: FEATURE_P '1' in {source}, unset in {target}" in plan
    assert "warning: Node.js changes v20.12.2 → v18.20.4 (a major version down)" in plan

    done = run_ok(sandbox, "promote", "trace-api", "--from", source, "--to", target, "--yes")
    assert f"release v2 of trace-api: promote from {source} v3" in done.stdout
    assert set(tags(kube, target).values()) == {"9e1f00a"}
    assert all("FEATURE_P" not in env_of(d) for d in deployments(kube, target).values())  # not copied

    # a source on mixed tags is refused, unless forced; --with-config copies the env
    kubectl("set", "image", "deployment/trace-api-worker", f"worker={REPO}:2d4e6f8", "-n", source, check=True)
    mixed = nodeapp(sandbox, "promote", "trace-api", "--from", source, "--to", target, "--yes")
    assert mixed.returncode == 1
    assert mixed.stderr.startswith(
        f"error: {source} runs different tags on its processes (clock,web=9e1f00a worker=2d4e6f8)"
    )
    assert set(tags(kube, target).values()) == {"9e1f00a"}
    eventually(lambda: settled(kube, source), timeout=60, message="the worker's new tag rolled out")
    forced = run_ok(
        sandbox, "promote", "trace-api", "--from", source, "--to", target, "--yes", "--force", "--with-config"
    )
    assert "warning: promoting" in forced.stderr and "mixed tags" in forced.stderr
    assert tags(kube, target) == {
        "trace-api-clock": "9e1f00a",
        "trace-api-web": "9e1f00a",
        "trace-api-worker": "2d4e6f8",
    }
    assert all(env_of(d)["FEATURE_P"]["value"] == "1" for d in deployments(kube, target).values())


def test_env_guards_credentials_and_secret_storage(sandbox, kube, eventually, author):
    ns = copy_app(kube, eventually)
    key = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
    literal = run_ok(sandbox, "env", "trace-api", "set", f"STRIPE_SECRET_KEY={key}", "-n", ns)
    assert (
        "warning: STRIPE_SECRET_KEY looks like a credential (the value looks like a Stripe secret key)"
        in literal.stderr
    )
    assert (
        f"kubectl nodeapp env trace-api set --secret STRIPE_SECRET_KEY=… -n {ns} --kubeconfig"
        in literal.stderr
    )
    assert key not in literal.stdout + literal.stderr
    listed = run_ok(sandbox, "env", "trace-api", "-n", ns).stdout
    assert key not in listed and re.search(r"^STRIPE_SECRET_KEY\s+\*{8}", listed, re.M)
    assert "secret and credential-looking values are masked; show them with --reveal" in listed
    assert key in run_ok(sandbox, "env", "trace-api", "-n", ns, "--reveal").stdout

    stored = run_ok(sandbox, "env", "trace-api", "set", "--secret", "API_TOKEN=tok-123", "-n", ns)
    assert "stored API_TOKEN in secret trace-api-env" in stored.stdout and "tok-123" not in stored.stdout
    secret = kube.get("secrets", "trace-api-env", ns)
    assert base64.b64decode(secret["data"]["API_TOKEN"]).decode() == "tok-123"
    for d in deployments(kube, ns).values():
        assert env_of(d)["API_TOKEN"]["valueFrom"] == {
            "secretKeyRef": {"name": "trace-api-env", "key": "API_TOKEN"}
        }
    # a reference never silently becomes a literal
    refused = nodeapp(sandbox, "env", "trace-api", "set", "API_TOKEN=plain", "-n", ns)
    assert (
        refused.returncode == 1
        and "would replace a reference with a literal value: API_TOKEN (secret trace-api-env:API_TOKEN"
        in refused.stderr
    )
    assert env_of(deployments(kube, ns)["trace-api-web"])["API_TOKEN"].get("valueFrom")
    history = [(r["action"], r["argument"]) for r in releases(sandbox, ns)["releases"][:2]]
    assert history == [("env set", "API_TOKEN"), ("env set", "STRIPE_SECRET_KEY")]
