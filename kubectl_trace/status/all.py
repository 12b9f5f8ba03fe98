"""``kubectl nodeapp status -A``: every namespace at a glance — one row per Deployment.

Four lists across all namespaces (Deployments, ReplicaSets, pods, events), one
``StatusReport`` per namespace built by the same pure ``build_report`` as ``status``, and
a summary table: the rollout state, ready pods, restarts and the first problem of each
Deployment, plus the pods no Deployment owns that have a problem. The exit status is 1
when anything is unhealthy, so CI can gate on the whole cluster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kubectl_trace.status.report import StatusReport, build_report, report_json

if TYPE_CHECKING:
    from rich.console import RenderableType

    from kubectl_trace.health.pods import PodHealth, Problem
    from kubectl_trace.kube.calls import KubeClient

__all__ = ["all_json", "gather_all", "render_all", "reports_by_namespace"]

_KINDS = ("deployments", "replicasets", "pods", "events")


def reports_by_namespace(
    listed: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    context: str,
    now: float,
    production_namespaces: Sequence[str] = ("production", "prod"),
    process_label: str = "process",
    process_env: str = "PROCESS_TYPE",
) -> list[StatusReport]:
    """One report per namespace that has a Deployment or a pod, in name order (pure)."""
    from kubectl_trace.kube.targets import Target

    grouped: dict[str, dict[str, list[Mapping[str, Any]]]] = {}
    for kind in _KINDS:
        for obj in listed.get(kind, ()):
            namespace = str((obj.get("metadata") or {}).get("namespace") or "")
            grouped.setdefault(namespace, {k: [] for k in _KINDS})[kind].append(obj)
    reports = []
    for namespace in sorted(grouped):
        objects = grouped[namespace]
        if not objects["deployments"] and not objects["pods"]:
            continue
        reports.append(
            build_report(
                namespace=namespace,
                context=context,
                target=Target(namespace=namespace, description=f"namespace {namespace}", kind="all"),
                deployments=objects["deployments"],
                replicasets=objects["replicasets"],
                pods=objects["pods"],
                events=objects["events"],
                now=now,
                production_namespaces=production_namespaces,
                process_label=process_label,
                process_env=process_env,
            )
        )
    return reports


def gather_all(kube: KubeClient, now: float) -> list[StatusReport]:
    """List the four kinds in every namespace and build the reports."""
    from kubectl_trace.userconfig import load_user_config

    config = load_user_config()
    listed = {kind: kube.list(kind, all_namespaces=True).items for kind in _KINDS}
    return reports_by_namespace(
        listed,
        context=kube.conn.context,
        now=now,
        production_namespaces=config.production_namespaces,
        process_label=config.process_label,
        process_env=config.process_env,
    )


def all_json(reports: Sequence[StatusReport], context: str) -> dict[str, Any]:
    """``-o json``: every namespace's report and the overall verdict."""
    return {
        "context": context,
        "healthy": all(r.healthy for r in reports),
        "namespaces": [report_json(r) for r in reports],
    }


def _first_problem(problems: Sequence[Problem], pods: Sequence[PodHealth]) -> str:
    ranked = [p for p in problems if p.severity == "error"]
    ranked += [p for pod in pods for p in pod.problems if p.severity == "error"]
    ranked += [p for p in problems if p.severity != "error"]
    ranked += [p for pod in pods for p in pod.problems if p.severity != "error"]
    return ranked[0].message if ranked else ""


def render_all(reports: Sequence[StatusReport], context: str) -> list[RenderableType]:
    """The summary: a head line, one row per Deployment (and per troubled bare pod), a hint."""
    from rich.table import Table
    from rich.text import Text

    from kubectl_trace.status.render import STATE_STYLE

    deployments = [(r, d) for r in reports for d in r.deployments]
    troubled_pods = [(r, p) for r in reports for p in r.other_pods if p.problems]
    bad = [(r.namespace, d.rollout.name) for r, d in deployments if not d.ok]
    bad += [(r.namespace, f"pod/{p.name}") for r, p in troubled_pods if not p.ok]
    head = Text()
    head.append("every namespace", style="bold")
    head.append(f" · context {context}  ", style="dim")
    if not bad:
        head.append(
            f"✓ healthy: {len(deployments)} deployments in {len(reports)} namespaces", style="bold green"
        )
    else:
        head.append(
            f"✗ unhealthy: {len(bad)} of {len(deployments) + len(troubled_pods)} "
            f"in {len({ns for ns, _ in bad})} namespace{'s' if len({ns for ns, _ in bad}) != 1 else ''}",
            style="bold red",
        )
    table = Table(box=None, header_style="bold", pad_edge=False, padding=(0, 0, 0, 2), expand=False)
    for column in ("NAMESPACE", "DEPLOYMENT", "STATE"):
        table.add_column(column, no_wrap=True)
    table.add_column("READY", justify="right")
    table.add_column("RESTARTS", no_wrap=True)
    table.add_column("PROBLEM")
    for report, d in deployments:
        r = d.rollout
        mark = "✓" if d.ok and r.state == "complete" else ("✗" if not d.ok else "…")
        restarts = sum(p.restarts for p in d.pods)
        table.add_row(
            report.namespace,
            Text(r.name, style="" if d.ok else "bold red"),
            Text(f"{mark} {r.state}", style=STATE_STYLE.get(r.state, "") if d.ok else "bold red"),
            f"{r.ready}/{r.desired}",
            Text(str(restarts), style="yellow" if restarts else ""),
            Text(_first_problem(r.problems, d.pods), style="red" if not d.ok else "yellow"),
        )
    for report, pod in troubled_pods:
        table.add_row(
            report.namespace,
            Text(f"pod/{pod.name}", style="" if pod.ok else "bold red"),
            Text(pod.status, style="" if pod.ok else "bold red"),
            pod.ready_text,
            str(pod.restarts),
            Text(_first_problem((), [pod]), style="red" if not pod.ok else "yellow"),
        )
    out: list[RenderableType] = [head, Text(""), table]
    if bad:
        namespace, name = bad[0]
        target = name if name.startswith("pod/") else f"deploy/{name}"
        out += [Text(""), Text(f"why: kubectl nodeapp status {target} -n {namespace}", style="dim")]
    return out
