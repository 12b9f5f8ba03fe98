"""``kubectl nodeapp status``: is it healthy, and if not, why — in one screen.

Four list requests (deployments, replica sets, pods, events) feed the pure health module;
then, only where they help, the previous instance's last log lines of a crash-looping
container, and with ``--probe`` each HTTP probe run now through the API server's pod proxy
plus ``node --version`` through exec. Exit status 1 when anything is unhealthy.

The parts: ``status.report`` (the report as data, built purely from the objects, and its
JSON), ``status.checks`` (the checks that need the API), ``status.render`` (rich output)
and ``status.all`` (``-A``: every namespace in one table). This module holds the flags,
the gathering and the command.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from kubectl_trace.cli.options import CommonOptions, PodQuery, add_pod_query_arguments, options_from
from kubectl_trace.environment import Environment
from kubectl_trace.errors import NodeappError, UsageError
from kubectl_trace.status.report import StatusReport, build_report, report_json

if TYPE_CHECKING:
    from kubectl_trace.kube.calls import KubeClient
    from kubectl_trace.kube.targets import Target

DESCRIPTION = (
    "Is it healthy, and if not, why: per Deployment the rollout state (progressing, complete,\n"
    "stalled, paused); per pod readiness and liveness from conditions, container states and\n"
    "Unhealthy events (last failure, how often, since when), restarts with the last exit,\n"
    "image-pull and scheduling problems, the last log lines of a crash-looping container's\n"
    "previous instance, and findings of Node.js-on-Kubernetes practice; CPU and memory against\n"
    "requests and limits (metrics.k8s.io), what to change after an OOMKill, and how the last\n"
    "shutdowns went (graceful, or killed after the grace period, and why). --probe runs each HTTP\n"
    "probe now through the API server, asks each container for its Node.js version and flags\n"
    "processes on mixed versions or not logging JSON.\n"
    "Exit status 1 when anything is unhealthy (for CI), 0 otherwise."
)
EXAMPLES = """\
  kubectl nodeapp status trace-api -n production
  kubectl nodeapp status deploy/trace-api-web --probe
  kubectl nodeapp status -A
  kubectl nodeapp status -n staging && kubectl nodeapp promote trace-api --from staging --to production"""


@dataclass(frozen=True)
class StatusOptions:
    """Options of ``status``."""

    common: CommonOptions
    query: PodQuery
    probe: bool
    output: str
    all_namespaces: bool = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``status``."""
    parser.add_argument(
        "--probe",
        action="store_true",
        help="run each container's HTTP probes now (through the API server) and ask for its Node.js version",
    )
    parser.add_argument("-o", "--output", choices=("pretty", "json"), default="pretty", help="output format")
    add_pod_query_arguments(parser)
    parser.add_argument(
        "-A",
        "--all-namespaces",
        action="store_true",
        help="one row per Deployment of every namespace (no TARGET); exit 1 when any is unhealthy",
    )


def parse_options(args: argparse.Namespace, common: CommonOptions) -> StatusOptions:
    """Validate the flags."""
    query = PodQuery.from_args(args)
    if args.all_namespaces and (query.given or args.probe):
        raise UsageError(
            "-A sums up every namespace and takes no TARGET, --process, -l or --probe",
            hint="for one namespace in full: kubectl nodeapp status -n NAMESPACE",
        )
    return options_from(StatusOptions, args, common, query=query)


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
    kube: KubeClient, target: Target, namespace: str, now: float
) -> tuple[StatusReport, list[dict[str, Any]]]:
    """List what the report needs and build it; also return the pods listed.

    The namespace's PodMetrics are asked for on a thread of their own meanwhile.
    """
    from concurrent.futures import ThreadPoolExecutor

    from kubectl_trace.status.resources import build_facts, start_metrics, with_recorded
    from kubectl_trace.userconfig import load_user_config

    config = load_user_config()
    # Every question at once (the lean client keeps a connection per thread): the time to the
    # report is the slowest answer, not the sum of eight.
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="status") as pool:
        metrics = start_metrics(pool, kube, namespace, target.label_selector)
        batch = pool.submit(_batch, kube, target, namespace)
        release = pool.submit(_release, kube, target, namespace)
        lists = [
            pool.submit(lambda kind, sel: kube.list(kind, namespace, label_selector=sel).items, kind, sel)
            for kind, sel in (
                ("deployments", None),
                ("replicasets", None),
                ("pods", target.label_selector),
                ("events", None),
            )
        ]
        deployments, replicasets, pods, events = (f.result() for f in lists)
        answer = metrics.result()
        jobs, cronjobs = batch.result()
        current = release.result()
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
    selected = target.select(pods)
    facts = build_facts(
        selected,
        events,
        answer,
        now,
        process_label=config.process_label,
        process_env=config.process_env,
    )
    if current is not None:  # how the old pods of the last release's rollout stopped, as recorded
        facts = with_recorded(facts, current[2])
    return replace(report, jobs=jobs, cronjobs=cronjobs, resources=facts, release=current), pods


