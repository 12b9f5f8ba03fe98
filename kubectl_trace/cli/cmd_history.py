"""``kubectl nodeapp history APP`` (also ``releases``): the app's releases, or kubectl's revisions."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass

from kubectl_trace.cli.options import AppOptions, CommonOptions, add_app_argument, options_from, whole_number
from kubectl_trace.environment import Environment

DESCRIPTION = (
    "The releases of APP, newest first: one numbered release per deploy, env set/unset,\n"
    "rollback and promote (restart and scale make none), with what made it, the image tag of\n"
    "every process, who and when:\n"
    "  v12  deploy d4e5f6a  web,worker,clock=d4e5f6a  dev@example.com  3m ago  current\n"
    "The release running now is marked current; a release whose processes run different tags is\n"
    "flagged, and so is one whose rollout failed. When the live Deployments differ from the newest\n"
    "release (someone used kubectl), a drift line says how. Releases are stored in the cluster in\n"
    "the ConfigMap nodeapp-releases-APP of the namespace; releases from before (or made with plain\n"
    "kubectl) are reconstructed from the ReplicaSets and marked so.\n"
    "-o json prints one document: {app, namespace, recorded, store, current, drift: [{process,\n"
    "deployment, recordedTag, liveTag}], releases: [{release, action, argument, description,\n"
    "processes: {NAME: {deployment, tag, template}}, author, time, outcome, legacy, mixed,\n"
    "current}]}. --revisions shows each Deployment's revisions as `kubectl rollout history` does."
)
EXAMPLES = """\
  kubectl nodeapp history trace-api -n production
  kubectl nodeapp releases trace-api -n production -o json
  kubectl nodeapp history trace-api -n staging --revisions --process web"""


@dataclass(frozen=True)
class HistoryOptions(AppOptions):
    """Options of ``history``."""

    process: str | None
    output: str
    revisions: bool = False
    limit: int | None = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``history``."""
    add_app_argument(parser)
    parser.add_argument("--process", metavar="P", help="only this process type (web, worker, clock)")
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text", help="output format")
    parser.add_argument(
        "--revisions",
        action="store_true",
        help="each Deployment's revisions as `kubectl rollout history` shows them, not the app's releases",
    )
    parser.add_argument("--limit", metavar="N", help="show the newest N releases only")


def parse_options(args: argparse.Namespace, common: CommonOptions) -> HistoryOptions:
    """Validate the flags."""
    limit = whole_number(args.limit, low=1, error=f"--limit takes a positive number, not {args.limit!r}")
    return options_from(HistoryOptions, args, common, limit=limit)


def run(options: HistoryOptions, env: Environment) -> int:
    """Print the app's releases (or, with --revisions, each Deployment's revisions)."""
    if not options.revisions:
        return _releases(options, env)
    return _revisions(options, env)


def _releases(options: HistoryOptions, env: Environment) -> int:
    from kubectl_trace.cli.release_context import connect
    from kubectl_trace.release.app import known_repository, load_app, process_name
    from kubectl_trace.release.history_view import history_document, history_lines
    from kubectl_trace.release.recording import read_releases

    ctx = connect(options.common, env)
    app = load_app(ctx.kube, options.app, namespace=ctx.namespace, config=ctx.config)
    repository = known_repository(app, ctx.config.image_repository)
    data = read_releases(ctx.kube, app.name, ctx.namespace, app.deployments, ctx.config, repository)
    if options.output == "json":
        from kubectl_trace.textsafe import json_escape_controls

        env.stdout.write(json_escape_controls(json.dumps(history_document(data))) + "\n")
        return 0
    processes = None
    if options.process is not None:
        processes = {p for p, d in data.deployments.items() if process_name(d, ctx.config) == options.process}
        if not processes:
            from kubectl_trace.errors import UsageError

            have = ", ".join(sorted(data.deployments))
            raise UsageError(f'app "{app.name}" has no {options.process} process (it has: {have})')
    from kubectl_trace.textsafe import safe_text

    for line in history_lines(data, ctx.now(), limit=options.limit, processes=processes):
        env.stdout.write(safe_text(line) + "\n")  # change-causes and tags are cluster text
    return 0


def _revisions(options: HistoryOptions, env: Environment) -> int:
    from kubectl_trace.cli.release_context import connect
    from kubectl_trace.health import rfc3339
    from kubectl_trace.release.app import known_repository, load_app, process_name
    from kubectl_trace.release.history import history_rows
    from kubectl_trace.timeparse import format_age

    ctx = connect(options.common, env)
    app = load_app(ctx.kube, options.app, namespace=ctx.namespace, process=options.process, config=ctx.config)
    repository = known_repository(app, ctx.config.image_repository)
    replicasets = ctx.kube.list("replicasets", ctx.namespace).items
    now = ctx.now()
    sections = [
        (d, process_name(d, ctx.config), history_rows(d, replicasets, repository)) for d in app.deployments
    ]
    if options.output == "json":
        from kubectl_trace.textsafe import json_escape_controls

        for _, process, rows in sections:
            for r in rows:
                record = {
                    "namespace": ctx.namespace,
                    "deployment": r.deployment,
                    "process": process,
                    "revision": r.revision,
                    "replicaSet": r.replicaset,
                    "tags": list(r.tags),
                    "changeCause": r.change_cause or None,
                    "createdAt": rfc3339(r.created_at) if r.created_at is not None else None,
                    "current": r.current,
                }
                env.stdout.write(json_escape_controls(json.dumps(record)) + "\n")
        return 0
    from kubectl_trace.textsafe import safe_text, visible

    out = env.stdout
    for i, (d, process, rows) in enumerate(sections):
        if i:
            out.write("\n")
        out.write(f"{d['metadata']['name']} ({visible(process)})\n")
        if not rows:
            out.write("  no revisions recorded\n")
            continue
        table = [("", "REVISION", "TAG", "AGE", "CHANGE-CAUSE")]
        for r in rows:
            age = format_age(now - r.created_at) if r.created_at is not None else "?"
            table.append(
                (
                    "*" if r.current else "",
                    str(r.revision),
                    visible(",".join(r.tags)),
                    age,
                    safe_text(r.change_cause or "<none>"),
                )
            )
        widths = [max(len(row[c]) for row in table) for c in range(4)]
        for row in table:
            cells = [row[c].ljust(widths[c]) for c in range(4)] + [row[4]]
            out.write(("  " + "  ".join(cells)).rstrip() + "\n")
    if any(rows for _, _, rows in sections):
        out.write("\n* current revision\n")
    return 0
