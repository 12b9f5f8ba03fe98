"""``kubectl nodeapp info``: which cluster, context and namespace the commands use, and whether they can."""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass

from kubectl_trace.cli.options import CommonOptions, options_from
from kubectl_trace.environment import Environment

DESCRIPTION = (
    "Show the context, server, user and namespace that every nodeapp command resolves from your\n"
    "kubeconfig (exactly as kubectl does), then check that the API server answers, that the\n"
    "namespace exists and that you may list its pods and deployments."
)
EXAMPLES = """\
  kubectl nodeapp info
  kubectl nodeapp info -n production
  kubectl nodeapp info --context staging-cluster -o json
  KUBECONFIG=~/.kube/a:~/.kube/b kubectl nodeapp info"""


@dataclass(frozen=True)
class InfoOptions:
    """Options of ``info``."""

    common: CommonOptions
    output: str


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``info``."""
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text", help="output format")


def parse_options(args: argparse.Namespace, common: CommonOptions) -> InfoOptions:
    """Validate the flags."""
    return options_from(InfoOptions, args, common)


def run(options: InfoOptions, env: Environment) -> int:
    """Resolve the connection and probe it."""
    from kubectl_trace.cli.client import connected
    from kubectl_trace.kube.errors import ApiError

    with connected(options.common, env) as kube:
        conn = kube.conn
        started = time.monotonic()
        version = kube.server_version()
        latency_ms = (time.monotonic() - started) * 1000
        exists = kube.namespace_exists(conn.namespace)
        access: dict[str, bool | None] = {}
        for kind in ("pods", "deployments"):
            try:
                kube.list(kind, conn.namespace)
                access[kind] = True
            except ApiError as exc:
                if exc.status != 403:
                    raise
                access[kind] = False
    facts = {
        "context": conn.context,
        "cluster": conn.cluster,
        "user": conn.user,
        "server": conn.server,
        "kubeconfig": conn.source,
        "namespace": conn.namespace,
        "namespaceExists": exists,
        "serverVersion": version.get("gitVersion", ""),
        "latencyMs": round(latency_ms, 1),
        "canList": access,
    }
    if options.output == "json":
        env.stdout.write(json.dumps(facts) + "\n")
    else:
        ns_state = {True: "exists", False: "NOT FOUND", None: "cannot check (forbidden)"}[exists]
        rows = [
            ("context", f"{conn.context}  (from {conn.source})"),
            ("server", f"{conn.server}  {facts['serverVersion']}, answered in {latency_ms:.0f} ms"),
            ("user", conn.user or "-"),
            ("namespace", f"{conn.namespace}  ({ns_state})"),
        ]
        rows += [(f"list {k}", "yes" if ok else "NO (forbidden)") for k, ok in access.items()]
        width = max(len(k) for k, _ in rows) + 2
        env.stdout.write("".join(f"{k.ljust(width)}{v}\n" for k, v in rows))
    healthy = exists is not False and all(access.values())
    return 0 if healthy else 1