def _batch(kube: KubeClient, target: Target, namespace: str) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The target's recent Jobs and its CronJobs (none where batch/v1 cannot be read)."""
    from kubectl_trace.kube.errors import ApiError
    from kubectl_trace.run.summary import cronjob_summaries, job_summaries, template_pod

    try:
        jobs = kube.list("jobs", namespace).items
        cronjobs = kube.list("cronjobs", namespace).items
    except ApiError as exc:
        if exc.status in (403, 404):
            return (), ()
        raise
    mine = [j for j in jobs if target.matches(template_pod(j))]
    crons = [c for c in cronjobs if target.matches(template_pod(c))]
    return tuple(job_summaries(mine)), tuple(cronjob_summaries(crons))


# -- the command ------------------------------------------------------------------------------


def run(options: StatusOptions, env: Environment) -> int:
    """Gather, explain, and exit 1 when anything is unhealthy."""
    from kubectl_trace.cli.client import connected
    from kubectl_trace.status.checks import crash_candidates, fetch_previous_logs, probe_now
    from kubectl_trace.status.render import print_renderables, render_report
    from kubectl_trace.status.resources import process_flags, read_shutdown_logs

    if options.all_namespaces:
        return _run_all(options, env)
    with connected(options.common, env) as kube:
        namespace, target = options.query.resolve(kube)
        now = env.clock()
        report, pods = gather(kube, target, namespace, now)
        if not report.deployments and not report.other_pods:
            raise NodeappError(
                f"nothing to check: no deployment or pod for {target.description} in namespace {namespace}",
                hint=f"list what is there with: kubectl get deploy,pods -n {namespace}",
            )
        if crash_candidates(report):
            report = replace(report, previous_logs=fetch_previous_logs(kube, report))
        if report.resources is not None:
            report = replace(report, resources=read_shutdown_logs(kube, namespace, report.resources))
        if options.probe:
            probes, versions = probe_now(lambda: kube, report, pods)
            report = replace(report, probes=probes, node_versions=versions)
            if report.resources is not None:
                flags = process_flags(kube, namespace, target.select(pods), versions)
                report = replace(report, resources=replace(report.resources, flags=flags))
        release = report.release
    if options.output == "json":
        document = report_json(report)
        if release is not None:
            document["release"] = release[0]
        env.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        width = env.width or (None if env.stdout_isatty else 160)
        console = env.console(width=width)
        print_renderables(console, env.stdout, render_report(report, console.width))
        from kubectl_trace.textsafe import safe_text

        for line in release[1] if release is not None else ():
            env.stdout.write(safe_text(line) + "\n")  # tags and drift are cluster text
    return 0 if report.healthy else 1


def _release(kube: KubeClient, target: Target, namespace: str) -> Any:
    """The app's current release and drift (``release.recording.release_status``), for an app target."""
    if target.kind != "app" or not target.app:
        return None
    from kubectl_trace.release.recording import release_status
    from kubectl_trace.userconfig import load_user_config

    return release_status(kube, target.app, namespace, target.deployments, load_user_config())


def _run_all(options: StatusOptions, env: Environment) -> int:
    """``status -A``: the summary of every namespace."""
    from kubectl_trace.cli.client import connected
    from kubectl_trace.status.all import all_json, gather_all, render_all
    from kubectl_trace.status.render import print_renderables

    with connected(options.common, env) as kube:
        reports = gather_all(kube, env.clock())
        context = kube.conn.context
    if options.output == "json":
        env.stdout.write(json.dumps(all_json(reports, context), indent=2) + "\n")
    else:
        width = env.width or (None if env.stdout_isatty else 160)
        print_renderables(env.console(width=width), env.stdout, render_all(reports, context))
    return 0 if all(r.healthy for r in reports) else 1
