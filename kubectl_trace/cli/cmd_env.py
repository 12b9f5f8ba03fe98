"""``kubectl nodeapp env APP [list | set K=V … | set K --from-secret NAME[:KEY] | unset K …]``."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubectl_trace.cli.environment import Environment
from kubectl_trace.cli.options import CommonOptions
from kubectl_trace.release.settings import ChangeSettings, add_change_arguments, change_settings

DESCRIPTION = (
    "Config vars of an app, like `heroku config`. `list` (the default) shows every variable of\n"
    "the app's containers: literal values as they are, Secret-backed ones masked with their\n"
    "reference (--reveal reads the Secrets and shows the values). `set` and `unset` patch every\n"
    "process Deployment (or the one --process names) and follow the rolling restart they cause."
)
# Words may come on both sides of flags (env APP -n NS set K=V): the runner parses intermixed.
INTERMIXED_ARGS = True
EXAMPLES = """\
  kubectl nodeapp env trace-api -n staging
  kubectl nodeapp env trace-api set LOG_LEVEL=debug FEATURE_X=on -n staging
  kubectl nodeapp env trace-api set DATABASE_URL --from-secret trace-api-db:url -n staging
  kubectl nodeapp env trace-api unset LOG_LEVEL --process worker -n staging"""

if TYPE_CHECKING:
    from kubectl_trace.release.app import App
    from kubectl_trace.release.flow import Context
    from kubectl_trace.release.plans import ContainersOf

_ACTIONS = ("list", "set", "unset")


@dataclass(frozen=True)
class EnvOptions:
    """Options of ``env``."""

    common: CommonOptions
    app: str
    action: str
    items: tuple[str, ...]
    from_secret: str | None
    process: str | None
    reveal: bool
    output: str
    change: ChangeSettings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``env``."""
    parser.add_argument("app", metavar="APP", help="the app: its Deployments are APP-* or labelled app=APP")
    parser.add_argument(
        "words", nargs="*", metavar="ACTION [ARGS]", help="list (default) | set K=V … | set K | unset K …"
    )
    parser.add_argument(
        "--from-secret", metavar="NAME[:KEY]", help="set K from this Secret key (KEY defaults to K)"
    )
    parser.add_argument("--process", metavar="P", help="only this process type (web, worker, clock)")
    parser.add_argument("--reveal", action="store_true", help="list: read the Secrets and show their values")
    parser.add_argument(
        "-o", "--output", choices=("text", "json"), default="text", help="list: output format"
    )
    add_change_arguments(parser)


def parse_options(args: argparse.Namespace, common: CommonOptions) -> EnvOptions:
    """Validate the action and its arguments."""
    from kubectl_trace.errors import UsageError
    from kubectl_trace.release.envvars import parse_assignments, parse_names

    words = list(args.words)
    action = words.pop(0) if words else "list"
    if action not in _ACTIONS:
        raise UsageError(f'unknown env action "{action}" (use: list, set, unset)')
    if action == "list":
        if words:
            raise UsageError("env list takes no arguments")
        if args.from_secret:
            raise UsageError("--from-secret goes with set")
    elif action == "set":
        parse_assignments(words, args.from_secret)
    else:
        if args.from_secret:
            raise UsageError("--from-secret goes with set")
        parse_names(words)
    if args.reveal and action != "list":
        raise UsageError("--reveal goes with list")
    return EnvOptions(
        common=common,
        app=args.app,
        action=action,
        items=tuple(words),
        from_secret=args.from_secret,
        process=args.process,
        reveal=bool(args.reveal),
        output=args.output,
        change=change_settings(args),
    )


def run(options: EnvOptions, env: Environment) -> int:
    """List, or plan and apply a change."""
    from kubectl_trace.errors import NodeappError
    from kubectl_trace.release.app import app_containers, container_images, infer_repository, load_app
    from kubectl_trace.release.flow import connect

    ctx = connect(options.common, env)
    app = load_app(ctx.kube, options.app, namespace=ctx.namespace, process=options.process, config=ctx.config)
    try:
        repository: str | None = infer_repository(app.name, app.deployments, ctx.config.image_repository)
    except NodeappError:
        repository = None

    def containers_of(d: Any) -> list[str]:
        if repository:
            mine = [c for c, _ in app_containers(d, repository)]
            if mine:
                return mine
        return [c for c, _, _ in container_images(d)]

    if options.action == "list":
        return _list(ctx, app, containers_of, options)
    return _change(ctx, app, containers_of, options)


