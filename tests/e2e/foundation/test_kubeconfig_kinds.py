"""Every command family, end to end, with every kind of kubeconfig our users have.

One representative command per family (status, logs, shell, history, events, env, a
dry-run scale, one dashboard frame, info) runs
against the session sandbox with: a token, a client certificate, exec plugins (v1 and
v1beta1) giving a token, an exec plugin giving a client certificate, a CONNECT proxy from
``proxy-url``, ``HTTPS_PROXY`` with a name only the proxy knows (and ``tls-server-name``),
and ``HTTPS_PROXY`` with ``NO_PROXY`` covering the server. The kubeconfigs are built once
per module; each command's output is checked for what it must show, and the proxy kinds
for the tunnels they used (or did not).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.credential_plugins import V1, V1BETA1, exec_user, runs, write_plugin
from tests.proxies import TunnelProxy

NS = "production"
NAME = "api.sandbox.test"


@dataclass
class Kind:
    kubeconfig: str
    environ: dict[str, str] = field(default_factory=dict)
    proxy: TunnelProxy | None = None
    tunnels: bool = False  # whether requests must go through the proxy
    plugin_log: Path | None = None


KINDS = [
    "token",
    "client-cert",
    "exec-v1",
    "exec-v1beta1",
    "exec-cert",
    "proxy-url",
    "https-proxy",
    "no-proxy",
]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture(scope="module")
def kinds(sandbox, tmp_path_factory) -> Iterator[dict[str, Kind]]:
    base = yaml.safe_load(Path(sandbox.kubeconfig).read_text())
    token = base["users"][0]["user"]["token"]
    cert = sandbox.admin("POST", "credentials/client-certificate", {"user": "kinds"})
    directory = tmp_path_factory.mktemp("kinds")

    def write(name: str, user: dict | None = None, **cluster: object) -> str:
        config = yaml.safe_load(yaml.safe_dump(base))
        if user is not None:
            config["users"][0]["user"] = user
        config["clusters"][0]["cluster"].update({k.replace("_", "-"): v for k, v in cluster.items()})
        path = directory / f"{name}.kubeconfig"
        path.write_text(yaml.safe_dump(config))
        return str(path)

    def plugin(name: str, **answer: object) -> tuple[Path, Path]:
        folder = directory / name
        folder.mkdir()
        log = folder / "runs"
        return write_plugin(folder, log=log, **answer), log  # type: ignore[arg-type]

    v1, v1_log = plugin("v1", token=token)
    beta, beta_log = plugin("v1beta1", token=token, api_version=V1BETA1)
    certp, cert_log = plugin("cert", cert=cert["certificate"], key=cert["key"])
    with (
        TunnelProxy() as via_url,
        TunnelProxy(hosts={NAME: "127.0.0.1"}) as via_env,
        TunnelProxy() as bypassed,
    ):
        yield {
            "token": Kind(sandbox.kubeconfig),
            "client-cert": Kind(
                write(
                    "cert",
                    {
                        "client-certificate-data": _b64(cert["certificate"]),
                        "client-key-data": _b64(cert["key"]),
                    },
                )
            ),
            "exec-v1": Kind(write("exec-v1", exec_user(v1, V1)), plugin_log=v1_log),
            "exec-v1beta1": Kind(write("exec-v1beta1", exec_user(beta, V1BETA1)), plugin_log=beta_log),
            "exec-cert": Kind(write("exec-cert", exec_user(certp, V1)), plugin_log=cert_log),
            "proxy-url": Kind(write("proxy-url", proxy_url=via_url.url), proxy=via_url, tunnels=True),
            "https-proxy": Kind(
                write("https-proxy", server=f"https://{NAME}:{sandbox.port}", tls_server_name="localhost"),
                environ={"HTTPS_PROXY": via_env.url},
                proxy=via_env,
                tunnels=True,
            ),
            "no-proxy": Kind(
                sandbox.kubeconfig,
                environ={"HTTPS_PROXY": bypassed.url, "NO_PROXY": "127.0.0.0/8,.sandbox.test"},
                proxy=bypassed,
            ),
        }


@pytest.fixture
def running_pod(kube, eventually) -> str:
    pods = eventually(
        lambda: [
            p["metadata"]["name"]
            for p in kube.list("pods", NS, label_selector="app=trace-api,process=web").items
            if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")
        ],
        timeout=60,
    )
    return pods[0]


COMMANDS = {
    "status": (("status", "trace-api", "-n", NS), "trace-api"),
    "logs": (("logs", "deploy/trace-api-web", "-n", NS, "--no-follow", "--tail", "1"), "trace-api-web"),
    "shell": (("shell", "{pod}", "-n", NS, "--", "echo", "hi from the pod"), "hi from the pod"),
    "history": (("history", "trace-api", "-n", NS, "--process", "web"), "releases in production"),
    "events": (("events", "trace-api", "-n", NS), "SuccessfulCreate"),
    "env": (("env", "trace-api", "list", "-n", NS), "PROCESS_TYPE"),
    "scale --dry-run": (("scale", "trace-api", "worker=1", "-n", NS, "--dry-run"), "worker"),
    "rollout --once": (("rollout", "--once", "-n", NS), "trace-api-web"),
    "info": (("info", "-n", NS), "production"),
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("kind", KINDS)
def test_command_with_kubeconfig_kind(kinds, kind, command, invoke, running_pod, monkeypatch):
    chosen = kinds[kind]
    for name, value in chosen.environ.items():
        monkeypatch.setenv(name, value)  # for commands that read the process environment
    before = len(chosen.proxy.tunnels) if chosen.proxy else 0
    argv, expected = COMMANDS[command]
    argv = tuple(a.format(pod=running_pod) for a in argv)
    result = invoke(*argv, kubeconfig=chosen.kubeconfig, environ=dict(chosen.environ))
    assert result.exit_code == 0, result.stderr
    assert expected in result.stdout
    assert "error" not in result.stderr.lower()
    if chosen.proxy is not None:
        used = len(chosen.proxy.tunnels) - before
        assert (used > 0) is chosen.tunnels, f"{used} tunnels through the proxy"
    if chosen.plugin_log is not None:
        assert len(runs(chosen.plugin_log)) >= 1
