"""The release commands' error paths and less-used outputs, against the session sandbox.

Refusals by the API server are real: the sandbox's kubeconfig has a read-only context
(``sandbox-readonly``, user ``viewer``) that may read everything but Secrets and change
nothing, so every change a command tries is a 403. The tests change nothing of the shared
cluster: they read the demo app, or an app of their own in a namespace of their own.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories import app_deployment, namespace

READ_ONLY = "sandbox-readonly"
HINT = "hint: ask a cluster admin for access (check with: kubectl auth can-i …)\n"


def generations(kube: Any, ns: str, app: str) -> dict[str, int]:
    """The app's Deployments and their generation: it changes with any change to their spec."""
    items = kube.list("deployments", ns, label_selector=f"app={app}").items
    return {d["metadata"]["name"]: d["metadata"]["generation"] for d in items}


@pytest.fixture
def own_app(kubectl: Callable[..., Any]) -> Iterator[str]:
    """A namespace of this test's own with the app ``cfgapp``: one web Deployment.

    Its env has PROCESS_TYPE and FEATURE, the key ``feature`` of a ConfigMap that does not exist.
    """
    ns = f"t-{uuid.uuid4().hex[:8]}"
    deployment = app_deployment(ns, "cfgapp", 1, process="web")
    deployment["spec"]["template"]["spec"]["containers"][0]["env"].append(
        {"name": "FEATURE", "valueFrom": {"configMapKeyRef": {"name": "gone", "key": "feature"}}}
    )
    objects = {"apiVersion": "v1", "kind": "List", "items": [namespace(ns), deployment]}
    kubectl("create", "--validate=false", "-f", "-", input=json.dumps(objects), check=True)
    yield ns
    kubectl("delete", "namespace", ns, "--wait=false", check=True)


# -- refused by the API server (403) ------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["deploy", "cfgapp", "--tag", "8b1d0e4"],
        ["restart", "cfgapp"],
        ["scale", "cfgapp", "web=2"],
        ["env", "cfgapp", "set", "A=1"],
        ["env", "cfgapp", "unset", "PROCESS_TYPE"],
    ],
    ids=lambda argv: " ".join(argv[:3:2]),
)
def test_a_change_the_user_may_not_make_is_one_line_and_changes_nothing(sandbox, kube, invoke, own_app, argv):
    before = generations(kube, own_app, "cfgapp")
    result = invoke(*argv, "-n", own_app, "--yes", "--context", READ_ONLY, kubeconfig=sandbox.kubeconfig)
    assert result.exit_code == 1, result.stderr
    assert result.stderr == (
        f'error: forbidden: deployments.apps "cfgapp" is forbidden: User "viewer" cannot patch resource '
        f'"deployments" in API group "apps" in the namespace "{own_app}"\n' + HINT
    )
    assert "cfgapp" in result.stdout  # the plan was shown before the refusal
    assert generations(kube, own_app, "cfgapp") == before


@pytest.mark.parametrize(
    ("argv", "namespace"),
    [
        (["promote", "trace-api", "--from", "staging", "--to", "production"], "production"),
        (["rollback", "trace-api", "-n", "staging"], "staging"),
    ],
    ids=["promote", "rollback"],
)
def test_promote_and_rollback_refused_change_nothing(sandbox, kube, invoke, argv, namespace):
    before = generations(kube, namespace, "trace-api")
    result = invoke(*argv, "--yes", "--context", READ_ONLY, kubeconfig=sandbox.kubeconfig)
    assert result.exit_code == 1, result.stderr
    first, hint = result.stderr.splitlines(keepends=True)
    assert first.startswith("error: forbidden: deployments.apps ")
    assert first.endswith(
        f'cannot patch resource "deployments" in API group "apps" in the namespace "{namespace}"\n'
    )
    assert hint == HINT
    assert generations(kube, namespace, "trace-api") == before


def test_reveal_without_the_right_to_read_secrets(sandbox, invoke):
    result = invoke(
        "env", "trace-api", "-n", "staging", "--reveal", "--context", READ_ONLY, kubeconfig=sandbox.kubeconfig
    )
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        'error: forbidden: secrets "trace-api-db" is forbidden: User "viewer" cannot get resource '
        '"secrets" in API group "" in the namespace "staging"\n' + HINT
    )


def test_from_secret_unreadable_is_a_note_then_the_change_is_tried(sandbox, kube, invoke, own_app):
    result = invoke(
        "env", "cfgapp", "set", "DATABASE_URL", "--from-secret", "db:url", "-n", own_app, "--yes",
        "--context", READ_ONLY, kubeconfig=sandbox.kubeconfig,
    )  # fmt: skip
    assert result.exit_code == 1
    note, error, hint = result.stderr.splitlines(keepends=True)
    assert note == "note: cannot read secret db to check it has key url (forbidden); setting it anyway\n"
    assert error.startswith('error: forbidden: deployments.apps "cfgapp" is forbidden')
    assert hint == HINT


