import base64
import io

import pytest

from kubectl_trace.environment import Environment
from kubectl_trace.errors import NodeappError, UsageError
from kubectl_trace.release.confirm import confirm, decide
from kubectl_trace.release.envvars import (
    MASK,
    env_vars,
    group_rows,
    parse_assignments,
    parse_names,
    secret_refs,
)
from kubectl_trace.release.patches import EnvAssignment
from kubectl_trace.release.scaleargs import ScaleRequest, parse_scale, resolve_scale
from kubectl_trace.userconfig import UserConfig
from tests.factories.release import deployment

ENV = [
    {"name": "PROCESS_TYPE", "value": "web"},
    {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "trace-api-db", "key": "url"}}},
    {"name": "LOG_LEVEL", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "LOG_LEVEL"}}},
    {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
    {"name": "PORT", "value": "3000"},
]


# -- parsing ----------------------------------------------------------------------------


def test_parse_assignments():
    assert parse_assignments(["A=1", "B=x=y", "C="], None) == [
        EnvAssignment("A", value="1"),
        EnvAssignment("B", value="x=y"),
        EnvAssignment("C", value=""),
    ]
    assert parse_assignments(["DATABASE_URL"], "trace-api-db:url") == [
        EnvAssignment("DATABASE_URL", secret="trace-api-db", key="url")
    ]
    assert parse_assignments(["TOKEN"], "creds")[0].key == "TOKEN"


@pytest.mark.parametrize(
    ("items", "secret", "match"),
    [
        ([], None, "at least one"),
        (["A"], None, "give a value"),
        (["A=1", "A=2"], None, "twice"),
        (["1A=x"], None, "invalid config var name"),
        (["A", "B"], "s", "exactly one"),
        (["A=1"], "s", "exactly one"),
        (["A"], "Bad_Name", "invalid Secret name"),
        (["A"], "s:bad key", "invalid Secret key"),
    ],
)
def test_parse_assignment_errors(items, secret, match):
    with pytest.raises(UsageError, match=match):
        parse_assignments(items, secret)


def test_parse_names():
    assert parse_names(["A", "B", "A"]) == ["A", "B"]
    with pytest.raises(UsageError):
        parse_names(["A=1"])
    with pytest.raises(UsageError):
        parse_names([])


# -- listing ------------------------------------------------------------------------------


def test_listing_masks_secrets_and_describes_references():
    d = deployment("web", env=ENV)
    assert secret_refs([d], {"trace-api-web": ["web"]}) == {"trace-api-db"}
    assert secret_refs([d], {"trace-api-web": ["web"]}, "configmap") == {"cfg"}
    rows = {v.name: v for v in env_vars(d, "web", ["web"], configmaps={"cfg": {"LOG_LEVEL": "info"}})}
    assert rows["DATABASE_URL"].shown == MASK and rows["DATABASE_URL"].masked
    assert rows["DATABASE_URL"].reference == "secret trace-api-db:url"
    assert rows["DATABASE_URL"].to_json()["value"] is None
    assert rows["LOG_LEVEL"].shown == "info"
    assert rows["POD_NAME"].shown == "(pod field metadata.name)"
    assert rows["PORT"].shown == "3000"


def test_reveal_decodes_the_secret_value():
    d = deployment("web", env=ENV)
    data = {"url": base64.b64encode(b"postgres://u:p@db/x").decode()}
    rows = {v.name: v for v in env_vars(d, "web", ["web"], {"trace-api-db": data})}
    assert rows["DATABASE_URL"].shown == "postgres://u:p@db/x" and not rows["DATABASE_URL"].masked
    missing = {v.name: v for v in env_vars(d, "web", ["web"], {"trace-api-db": None})}
    assert missing["DATABASE_URL"].shown == "(secret not found)"
    nokey = {v.name: v for v in env_vars(d, "web", ["web"], {"trace-api-db": {}})}
    assert nokey["DATABASE_URL"].shown == "(no key url in the secret)"


