"""``status``: resource use, OOM advice and shutdown facts (gathering, JSON and rendering).

``start_metrics`` asks ``metrics.k8s.io/v1beta1`` for the namespace's PodMetrics on a
thread of its own while ``status`` lists the other objects (one request, no retries, so a
cluster without metrics-server costs nothing); ``build_facts`` joins it with the pods and
events through the pure ``health.resources``, ``health.heap`` and ``health.shutdown``;
``read_shutdown_logs`` reads the last lines of a few instances that were killed or are
slow to stop, to tell whether the app handled SIGTERM at all. Pods replaced by a rollout
leave nothing behind once deleted: ``with_recorded`` adds what the release flow saw of them
(recorded in the latest release) for processes without a live shutdown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import RenderableType

    from kubectl_trace.health.heap import OomAdvice
    from kubectl_trace.health.resources import PodUsage, ProcessUsage
    from kubectl_trace.health.shutdown import Shutdown
    from kubectl_trace.kube.calls import KubeClient
    from kubectl_trace.release.records import Release
    from kubectl_trace.release.shutdowns import ProcessShutdowns

__all__ = [
    "MetricsAnswer",
    "ResourceFacts",
    "build_facts",
    "facts_json",
    "fetch_metrics",
    "process_flags",
    "read_shutdown_logs",
    "render_facts",
    "start_metrics",
    "with_recorded",
]

METRICS_PATH = "/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods"
MAX_SHUTDOWN_LOGS = 4
MAX_LOG_SAMPLES = 8
LOG_SAMPLE = 20
SHUTDOWN_TAIL = 40
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class MetricsAnswer:
    """The PodMetrics items, or why there are none (``note``)."""

    items: tuple[Mapping[str, Any], ...] | None
    note: str = ""


def fetch_metrics(kube: KubeClient, namespace: str, label_selector: str | None = None) -> MetricsAnswer:
    """One GET of the namespace's PodMetrics; never raises for an API answer."""
    from kubectl_trace.kube.errors import ApiError, KubeError
    from kubectl_trace.kube.retry import NO_RETRY

    query = {"labelSelector": label_selector} if label_selector else None
    try:
        answer = kube.request("GET", METRICS_PATH.format(namespace=namespace), query=query, retry=NO_RETRY)
    except ApiError as exc:
        if exc.status == 404:
            return MetricsAnswer(
                None,
                "the cluster does not serve metrics.k8s.io (no metrics-server): no CPU or memory figures",
            )
        return MetricsAnswer(
            None, f"metrics.k8s.io did not answer ({exc.status} {exc.message}): no CPU or memory figures"
        )
    except KubeError as exc:
        return MetricsAnswer(None, f"metrics.k8s.io did not answer ({exc.message}): no CPU or memory figures")
    items = answer.get("items") if isinstance(answer, dict) else None
    return MetricsAnswer(tuple(items or ()))


def start_metrics(
    pool: ThreadPoolExecutor, kube: KubeClient, namespace: str, label_selector: str | None
) -> Future[MetricsAnswer]:
    """``fetch_metrics`` on ``pool`` (the caller lists the rest meanwhile)."""
    return pool.submit(fetch_metrics, kube, namespace, label_selector)


@dataclass(frozen=True)
class ResourceFacts:
    """What ``status`` says about resource use and shutdowns."""

    pods: tuple[PodUsage, ...]
    processes: tuple[ProcessUsage, ...]
    metrics_note: str
    oom: tuple[OomAdvice, ...]
    shutdowns: tuple[Shutdown, ...]
    flags: tuple[str, ...] = ()  # --probe: mixed Node.js versions, plain-text logs
    recorded: tuple[ProcessShutdowns, ...] = ()  # of processes without a live shutdown
    recorded_release: int | None = None  # the release they were recorded in


def with_recorded(facts: ResourceFacts, release: Release | None) -> ResourceFacts:
    """Add the release's recorded shutdowns of processes that have no live one (pure)."""
    if release is None or not release.shutdowns:
        return facts
    live = {s.process or s.container for s in facts.shutdowns}
    recorded = tuple(s for s in release.shutdowns if s.process not in live)
    if not recorded:
        return facts
    return replace(facts, recorded=recorded, recorded_release=release.number)


