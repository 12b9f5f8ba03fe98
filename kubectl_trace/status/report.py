"""The ``status`` report as data: what ``build_report`` derives from the objects (pure), and its JSON.

``StatusReport`` holds per Deployment the rollout and the health of its pods, the pods no
Deployment owns, the practice findings, and what the checks that need I/O added (the
previous instance's last lines, probes run now, Node.js versions; ``status.checks``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubectl_trace.health import Finding, PodHealth, Problem, RolloutState, Termination
    from kubectl_trace.kube.targets import Target
    from kubectl_trace.run.summary import CronJobSummary, JobSummary
    from kubectl_trace.status.resources import ResourceFacts


@dataclass(frozen=True)
class PreviousLog:
    """The last lines of a container's previous instance (why it crashed)."""

    pod: str
    container: str
    termination: Termination | None
    lines: tuple[str, ...]
    error: str = ""


@dataclass(frozen=True)
class ProbeCheck:
    """One HTTP probe run now through the API server's pod proxy."""

    pod: str
    container: str
    kinds: tuple[str, ...]  # readiness, liveness, startup (the same check declared twice runs once)
    check: str  # GET :8080/healthz
    status: int | None
    latency_ms: float | None
    excerpt: str
    error: str = ""
    skipped: bool = False  # not sent: the container is not running

    @property
    def ok(self) -> bool:
        """The kubelet's rule: 200–399 is success."""
        return self.status is not None and 200 <= self.status < 400


@dataclass(frozen=True)
class NodeVersion:
    """What ``node --version`` printed in a container."""

    pod: str
    container: str
    version: str
    error: str = ""


@dataclass(frozen=True)
class DeploymentReport:
    """One Deployment: its rollout, its pods and the findings about it."""

    rollout: RolloutState
    pods: tuple[PodHealth, ...]
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        """Rollout and every pod without an error problem."""
        return self.rollout.ok and all(p.ok for p in self.pods)


@dataclass(frozen=True)
class StatusReport:
    """Everything ``status`` shows, as data."""

    namespace: str
    context: str
    target: str
    now: float
    deployments: tuple[DeploymentReport, ...]
    other_pods: tuple[PodHealth, ...]  # pods no Deployment owns
    other_findings: tuple[Finding, ...]
    previous_logs: tuple[PreviousLog, ...] = ()
    probes: tuple[ProbeCheck, ...] | None = None  # None: --probe not asked
    node_versions: tuple[NodeVersion, ...] = ()
    jobs: tuple[JobSummary, ...] = ()  # the app's recent Jobs (one-off runs, release phases, cron)
    cronjobs: tuple[CronJobSummary, ...] = ()
    resources: ResourceFacts | None = None  # CPU/memory, OOM advice, shutdowns (status.resources)
    release: Any = None  # an app's current release and drift: (json, lines) of release_status

    @property
    def pods(self) -> tuple[PodHealth, ...]:
        """Every pod of the report."""
        return tuple(p for d in self.deployments for p in d.pods) + self.other_pods

    @property
    def problems(self) -> list[tuple[str, Problem]]:
        """(object, problem) for the rollouts and pods, errors first."""
        out: list[tuple[str, Problem]] = []
        for d in self.deployments:
            out.extend((f"deploy/{d.rollout.name}", p) for p in d.rollout.problems)
        for pod in self.pods:
            out.extend((f"pod/{pod.name}", p) for p in pod.problems)
        out.sort(key=lambda item: item[1].severity != "error")
        return out

    @property
    def failed_probes(self) -> tuple[ProbeCheck, ...]:
        """Probes run now that did not succeed (a container that is not running is reported already)."""
        return tuple(p for p in self.probes or () if not p.ok and not p.skipped)

    @property
    def healthy(self) -> bool:
        """No error problem anywhere and every probe run now succeeded."""
        return (
            all(d.ok for d in self.deployments)
            and all(p.ok for p in self.other_pods)
            and not self.failed_probes
        )


