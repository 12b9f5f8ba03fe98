"""Findings of Node.js-on-Kubernetes practice: what to fix in a Deployment before it bites.

Each ``Finding`` names the object and container, says what is wrong in one line, why it
matters and how to fix it. A credential's value is never part of a finding.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from kubectl_trace.health._common import as_int, child, children
from kubectl_trace.health.images import image_ref
from kubectl_trace.health.probes import probe_spec
from kubectl_trace.kube.targets import PROCESS_ENV, PROCESS_LABEL, deployment_process

__all__ = [
    "CREDENTIAL_NAME",
    "PRODUCTION_NAMESPACES",
    "Finding",
    "deployment_findings",
    "looks_like_credential",
    "pod_findings",
    "pod_spec_findings",
]

PRODUCTION_NAMESPACES = frozenset({"production", "prod"})
# Env var names that hold secrets (DB_PASSWORD, STRIPE_SECRET_KEY, GITHUB_TOKEN, AWS_ACCESS_KEY_ID …).
CREDENTIAL_NAME = re.compile(
    r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL|AUTH_?KEY|CLIENT_?SECRET)",
    re.I,
)
# …but not names that point at one (a file path, a Secret's name).
_CREDENTIAL_POINTER = re.compile(r"(_FILE|_PATH|_NAME|_REF|_ENABLED|_URL_ENV)$", re.I)
# A URL with a password in it: postgres://user:pass@host/db.
_URL_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^/:@\s]+:[^/@\s]+@", re.I)
# How long a preStop hook should give the endpoints controller before SIGTERM.
_MIN_GRACE_SECONDS = 10
# Low: a liveness probe that fails this few times in a row restarts the container.
_LOW_FAILURE_THRESHOLD = 3


@dataclass(frozen=True)
class Finding:
    """One practice finding about a workload (and maybe one of its containers)."""

    code: str
    object: str  # deploy/NAME or pod/NAME
    container: str | None
    message: str
    why: str
    fix: str
    severity: str = "warning"


def looks_like_credential(name: str, value: str) -> bool:
    """Whether a literal env var holds a credential (by its name, or a password inside a URL)."""
    if not value:
        return False
    if _URL_PASSWORD.match(value.strip()):
        return True
    return bool(CREDENTIAL_NAME.search(name)) and not _CREDENTIAL_POINTER.search(name)


def _has_prestop(container: Mapping[str, Any]) -> bool:
    return bool(child(child(container, "lifecycle"), "preStop"))


def _serves_traffic(container: Mapping[str, Any], process: str | None) -> bool:
    """Whether a Service sends it requests: a ``web`` process, or (type unknown) declared ports."""
    if process:
        return process.lower() == "web"
    return bool(children(container, "ports"))


def pod_spec_findings(
    pod_spec: Mapping[str, Any],
    *,
    object_ref: str,
    namespace: str = "",
    replicas: int | None = None,
    process: str | None = None,
    production_namespaces: Collection[str] = PRODUCTION_NAMESPACES,
) -> list[Finding]:
    """Findings for a pod spec (a Deployment's template, or a bare pod's spec).

    ``replicas`` (a Deployment's) enables the single-replica-in-production check. The
    process type matters: a ``clock`` (a scheduler) must run once and needs no readiness
    probe; only ``web`` takes Service traffic and so needs a preStop pause (a container of
    unknown type does when it declares ports).
    """
    out: list[Finding] = []
    containers = children(pod_spec, "containers")
    for c in containers:
        name = str(c.get("name") or "")
        readiness = probe_spec(c, "readiness")
        liveness = probe_spec(c, "liveness")
        if readiness is None and (process or "").lower() != "clock":  # a scheduler is never "ready"
            out.append(
                Finding(
                    "no-readiness-probe",
                    object_ref,
                    name,
                    f"container {name} has no readiness probe",
                    "without one a pod gets traffic as soon as the process starts — before it listens "
                    "or connects to its database — and a rollout never waits for a new pod to work",
                    "add readinessProbe: httpGet /healthz on the app port "
                    "(periodSeconds 5, failureThreshold 3)",
                )
            )
        elif (
            readiness is not None
            and liveness is not None
            and liveness.check == readiness.check
            and liveness.failure_threshold <= _LOW_FAILURE_THRESHOLD
        ):
            out.append(
                Finding(
                    "liveness-equals-readiness",
                    object_ref,
                    name,
                    f"container {name}: liveness probe is the readiness probe ({liveness.description}) "
                    f"with failureThreshold {liveness.failure_threshold}",
                    "when a dependency (database, Redis) slows down, every pod fails both probes at once: "
                    "readiness takes them out of service and liveness restarts them all — an outage "
                    "instead of a slow period",
                    "let liveness check only the Node.js process (a separate /livez that does not touch "
                    "dependencies) and give it failureThreshold ≥ 5, or drop it",
                )
            )
        ref = image_ref(str(c.get("image") or ""))
        if not ref.digest and (ref.tag is None or ref.tag == "latest"):
            what = "tag latest" if ref.tag == "latest" else "no tag (means latest)"
            out.append(
                Finding(
                    "image-tag-latest",
                    object_ref,
                    name,
                    f"container {name} runs {ref.repository} with {what}",
                    "the running code is whatever was pushed last: pods of one Deployment can run "
                    "different builds, and a rollback does not go back",
                    "tag images with the git short hash and deploy that tag (kubectl nodeapp deploy APP)",
                )
            )
        for env in children(c, "env"):
            var = str(env.get("name") or "")
            if "value" in env and looks_like_credential(var, str(env.get("value") or "")):
                out.append(
                    Finding(
                        "literal-credential",
                        object_ref,
                        name,
                        f"container {name}: env {var} holds a literal credential",
                        "anyone who can read the Deployment (kubectl get -o yaml, CI logs, rollout "
                        "history) can read it, and rotating it means editing every manifest",
                        f"move it to a Secret and reference it: env {var} valueFrom.secretKeyRef "
                        f"(kubectl nodeapp env APP set {var} --from-secret NAME)",
                    )
                )
        requests = child(child(c, "resources"), "requests")
        missing = [r for r in ("cpu", "memory") if not requests.get(r)]
        if missing:
            out.append(
                Finding(
                    "no-resource-requests",
                    object_ref,
                    name,
                    f"container {name} has no {' or '.join(missing)} request",
                    "the scheduler packs pods as if they need nothing: under load nodes overcommit, "
                    "Node.js event loops stall and pods are evicted or OOM-killed first",
                    "set resources.requests (cpu, memory) from observed usage; a memory limit near "
                    "--max-old-space-size",
                )
            )
    grace = as_int(pod_spec.get("terminationGracePeriodSeconds"), 30)
    serving = [c for c in containers if _serves_traffic(c, process)]
    if serving and not any(_has_prestop(c) for c in serving):
        names = ", ".join(str(c.get("name") or "") for c in serving)
        out.append(
            Finding(
                "no-prestop",
                object_ref,
                str(serving[0].get("name") or "") if len(serving) == 1 else None,
                f"no preStop hook on {names}",
                "SIGTERM arrives while the Service still sends traffic to the pod: requests in flight "
                "during every rollout and scale-down fail with 502s",
                'add lifecycle.preStop (exec ["sleep", "5"]) and close the HTTP server on SIGTERM',
            )
        )
    if grace < _MIN_GRACE_SECONDS:
        out.append(
            Finding(
                "short-grace-period",
                object_ref,
                None,
                f"terminationGracePeriodSeconds is {grace}",
                "the process is SIGKILLed before it can drain connections and finish jobs",
                f"set terminationGracePeriodSeconds ≥ {_MIN_GRACE_SECONDS} (preStop sleep + drain time)",
            )
        )
    if replicas == 1 and namespace in production_namespaces and (process or "").lower() != "clock":
        out.append(
            Finding(
                "single-replica-production",
                object_ref,
                None,
                f"one replica in namespace {namespace}",
                "a node drain, an eviction or a crash takes the service down until a new pod is ready",
                "run at least 2 replicas (kubectl nodeapp scale APP web=2) and add a PodDisruptionBudget",
            )
        )
    return out


def deployment_findings(
    deployment: Mapping[str, Any],
    *,
    production_namespaces: Collection[str] = PRODUCTION_NAMESPACES,
    process_label: str = PROCESS_LABEL,
    process_env: str = PROCESS_ENV,
) -> list[Finding]:
    """Practice findings for a Deployment (namespaces and process naming from the user config)."""
    meta = child(deployment, "metadata")
    spec = child(deployment, "spec")
    return pod_spec_findings(
        child(child(spec, "template"), "spec"),
        object_ref=f"deploy/{meta.get('name', '')}",
        namespace=str(meta.get("namespace") or ""),
        replicas=as_int(spec.get("replicas"), 1),
        process=deployment_process(deployment, label=process_label, env=process_env),
        production_namespaces=production_namespaces,
    )


def pod_findings(pod: Mapping[str, Any]) -> list[Finding]:
    """Practice findings for a bare pod (no Deployment around it)."""
    meta = child(pod, "metadata")
    return pod_spec_findings(
        child(pod, "spec"),
        object_ref=f"pod/{meta.get('name', '')}",
        namespace=str(meta.get("namespace") or ""),
    )
