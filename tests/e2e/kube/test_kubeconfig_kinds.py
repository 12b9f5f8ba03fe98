"""Every command, end to end, with every kind of kubeconfig our users have.

Every command (status, logs, shell with and without stdin, history, events, env list; a
real ``env set`` followed to the end, ``deploy --no-wait`` and a ``run`` Job in a copy of
the app; restart, promote, rollback and scale as dry runs; one dashboard frame and
``rollout --until-complete`` through the dashboard's watches; info) and the completion
engine run against the session sandbox with: a token, a token file, no TLS verification
(``insecure-skip-tls-verify``: our one warning, once), a client certificate, exec plugins
(v1 and v1beta1) giving a token, an exec plugin giving a client certificate (each plugin
run exactly once per command), a legacy ``auth-provider`` (a cached gcp token: the
official client's fallback path), a CONNECT proxy from ``proxy-url``, a SOCKS5 one from
``proxy-url`` and a CONNECT proxy from ``HTTPS_PROXY`` (all three with a server name only
the proxy knows, and ``tls-server-name``, so a request that went around the proxy would
fail), and ``HTTPS_PROXY`` with ``NO_PROXY`` naming the server. The kubeconfigs are
built once per module, and so is the copy of trace-api the writing commands change (a
namespace of the module's own). Each command's output is checked for what it must show,
and the proxy kinds for the tunnels they used (or did not). The streaming paths as a user
meets them: ``logs -f`` as a child process, stopped with Ctrl-C after its first lines, and
(proxy kinds) the live dashboard in tmux, following new log lines until ``q``.
"""

from __future__ import annotations

import base64
import ipaddress
import re
import select
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.conftest import wait_until
from tests.credential_plugins import V1, V1BETA1, exec_user, runs, write_plugin
from tests.e2e.logs._follow import BIN, child_env
from tests.e2e.pods import running_pod_names
from tests.e2e.release.appcopy import copy_app
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
    warning: str | None = None  # a line stderr must show exactly once per command


KINDS = [
    "token",
    "token-file",
    "insecure",
    "client-cert",
    "exec-v1",
    "exec-v1beta1",
    "exec-cert",
    "auth-provider",
    "proxy-url",
    "socks5-proxy-url",
    "https-proxy",
    "no-proxy",
]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _no_proxy_kind(sandbox, write: Callable[..., str], bypassed: TunnelProxy) -> Kind:
    """``HTTPS_PROXY`` set and ``NO_PROXY`` naming the server.

    An address of 127/8 or ``localhost`` never goes through a proxy whatever ``NO_PROXY``
    says (Go's rule, ours too), so the server is named by this machine's host name when
    that resolves to loopback: only a ``NO_PROXY`` entry sends it around the proxy (which
    refuses the name). Elsewhere the loopback rule alone is what is tested.
    """
    host = socket.gethostname().lower()
    try:
        direct = ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
    except (OSError, ValueError):
        direct = False
    environ = {"HTTPS_PROXY": bypassed.url, "NO_PROXY": f"10.0.0.0/8,.sandbox.test,{host}"}
    if not direct:
        return Kind(sandbox.kubeconfig, environ=environ, proxy=bypassed)
    server = f"https://{host}:{sandbox.port}"
    return Kind(
        write("no-proxy", server=server, tls_server_name="localhost"), environ=environ, proxy=bypassed
    )


@pytest.fixture(scope="module")
def kinds(sandbox, tmp_path_factory) -> Iterator[dict[str, Kind]]:
    base = yaml.safe_load(Path(sandbox.kubeconfig).read_text())
    token = base["users"][0]["user"]["token"]
    cert = sandbox.admin("POST", "credentials/client-certificate", {"user": "kinds"})
    directory = tmp_path_factory.mktemp("kinds")

    def write(name: str, user: dict | None = None, drop: tuple[str, ...] = (), **cluster: object) -> str:
        config = yaml.safe_load(yaml.safe_dump(base))
        if user is not None:
            config["users"][0]["user"] = user
        for key in drop:
            config["clusters"][0]["cluster"].pop(key, None)
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
    token_file = directory / "token"
    token_file.write_text(token + "\n")
    named = f"https://{NAME}:{sandbox.port}"  # only the proxies know it: no request can go around them
    certp, cert_log = plugin("cert", cert=cert["certificate"], key=cert["key"])
    with (
        TunnelProxy(hosts={NAME: "127.0.0.1"}) as via_url,
        TunnelProxy(hosts={NAME: "127.0.0.1"}) as via_socks,
        TunnelProxy(hosts={NAME: "127.0.0.1"}) as via_env,
        TunnelProxy() as bypassed,
    ):
        yield {
            "token": Kind(sandbox.kubeconfig),
            "token-file": Kind(write("token-file", {"tokenFile": str(token_file)})),
            "insecure": Kind(
                write(
                    "insecure",
                    drop=("certificate-authority-data", "certificate-authority"),
                    insecure_skip_tls_verify=True,
                ),
                warning="warning: TLS verification is off",
            ),
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
            "auth-provider": Kind(  # legacy: the official client's fallback path
                write(
                    "auth-provider",
                    {
                        "auth-provider": {
                            "name": "gcp",
                            "config": {"access-token": token, "expiry": "2099-01-01T00:00:00Z"},
                        }
                    },
                )
            ),
            "proxy-url": Kind(
                write("proxy-url", proxy_url=via_url.url, server=named, tls_server_name="localhost"),
                proxy=via_url,
                tunnels=True,
            ),
            "socks5-proxy-url": Kind(
                write("socks5", proxy_url=via_socks.socks_url, server=named, tls_server_name="localhost"),
                proxy=via_socks,
                tunnels=True,
            ),
            "https-proxy": Kind(
                write("https-proxy", server=named, tls_server_name="localhost"),
                environ={"HTTPS_PROXY": via_env.url},
                proxy=via_env,
                tunnels=True,
            ),
            "no-proxy": _no_proxy_kind(sandbox, write, bypassed),
        }