def _list(ctx: Context, app: App, containers_of: ContainersOf, options: EnvOptions) -> int:
    from kubectl_trace.kube.errors import ApiError
    from kubectl_trace.release.app import process_name
    from kubectl_trace.release.envvars import env_vars, group_rows, secret_refs

    containers = {name: containers_of(d) for name, d in app.by_name().items()}

    def read(kind: str, names: set[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name in sorted(names):
            try:
                found[name] = ctx.kube.get(kind, name, ctx.namespace).get("data") or {}
            except ApiError as exc:
                if exc.status == 403 and kind == "configmaps":
                    continue  # shown as a reference only
                if exc.status != 404:
                    raise
                found[name] = None
        return found

    configmaps = read("configmaps", secret_refs(app.deployments, containers, "configmap"))
    secrets = read("secrets", secret_refs(app.deployments, containers)) if options.reveal else None
    processes = [process_name(d, ctx.config) for d in app.deployments]
    variables = [
        v
        for d, process in zip(app.deployments, processes, strict=True)
        for v in env_vars(d, process, containers[str(d["metadata"]["name"])], secrets, configmaps)
    ]
    if options.output == "json":
        for v in variables:
            ctx.env.stdout.write(json.dumps(v.to_json()) + "\n")
        return 0
    rows = group_rows(variables, processes)
    ctx.out(f"=== {app.name} config vars in {ctx.namespace} ({', '.join(processes)})")
    if not rows:
        ctx.out("(none)")
        return 0
    width = max(len(r.name) for r in rows)
    value_width = min(60, max(len(r.shown) for r in rows))
    for r in rows:
        where = f"[{', '.join(r.processes)}]" if r.processes else ""
        ref = f"({r.reference})" if r.reference else ""
        tail = "  ".join(x for x in (ref, where) if x)
        ctx.out(f"{r.name.ljust(width)}  {r.shown.ljust(value_width)}  {tail}".rstrip())
    if any(r.masked for r in rows):
        ctx.out("secret values are masked; show them with --reveal")
    return 0


def _check_secret(ctx: Context, secret: str, key: str) -> None:
    from kubectl_trace.errors import NodeappError
    from kubectl_trace.kube.errors import ApiError

    try:
        obj = ctx.kube.get("secrets", secret, ctx.namespace)
    except ApiError as exc:
        if exc.status == 404:
            raise NodeappError(
                f'secret "{secret}" not found in namespace "{ctx.namespace}"',
                hint=f"create it: kubectl create secret generic {secret} -n {ctx.namespace} "
                f"--from-literal={key}=…",
            ) from None
        if exc.status == 403:
            ctx.note(
                f"note: cannot read secret {secret} to check it has key {key} (forbidden); setting it anyway"
            )
            return
        raise
    keys = sorted((obj.get("data") or {}).keys()) + sorted((obj.get("stringData") or {}).keys())
    if key not in keys:
        raise NodeappError(
            f'secret "{secret}" has no key "{key}" (it has: {", ".join(keys) or "none"})',
            hint="name the key: --from-secret NAME:KEY",
        )


def _change(ctx: Context, app: App, containers_of: ContainersOf, options: EnvOptions) -> int:
    from kubectl_trace.release.envvars import parse_assignments, parse_names
    from kubectl_trace.release.flow import execute, rfc3339_seconds, user_name
    from kubectl_trace.release.patches import change_cause
    from kubectl_trace.release.plans import plan_env_set, plan_env_unset

    at = rfc3339_seconds(ctx.now())
    user = user_name(ctx.env.environ)
    scope = f" ({options.process})" if options.process else ""
    if options.action == "set":
        assignments = parse_assignments(options.items, options.from_secret)
        for a in assignments:
            if a.secret is not None:
                _check_secret(ctx, a.secret, a.key or a.name)
        what = ", ".join(a.describe() for a in assignments)
        cause = change_cause(f"env set {what}", user, at)
        plan = plan_env_set(app.deployments, containers_of, assignments, cause)
        heading = f"set {what} on app {app.name}{scope} in namespace {ctx.namespace}:"
    else:
        names = parse_names(options.items)
        what = ", ".join(names)
        cause = change_cause(f"env unset {what}", user, at)
        plan = plan_env_unset(app.deployments, containers_of, names, cause)
        heading = f"unset {what} on app {app.name}{scope} in namespace {ctx.namespace}:"
    return execute(
        ctx,
        heading=heading,
        verb=f"env {options.action}",
        plan=plan,
        settings=options.change,
        question=f"Change config vars of {len(plan.planned)} Deployment(s) of {app.name} in {ctx.namespace} "
        "(the pods restart)?",
        rollback_hint=f"undo with: kubectl nodeapp rollback {app.name} -n {ctx.namespace}",
    )
