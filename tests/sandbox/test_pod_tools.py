"""The busybox-like tool set in every sandbox image (real kubectl and the official client)."""

from __future__ import annotations

import json
from typing import Any

from tests.sandbox.demo import NS, needs_namespaces, ready_pod


def test_wget_reaches_the_pods_own_port(kubectl: Any, web_pod: str) -> None:
    result = kubectl(
        "exec", "-n", NS, web_pod, "--", "wget", "-qO-", "http://localhost:3000/healthz", check=True
    )
    health = json.loads(result.stdout)
    assert health["status"] == "ok" and health["commit"] == "3f9c2a1"
    saved = kubectl(
        "exec", "-n", NS, web_pod, "--", "sh", "-c", "cd /tmp && wget http://127.0.0.1:3000/healthz && cat healthz"
    )  # fmt: skip
    assert saved.returncode == 0, saved.stderr
    assert "saving to 'healthz'" in saved.stderr and json.loads(saved.stdout)["status"] == "ok"


def test_wget_errors_as_busybox_says_them(kubectl: Any, web_pod: str) -> None:
    cases = {
        "http://localhost:3000/nope": "wget: server returned error: HTTP/1.1 404 Not Found",
        "http://localhost:4000/": "wget: can't connect to remote host (127.0.0.1): Connection refused",
        "http://example.com/": "wget: bad address 'example.com'",
    }
    for url, message in cases.items():
        result = kubectl("exec", "-n", NS, web_pod, "--", "wget", "-q", "-O", "-", url)
        assert (result.returncode, result.stderr.splitlines()[0]) == (1, message), url


def test_curl_only_where_the_image_has_it(kubectl: Any, kube: Any, eventually: Any, web_pod: str) -> None:
    debian = kubectl("exec", "-n", NS, web_pod, "--", "curl", "-fsS", "localhost:3000/healthz", check=True)
    assert json.loads(debian.stdout)["status"] == "ok"
    failed = kubectl("exec", "-n", NS, web_pod, "--", "curl", "-fsS", "localhost:3000/x")
    assert failed.returncode == 22 and "returned error: 404" in failed.stderr
    alpine = ready_pod(kube, eventually, "staging", "web")  # a41c9e7 is Alpine-based: busybox wget, no curl
    result = kubectl("exec", "-n", "staging", alpine, "--", "curl", "localhost:3000")
    assert result.returncode == 1 and '"curl": executable file not found in $PATH' in result.stderr
    assert kubectl(
        "exec", "-n", "staging", alpine, "--", "wget", "-qO-", "localhost:3000/healthz", check=True
    ).stdout


@needs_namespaces
def test_hostname_uptime_ps_through_the_official_client(sandbox: Any, web_pod: str) -> None:
    from kubernetes import client, config
    from kubernetes.stream import stream

    api = config.new_client_from_config(config_file=sandbox.kubeconfig)
    try:
        output = stream(
            client.CoreV1Api(api).connect_get_namespaced_pod_exec,
            web_pod,
            NS,
            command=[
                "sh",
                "-c",
                "hostname; hostname -i; uptime; ps -o pid=,args= | head -1; "
                "for t in wget ps uptime; do command -v $t; done; "
                'wget -qO- "http://$(hostname -i):3000/healthz" | head -c 15',
            ],
            stderr=True,
            stdin=False,
            stdout=True,
            tty=False,
        )
        pod_ip = client.CoreV1Api(api).read_namespaced_pod(web_pod, NS).status.pod_ip
    finally:
        api.close()
    lines = output.splitlines()
    assert lines[:2] == [web_pod, pod_ip]
    assert " up " in lines[2] and "load average" in lines[2]
    assert lines[3].split()[0] == "1"
    assert lines[4:] == ["/.image/bin/wget", "/.image/bin/ps", "/.image/bin/uptime", '{"status": "ok"']
