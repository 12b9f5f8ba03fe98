"""Kubeconfigs written by the real kubectl are read without PyYAML, and read right."""

import subprocess

import yaml

from kubectl_trace.kube.config import load_connection
from kubectl_trace.kube.settings import KubeSettings
from kubectl_trace.kube.simple_yaml import parse
from tests.conftest import KUBECTL


def kubectl_config(path, *args):
    subprocess.run([KUBECTL, "--kubeconfig", str(path), "config", *args], check=True, capture_output=True)


def test_kubectl_written_kubeconfig(tmp_path):
    path = tmp_path / "config"
    kubectl_config(
        path, "set-cluster", "dev", "--server=https://127.0.0.1:6443", "--insecure-skip-tls-verify=true"
    )
    kubectl_config(path, "set-cluster", "prod", "--server=https://10.1.2.3", "--tls-server-name=api.example")
    kubectl_config(path, "set-credentials", "dev", "--token=abc.def-ghi")
    kubectl_config(
        path,
        "set-credentials",
        "gke",
        "--exec-command=gke-gcloud-auth-plugin",
        "--exec-api-version=client.authentication.k8s.io/v1beta1",
        "--exec-arg=--use_application_default_credentials",
        "--exec-env=CLOUDSDK_CORE_PROJECT=my-project",
    )
    kubectl_config(path, "set-context", "dev", "--cluster=dev", "--user=dev", "--namespace=production")
    kubectl_config(path, "set-context", "prod", "--cluster=prod", "--user=gke")
    kubectl_config(path, "use-context", "dev")
    text = path.read_text()

    parsed = parse(text)
    assert parsed is not None, text  # the fast path reads what kubectl writes
    assert parsed == yaml.safe_load(text)

    conn = load_connection(KubeSettings(kubeconfig=str(path)), {})
    assert (conn.context, conn.namespace, conn.server) == ("dev", "production", "https://127.0.0.1:6443")
    conn = load_connection(KubeSettings(kubeconfig=str(path), context="prod"), {})
    assert (conn.cluster, conn.user, conn.namespace) == ("prod", "gke", "default")