@pytest.fixture
def running_pod(kube, eventually) -> str:
    pods = eventually(lambda: running_pod_names(kube, NS, "app=trace-api,process=web"), timeout=60)
    return pods[0]


@pytest.fixture(scope="module")
def app_copy(sandbox) -> Iterator[str]:
    """A namespace of this module's own running staging's trace-api, for the writing commands."""
    from kubectl_trace.kube.client import connect
    from kubectl_trace.kube.settings import KubeSettings

    kube = connect(KubeSettings(kubeconfig=sandbox.kubeconfig))
    namespace = copy_app(kube, wait_until, prefix="kinds")
    try:
        yield namespace
    finally:
        kube.delete("namespaces", namespace)
        kube.close()


@dataclass(frozen=True)
class Command:
    """``kubectl nodeapp ARGV`` ({pod}: a running web pod of production; {app}: the copy's
    namespace; {key}: a config var of this kind's own) and what its stdout must show."""

    argv: tuple[str, ...]
    expected: str
    stdin: str = ""


COMMANDS = {
    "status": Command(("status", "trace-api", "-n", NS), "trace-api"),
    "logs": Command(
        ("logs", "deploy/trace-api-web", "-n", NS, "--no-follow", "--tail", "1"), "trace-api-web"
    ),
    "shell": Command(("shell", "{pod}", "-n", NS, "--", "echo", "hi from the pod"), "hi from the pod"),
    "shell with stdin": Command(
        ("shell", "{pod}", "-n", NS, "--", "cat"), "fed through stdin", "fed through stdin\n"
    ),
    "history": Command(("history", "trace-api", "-n", NS, "--process", "web"), "releases in production"),
    "events": Command(("events", "trace-api", "-n", NS), "SuccessfulCreate"),
    "env list": Command(("env", "trace-api", "list", "-n", NS), "PROCESS_TYPE"),
    "env set": Command(  # followed to the end through the release flow's watches (web alone: quick)
        ("env", "trace-api", "set", "{key}=1", "--process", "web", "-n", "{app}", "--yes"), "rollout complete"
    ),
    "run": Command(
        ("run", "trace-api", "-n", "{app}", "--", "sh", "-c", "echo ran with {key}"), "ran with {key}"
    ),
    "deploy": Command(  # a real release (the first kind to run it patches, the others find it done)
        ("deploy", "trace-api", "-n", "{app}", "--tag", "b2c3d4e", "--no-wait", "--yes"), "deploy b2c3d4e"
    ),
    "restart --dry-run": Command(("restart", "trace-api", "-n", NS, "--dry-run"), "restartedAt"),
    "promote --dry-run": Command(
        ("promote", "trace-api", "--from", "staging", "--to", NS, "--dry-run"), "promote app trace-api"
    ),
    "rollback --dry-run": Command(
        ("rollback", "trace-api", "-n", NS, "--dry-run"), "roll back app trace-api"
    ),
    "scale --dry-run": Command(("scale", "trace-api", "worker=1", "-n", NS, "--dry-run"), "worker"),
    "rollout --once": Command(("rollout", "--once", "-n", NS), "trace-api-web"),
    "rollout --until-complete": Command(
        ("rollout", "--until-complete", "trace-api-web", "-n", NS, "--timeout", "30s"),
        "successfully rolled out",
    ),
    "info": Command(("info", "-n", NS), "production"),
}


def _counts(chosen: Kind) -> tuple[int, int]:
    """Tunnels through the kind's proxy and runs of its plugin so far."""
    plugin_runs = len(runs(chosen.plugin_log)) if chosen.plugin_log is not None else 0
    return (len(chosen.proxy.tunnels) if chosen.proxy else 0), plugin_runs


