"""A copy of the demo app trace-api in a namespace of one's own on the shared session sandbox.

Release tests change the app; the session sandbox's demo apps must stay as they are, so each
test gets a fresh namespace with staging's three Deployments (and the Secret and ConfigMap
they reference), created through the API like any user would.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from tests import factories

from .helpers import settled

_KEEP_META = ("name", "labels", "annotations")


def _clean(obj: dict[str, Any], namespace: str) -> dict[str, Any]:
    out = {k: copy.deepcopy(v) for k, v in obj.items() if k not in ("status",)}
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k in _KEEP_META}
    meta["namespace"] = namespace
    meta["annotations"] = {  # without the Deployment controller's own
        k: v
        for k, v in (meta.get("annotations") or {}).items()
        if not k.startswith("deployment.kubernetes.io/")
    }
    out["metadata"] = meta
    return out


def copy_app(kube: Any, eventually: Any, prefix: str = "rel") -> str:
    """A new namespace running staging's trace-api (settled); returns its name."""
    namespace = f"{prefix}-{uuid.uuid4().hex[:8]}"
    kube.create("namespaces", factories.namespace(namespace))
    for kind in ("secrets", "configmaps"):
        for obj in kube.list(kind, "staging").items:
            name = obj["metadata"]["name"]
            if name.startswith("trace-api") and not name.startswith("nodeapp-"):
                kube.create(kind, _clean(obj, namespace), namespace)
    for d in kube.list("deployments", "staging", label_selector="app=trace-api").items:
        body = _clean(d, namespace)
        body["spec"].pop("revisionHistoryLimit", None)
        kube.create("deployments", body, namespace)
    eventually(
        lambda: settled(kube, namespace) and len(kube.list("deployments", namespace).items) == 3,
        timeout=60,
        message=f"the copy of trace-api in {namespace} is ready",
    )
    return namespace
