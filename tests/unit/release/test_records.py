"""Release records, app identity, env guards and promote differences (pure parts)."""

from __future__ import annotations

import copy

import pytest

from kubectl_trace.errors import NodeappError, UsageError
from kubectl_trace.kube.targets import app_deployments, app_names, app_of
from kubectl_trace.release.envvars import credential_reason, replaced_references
from kubectl_trace.release.patches import EnvAssignment
from kubectl_trace.release.promote_diff import config_differences, config_template, node_change
from kubectl_trace.release.records import (
    FAILED,
    HEALTHY,
    UNKNOWN,
    Ledger,
    ProcessState,
    Release,
    current_release,
    default_target,
    drift,
    find_target,
    is_mixed,
    legacy_releases,
    live_state,
    parse_release_number,
    release_from_json,
    release_to_json,
    tags_summary,
    template_digest,
    template_of,
)
from kubectl_trace.release.scaleargs import parse_scale, resolve_scale
from tests.factories.release import NOW, REPO, deployment, replicaset


def state(tag: str, digest: str, name: str = "web") -> ProcessState:
    return ProcessState(f"trace-api-{name}", tag, digest)


def release(n: int, outcome: str = HEALTHY, **tags: str) -> Release:
    processes = {p: state(t, f"sha256:{p}-{t}", p) for p, t in (tags or {"web": f"t{n}"}).items()}
    return Release(n, "deploy", "x", processes, "dev@example.com", NOW + n, outcome)


def test_digest_ignores_the_hash_label_and_restarts_but_not_the_image():
    d = deployment("web", "3f9c2a1")
    base = template_digest(template_of(d))
    restarted = copy.deepcopy(d)
    restarted["spec"]["template"]["metadata"]["annotations"] = {"kubectl.kubernetes.io/restartedAt": "now"}
    assert template_digest(template_of(restarted)) == base
    rs = replicaset(d, "3f9c2a1", 2, hash_="abc")
    assert template_digest(template_of(rs)) == base
    assert template_digest(template_of(deployment("web", "a41c9e7"))) != base


def test_live_state_drift_and_current():
    web, worker = deployment("web", "a41c9e7"), deployment("worker", "a41c9e7")
    live, templates = live_state([("web", web), ("worker", worker)], REPO)
    assert {p: s.tag for p, s in live.items()} == {"web": "a41c9e7", "worker": "a41c9e7"}
    assert set(templates) == {s.template for s in live.values()}
    recorded = Release(3, "deploy", "a41c9e7", dict(live), "a", NOW)
    assert drift(recorded, live) == [] and current_release([recorded], live) == recorded
    moved, _ = live_state([("web", deployment("web", "2d4e6f8")), ("worker", worker)], REPO)
    [item] = drift(recorded, moved)
    assert item.text(3) == "trace-api-web runs 2d4e6f8, not v3's a41c9e7"
    assert item.to_json() == {
        "process": "web",
        "deployment": "trace-api-web",
        "recordedTag": "a41c9e7",
        "liveTag": "2d4e6f8",
    }
    assert current_release([recorded], moved) is None


def test_default_target_is_the_last_healthy_release_not_merely_the_previous():
    releases = [release(1, UNKNOWN), release(2), release(3, FAILED), release(4, FAILED)]
    live = dict(releases[-1].processes)
    target, why = default_target(releases, live)
    assert target.number == 2 and "completed healthy" in why
    target, why = default_target([release(1, UNKNOWN), release(2, FAILED)], dict(release(2).processes))
    assert target.number == 1 and "not known to have failed" in why
    with pytest.raises(NodeappError, match="no earlier release"):
        default_target([release(1, FAILED)], {})


