"""Fixtures of the end-to-end tests that need a scripted API server (``tests/scripted_api.py``)."""

import threading

import pytest
import yaml

from tests import scripted_api


@pytest.fixture
def scripted_server():
    """A started ``Scripted`` server on 127.0.0.1 (stopped afterwards)."""
    srv = scripted_api.Scripted()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def scripted_kubeconfig(scripted_server, tmp_path):
    """A kubeconfig (token user, namespace production) for ``scripted_server``."""
    path = tmp_path / "config"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "t",
                "clusters": [
                    {"name": "c", "cluster": {"server": f"http://127.0.0.1:{scripted_server.server_port}"}}
                ],
                "users": [{"name": "u", "user": {"token": "secret-token"}}],
                "contexts": [
                    {"name": "t", "context": {"cluster": "c", "user": "u", "namespace": "production"}}
                ],
            }
        )
    )
    return str(path)


@pytest.fixture(params=["lean", "official"])
def client_kind(request, monkeypatch):
    """Runs the test once with each client: ``scripted_api.kube()`` makes that one."""
    monkeypatch.setitem(scripted_api.CLIENT, "kind", request.param)
    return request.param
