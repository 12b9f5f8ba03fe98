"""Exec credential plugins run as client-go runs them (real plugin processes, no cluster)."""

from __future__ import annotations

import base64

import pytest

from kubectl_trace.kube.errors import KubeConfigError
from kubectl_trace.kube.execauth import CredentialError, ExecAuthenticator, parse_exec_config
from tests.credential_plugins import V1, V1BETA1, exec_user, runs, write_plugin


def authenticator(command, *, clock=None, terminal=False, cluster=None, **extra):
    config = parse_exec_config("me", exec_user(command, **extra)["exec"])
    kwargs = {"clock": clock} if clock else {}
    return ExecAuthenticator(
        config, cluster=cluster or {}, environ={"KEEP": "kept"}, is_terminal=lambda: terminal, **kwargs
    )


@pytest.mark.parametrize("version", [V1, V1BETA1])
def test_token_from_the_plugin_with_args_env_and_exec_info(tmp_path, version):
    log = tmp_path / "log"
    plugin = write_plugin(tmp_path, token="t0k3n", api_version=version, log=log, record=("KEEP", "EXTRA"))
    ca = base64.b64encode(b"CA PEM").decode()
    auth = authenticator(
        plugin,
        api_version=version,
        args=["get-token", "--cluster", "c1"],
        env=[{"name": "EXTRA", "value": "x"}],
        provideClusterInfo=True,
        cluster={
            "server": "https://127.0.0.1:6443",
            "certificate-authority-data": ca,
            "tls-server-name": "api.internal",
            "extensions": [{"name": "client.authentication.k8s.io/exec", "extension": {"audience": "a"}}],
        },
    )
    assert auth.credential().token == "t0k3n"
    [run] = runs(log)
    assert run["argv"] == ["get-token", "--cluster", "c1"]
    assert run["env"] == {"KEEP": "kept", "EXTRA": "x"}
    assert run["stdin_is_tty"] is False
    info = run["info"]
    assert (info["apiVersion"], info["kind"]) == (version, "ExecCredential")
    assert info["spec"]["interactive"] is False
    assert info["spec"]["cluster"] == {
        "server": "https://127.0.0.1:6443",
        "certificate-authority-data": ca,
        "tls-server-name": "api.internal",
        "config": {"audience": "a"},
    }


def test_no_cluster_info_unless_asked(tmp_path):
    log = tmp_path / "log"
    auth = authenticator(write_plugin(tmp_path, token="t", log=log), cluster={"server": "https://x"})
    auth.credential()
    assert "cluster" not in runs(log)[0]["info"]["spec"]


def test_the_credential_is_kept_until_it_expires(tmp_path):
    log = tmp_path / "log"
    now = [1_000.0]
    plugin = write_plugin(tmp_path, token="t", log=log, expires_in=3600)
    auth = authenticator(plugin, clock=lambda: now[0])
    first = auth.credential()
    assert auth.credential() is first and len(runs(log)) == 1
    now[0] = first.expires + 1
    assert auth.credential() is not first and len(runs(log)) == 2


def test_without_expiry_the_credential_lasts_the_process(tmp_path):
    log = tmp_path / "log"
    auth = authenticator(write_plugin(tmp_path, token="t", log=log), clock=lambda: 1e12)
    assert auth.credential() is auth.credential()
    assert len(runs(log)) == 1


