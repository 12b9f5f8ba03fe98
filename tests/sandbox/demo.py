"""The session sandbox's demo apps as the sandbox tests use them: a ready pod, the isolation marker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kubectl_trace.sandbox.podbox import isolation_problem

NS = "production"
PROBLEM = isolation_problem()
needs_namespaces = pytest.mark.skipif(PROBLEM is not None, reason=f"no pod isolation here: {PROBLEM}")


def ready_pod(kube: Any, eventually: Callable[..., Any], namespace: str = NS, process: str = "web") -> str:
    """The name of a ready, not terminating pod of the trace-api demo app (waits up to 60 s)."""

    def find() -> str | None:
        for pod in kube.list("pods", namespace, label_selector=f"app=trace-api,process={process}").items:
            ready = any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in pod["status"].get("conditions") or []
            )
            if ready and not pod["metadata"].get("deletionTimestamp"):
                return str(pod["metadata"]["name"])
        return None

    return str(eventually(find, timeout=60, message=f"a ready {process} pod in {namespace}"))
