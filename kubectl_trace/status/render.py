"""The ``status`` report rendered with rich: rollouts, pods, problems, logs, probes, findings."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.text import Text

    from kubectl_trace.health import Finding, PodHealth, Problem, RolloutState

from kubectl_trace.status.report import PreviousLog, ProbeCheck, StatusReport

_VERDICT_STYLE = {
    "healthy": "green",
    "starting": "yellow",
    "unhealthy": "bold red",
    "terminating": "dim",
    "completed": "dim",
}
STATE_STYLE = {"complete": "green", "progressing": "yellow", "stalled": "bold red", "paused": "yellow"}
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
    head.append(f"{mark} {r.state.capitalize()}", style=STATE_STYLE.get(r.state, ""))
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


_JOB_MARK = {"succeeded": ("✓", "green"), "failed": ("✗", "bold red"), "running": ("●", "yellow")}


def render_jobs(report: StatusReport) -> list[RenderableType]:
    """Recent Jobs (state, when, who ran what) and CronJobs (schedule, last schedule)."""
    from rich.text import Text

    now = report.now
    out: list[RenderableType] = []
    if report.jobs:
        out.append(Text("recent jobs", style="bold"))
        width = max(len(j.name) for j in report.jobs)
        for job in report.jobs:
            mark, style = _JOB_MARK.get(job.state, ("?", "dim"))
            line = Text(f"  {mark} ", style=style)
            line.append(job.name.ljust(width) + "  ")
            state = job.state + (f" ({job.reason})" if job.reason else "")
            line.append(state.ljust(12), style=style)
            when = job.finished_at if job.finished_at is not None else job.started_at
            line.append(f"  {_age(when, now)} ago", style="dim")
            if job.what:
                line.append(f"  {_crop(job.what, 100)}", style="dim")
            out.append(line)
    if report.cronjobs:
        out.append(Text("cron jobs", style="bold"))
        for cron in report.cronjobs:
            line = Text(f"  ⏲ {cron.name}  ")
            line.append(f'"{cron.schedule}"', style="bold")
            if cron.suspended:
                line.append("  suspended", style="yellow")
            last = f"{_age(cron.last_schedule, now)} ago" if cron.last_schedule is not None else "never"
            line.append(f"  last schedule {last}", style="dim")
            line.append(f"  {cron.active} active", style="dim")
            out.append(line)
    return out


def _headline(report: StatusReport) -> Text:
    """What was looked at, where, and the verdict."""
    from rich.text import Text

    head = Text()
    head.append(f"{report.target}", style="bold")
    head.append(f" · namespace {report.namespace} · context {report.context}  ", style="dim")
    errors = [p for _, p in report.problems if p.severity == "error"] + list(report.failed_probes)
    if report.healthy:
        head.append("✓ healthy", style="bold green")
    else:
        head.append(f"✗ unhealthy: {len(errors)} problem{'s' if len(errors) != 1 else ''}", style="bold red")
    return head


def _probes_run(
    report: StatusReport, probes: Sequence[ProbeCheck], width: int | None
) -> list[RenderableType]:
    """The ``--probe`` section: the HTTP probes run now, and the Node.js versions found."""
    from rich.text import Text

    out: list[RenderableType] = [Text("probes run now (through the API server's pod proxy)", style="bold")]
    out.append(render_probes(probes, width) if probes else Text("  no HTTP probes to run", style="dim"))
    if report.node_versions:
        found = sorted({v.version for v in report.node_versions if v.version})
        out.append(Text(f"  Node.js: {', '.join(found) if found else 'not found'}", style="bold"))
    for v in [v for v in report.node_versions if v.error][:5]:
        out.append(Text(f"  node --version in {v.pod}/{v.container}: {v.error}", style="dim"))
    out.append(Text(""))
    return out


class _PodBlock:
    """Pods under their Deployment: the table, each pod's problems, then their previous logs."""

    def __init__(self, report: StatusReport, width: int | None) -> None:
        self.now = report.now
        self.width = width
        self.versions: dict[str, str] = {}
        for v in report.node_versions:
            self.versions.setdefault(v.pod, v.version or "?")
        self.logs_by_pod: dict[str, list[PreviousLog]] = {}
        for log in report.previous_logs:
            self.logs_by_pod.setdefault(log.pod, []).append(log)

    def __call__(self, pods: Sequence[PodHealth], rollout: RolloutState | None) -> list[RenderableType]:
        from rich.text import Text

        out: list[RenderableType] = []
        if pods:
            out.append(render_pods(pods, self.now, rollout, self.versions))
        else:
            out.append(Text("  no pods", style="dim"))
        for pod in pods:
            for problem in pod.problems:
                out.append(_problem_line(f"pod/{pod.name}", problem))
        for pod in pods:
            for log in self.logs_by_pod.get(pod.name, []):
                out.extend(render_previous_log(log, self.now, self.width))
        return out


def render_report(report: StatusReport, width: int | None = None) -> list[RenderableType]:
    """The whole screen (``width``: the console's, to cut long lines instead of wrapping them)."""
    from rich.text import Text

    now = report.now
    out: list[RenderableType] = [_headline(report), Text("")]
    pod_block = _PodBlock(report, width)
    for d in report.deployments:
        out.extend(render_rollout(d.rollout))
        for problem in d.rollout.problems:
            out.append(_problem_line(f"deploy/{d.rollout.name}", problem))
        out.extend(pod_block(d.pods, d.rollout))
        out.append(Text(""))
    if report.other_pods:
        out.append(Text("pods without a deployment", style="bold"))
        out.extend(pod_block(report.other_pods, None))
        out.append(Text(""))
    if report.probes is not None:
        out.extend(_probes_run(report, report.probes, width))
    if report.jobs or report.cronjobs:
        out.extend(render_jobs(report))
        out.append(Text(""))
    if report.resources is not None:
        from kubectl_trace.status.resources import render_facts

        out.extend(render_facts(report.resources, now))
    findings = [f for d in report.deployments for f in d.findings] + list(report.other_findings)
    if findings:
        out.append(Text("findings (Node.js on Kubernetes practice)", style="bold"))
        out.extend(render_findings(findings))
    return out


_TRAILING = re.compile(r" +((?:\x1b\[[0-9;]*m)*)$", re.M)


def print_renderables(console: Console, out: IO[str], renderables: Iterable[RenderableType]) -> None:
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