def test_a_rejected_credential_runs_the_plugin_again_once(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("old")
    log = tmp_path / "log"
    auth = authenticator(write_plugin(tmp_path, token_file=str(token_file), log=log))
    old = auth.credential()
    token_file.write_text("new")
    fresh = auth.rejected(old)
    assert fresh is not None and fresh.token == "new"
    assert auth.rejected(old) is fresh  # already rotated by someone else: no new run
    assert len(runs(log)) == 2
    assert auth.rejected(fresh) is None  # the plugin has nothing better: give up
    assert len(runs(log)) == 3


@pytest.mark.parametrize(
    ("mode", "terminal", "interactive"),
    [
        ("Never", True, False),
        ("IfAvailable", False, False),
        ("IfAvailable", True, True),
        ("Always", True, True),
    ],
)
def test_interactive_mode(tmp_path, mode, terminal, interactive):
    log = tmp_path / "log"
    auth = authenticator(write_plugin(tmp_path, token="t", log=log), terminal=terminal, interactiveMode=mode)
    auth.credential()
    assert runs(log)[0]["info"]["spec"]["interactive"] is interactive


def test_always_interactive_without_a_terminal_fails_before_running(tmp_path):
    log = tmp_path / "log"
    auth = authenticator(write_plugin(tmp_path, token="t", log=log), interactiveMode="Always")
    with pytest.raises(
        CredentialError, match="cannot support interactive mode: standard input is not a terminal"
    ):
        auth.credential()
    assert runs(log) == []


def test_v1beta1_defaults_to_if_available_and_v1_must_say():
    beta = parse_exec_config("me", {"apiVersion": V1BETA1, "command": "p"})
    assert beta.interactive_mode == "IfAvailable"
    with pytest.raises(KubeConfigError, match="interactiveMode must be specified for me"):
        parse_exec_config("me", {"apiVersion": V1, "command": "p"})


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"apiVersion": V1, "interactiveMode": "Never"}, "command must be specified for me"),
        ({"command": "p"}, "apiVersion must be specified for me"),
        ({"command": "p", "apiVersion": "client.authentication.k8s.io/v1alpha1"}, "invalid apiVersion"),
        (
            {"command": "p", "apiVersion": V1, "interactiveMode": "Sometimes"},
            'invalid interactiveMode for me: "Sometimes"',
        ),
        (
            {"command": "p", "apiVersion": V1BETA1, "env": [{"value": "v"}]},
            "env variable name must be specified",
        ),
    ],
)
def test_invalid_exec_entries(entry, message):
    with pytest.raises(KubeConfigError, match=message):
        parse_exec_config("me", entry)


def test_a_failing_plugin(tmp_path, capfd):
    auth = authenticator(write_plugin(tmp_path, exit_code=3, stderr="please log in with: sso login"))
    with pytest.raises(CredentialError) as caught:
        auth.credential()
    plugin = tmp_path / "credential-plugin"
    assert caught.value.message == f"getting credentials: exec: executable {plugin} failed with exit code 3"
    assert "please log in with: sso login" in capfd.readouterr().err  # its stderr is the user's


def test_a_missing_plugin_shows_the_install_hint(tmp_path):
    auth = authenticator(
        "gke-gcloud-auth-plugin-missing", installHint="Install it: gcloud components install"
    )
    with pytest.raises(CredentialError) as caught:
        auth.credential()
    assert (
        caught.value.message
        == "getting credentials: exec: executable gke-gcloud-auth-plugin-missing not found"
    )
    assert caught.value.hint == "Install it: gcloud components install"
    without_hint = authenticator("no-such-plugin-anywhere")
    with pytest.raises(CredentialError) as caught:
        without_hint.credential()
    assert "client-go-credential-plugins" in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("plugin", "message"),
    [
        (
            {"answer_version": V1BETA1, "token": "t"},
            f"configured to use API version {V1}, plugin returned version {V1BETA1}",
        ),
        ({}, "exec plugin didn't return a token or cert/key pair"),
        ({"cert": "CERT"}, "exec plugin returned only certificate or key, not both"),
    ],
)
def test_bad_answers(tmp_path, plugin, message):
    auth = authenticator(write_plugin(tmp_path, **plugin))
    with pytest.raises(CredentialError, match=message):
        auth.credential()


def test_client_certificate_from_the_plugin(tmp_path):
    auth = authenticator(write_plugin(tmp_path, cert="CERT PEM", key="KEY PEM"))
    cred = auth.credential()
    assert (cred.token, cred.cert_pem, cred.key_pem) == ("", b"CERT PEM", b"KEY PEM")


def test_a_relative_command_is_relative_to_the_kubeconfig(tmp_path):
    import yaml

    from kubectl_trace.kube.config import load_kubeconfig_dict

    (tmp_path / "bin").mkdir()
    plugin = write_plugin(tmp_path / "bin", token="t")
    config = {
        "users": [
            {"name": "rel", "user": exec_user("bin/credential-plugin")},
            {"name": "path", "user": exec_user("credential-plugin")},
        ]
    }
    (tmp_path / "config").write_text(yaml.safe_dump(config))
    users = {u["name"]: u["user"] for u in load_kubeconfig_dict([str(tmp_path / "config")])["users"]}
    assert users["rel"]["exec"]["command"] == str(plugin)
    assert users["path"]["exec"]["command"] == "credential-plugin"  # looked up on PATH
