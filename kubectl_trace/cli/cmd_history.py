"""``kubectl nodeapp history APP``: the releases of every process of an app."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass

from kubectl_trace.cli.environment import Environment
from kubectl_trace.cli.options import CommonOptions

DESCRIPTION = (
    "Per process Deployment of APP: each revision with its image tag, change cause (who deployed\n"
    "what, when) and age, the current one marked. Revisions and change causes are the ones\n"
    "`kubectl rollout history` shows; roll back to one with `kubectl nodeapp rollback APP\n"
    "--to-revision N`."
)
EXAMPLES = """\
  kubectl nodeapp history trace-api -n production
  kubectl nodeapp history trace-api -n production --process web
  kubectl nodeapp history trace-api -n staging -o json"""


@dataclass(frozen=True)
class HistoryOptions:
    """Options of ``history``."""

    common: CommonOptions
    app: str
    process: str | None
    output: str


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``history``."""
    parser.add_argument("app", metavar="APP", help="the app: its Deployments are APP-* or labelled app=APP")
    parser.add_argument("--process", metavar="P", help="only this process type (web, worker, clock)")
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text", help="output format")


def parse_options(args: argparse.Namespace, common: CommonOptions) -> HistoryOptions:
    """Validate the flags."""
    return HistoryOptions(common=common, app=args.app, process=args.process, output=args.output)


def run(options: HistoryOptions, env: Environment) -> int:
    """Read the Deployments and ReplicaSets, print the revisions."""
    from kubectl_trace.errors import NodeappError
    from kubectl_trace.health import rfc3339
    from kubectl_trace.release.app import infer_repository, load_app, process_name
    from kubectl_trace.release.flow import connect
    from kubectl_trace.release.history import history_rows
    from kubectl_trace.timeparse import format_age

    ctx = connect(options.common, env)
    app = load_app(ctx.kube, options.app, namespace=ctx.namespace, process=options.process, config=ctx.config)
    try:
        repository: str | None = infer_repository(app.name, app.deployments, ctx.config.image_repository)
    except NodeappError:
        repository = None
    replicasets = ctx.kube.list("replicasets", ctx.namespace).items
    now = ctx.now()
    sections = [
        (d, process_name(d, ctx.config), history_rows(d, replicasets, repository)) for d in app.deployments
    ]
    if options.output == "json":
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
                env.stdout.write(json.dumps(record) + "\n")
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