def test_find_target_by_number_and_by_tag():
    releases = [
        release(1, web="a", worker="a"),
        release(2, web="b", worker="a"),
        release(3, web="a", worker="a"),
    ]
    assert find_target(releases, number=2).number == 2
    assert find_target(releases, tag="a").number == 3  # the newest on that tag everywhere
    with pytest.raises(NodeappError, match=r"no release v9 \(releases: v3, v2, v1\)"):
        find_target(releases, number=9)
    with pytest.raises(NodeappError, match="no release runs b on every process"):
        find_target(releases, tag="b")
    assert is_mixed(releases[1]) and not is_mixed(releases[0])
    assert tags_summary(releases[1].processes) == "web=b worker=a"
    assert parse_release_number("v12") == 12 and parse_release_number("3") == 3
    for bad in ("v0", "latest", "-1"):
        with pytest.raises(UsageError):
            parse_release_number(bad)


def test_json_round_trip_keeps_every_field():
    r = Release(
        7, "env set", "LOG_LEVEL", {"web": state("a", "sha256:1")}, "dev@example.com", NOW, FAILED, True
    )
    data = release_to_json(r)
    assert data["description"] == "env set LOG_LEVEL" and data["time"] == "2026-03-01T12:00:00Z"
    assert release_from_json(data) == r


def test_legacy_releases_group_replicasets_of_one_change_and_fold_restarts():
    web, worker = deployment("web", "3f9c2a1"), deployment("worker", "3f9c2a1")
    rss = [
        replicaset(
            web,
            "8b1d0e4",
            1,
            hash_="w1",
            age=86400 * 20,
            cause="deploy 8b1d0e4 by ana at 2026-02-09T12:00:00Z",
        ),
        replicaset(worker, "8b1d0e4", 1, hash_="k1", age=86400 * 20 - 30),
        replicaset(web, "3f9c2a1", 2, hash_="w2", age=86400 * 2),
        replicaset(worker, "3f9c2a1", 2, hash_="k2", age=86400 * 2 - 10),
    ]
    found, templates = legacy_releases([("web", web), ("worker", worker)], rss, REPO)
    assert [(r.number, tags_summary(r.processes)) for r in found] == [
        (1, "web,worker=8b1d0e4"),
        (2, "web,worker=3f9c2a1"),
    ]
    assert found[0].author == "ana" and all(r.legacy and r.action == "kubectl" for r in found)
    assert {s.template for r in found for s in r.processes.values()} <= set(templates)


def test_ledger_trim_keeps_the_newest_and_their_templates():
    ledger = Ledger([release(n) for n in range(1, 6)], {f"sha256:web-t{n}": {} for n in range(1, 6)})
    ledger.trim(2)
    assert [r.number for r in ledger.releases] == [4, 5] and set(ledger.templates) == {
        "sha256:web-t4",
        "sha256:web-t5",
    }
    assert ledger.next_number == 6 and ledger.with_outcome(5, FAILED) and ledger.last.outcome == FAILED


def test_app_identity_is_strict():
    def d(name: str, labels: dict[str, str] | None) -> dict:
        return {"metadata": {"name": name, "labels": labels or {}}, "spec": {"template": {"metadata": {}}}}

    items = [
        d("trace-api-web", {"app": "trace-api"}),
        d("trace-api-worker", {"app": "trace-api"}),
        d("trace-ui", {"app": "trace-ui"}),
        d("billing-web", None),
        d("shop", {"app.kubernetes.io/name": "shop"}),
    ]
    assert [x["metadata"]["name"] for x in app_deployments("trace-api", items)] == [
        "trace-api-web",
        "trace-api-worker",
    ]
    assert app_deployments("trace", items) == []  # a prefix of other apps is not an app
    assert [x["metadata"]["name"] for x in app_deployments("billing", items)] == ["billing-web"]
    assert app_of(items[4]) == "shop" and app_of(items[3]) is None
    assert app_names(items) == ["billing", "shop", "trace-api", "trace-ui"]
    # another label key: those without it count by name only
    team = [d("api-web", {"team": "api"}), d("api-worker", {"team": "api"}), d("apigw", {"app": "apigw"})]
    assert [x["metadata"]["name"] for x in app_deployments("api", team, "team")] == ["api-web", "api-worker"]
    assert app_deployments("apigw", team, "team")[0]["metadata"]["name"] == "apigw"