def build_report(
    *,
    namespace: str,
    context: str,
    target: Target,
    deployments: Sequence[Mapping[str, Any]],
    replicasets: Sequence[Mapping[str, Any]],
    pods: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    now: float,
    production_namespaces: Sequence[str] = ("production", "prod"),
    process_label: str = "process",
    process_env: str = "PROCESS_TYPE",
) -> StatusReport:
    """The report from the objects (pure: no I/O)."""
    from kubectl_trace.health import (
        deployment_findings,
        deployment_pods,
        deployment_rollout,
        index_events,
        pod_findings,
        pod_health,
    )

    index = index_events(events)
    selected = target.select(pods)
    claimed: set[str] = set()
    reports = []
    for d in sorted(deployments, key=lambda d: str(d["metadata"]["name"])):
        own = deployment_pods(d, selected)
        claimed.update(str(p["metadata"]["name"]) for p in own)
        reports.append(
            DeploymentReport(
                rollout=deployment_rollout(d, replicasets, now),
                pods=tuple(pod_health(p, index, now) for p in own),
                findings=tuple(
                    deployment_findings(
                        d,
                        production_namespaces=production_namespaces,
                        process_label=process_label,
                        process_env=process_env,
                    )
                ),
            )
        )
    others = [  # Job pods are history, listed with their Jobs (status.render)
        p
        for p in selected
        if str(p["metadata"]["name"]) not in claimed
        and not any(r.get("kind") == "Job" for r in p["metadata"].get("ownerReferences") or [])
    ]
    owned = {
        str(p["metadata"]["name"])
        for p in others
        if any(r.get("controller") for r in p["metadata"].get("ownerReferences") or [])
    }
    return StatusReport(
        namespace=namespace,
        context=context,
        target=target.description,
        now=now,
        deployments=tuple(reports),
        other_pods=tuple(pod_health(p, index, now) for p in others),
        other_findings=tuple(
            f for p in others if str(p["metadata"]["name"]) not in owned for f in pod_findings(p)
        ),
    )


# -- JSON -------------------------------------------------------------------------------------


def _rollout_json(r: RolloutState) -> dict[str, Any]:
    from kubectl_trace.health import to_json

    return {
        **to_json(r),
        "tags": list(r.tags),
        "old_tags": list(r.old_tags),
        "progress": round(r.progress, 3),
        "over_surge": r.over_surge,
        "over_unavailable": r.over_unavailable,
        "ok": r.ok,
    }


def _pod_json(p: PodHealth) -> dict[str, Any]:
    from kubectl_trace.health import to_json

    return {**to_json(p), "ok": p.ok, "ready_text": p.ready_text}


def report_json(report: StatusReport) -> dict[str, Any]:
    """The report as one JSON document (``-o json``)."""
    from kubectl_trace.health import rfc3339, to_json

    return {
        "namespace": report.namespace,
        "context": report.context,
        "target": report.target,
        "time": rfc3339(report.now),
        "healthy": report.healthy,
        "problems": [
            {
                "object": obj,
                "code": p.code,
                "severity": p.severity,
                "message": p.message,
                "container": p.container,
            }
            for obj, p in report.problems
        ]
        + [
            {
                "object": f"pod/{p.pod}",
                "code": "ProbeFailedNow",
                "severity": "error",
                "message": f"{p.check} → {p.status or p.error}",
                "container": p.container,
            }
            for p in report.failed_probes
        ],
        "deployments": [
            {
                "rollout": _rollout_json(d.rollout),
                "pods": [_pod_json(p) for p in d.pods],
                "findings": to_json(d.findings),
            }
            for d in report.deployments
        ],
        "pods": [_pod_json(p) for p in report.other_pods],
        "findings": to_json(
            [f for d in report.deployments for f in d.findings] + list(report.other_findings)
        ),
        "previous_logs": to_json(report.previous_logs),
        "probes": None if report.probes is None else [{**to_json(p), "ok": p.ok} for p in report.probes],
        "node_versions": to_json(report.node_versions),
        "jobs": to_json(report.jobs),
        "cronjobs": to_json(report.cronjobs),
        "resources": _resources_json(report),
    }


def _resources_json(report: StatusReport) -> dict[str, Any] | None:
    from kubectl_trace.status.resources import facts_json

    return None if report.resources is None else facts_json(report.resources)