def _check_stderr(chosen: Kind, stderr: str) -> None:
    """No error, and the kind's own warning (if any) exactly once."""
    assert "error" not in stderr.lower(), stderr
    if chosen.warning is not None:
        assert stderr.count(chosen.warning) == 1, stderr


def _check_route(chosen: Kind, before: tuple[int, int]) -> None:
    """The proxy kinds went through their proxy (or, with NO_PROXY, around it); a credential
    plugin ran once for the command (its answer has no expiry: one run serves every request)."""
    tunnels, plugin_runs = (now - then for now, then in zip(_counts(chosen), before, strict=True))
    if chosen.proxy is not None:
        assert (tunnels > 0) is chosen.tunnels, f"{tunnels} tunnels through the proxy"
    if chosen.plugin_log is not None:
        assert plugin_runs == 1, f"the credential plugin ran {plugin_runs} times"


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("kind", KINDS)
def test_command_with_kubeconfig_kind(kinds, kind, command, invoke, running_pod, app_copy, monkeypatch):
    chosen = kinds[kind]
    for name, value in chosen.environ.items():
        monkeypatch.setenv(name, value)  # for commands that read the process environment
    before = _counts(chosen)
    spec = COMMANDS[command]
    fill = {"pod": running_pod, "app": app_copy, "key": "KIND_" + kind.upper().replace("-", "_")}
    argv = tuple(a.format(**fill) for a in spec.argv)
    result = invoke(*argv, kubeconfig=chosen.kubeconfig, environ=dict(chosen.environ), stdin=spec.stdin)
    assert result.exit_code == 0, result.stderr
    assert spec.expected.format(**fill) in result.stdout, result.stdout
    _check_stderr(chosen, result.stderr)
    _check_route(chosen, before)


@pytest.mark.parametrize("kind", KINDS)
def test_completion_with_kubeconfig_kind(kinds, kind):
    """The completion engine reads the same kubeconfig (and proxy variables) as the commands."""
    from kubectl_trace.cli.cmd_completion import complete

    chosen = kinds[kind]
    before = _counts(chosen)
    words = ["--kubeconfig", chosen.kubeconfig, "logs", "-n", NS, "trace"]
    candidates = [c.split("\t")[0] for c in complete(None, words, dict(chosen.environ)).candidates]
    assert "trace-api" in candidates, candidates  # the app, from its Deployments
    assert any(c.startswith("trace-api-web-") for c in candidates), candidates  # and its pods
    _check_route(chosen, before)


@pytest.mark.parametrize("kind", KINDS)
def test_logs_follow_streams_with_kubeconfig_kind(kinds, kind):
    """``logs -f`` as a user runs it: lines arrive over the kind's route until Ctrl-C."""
    chosen = kinds[kind]
    before = _counts(chosen)
    argv = [str(BIN / "kubectl-nodeapp"), "logs", "deploy/trace-api-web", "-n", NS, "-f", "--tail", "0"]
    child = subprocess.Popen(
        [*argv, "--kubeconfig", chosen.kubeconfig],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(**chosen.environ),
    )
    try:
        assert child.stdout is not None
        readable, _, _ = select.select([child.stdout], [], [], 20)
        assert readable, "no log line within 20 s"  # the sandbox's web pods log every half second
        first = child.stdout.readline()
        assert "trace-api-web" in first, first
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
    assert child.returncode in (0, 130), stderr
    assert "Traceback" not in stderr, stderr
    _check_stderr(chosen, stderr)
    _check_route(chosen, before)


def _log_seqs(screen: str) -> list[int]:
    return [int(n) for n in re.findall(r"seq=(\d+)", screen)]


@pytest.mark.parametrize("kind", ["proxy-url", "socks5-proxy-url", "https-proxy"])
def test_live_dashboard_streams_through_the_proxy(kinds, kind, tmux, tmp_path, eventually):
    """The full-screen dashboard in a terminal: its watches and its log follower all tunnel
    (the server's name is known to the proxy alone), and new log lines keep arriving."""
    chosen = kinds[kind]
    before = _counts(chosen)
    argv = [sys.executable, "-m", "kubectl_trace", "rollout", "--kubeconfig", chosen.kubeconfig, "-n", NS]
    script = f"{shlex.join(argv)}; echo $? > {tmp_path}/exit-code"
    tmux.start(["bash", "--norc", "--noprofile", "-c", script], env={"HOME": str(tmp_path), **chosen.environ})
    tmux.wait_for("● live", timeout=30)
    first = max(eventually(lambda: _log_seqs(tmux.capture()), timeout=30, message="log lines on screen"))
    eventually(
        lambda: max(_log_seqs(tmux.capture()) or [0]) > first, timeout=30, message="a newer log line followed"
    )
    tmux.send("q")
    code = eventually(
        lambda: (tmp_path / "exit-code").exists() and (tmp_path / "exit-code").read_text().strip()
    )
    assert code == "0", tmux.capture()
    assert _counts(chosen)[0] - before[0] >= 2, "the watches and the log follower each tunnel"
