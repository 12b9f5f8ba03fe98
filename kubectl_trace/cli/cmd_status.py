"""``kubectl nodeapp status``: is it healthy, and if not, why — in one screen.

Four list requests (deployments, replica sets, pods, events) feed the pure health module;
then, only where they help, the previous instance's last log lines of a crash-looping
container, and with ``--probe`` each HTTP probe run now through the API server's pod proxy
plus ``node --version`` through exec. Exit status 1 when anything is unhealthy.

The report model (``StatusReport``) and its renderers are plain functions of data so that
``deploy`` can show the same explanation when a rollout fails.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from kubectl_trace.cli.environment import Environment
from kubectl_trace.cli.options import CommonOptions
from kubectl_trace.errors import NodeappError, UsageError

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.text import Text

    from kubectl_trace.health import Finding, PodHealth, Problem, RolloutState, Termination
    from kubectl_trace.kube.targets import Target

DESCRIPTION = (
    "Is it healthy, and if not, why: per Deployment the rollout state (progressing, complete,\n"
    "stalled, paused); per pod readiness and liveness from conditions, container states and\n"
    "Unhealthy events (last failure, how often, since when), restarts with the last exit,\n"
    "image-pull and scheduling problems, the last log lines of a crash-looping container's\n"
    "previous instance, and findings of Node.js-on-Kubernetes practice. --probe runs each HTTP\n"
    "probe now through the API server and asks each container for its Node.js version.\n"
    "Exit status 1 when anything is unhealthy (for CI), 0 otherwise."
)
EXAMPLES = """\
  kubectl nodeapp status trace-api -n production
  kubectl nodeapp status deploy/trace-api-web --probe
  kubectl nodeapp status -A
  kubectl nodeapp status -n staging && kubectl nodeapp promote trace-api --from staging --to production"""

PREVIOUS_LINES = 12  # log lines shown of a crash-looping container's previous instance
PREVIOUS_TAIL = 100  # …picked from this many last lines (a Node.js crash prints ~25)
MAX_PREVIOUS_LOGS = 6
MAX_PROBED_PODS = 50
_PROBE_WORKERS = 8
_EXCERPT = 120


@dataclass(frozen=True)
class StatusOptions:
    """Options of ``status``."""

    common: CommonOptions
    target: str | None
    probe: bool
    output: str
    process: str | None
    selector: str | None
    all_namespaces: bool = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``status``."""
    parser.add_argument("target", nargs="?", metavar="TARGET", help="pod, deploy/NAME, app name or pod regex")
    parser.add_argument(
        "--probe",
        action="store_true",
        help="run each container's HTTP probes now (through the API server) and ask for its Node.js version",
    )
    parser.add_argument("-o", "--output", choices=("pretty", "json"), default="pretty", help="output format")
    parser.add_argument("--process", metavar="P", help="only this process type (web, worker, clock)")
    parser.add_argument("-l", "--selector", metavar="SELECTOR", help="only pods with these labels")
    parser.add_argument(
        "-A",
        "--all-namespaces",
        action="store_true",
        help="one row per Deployment of every namespace (no TARGET); exit 1 when any is unhealthy",
    )


def parse_options(args: argparse.Namespace, common: CommonOptions) -> StatusOptions:
    """Validate the flags."""
    from kubectl_trace.kube.targets import classify

    classify(args.target)
    if args.all_namespaces and (args.target or args.process or args.selector or args.probe):
        raise UsageError(
            "-A sums up every namespace and takes no TARGET, --process, -l or --probe",
            hint="for one namespace in full: kubectl nodeapp status -n NAMESPACE",
        )
    return StatusOptions(
        common=common,
        target=args.target,
        probe=bool(args.probe),
        output=args.output,
        process=args.process,
        selector=args.selector,
        all_namespaces=bool(args.all_namespaces),
    )


# -- the report --------------------------------------------------------------------------------


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
    others = [p for p in selected if str(p["metadata"]["name"]) not in claimed]
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


# -- gathering (I/O) ------------------------------------------------------------------------