def test_credential_looking_values():
    assert (
        credential_reason("STRIPE_SECRET_KEY", "sk_live_abcdefghij")
        == "the value looks like a Stripe secret key"
    )
    assert credential_reason("X", "ghp_" + "a" * 36) == "the value looks like a GitHub token"
    assert (
        credential_reason("DB", "postgres://app:hunter2@db:5432/x")
        == "the value looks like a URL with a password"
    )
    assert "says it holds a credential" in (credential_reason("SESSION_TOKEN", "abc") or "")
    assert credential_reason("DB_PASSWORD", "x") and credential_reason("API_KEY", "x")
    for name, value in (
        ("LOG_LEVEL", "info"),
        ("AWS_ACCESS_KEY_ID", "x"),
        ("USE_TOKEN", "false"),
        ("PORT", "3000"),
    ):
        assert credential_reason(name, value) is None, name


def test_a_literal_set_would_replace_references():
    env = [
        {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "db", "key": "url"}}},
        {"name": "LOG_LEVEL", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "LOG_LEVEL"}}},
        {"name": "PORT", "value": "3000"},
    ]
    deps = [deployment("web", env=env), deployment("worker", env=env)]
    found = replaced_references(
        deps, lambda d: ["web", "worker"], [EnvAssignment("LOG_LEVEL", "info"), EnvAssignment("PORT", "80")]
    )
    assert found == ["LOG_LEVEL (configmap cfg:LOG_LEVEL in trace-api-web, trace-api-worker)"]
    assert replaced_references(deps, lambda d: ["web"], [EnvAssignment("X", secret="s", key="k")]) == []


def test_promote_config_differences_and_node_change():
    src = deployment(
        "web",
        "a41c9e7",
        namespace="staging",
        env=[{"name": "LOG_LEVEL", "value": "debug"}, {"name": "API_KEY", "value": "s1"}],
    )
    dst = deployment(
        "web", "3f9c2a1", env=[{"name": "LOG_LEVEL", "value": "info"}, {"name": "API_KEY", "value": "s2"}]
    )
    lines = config_differences([src], [dst], lambda d: "web", "staging", "production")
    assert lines == [
        "web: API_KEY ******** (differs) in staging, ******** in production",
        "web: LOG_LEVEL 'debug' in staging, 'info' in production",
    ]
    copied = config_template(dst, src)
    assert copied["spec"]["containers"][0]["env"] == src["spec"]["template"]["spec"]["containers"][0]["env"]
    assert copied["spec"]["containers"][0]["image"].endswith(":3f9c2a1")
    assert node_change("v18.20.4", "v20.11.1") == "Node.js changes v20.11.1 → v18.20.4 (a major version down)"
    assert node_change("v20.11.1", "v20.11.1") is None and node_change(None, "v20.11.1") is None


def test_scale_decrement_below_zero_is_a_usage_error():
    requests = parse_scale(["worker-5"])
    with pytest.raises(UsageError, match="worker-5: worker has 1 pod, it cannot lose 5"):
        resolve_scale(requests, {"worker": 1, "web": 2})
    assert resolve_scale(parse_scale(["web-1"]), {"web": 2}) == {"web": 1}


def test_legacy_release_of_an_undone_replicaset_comes_last():
    web = deployment("web", "8b1d0e4")
    rss = [
        replicaset(web, "8b1d0e4", 3, hash_="w1", age=86400 * 20),  # created first, brought back by an undo
        replicaset(web, "3f9c2a1", 2, hash_="w2", age=86400 * 2),
    ]
    found, _ = legacy_releases([("web", web)], rss, REPO)
    assert [tags_summary(r.processes) for r in found] == ["web=3f9c2a1", "web=8b1d0e4"]
    live, _ = live_state([("web", web)], REPO)
    assert current_release(found, live) == found[-1]
