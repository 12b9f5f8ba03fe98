"""The ``status`` checks that need the API: a crash's last lines, probes now, ``node --version``.

``fetch_previous_logs`` reads the previous instance's log of crash-looping containers;
``probe_now`` runs each container's HTTP probes through the API server's pod proxy and
``node --version`` through exec, a few pods at a time.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubectl_trace.health import PodHealth
    from kubectl_trace.kube.calls import KubeClient

from kubectl_trace.status.report import NodeVersion, PreviousLog, ProbeCheck, StatusReport

PREVIOUS_LINES = 12  # log lines shown of a crash-looping container's previous instance
PREVIOUS_TAIL = 100  # …picked from this many last lines (a Node.js crash prints ~25)
MAX_PREVIOUS_LOGS = 6
MAX_PROBED_PODS = 50
_PROBE_WORKERS = 8
_EXCERPT = 120


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


def crash_candidates(report: StatusReport) -> list[tuple[PodHealth, str]]:
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
    kube: KubeClient, report: StatusReport, lines: int = PREVIOUS_TAIL
) -> tuple[PreviousLog, ...]:
    """The crash lines of the previous instance of each crash-looping container (one pod each).

    ``kube``: a ``Kube`` or ``LiteKube`` (both have ``get_raw``).
    """
    from kubectl_trace.kube.errors import KubeError
    from kubectl_trace.kube.resources import lookup

    out = []
    for pod, container in crash_candidates(report):
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
    kube: KubeClient,
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


def run_node_version(kube: KubeClient, namespace: str, pod: str, container: str) -> NodeVersion:
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