def build_facts(
    pods: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    metrics: MetricsAnswer,
    now: float,
    *,
    process_label: str = "process",
    process_env: str = "PROCESS_TYPE",
) -> ResourceFacts:
    """The facts from the objects (pure)."""
    from kubectl_trace.health.heap import oom_advice
    from kubectl_trace.health.resources import pod_process, pod_usages, process_usages
    from kubectl_trace.health.shutdown import shutdown_facts

    usages = pod_usages(pods, metrics.items or (), process_label=process_label, process_env=process_env)
    oom: list[OomAdvice] = []
    seen: set[tuple[str, str, int | None]] = set()
    for pod in pods:
        process = pod_process(pod, process_label, process_env)
        for advice in oom_advice(pod):
            key = (process, advice.container, advice.memory_limit)
            if key not in seen:  # one per process and container: the pods share a spec
                seen.add(key)
                oom.append(advice)
    shutdowns = shutdown_facts(
        pods, events, now, process_of=lambda p: pod_process(p, process_label, process_env)
    )
    return ResourceFacts(usages, process_usages(usages), metrics.note, tuple(oom), shutdowns)


def read_shutdown_logs(kube: KubeClient, namespace: str, facts: ResourceFacts) -> ResourceFacts:
    """Read the last lines of a few bad shutdowns' instances to see whether they handled SIGTERM."""
    from kubectl_trace.health.shutdown import with_log_cause
    from kubectl_trace.kube.errors import KubeError
    from kubectl_trace.kube.resources import lookup

    out: list[Shutdown] = []
    budget = MAX_SHUTDOWN_LOGS
    for s in facts.shutdowns:
        if budget <= 0 or not s.bad or s.causes:
            out.append(s)
            continue
        budget -= 1
        query: dict[str, Any] = {"container": s.container, "tailLines": SHUTDOWN_TAIL}
        if s.previous:
            query["previous"] = "true"
        try:
            _, body = kube.get_raw(
                lookup("pods").path(namespace, s.pod, "log"), query=query, namespace=namespace
            )
        except KubeError:
            out.append(s)
            continue
        out.append(with_log_cause(s, body.decode("utf-8", "replace").splitlines()))
    return replace(facts, shutdowns=tuple(out))


def process_flags(
    kube: KubeClient,
    namespace: str,
    pods: Sequence[Mapping[str, Any]],
    node_versions: Sequence[Any],
    *,
    process_label: str = "process",
    process_env: str = "PROCESS_TYPE",
) -> tuple[str, ...]:
    """``--probe``: processes whose pods run different Node.js versions or do not log JSON.

    Reads the last ``LOG_SAMPLE`` lines of one running pod per process, a few at a time.
    """
    from kubectl_trace.health.processes import log_format_flag, mixed_versions
    from kubectl_trace.health.resources import pod_process
    from kubectl_trace.kube.errors import KubeError
    from kubectl_trace.kube.resources import lookup

    process_of = {str(p["metadata"]["name"]): pod_process(p, process_label, process_env) for p in pods}
    flags = mixed_versions((v.pod, process_of.get(v.pod, "?"), v.version) for v in node_versions)
    samples: dict[str, tuple[str, str]] = {}
    for pod in pods:
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        running = [s for s in statuses if "running" in (s.get("state") or {})]
        process = process_of[str(pod["metadata"]["name"])]
        if running and process not in samples and not pod["metadata"].get("deletionTimestamp"):
            samples[process] = (str(pod["metadata"]["name"]), str(running[0].get("name")))

    def read(process: str, pod: str, container: str) -> str | None:
        try:
            _, body = kube.get_raw(
                lookup("pods").path(namespace, pod, "log"),
                query={"container": container, "tailLines": LOG_SAMPLE},
                namespace=namespace,
            )
        except KubeError:
            return None
        return log_format_flag(process, pod, body.decode("utf-8", "replace").splitlines())

    jobs = sorted(samples.items())[:MAX_LOG_SAMPLES]
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="status-logformat") as pool:
        found = list(pool.map(lambda job: read(job[0], *job[1]), jobs))
    return tuple(flags + [f for f in found if f])


# -- JSON ---------------------------------------------------------------------------------------


