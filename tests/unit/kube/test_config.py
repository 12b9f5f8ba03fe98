import base64
import os

import pytest
import yaml

from kubectl_trace.kube.config import load_connection, load_kubeconfig_dict
from kubectl_trace.kube.errors import KubeConfigError
from kubectl_trace.kube.settings import KubeSettings


def write(path, *, clusters=(), users=(), contexts=(), current=None):
    data = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": n, "cluster": c} for n, c in clusters],
        "users": [{"name": n, "user": u} for n, u in users],
        "contexts": [{"name": n, "context": c} for n, c in contexts],
    }
    if current:
        data["current-context"] = current
    path.write_text(yaml.safe_dump(data))
    return str(path)


@pytest.fixture
def two_files(tmp_path):
    a = write(
        tmp_path / "a",
        clusters=[("ca", {"server": "https://127.0.0.1:1001"})],
        users=[("ua", {"token": "ta"})],
        contexts=[("shared", {"cluster": "ca", "user": "ua", "namespace": "from-a"})],
        current="shared",
    )
    b = write(
        tmp_path / "b",
        clusters=[("cb", {"server": "https://127.0.0.1:1002"}), ("ca", {"server": "https://ignored"})],
        users=[("ub", {"token": "tb"})],
        contexts=[("other", {"cluster": "cb", "user": "ub"}), ("shared", {"cluster": "cb", "user": "ub"})],
        current="other",
    )
    return a, b


def test_kubeconfig_env_merges_first_wins(two_files):
    a, b = two_files
    environ = {"KUBECONFIG": os.pathsep.join([a, "/does/not/exist", b])}
    conn = load_connection(KubeSettings(), environ)
    assert conn.context == "shared"  # current-context of the first file that sets one
    assert conn.server == "https://127.0.0.1:1001"  # cluster "ca" from the first file
    assert conn.namespace == "from-a"
    assert conn.configuration.auth_settings()["BearerToken"]["value"] == "Bearer ta"


def test_context_flag_and_default_namespace(two_files):
    a, b = two_files
    environ = {"KUBECONFIG": os.pathsep.join([a, b])}
    conn = load_connection(KubeSettings(context="other"), environ)
    assert (conn.context, conn.server, conn.namespace) == ("other", "https://127.0.0.1:1002", "default")
    conn = load_connection(KubeSettings(context="other", namespace="staging"), environ)
    assert conn.namespace == "staging"


def test_kubeconfig_flag_wins_over_env(two_files):
    a, b = two_files
    conn = load_connection(KubeSettings(kubeconfig=b), {"KUBECONFIG": a})
    assert conn.context == "other"


def test_unknown_context_lists_available(two_files):
    a, b = two_files
    with pytest.raises(KubeConfigError) as info:
        load_connection(KubeSettings(context="prod"), {"KUBECONFIG": os.pathsep.join([a, b])})
    assert str(info.value) == 'context "prod" not found in kubeconfig (available: other, shared)'


def test_no_current_context(tmp_path):
    path = write(
        tmp_path / "c",
        clusters=[("c", {"server": "https://x"})],
        users=[("u", {"token": "t"})],
        contexts=[("one", {"cluster": "c", "user": "u"})],
    )
    with pytest.raises(KubeConfigError, match=r"no current context in kubeconfig \(available: one\)"):
        load_connection(KubeSettings(kubeconfig=path), {})


def test_dangling_cluster_reference(tmp_path):
    path = write(tmp_path / "c", contexts=[("one", {"cluster": "gone", "user": ""})], current="one")
    with pytest.raises(KubeConfigError, match='refers to cluster "gone"'):
        load_connection(KubeSettings(kubeconfig=path), {})


def test_broken_yaml(tmp_path):
    path = tmp_path / "broken"
    path.write_text("clusters: [\n  - name: x\n")
    with pytest.raises(KubeConfigError, match="is not valid YAML"):
        load_connection(KubeSettings(kubeconfig=str(path)), {})


def test_not_a_mapping(tmp_path):
    path = tmp_path / "list"
    path.write_text("- a\n- b\n")
    with pytest.raises(KubeConfigError, match="not a kubeconfig"):
        load_connection(KubeSettings(kubeconfig=str(path)), {})


def test_env_files_all_missing(tmp_path):
    with pytest.raises(KubeConfigError, match="none of the files in KUBECONFIG exist"):
        load_connection(KubeSettings(), {"KUBECONFIG": str(tmp_path / "x")})


def test_nothing_at_all(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(KubeConfigError, match="no kubeconfig found"):
        load_connection(KubeSettings(), {})


def test_relative_paths_resolve_against_their_file(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "ca.crt").write_text("not really a cert")
    path = write(
        sub / "config",
        clusters=[("c", {"server": "https://127.0.0.1:1", "certificate-authority": "ca.crt"})],
        users=[("u", {"token": "t"})],
        contexts=[("x", {"cluster": "c", "user": "u"})],
        current="x",
    )
    merged = load_kubeconfig_dict([path])
    assert merged["clusters"][0]["cluster"]["certificate-authority"] == str(sub / "ca.crt")


def test_ca_data_is_used(tmp_path):
    pem = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    path = write(
        tmp_path / "c",
        clusters=[
            (
                "c",
                {
                    "server": "https://127.0.0.1:1",
                    "certificate-authority-data": base64.b64encode(pem).decode(),
                },
            )
        ],
        users=[("u", {"token": "t"})],
        contexts=[("x", {"cluster": "c", "user": "u"})],
        current="x",
    )
    conn = load_connection(KubeSettings(kubeconfig=path), {})
    assert conn.configuration.verify_ssl is True
    with open(conn.configuration.ssl_ca_cert, "rb") as handle:
        assert handle.read() == pem


def test_in_cluster(tmp_path, monkeypatch):
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text("sa-token")
    (sa / "ca.crt").write_text("ca")
    (sa / "namespace").write_text("apps\n")
    monkeypatch.setattr("kubectl_trace.kube.config._SA_DIR", str(sa))
    monkeypatch.setenv("HOME", str(tmp_path))
    environ = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    conn = load_connection(KubeSettings(), environ)
    assert (conn.context, conn.namespace, conn.server) == ("in-cluster", "apps", "https://10.0.0.1:443")
    assert load_connection(KubeSettings(namespace="x"), environ).namespace == "x"
