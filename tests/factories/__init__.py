"""The tests' Kubernetes objects, for tests without a cluster and manifests for the sandbox.

``objects``: pods, events, Deployments, ReplicaSets shaped as a real cluster reports them (the
names below come from there); ``manifests``: bodies to create in the sandbox, and the sandbox's
log sequence numbers. Worlds built from them: ``rollout`` (a namespace mid-rollout, for the
dashboard), ``release`` (Deployments with their revision history, for deploy and rollback),
``picker`` (pods to choose from, for shell).
"""

from tests.factories.manifests import (
    app_deployment,
    deployment_manifest,
    namespace,
    process_container,
    seq_of,
)
from tests.factories.objects import (
    IMAGE,
    NOW,
    conditions,
    container,
    controller_ref,
    deployment,
    event,
    pod,
    probe,
    replicaset,
    running,
    terminated,
    ts,
    waiting,
)

__all__ = [
    "IMAGE",
    "NOW",
    "app_deployment",
    "conditions",
    "container",
    "controller_ref",
    "deployment",
    "deployment_manifest",
    "event",
    "namespace",
    "pod",
    "probe",
    "process_container",
    "replicaset",
    "running",
    "seq_of",
    "terminated",
    "ts",
    "waiting",
]