def facts_json(facts: ResourceFacts) -> dict[str, Any]:
    """The facts for ``status -o json``."""
    from kubectl_trace.health import to_json

    return {
        "metrics": {"available": not facts.metrics_note, "note": facts.metrics_note or None},
        "pods": [u.as_json() for u in facts.pods],
        "processes": to_json(facts.processes),
        "oom": to_json(facts.oom),
        "shutdowns": [{**to_json(s), "text": s.text, "bad": s.bad} for s in facts.shutdowns],
        "releaseShutdowns": [
            {
                **s.to_json(),
                "bad": s.killed > 0,
                "release": facts.recorded_release,
                "source": f"release v{facts.recorded_release}",
                "summary": s.status_text(facts.recorded_release or 0),
            }
            for s in facts.recorded
        ],
        "flags": list(facts.flags),
    }


# -- rendering ----------------------------------------------------------------------------------


def _maybe(value: float | None, fmt: Any) -> str:
    return "-" if value is None else str(fmt(value))


def _clean(text: str) -> str:
    return _CONTROL.sub("?", text)


def render_facts(facts: ResourceFacts, now: float | None = None) -> list[RenderableType]:
    """The resource and shutdown section of the screen."""
    from rich.table import Table
    from rich.text import Text

    from kubectl_trace.health._common import ago
    from kubectl_trace.health.quantity import format_cpu, format_memory

    out: list[RenderableType] = [Text("resource use (metrics.k8s.io)", style="bold")]
    if facts.metrics_note:
        out.append(Text(f"  {_clean(facts.metrics_note)}", style="dim"))
    elif not facts.pods:
        out.append(Text("  no figures yet for these pods", style="dim"))
    else:
        for group in facts.processes:
            out.append(Text(f"  {_clean(group.line())}"))
        table = Table(box=None, show_edge=False, pad_edge=False, header_style="bold")
        for column in ("POD", "PROCESS", "CPU", "REQUEST", "LIMIT", "MEMORY", "REQUEST", "LIMIT", "OF LIMIT"):
            table.add_column(
                column, no_wrap=True, justify="left" if column in ("POD", "PROCESS") else "right"
            )
        for usage in facts.pods:
            limit = usage.memory_limit
            share = f"{usage.memory / limit:.0%}" if limit else "-"
            near = limit is not None and usage.memory >= 0.9 * limit
            table.add_row(
                _clean(usage.pod),
                _clean(usage.process),
                format_cpu(usage.cpu_m),
                _maybe(usage.cpu_request_m, format_cpu),
                _maybe(usage.cpu_limit_m, format_cpu),
                format_memory(usage.memory),
                _maybe(usage.memory_request, format_memory),
                _maybe(limit, format_memory),
                Text(share, style="bold red" if near else ""),
            )
        out.append(table)
    for flag in facts.flags:
        line = Text("  ")
        line.append("⚠ ", style="yellow")
        line.append(_clean(flag))
        out.append(line)
    for advice in facts.oom:
        line = Text("  ")
        when = f" {ago(advice.finished_at, now)} ago" if now is not None and advice.finished_at else ""
        line.append(f"OOMKilled{when} ", style="bold red")
        line.append(f"{_clean(advice.pod)}/{_clean(advice.container)}: {_clean(advice.message)}")
        out.append(line)
        out.append(Text(f"    fix: {_clean(advice.fix)}", style="yellow"))
    out.extend(_render_shutdowns(facts))
    out.append(Text(""))
    return out


def _render_shutdowns(facts: ResourceFacts) -> list[RenderableType]:
    from rich.text import Text

    from kubectl_trace.health.shutdown import summarise_shutdowns

    rows = [
        (process, text, causes, any(s.bad for s in facts.shutdowns if (s.process or s.container) == process))
        for process, text, causes in summarise_shutdowns(facts.shutdowns)
    ]
    rows.extend(
        (s.process, s.status_text(facts.recorded_release or 0), s.causes, s.notable) for s in facts.recorded
    )
    if not rows:
        return []
    out: list[RenderableType] = [Text("")]
    out.append(Text("last shutdowns (Killing events, terminated states, grace periods)", style="bold"))
    for process, text, causes, bad in sorted(rows, key=lambda r: r[0]):
        line = Text(f"  {_clean(process)}: ")
        line.append(_clean(text), style="bold red" if bad else "green")
        out.append(line)
        for cause in causes:
            out.append(Text(f"    why: {_clean(cause)}", style="yellow"))
    return out