def test_wrong_credentials_are_one_line_with_a_hint(sandbox, invoke, tmp_path):
    config = tmp_path / "kubeconfig"
    text = Path(sandbox.kubeconfig).read_text()
    config.write_text(text.replace("token: ", "token: wrong-", 1))
    result = invoke("history", "trace-api", "-n", "production", kubeconfig=str(config))
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: unauthorized: the API server at {sandbox.server} rejected the credentials of context "
        '"nodeapp-sandbox"\nhint: refresh the token or client certificate in your kubeconfig\n'
    )


# -- --from-secret checks ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "refusal"),
    [
        (
            "missing",
            'error: secret "missing" not found in namespace "{ns}"\n'
            "hint: create it: kubectl create secret generic missing -n {ns} --from-literal=DATABASE_URL=…\n",
        ),
        (
            "db",
            'error: secret "db" has no key "DATABASE_URL" (it has: url)\n'
            "hint: name the key: --from-secret NAME:KEY\n",
        ),
    ],
    ids=["no-such-secret", "no-such-key"],
)
def test_from_secret_is_checked_before_anything_changes(
    sandbox, kube, kubectl, invoke, own_app, secret, refusal
):
    kubectl(
        "create", "secret", "generic", "db", "-n", own_app, "--from-literal=url=postgres://db", check=True
    )
    before = generations(kube, own_app, "cfgapp")
    result = invoke(
        "env", "cfgapp", "set", "DATABASE_URL", "--from-secret", secret, "-n", own_app, "--yes",
        kubeconfig=sandbox.kubeconfig,
    )  # fmt: skip
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == refusal.format(ns=own_app)
    assert generations(kube, own_app, "cfgapp") == before


# -- reading -----------------------------------------------------------------------------------


def test_env_list_shows_a_missing_configmap_as_such(sandbox, invoke, own_app):
    text = invoke("env", "cfgapp", "-n", own_app, kubeconfig=sandbox.kubeconfig)
    assert text.exit_code == 0, text.stderr
    assert [line.split() for line in text.stdout.splitlines()] == [
        ["===", "cfgapp", "config", "vars", "in", own_app, "(web)"],
        ["FEATURE", "(configmap", "not", "found)", "(configmap", "gone:feature)", "[web]"],
        ["PROCESS_TYPE", "web", "[web]"],
    ]
    rows = invoke("env", "cfgapp", "-n", own_app, "-o", "json", kubeconfig=sandbox.kubeconfig)
    assert rows.exit_code == 0, rows.stderr
    by_name = {row["name"]: row for row in map(json.loads, rows.stdout.splitlines())}
    assert by_name["FEATURE"] == {
        "deployment": "cfgapp",
        "process": "web",
        "container": "web",
        "name": "FEATURE",
        "source": "configmap",
        "reference": "configmap gone:feature",
        "value": "(configmap not found)",
        "masked": False,
    }
    assert by_name["PROCESS_TYPE"]["value"] == "web"


def test_env_list_of_an_app_without_variables(sandbox, kube, invoke, own_app):
    kube.patch(
        "deployments",
        "cfgapp",
        {"spec": {"template": {"spec": {"containers": [{"name": "web", "env": None}]}}}},
        own_app,
        patch_type="strategic",
    )
    result = invoke("env", "cfgapp", "-n", own_app, kubeconfig=sandbox.kubeconfig)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == f"=== cfgapp config vars in {own_app} (web)\n(none)\n"


def test_history_of_a_process_the_app_does_not_have(sandbox, invoke):
    result = invoke(
        "history", "trace-api", "-n", "production", "--process", "nosuch", kubeconfig=sandbox.kubeconfig
    )
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == 'error: app "trace-api" has no nosuch process (it has: clock, web, worker)\n'


def test_scale_without_counts_lists_the_processes_as_json(sandbox, invoke):
    result = invoke("scale", "trace-api", "-n", "production", "-o", "json", kubeconfig=sandbox.kubeconfig)
    assert (result.exit_code, result.stderr) == (0, "")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["namespace"], r["process"], r["deployment"]) for r in rows] == [
        ("production", "clock", "trace-api-clock"),
        ("production", "web", "trace-api-web"),
        ("production", "worker", "trace-api-worker"),
    ]
    for r in rows:
        assert set(r) == {"namespace", "process", "deployment", "desired", "ready", "available"}
        assert r["desired"] >= 1 and 0 <= r["available"] <= r["desired"] + 1