def _pick_deployments(
    target: Target, all_deployments: Sequence[Mapping[str, Any]], pods: Sequence[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    from kubectl_trace.kube.selectors import match_label_selector_object
    from kubectl_trace.kube.targets import deployment_process

    if target.kind in ("deployment", "app"):
        wanted = {str(d["metadata"]["name"]) for d in target.deployments}
        # the fresh copies from the list (resolve may have read them a moment earlier)
        fresh = [d for d in all_deployments if str(d["metadata"]["name"]) in wanted]
        return fresh or list(target.deployments)
    if target.kind == "all" and not target.labels:
        return [
            d
            for d in all_deployments
            if target.process is None
            or deployment_process(d, label=target.process_label, env=target.process_env) == target.process
        ]
    selected = target.select(pods)
    return [
        d
        for d in all_deployments
        if any(
            match_label_selector_object(d["spec"].get("selector"), p["metadata"].get("labels"))
            for p in selected
        )
    ]


def gather(
    kube: Any, target: Target, namespace: str, now: float
) -> tuple[StatusReport, list[dict[str, Any]]]:
    """List what the report needs and build it; also return the pods listed."""
    from kubectl_trace.userconfig import load_user_config

    config = load_user_config()
    deployments = kube.list("deployments", namespace).items
    replicasets = kube.list("replicasets", namespace).items
    pods = kube.list("pods", namespace, label_selector=target.label_selector).items
    events = kube.list("events", namespace).items
    report = build_report(
        namespace=namespace,
        context=kube.conn.context,
        target=target,
        deployments=_pick_deployments(target, deployments, pods),
        replicasets=replicasets,
        pods=pods,
        events=events,
        now=now,
        production_namespaces=config.production_namespaces,
        process_label=config.process_label,
        process_env=config.process_env,
    )
    return report, pods


_ERROR_HEAD = re.compile(r"^\s*(?:Uncaught\s+)?[A-Z]?\w*(?:Error|Exception)\b(?:\s*\[[^\]]*\])?(?::|$)")
_FRAME = re.compile(r"^\s+at\s")


def crash_excerpt(lines: Sequence[str], limit: int = PREVIOUS_LINES) -> list[str]:
    """The lines that explain a crash: from the last error heading (``Error: Cannot find module``).

    Stack frames past the third are folded into one ``… N more frames`` line; the last line
    (Node.js prints its version there) is kept. Without an error heading: the last ``limit``.
    """
    start = next((i for i in range(len(lines) - 1, -1, -1) if _ERROR_HEAD.match(lines[i])), None)
    if start is None:
        return list(lines[-limit:])
    out: list[str] = []
    frames = hidden = 0
    for line in lines[start:]:
        if _FRAME.match(line):
            frames += 1
            if frames > 3:
                hidden += 1
                continue
        elif hidden:
            out.append(f"    … {hidden} more frame{'s' if hidden != 1 else ''}")
            hidden = 0
        out.append(line)
    if hidden:
        out.append(f"    … {hidden} more frame{'s' if hidden != 1 else ''}")
    if len(out) > limit:
        out = [*out[: limit - 2], "    …", out[-1]]
    return out


def _crash_candidates(report: StatusReport) -> list[tuple[PodHealth, str]]:
    """One crash-looping pod per (group, container) whose previous instance is worth reading.

    A container qualifies while it crash-loops, or when its last instance failed (non-zero
    exit or a signal) in the last ``RECENT_RESTART_SECONDS`` even if it runs again now.
    """
    from kubectl_trace.health.pods import RECENT_RESTART_SECONDS

    groups: list[tuple[PodHealth, ...]] = [d.pods for d in report.deployments] + [report.other_pods]
    out: list[tuple[PodHealth, str]] = []
    for pods in groups:
        seen: set[str] = set()
        for pod in pods:
            for c in pod.containers + pod.init_containers:
                if c.name in seen or not c.restarts:
                    continue
                last = c.latest_termination
                failed = last is not None and ((last.exit_code or 0) != 0 or bool(last.signal))
                recent = (
                    last is not None
                    and last.finished_at is not None
                    and report.now - last.finished_at <= RECENT_RESTART_SECONDS
                )
                if c.crash_looping or (failed and (recent or not pod.ok)):
                    seen.add(c.name)
                    out.append((pod, c.name))
    return out[:MAX_PREVIOUS_LOGS]


def fetch_previous_logs(
    kube: Any, report: StatusReport, lines: int = PREVIOUS_TAIL
) -> tuple[PreviousLog, ...]:
    """The crash lines of the previous instance of each crash-looping container (one pod each).

    ``kube``: a ``Kube`` or ``LiteKube`` (both have ``get_raw``).
    """
    from kubectl_trace.kube.errors import KubeError
    from kubectl_trace.kube.resources import lookup

    out = []
    for pod, container in _crash_candidates(report):
        termination = next(
            (c.last_termination for c in pod.containers + pod.init_containers if c.name == container), None
        )
        try:
            _, body = kube.get_raw(
                lookup("pods").path(pod.namespace, pod.name, "log"),
                query={"container": container, "previous": "true", "tailLines": lines},
                namespace=pod.namespace,
            )
            text = [line.rstrip("\r") for line in body.decode("utf-8", "replace").splitlines()]
            out.append(PreviousLog(pod.name, container, termination, tuple(crash_excerpt(text))))
        except KubeError as exc:
            out.append(PreviousLog(pod.name, container, termination, (), error=exc.message))
    return tuple(out)


def _probe_targets(
    report: StatusReport, specs: Mapping[str, Mapping[str, Any]]
) -> list[tuple[str, str, tuple[str, ...], Any, str, str]]:
    """(pod, container, kinds, ProbeSpec, resolved port, why not) for every HTTP probe.

    ``why not`` is set (and nothing is sent) when the container is not running.
    """
    from kubectl_trace.health import probe_spec

    jobs = []
    for pod in report.pods[:MAX_PROBED_PODS]:
        if pod.deleted_at is not None or pod.phase != "Running":
            continue
        spec = specs.get(pod.name) or {}
        states = {c.name: c for c in pod.containers}
        for c in (spec.get("spec") or {}).get("containers") or []:
            health = states.get(str(c.get("name")))
            skip = ""
            if health is not None and health.state != "running":
                skip = f"not run: container {health.reason or health.state}"
            by_check: dict[Any, list[str]] = {}
            found: dict[Any, Any] = {}
            for kind in ("readiness", "liveness", "startup"):
                ps = probe_spec(c, kind)
                if ps is None or ps.handler != "http":
                    continue
                by_check.setdefault(ps.check, []).append(kind)
                found.setdefault(ps.check, ps)
            for check, kinds in by_check.items():
                ps = found[check]
                port = ps.port
                if not port.isdigit():  # a named port: the pod proxy wants the number
                    for p in c.get("ports") or []:
                        if p.get("name") == port:
                            port = str(p.get("containerPort"))
                jobs.append((pod.name, str(c.get("name")), tuple(kinds), ps, port, skip))
    return jobs


def _excerpt(body: bytes | str | Mapping[str, Any]) -> str:
    if isinstance(body, Mapping):
        if set(body) <= {"message"} or body.get("kind") == "Status":
            text = str(body.get("message") or "")
        else:
            text = json.dumps(body, separators=(",", ":"))
    elif isinstance(body, bytes):
        text = body.decode("utf-8", "replace")
    else:
        text = body
    text = " ".join(text.split())
    return text if len(text) <= _EXCERPT else text[: _EXCERPT - 1] + "…"


def run_probe(
    kube: Any,
    namespace: str,
    pod: str,
    container: str,
    kinds: tuple[str, ...],
    spec: Any,
    port: str,
    skip: str = "",
) -> ProbeCheck:
    """GET one probe's path through ``/api/v1/namespaces/NS/pods/[https:]POD:PORT/proxy/PATH``."""
    from urllib.parse import parse_qsl, quote

    from kubectl_trace.kube.errors import ApiError, KubeError

    if skip:
        return ProbeCheck(pod, container, kinds, spec.description, None, None, "", skip, skipped=True)
    path, _, query = spec.path.partition("?")
    scheme = "https:" if spec.scheme.upper() == "HTTPS" else ""
    pod_port = f"{scheme}{quote(pod, safe='')}:{quote(port, safe='')}"
    url = f"/api/v1/namespaces/{quote(namespace, safe='')}/pods/{pod_port}/proxy{quote(path, safe='/-._~')}"
    started = time.perf_counter()
    try:
        status, body = kube.get_raw(
            url,
            query=dict(parse_qsl(query)),
            namespace=namespace,
            limit=4096,
            timeout=max(2.0, spec.timeout_seconds * 2.0 + 1.0),
        )
        error = ""
        excerpt = _excerpt(body)
    except ApiError as exc:
        if exc.body.get("kind") == "Status":
            # the API server speaking (pod unreachable, forbidden), not the app: no status code
            status, excerpt, error = None, "", str(exc.body.get("message") or exc.message)
        else:
            status, excerpt, error = exc.status or None, _excerpt(exc.body or exc.message), ""
    except KubeError as exc:
        status, excerpt, error = None, "", exc.message
    latency = (time.perf_counter() - started) * 1000.0
    return ProbeCheck(pod, container, kinds, spec.description, status, round(latency, 1), excerpt, error)


def run_node_version(kube: Any, namespace: str, pod: str, container: str) -> NodeVersion:
    """``node --version`` in one container, through exec."""
    from kubectl_trace.kube.errors import KubeError
    from kubectl_trace.kube.exec import run_command

    try:
        code, out, err = run_command(kube, namespace, pod, container, ["node", "--version"], timeout=15.0)
    except KubeError as exc:
        return NodeVersion(pod, container, "", error=exc.message)
    if code != 0:
        detail = (err or out).decode("utf-8", "replace").strip().splitlines()
        return NodeVersion(pod, container, "", error=f"exit {code}" + (f": {detail[-1]}" if detail else ""))
    return NodeVersion(pod, container, out.decode("utf-8", "replace").strip())


def probe_now(
    client: Callable[[], Any], report: StatusReport, pods: Sequence[Mapping[str, Any]]
) -> tuple[tuple[ProbeCheck, ...], tuple[NodeVersion, ...]]:
    """Run every HTTP probe and ``node --version`` of the report's running pods, in parallel.

    ``client()`` gives the client to use (both clients are thread-safe).
    """
    specs = {str(p["metadata"]["name"]): p for p in pods}
    jobs = _probe_targets(report, specs)
    running = [
        (pod.name, c.name)
        for pod in report.pods[:MAX_PROBED_PODS]
        if pod.deleted_at is None
        for c in pod.containers
        if c.state == "running"
    ]
    with ThreadPoolExecutor(max_workers=_PROBE_WORKERS, thread_name_prefix="status-probe") as pool:
        probe_futures = [
            pool.submit(lambda j: run_probe(client(), report.namespace, *j), job) for job in jobs
        ]
        version_futures = [
            pool.submit(lambda p, c: run_node_version(client(), report.namespace, p, c), pod, name)
            for pod, name in running
        ]
        probes = tuple(f.result() for f in probe_futures)
        versions = tuple(f.result() for f in version_futures)
    return probes, versions


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
    }


# -- rendering --------------------------------------------------------------------------------

_VERDICT_STYLE = {
    "healthy": "green",
    "starting": "yellow",
    "unhealthy": "bold red",
    "terminating": "dim",
    "completed": "dim",
}
_STATE_STYLE = {"complete": "green", "progressing": "yellow", "stalled": "bold red", "paused": "yellow"}
_PROBE_STYLE = {"ok": "green", "failing": "bold red", "unknown": "yellow", "none": "dim"}


def _age(at: float | None, now: float) -> str:
    from kubectl_trace.timeparse import format_age

    return format_age(now - at) if at is not None else "-"


def _probe_cell(pod: PodHealth, kind: str) -> Text:
    from rich.text import Text

    health = pod.probe(kind)
    return Text(health.short, style=_PROBE_STYLE.get(health.state, ""))


def render_rollout(r: RolloutState) -> list[RenderableType]:
    """The header lines of one Deployment."""
    from rich.text import Text

    head = Text()
    head.append(f"deploy/{r.name}", style="bold")
    head.append("  ")
    mark = "✓" if r.state == "complete" else ("✗" if r.state == "stalled" else "…")
    head.append(f"{mark} {r.state.capitalize()}", style=_STATE_STYLE.get(r.state, ""))
    head.append(f"  rev {r.revision if r.revision is not None else '?'}  ")
    tags = ", ".join(r.tags)
    old = ", ".join(r.old_tags)
    head.append(f"{old} → {tags}" if old else tags, style="cyan")
    lines: list[RenderableType] = [head]
    if r.state == "progressing" and r.message and not r.observed:
        lines.append(Text(f"  {r.message}", style="yellow"))
    counts = Text("  ")
    counts.append(
        f"desired {r.desired} · updated {r.updated} · ready {r.ready} · available {r.available}",
    )
    if r.strategy == "RollingUpdate":
        counts.append(" · surge ")
        counts.append(f"{r.surge}/{r.max_surge}", style="red" if r.over_surge else "")
        counts.append(" · unavailable ")
        counts.append(f"{r.unavailable}/{r.max_unavailable}", style="red" if r.over_unavailable else "")
    else:
        counts.append(f" · {r.strategy}")
    if r.deadline_left is not None and r.progress_deadline_seconds:
        counts.append(
            f" · deadline {r.progress_deadline_seconds}s ({r.deadline_left:.0f}s left)", style="dim"
        )
    lines.append(counts)
    if r.old or (r.new is not None and r.state != "complete"):
        sets = Text("  ")
        if r.new is not None:
            sets.append(
                f"new rev {r.new.revision} {', '.join(r.new.tags)} {r.new.ready}/{r.new.desired} ready"
            )
        for rs in r.old:
            sets.append(
                f"   old rev {rs.revision} {', '.join(rs.tags)} {rs.ready}/{rs.desired} ready", style="dim"
            )
        lines.append(sets)
    return lines


def render_pods(
    pods: Sequence[PodHealth],
    now: float,
    rollout: RolloutState | None = None,
    versions: Mapping[str, str] | None = None,
) -> RenderableType:
    """The pods table."""
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold", pad_edge=False, padding=(0, 0, 0, 2), expand=False)
    table.add_column("POD", no_wrap=True)
    if rollout is not None:
        table.add_column("REV", justify="right")
    table.add_column("STATUS", no_wrap=True)
    table.add_column("READY", justify="right")
    table.add_column("READINESS", no_wrap=True)
    table.add_column("LIVENESS", no_wrap=True)
    table.add_column("RESTARTS", no_wrap=True)
    table.add_column("AGE", justify="right")
    if versions:
        table.add_column("NODE.JS", no_wrap=True)
    for pod in pods:
        row: list[Any] = [Text(pod.name, style=_VERDICT_STYLE.get(pod.verdict, ""))]
        if rollout is not None:
            rev = rollout.revision_of(pod.template_hash)
            row.append(str(rev) if rev is not None else "-")
        row += [
            Text(pod.status, style="" if pod.status == "Running" else _VERDICT_STYLE.get(pod.verdict, "")),
            Text(pod.ready_text, style="green" if pod.ready else "red"),
            _probe_cell(pod, "readiness"),
            _probe_cell(pod, "liveness"),
            Text(pod.restarts_text(now), style="yellow" if pod.restarts else ""),
            _age(pod.created_at, now),
        ]
        if versions:
            row.append(versions.get(pod.name, "-"))
        table.add_row(*row)
    return table


def _problem_line(obj: str, problem: Problem) -> Text:
    from rich.text import Text

    text = Text("  ")
    if problem.severity == "error":
        text.append("✗ ", style="bold red")
    else:
        text.append("⚠ ", style="yellow")
    text.append(f"{obj}: ", style="bold")
    text.append(problem.message)
    return text


def _crop(text: str, width: int | None) -> str:
    if width is None or len(text) <= width:
        return text
    return text[: max(1, width - 1)] + "…"


def compact_log_line(line: str) -> str:
    """A log line for a glance: JSON lines as ``LEVEL message`` plus the error's first line."""
    from kubectl_trace.logs.parse import parse_text

    parsed = parse_text(line)
    if not parsed.structured:
        return line
    text = f"{(parsed.level or '').upper():5} {parsed.message}".strip()
    if parsed.stack:
        first = parsed.stack.strip().splitlines()[0].strip()
        if first and first not in text:
            text += f" — {first}"
    return text


def render_previous_log(log: PreviousLog, now: float, width: int | None = None) -> list[RenderableType]:
    """The previous instance's last lines of a crash-looping container (JSON lines compacted)."""
    from rich.text import Text

    how = f" ({log.termination.describe(now)})" if log.termination is not None else ""
    out: list[RenderableType] = [
        Text(f"  last lines of the previous instance of {log.container} in pod/{log.pod}{how}:", style="bold")
    ]
    if log.error:
        out.append(Text(f"    (not available: {log.error})", style="dim"))
    for line in log.lines or (() if log.error else ("(no output)",)):
        out.append(Text(_crop(f"    │ {compact_log_line(line)}", width), style="red"))
    return out


def render_probes(probes: Sequence[ProbeCheck], width: int | None = None) -> RenderableType:
    """The table of probes run now (the body excerpt is cut to what ``width`` leaves)."""
    from rich.table import Table
    from rich.text import Text

    rows = []
    for p in probes:
        code = Text(str(p.status) if p.status is not None else "—", style="green" if p.ok else "bold red")
        latency = f"{p.latency_ms:.0f} ms" if p.latency_ms is not None else "-"
        rows.append(
            (p.pod, p.container, ",".join(p.kinds), p.check, code, latency, Text(p.error or p.excerpt))
        )
    table = Table(box=None, header_style="bold", pad_edge=False, padding=(0, 0, 0, 2), expand=False)
    names = ("POD", "CONTAINER", "PROBE", "CHECK", "CODE", "LATENCY", "BODY")
    widths = [max([len(name)] + [len(str(row[i])) for row in rows]) for i, name in enumerate(names)]
    if width is not None:  # only the body excerpt gives way on a narrow screen
        room = max(12, width - 2 - sum(widths[:-1]) - 2 * (len(names) - 1))
        rows = [(*row[:-1], Text(_crop(str(row[-1]), room))) for row in rows]
    for i, name in enumerate(names):
        widest = widths[i]
        table.add_column(
            name,
            no_wrap=True,
            overflow="ellipsis",
            min_width=None if name == "BODY" else widest,
            justify="right" if name in ("CODE", "LATENCY") else "left",
            style="dim" if name == "BODY" else None,
        )
    for row in rows:
        table.add_row(*row)
    return table


def _grouped_findings(findings: Iterable[Finding]) -> list[tuple[Finding, list[str]]]:
    groups: dict[tuple[str, str], tuple[Finding, list[str]]] = {}
    for f in findings:
        key = (f.code, f.message)
        if key in groups:
            groups[key][1].append(f.object)
        else:
            groups[key] = (f, [f.object])
    return list(groups.values())


def render_findings(findings: Sequence[Finding]) -> list[RenderableType]:
    """Practice findings, one block per distinct finding (objects listed once)."""
    from rich.text import Text

    out: list[RenderableType] = []
    for finding, objects in _grouped_findings(findings):
        line = Text("  ⚠ ", style="yellow")
        line.append(finding.message, style="bold")
        line.append(f"  ({', '.join(objects)})", style="dim")
        out.append(line)
        out.append(Text(f"      why: {finding.why}"))
        out.append(Text(f"      fix: {finding.fix}", style="green"))
    return out


def render_report(report: StatusReport, width: int | None = None) -> list[RenderableType]:
    """The whole screen (``width``: the console's, to cut long lines instead of wrapping them)."""
    from rich.text import Text

    now = report.now
    versions: dict[str, str] = {}
    for v in report.node_versions:
        versions.setdefault(v.pod, v.version or "?")
    head = Text()
    head.append(f"{report.target}", style="bold")
    head.append(f" · namespace {report.namespace} · context {report.context}  ", style="dim")
    problems = report.problems
    errors = [p for _, p in problems if p.severity == "error"] + list(report.failed_probes)
    if report.healthy:
        head.append("✓ healthy", style="bold green")
    else:
        head.append(f"✗ unhealthy: {len(errors)} problem{'s' if len(errors) != 1 else ''}", style="bold red")
    out: list[RenderableType] = [head, Text("")]
    logs_by_pod: dict[str, list[PreviousLog]] = {}
    for log in report.previous_logs:
        logs_by_pod.setdefault(log.pod, []).append(log)

    def pod_block(pods: Sequence[PodHealth], rollout: RolloutState | None) -> None:
        if pods:
            out.append(render_pods(pods, now, rollout, versions))
        else:
            out.append(Text("  no pods", style="dim"))
        for pod in pods:
            for problem in pod.problems:
                out.append(_problem_line(f"pod/{pod.name}", problem))
        for pod in pods:
            for log in logs_by_pod.get(pod.name, []):
                out.extend(render_previous_log(log, now, width))

    for d in report.deployments:
        out.extend(render_rollout(d.rollout))
        for problem in d.rollout.problems:
            out.append(_problem_line(f"deploy/{d.rollout.name}", problem))
        pod_block(d.pods, d.rollout)
        out.append(Text(""))
    if report.other_pods:
        out.append(Text("pods without a deployment", style="bold"))
        pod_block(report.other_pods, None)
        out.append(Text(""))
    if report.probes is not None:
        out.append(Text("probes run now (through the API server's pod proxy)", style="bold"))
        out.append(
            render_probes(report.probes, width)
            if report.probes
            else Text("  no HTTP probes to run", style="dim")
        )
        missing = [v for v in report.node_versions if v.error]
        if report.node_versions:
            found = sorted({v.version for v in report.node_versions if v.version})
            out.append(Text(f"  Node.js: {', '.join(found) if found else 'not found'}", style="bold"))
        for v in missing[:5]:
            out.append(Text(f"  node --version in {v.pod}/{v.container}: {v.error}", style="dim"))
        out.append(Text(""))
    findings = [f for d in report.deployments for f in d.findings] + list(report.other_findings)
    if findings:
        out.append(Text("findings (Node.js on Kubernetes practice)", style="bold"))
        out.extend(render_findings(findings))
    return out


# -- the command ------------------------------------------------------------------------------


_TRAILING = re.compile(r" +((?:\x1b\[[0-9;]*m)*)$", re.M)


def _print(console: Console, out: IO[str], renderables: Iterable[RenderableType]) -> None:
    """Print through rich, without the trailing blanks that table cells pad with."""
    from rich.padding import Padding
    from rich.text import Text

    with console.capture() as capture:
        for item in renderables:
            if isinstance(item, Text):
                console.print(item, soft_wrap=True)
            else:  # tables sit under their heading
                console.print(Padding(item, (0, 0, 0, 2), expand=False))
    out.write(_TRAILING.sub(r"\1", capture.get()))


def run(options: StatusOptions, env: Environment) -> int:
    """Gather, explain, and exit 1 when anything is unhealthy."""
    from dataclasses import replace

    from kubectl_trace.kube.client import connect_best
    from kubectl_trace.kube.targets import resolve

    kube = connect_best(options.common.kube, env.environ)
    if options.all_namespaces:
        return _run_all(kube, options, env)
    try:
        namespace = kube.namespace
        kube.require_namespace(namespace)
        target = resolve(
            kube,
            options.target,
            namespace=namespace,
            process=options.process,
            label_selector=options.selector,
        )
        now = env.clock()
        report, pods = gather(kube, target, namespace, now)
        if not report.deployments and not report.other_pods:
            raise NodeappError(
                f"nothing to check: no deployment or pod for {target.description} in namespace {namespace}",
                hint=f"list what is there with: kubectl get deploy,pods -n {namespace}",
            )
        if _crash_candidates(report):
            report = replace(report, previous_logs=fetch_previous_logs(kube, report))
        if options.probe:
            probes, versions = probe_now(lambda: kube, report, pods)
            report = replace(report, probes=probes, node_versions=versions)
    finally:
        kube.close()
    if options.output == "json":
        env.stdout.write(json.dumps(report_json(report), indent=2) + "\n")
    else:
        width = env.width or (None if env.stdout_isatty else 160)
        console = env.console(width=width)
        _print(console, env.stdout, render_report(report, console.width))
    return 0 if report.healthy else 1


def _run_all(kube: Any, options: StatusOptions, env: Environment) -> int:
    """``status -A``: the summary of every namespace."""
    from kubectl_trace.cli.status_all import all_json, gather_all, render_all

    try:
        reports = gather_all(kube, env.clock())
        context = kube.conn.context
    finally:
        kube.close()
    if options.output == "json":
        env.stdout.write(json.dumps(all_json(reports, context), indent=2) + "\n")
    else:
        width = env.width or (None if env.stdout_isatty else 160)
        _print(env.console(width=width), env.stdout, render_all(reports, context))
    return 0 if all(r.healthy for r in reports) else 1
