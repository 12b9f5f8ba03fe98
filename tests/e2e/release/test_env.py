"""``env``: list (masked), set / unset rolling the pods, secrets, and concurrent changes."""

from __future__ import annotations

import base64
import subprocess
import sys

from .helpers import APP_DEPLOYMENTS, deployments, env_of, nodeapp, ready_pods


def printenv(handle, name, process="web"):
    return nodeapp(
        handle, "shell", "trace-api", "--process", process, "-n", "staging", "--", "printenv", name
    )


def test_list_masks_secrets_and_reveal_reads_them(cluster):
    handle, kube, _ = cluster
    secret = kube.get("secrets", "trace-api-db", "staging")
    value = base64.b64decode(secret["data"]["url"]).decode()
    listed = nodeapp(handle, "env", "trace-api", "-n", "staging")
    assert listed.returncode == 0, listed.stderr
    line = next(x for x in listed.stdout.splitlines() if x.startswith("DATABASE_URL"))
    assert "********" in line and "(secret trace-api-db:url)" in line
    assert value not in listed.stdout
    revealed = nodeapp(handle, "env", "trace-api", "-n", "staging", "--reveal")
    assert value in next(x for x in revealed.stdout.splitlines() if x.startswith("DATABASE_URL"))
    as_json = nodeapp(handle, "env", "trace-api", "-n", "staging", "-o", "json", "--process", "web")
    assert value not in as_json.stdout and '"masked": true' in as_json.stdout
    # words on both sides of flags, as kubectl users type them
    split = nodeapp(handle, "env", "trace-api", "-n", "staging", "set", "SPLIT=1", "--dry-run")
    assert split.returncode == 0 and "dry run: nothing was changed" in split.stdout, split.stderr


def test_set_rolls_the_pods_and_unset_removes(cluster, kubectl):
    handle, kube, kubectl_run = cluster
    old_pods = {
        p["metadata"]["uid"] for p in kube.list("pods", "staging", label_selector="app=trace-api").items
    }

    # LOG_LEVEL comes from a ConfigMap: a literal replaces that reference only with --force
    refused = nodeapp(handle, "env", "trace-api", "set", "LOG_LEVEL=debug", "-n", "staging")
    assert refused.returncode == 1 and refused.stderr.startswith(
        "error: env set would replace a reference with a literal value: LOG_LEVEL (configmap "
        "trace-api-config:LOG_LEVEL in trace-api-clock, trace-api-web, trace-api-worker); nothing was changed"
    )
    assert "--force" in refused.stderr
    result = nodeapp(handle, "env", "trace-api", "set", "LOG_LEVEL=debug", "-n", "staging", "--force")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "every rollout complete" in result.stdout
    for d in deployments(kube, "staging").values():
        assert env_of(d)["LOG_LEVEL"] == {"name": "LOG_LEVEL", "value": "debug"}
        assert d["metadata"]["annotations"]["kubernetes.io/change-cause"].startswith(
            "env set LOG_LEVEL by e2e-tester"
        )
    serving = {
        p["metadata"]["uid"] for proc in ("web", "worker", "clock") for p in ready_pods(kube, "staging", proc)
    }
    assert len(serving) == 3 and not serving & old_pods  # every serving pod is a new one
    shown = printenv(handle, "LOG_LEVEL")
    assert (shown.returncode, shown.stdout) == (0, "debug\n"), shown.stderr
    exec_ = kubectl_run("exec", "deploy/trace-api-worker", "-n", "staging", "--", "printenv", "LOG_LEVEL")
    assert exec_.stdout == "debug\n", exec_.stderr

    unset = nodeapp(handle, "env", "trace-api", "unset", "LOG_LEVEL", "-n", "staging")
    assert unset.returncode == 0, unset.stdout + unset.stderr
    for d in deployments(kube, "staging").values():
        assert "LOG_LEVEL" not in env_of(d)
    gone = printenv(handle, "LOG_LEVEL")
    assert gone.returncode == 1 and gone.stdout == ""
    again = nodeapp(handle, "env", "trace-api", "unset", "LOG_LEVEL", "-n", "staging")
    assert again.returncode == 0 and "nothing to change" in again.stdout


def test_set_from_secret_and_scoped_to_a_process(cluster):
    handle, kube, _ = cluster
    result = nodeapp(
        handle,
        "env",
        "trace-api",
        "set",
        "DB_COPY",
        "--from-secret",
        "trace-api-db:url",
        "--process",
        "worker",
        "-n",
        "staging",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    ds = deployments(kube, "staging")
    assert env_of(ds["trace-api-worker"])["DB_COPY"]["valueFrom"] == {
        "secretKeyRef": {"name": "trace-api-db", "key": "url"}
    }
    assert "DB_COPY" not in env_of(ds["trace-api-web"])
    value = base64.b64decode(kube.get("secrets", "trace-api-db", "staging")["data"]["url"]).decode()
    assert printenv(handle, "DB_COPY", "worker").stdout == value + "\n"
    missing = nodeapp(handle, "env", "trace-api", "set", "X", "--from-secret", "nope", "-n", "staging")
    assert missing.returncode == 1 and 'secret "nope" not found' in missing.stderr
    nokey = nodeapp(
        handle, "env", "trace-api", "set", "X", "--from-secret", "trace-api-db:nokey", "-n", "staging"
    )
    keys = ", ".join(sorted(kube.get("secrets", "trace-api-db", "staging")["data"]))
    assert nokey.returncode == 1 and f'has no key "nokey" (it has: {keys})' in nokey.stderr


def test_concurrent_sets_of_different_keys_both_land(cluster):
    handle, kube, _ = cluster
    import os

    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env["KUBECTL_NODEAPP_CONFIG"] = os.devnull + ".missing.toml"
    for round_ in range(2):
        keys = [f"RACE_{round_}_{i}" for i in range(3)]
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "kubectl_trace",
                    "--kubeconfig",
                    handle.kubeconfig,
                    "env",
                    "trace-api",
                    "set",
                    f"{key}=v",
                    "-n",
                    "staging",
                    "--no-wait",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                text=True,
                env=env,
            )
            for key in keys
        ]
        results = [p.communicate(timeout=120) for p in procs]
        for p, (out, err) in zip(procs, results, strict=True):
            assert p.returncode == 0, out + err
        for name, d in deployments(kube, "staging").items():
            present = env_of(d)
            assert all(present.get(k, {}).get("value") == "v" for k in keys), (name, sorted(present))
    assert set(deployments(kube, "staging")) == set(APP_DEPLOYMENTS)
