"""kubectl's typed ``create`` commands send protobuf: the server reads them as kubectl meant."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kubectl_trace.sandbox.server.protobuf import UnsupportedProtobuf, decode_object
from tests.sandbox.harness import InProcessServer


def _subset(expected: Any, actual: Any, path: str = "") -> None:
    """Every field of ``expected`` is in ``actual`` with the same value (defaults may add more)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), path
        for key, value in expected.items():
            assert key in actual, f"{path}.{key} missing"
            _subset(value, actual[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), path
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            _subset(e, a, f"{path}[{i}]")
    else:
        assert expected == actual, f"{path}: {expected!r} != {actual!r}"


@pytest.mark.parametrize(
    ("args", "resource", "name"),
    [
        (["namespace", "team-a"], "namespaces", "team-a"),
        (["configmap", "cfg", "--from-literal=a=1", "--from-literal=b=two words"], "configmaps", "cfg"),
        (["secret", "generic", "db", "--from-literal=url=postgres://x", "--type=Opaque"], "secrets", "db"),
        (["service", "clusterip", "web", "--tcp=80:8080", "--tcp=443:8443"], "services", "web"),
        (["service", "nodeport", "edge", "--tcp=80:8080", "--node-port=30080"], "services", "edge"),
        (
            [
                "deployment",
                "api",
                "--image=reg/api:1",
                "--replicas=0",
                "--port=3000",
                "--",
                "node",
                "server.js",
            ],
            "deployments",
            "api",
        ),
        (["deployment", "multi", "--image=reg/a:1", "--image=reg/b:2"], "deployments", "multi"),
    ],
)
def test_typed_create_matches_the_client_side_object(
    server: InProcessServer, skubectl: Any, args: list[str], resource: str, name: str
) -> None:
    split = args.index("--") if "--" in args else len(args)
    dry = [*args[:split], "--dry-run=client", "-o", "json", *args[split:]]
    intended = json.loads(skubectl("create", *dry, check=True).stdout)
    skubectl("create", *args, check=True)
    namespace = None if resource == "namespaces" else "default"
    stored = server.call(lambda: server.store.get(resource, namespace, name))
    intended["metadata"].pop("creationTimestamp", None)
    intended.pop("status", None)
    _subset(intended, stored)


def test_unsupported_protobuf_is_refused_clearly() -> None:
    with pytest.raises(UnsupportedProtobuf):
        decode_object(b"not protobuf")
    # an Unknown envelope naming a kind the sandbox does not decode
    type_meta = b"\x0a\x07apps/v1" + b"\x12\x09DaemonSet"
    envelope = b"\x0a" + bytes([len(type_meta)]) + type_meta + b"\x12\x00"
    with pytest.raises(UnsupportedProtobuf, match="DaemonSet"):
        decode_object(b"k8s\x00" + envelope)