def test_group_rows_merges_equal_values_across_processes():
    web = deployment("web", env=ENV)
    worker = deployment("worker", env=[{**ENV[0], "value": "worker"}, *ENV[1:]])
    variables = env_vars(web, "web", ["web"]) + env_vars(worker, "worker", ["worker"])
    rows = group_rows(variables, ["web", "worker"])
    by_name = {}
    for r in rows:
        by_name.setdefault(r.name, []).append(r)
    assert [(r.shown, r.processes) for r in by_name["PROCESS_TYPE"]] == [
        ("web", ("web",)),
        ("worker", ("worker",)),
    ]
    assert by_name["PORT"][0].processes == ()  # everyone has it
    assert [r.name for r in rows] == sorted(r.name for r in rows)


# -- scale --------------------------------------------------------------------------------


def test_parse_scale():
    assert parse_scale(["web=3", "worker+1", "clock-2"]) == [
        ScaleRequest("web", "=", 3),
        ScaleRequest("worker", "+", 1),
        ScaleRequest("clock", "-", 2),
    ]
    assert resolve_scale(
        parse_scale(["web=3", "worker+1", "clock-2"]), {"web": 1, "worker": 2, "clock": 2}
    ) == {
        "web": 3,
        "worker": 3,
        "clock": 0,
    }


@pytest.mark.parametrize(
    ("items", "match"),
    [
        (["web"], "expected PROCESS=COUNT"),
        (["web=2:standard-2X"], "dyno sizes"),
        (["web=1", "web=2"], "twice"),
        (["web=5000"], "more than"),
        (["web=-1"], "expected"),
    ],
)
def test_parse_scale_errors(items, match):
    with pytest.raises(UsageError, match=match):
        parse_scale(items)


def test_resolve_scale_unknown_process_lists_the_app_processes():
    with pytest.raises(UsageError, match=r"no process api in this app \(its processes: web, worker\)"):
        resolve_scale(parse_scale(["api=1"]), {"web": 1, "worker": 1})


# -- confirmation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("namespace", "yes", "dry_run", "interactive", "always", "action"),
    [
        ("staging", False, False, False, False, "proceed"),
        ("production", False, False, True, False, "ask"),
        ("production", False, False, False, False, "refuse"),
        ("prod", True, False, False, False, "proceed"),
        ("production", False, True, False, False, "proceed"),
        ("staging", False, False, False, True, "refuse"),
        ("staging", False, False, True, True, "ask"),
    ],
)
def test_decide(namespace, yes, dry_run, interactive, always, action):
    decision = decide(
        namespace, yes=yes, dry_run=dry_run, interactive=interactive, config=UserConfig(), always=always
    )
    assert decision.action == action


def test_decide_follows_the_config_file():
    config = UserConfig(production_namespaces=("live",), path="/etc/x.toml")
    assert (
        decide("production", yes=False, dry_run=False, interactive=False, config=config).action == "proceed"
    )
    refused = decide("live", yes=False, dry_run=False, interactive=False, config=config)
    assert refused.action == "refuse" and "/etc/x.toml" in refused.reason and "--yes" in refused.reason


def env_with(stdin):
    return Environment(io.StringIO(stdin), io.StringIO(), io.StringIO(), True, True, False, {})


def test_confirm_asks_and_reads_the_answer():
    env = env_with("y\n")
    confirm(decide("production", yes=False, dry_run=False, interactive=True, config=UserConfig()), env, "Go?")
    assert env.stderr.getvalue() == "Go? [y/N] "
    for answer in ("n\n", "\n", ""):
        with pytest.raises(NodeappError, match="aborted: nothing was changed"):
            confirm(
                decide("production", yes=False, dry_run=False, interactive=True, config=UserConfig()),
                env_with(answer),
                "Go?",
            )


def test_refusal_is_a_usage_error():
    with pytest.raises(UsageError, match="refusing to change anything"):
        confirm(
            decide("prod", yes=False, dry_run=False, interactive=False, config=UserConfig()),
            env_with(""),
            "Go?",
        )
