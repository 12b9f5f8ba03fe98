"""An app of this test's own: trace-api's web and worker Deployments copied out of staging."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests import factories

_KEEP_META = ("name", "labels", "annotations")


def _copy(obj: dict[str, Any], namespace: str) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    meta = out.get("metadata") or {}
    out["metadata"] = {k: meta[k] for k in _KEEP_META if k in meta} | {"namespace": namespace}
    out.pop("status", None)
    return out


@pytest.fixture
def app_ns(kube: Any, kubectl: Any, eventually: Any) -> Iterator[str]:
    """A namespace with trace-api (web, worker) and its ConfigMap and Secret; deleted afterwards.

    Nothing here writes to the session sandbox's shared namespaces.
    """
    ns = f"run-{uuid.uuid4().hex[:6]}"
    kube.create("namespaces", factories.namespace(ns))
    for kind in ("configmaps", "secrets"):
        for obj in kube.list(kind, "staging").items:
            if obj["metadata"]["name"].startswith("trace-api"):
                kube.create(kind, _copy(obj, ns), ns)
    for deployment in kube.list("deployments", "staging", label_selector="app=trace-api").items:
        process = (deployment["spec"]["template"]["metadata"].get("labels") or {}).get("process")
        if process in ("web", "worker"):
            body = _copy(deployment, ns)
            body["spec"]["replicas"] = 1
            kube.create("deployments", body, ns)
    yield ns
    kubectl("delete", "namespace", ns, "--wait=false", check=True)


def leftovers(kube: Any, ns: str) -> list[str]:
    """Jobs and one-off pods still in ``ns``."""
    jobs = [j["metadata"]["name"] for j in kube.list("jobs", ns).items]
    pods = [p["metadata"]["name"] for p in kube.list("pods", ns, label_selector="process=run").items]
    return jobs + pods
