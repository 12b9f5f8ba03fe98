"""``kubectl nodeapp env APP [list | set K=V … | set K --from-secret NAME[:KEY] | unset K …]``."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubectl_trace.cli.options import AppOptions, CommonOptions, add_app_argument, options_from
from kubectl_trace.environment import Environment
from kubectl_trace.release.settings import ChangeSettings, add_change_arguments, change_settings

DESCRIPTION = (
    "Config vars of an app, like `heroku config`. `list` (the default) shows every variable of\n"
    "the app's containers: Secret-backed values and literals that look like credentials (names\n"
    "like *_KEY, *_SECRET, *_TOKEN, *PASSWORD*, or known token shapes) masked — --reveal reads\n"
    "the Secrets and shows every value. `set` and `unset` patch every process Deployment (or the\n"
    "one --process names), make a new release of the app (keys recorded, never values) and follow\n"
    "the rolling restart. `set --secret K=V` stores V in the Secret APP-env (created if needed)\n"
    "and references it; a credential-looking literal gets a warning saying so. `set` never turns\n"
    "a Secret or ConfigMap reference into a literal unless --force."
)
# Words may come on both sides of flags (env APP -n NS set K=V): the runner parses intermixed.
INTERMIXED_ARGS = True
EXAMPLES = """\
  kubectl nodeapp env trace-api -n staging
  kubectl nodeapp env trace-api set LOG_LEVEL=debug FEATURE_X=on -n staging
  kubectl nodeapp env trace-api set --secret STRIPE_SECRET_KEY=sk_live_… -n production
  kubectl nodeapp env trace-api set DATABASE_URL --from-secret trace-api-db:url -n staging
  kubectl nodeapp env trace-api unset LOG_LEVEL --process worker -n staging"""

if TYPE_CHECKING:
    from kubectl_trace.release.app import App
    from kubectl_trace.release.flow import Context
    from kubectl_trace.release.plans import ContainersOf

_ACTIONS = ("list", "set", "unset")


@dataclass(frozen=True)
class EnvOptions(AppOptions):
    """Options of ``env``."""

    action: str
    items: tuple[str, ...]
    from_secret: str | None
    process: str | None
    reveal: bool
    output: str
    change: ChangeSettings
    secret: bool = False
    force: bool = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``env``."""
    add_app_argument(parser)
    parser.add_argument(
        "words", nargs="*", metavar="ACTION [ARGS]", help="list (default) | set K=V … | set K | unset K …"
    )
    parser.add_argument(
        "--from-secret", metavar="NAME[:KEY]", help="set K from this Secret key (KEY defaults to K)"
    )
    parser.add_argument("--process", metavar="P", help="only this process type (web, worker, clock)")
    parser.add_argument("--reveal", action="store_true", help="list: show every value (reads the Secrets)")
    parser.add_argument(
        "--secret", action="store_true", help="set: store the values in the Secret APP-env and reference them"
    )
    parser.add_argument(
        "--force", action="store_true", help="set: replace a Secret or ConfigMap reference with a literal"
    )
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
    if (args.secret or args.force) and action != "set":
        raise UsageError(f"{'--secret' if args.secret else '--force'} goes with set")
    if args.secret and args.from_secret:
        raise UsageError("--secret stores new values; --from-secret references an existing Secret: pick one")
    return options_from(
        EnvOptions, args, common, action=action, items=tuple(words), change=change_settings(args)
    )


def run(options: EnvOptions, env: Environment) -> int:
    """List, or plan and apply a change."""
    from kubectl_trace.cli.release_context import connect
    from kubectl_trace.release.app import app_containers, container_images, known_repository, load_app

    ctx = connect(options.common, env)
    app = load_app(ctx.kube, options.app, namespace=ctx.namespace, process=options.process, config=ctx.config)
    repository = known_repository(app, ctx.config.image_repository)

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
        from kubectl_trace.textsafe import json_escape_controls

        for v in variables:
            ctx.env.stdout.write(json_escape_controls(json.dumps(v.to_json())) + "\n")
        return 0
    if not options.reveal:
        variables = [_mask_credential(v) for v in variables]
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
        ctx.out("secret and credential-looking values are masked; show them with --reveal")
    return 0


def _mask_credential(v: Any) -> Any:
    from dataclasses import replace

    from kubectl_trace.release.envvars import MASK, credential_reason

    if v.source == "value" and not v.masked and credential_reason(v.name, v.shown):
        return replace(v, shown=MASK, masked=True)
    return v


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
    notes: list[str] = []
    before_apply = None
    if options.action == "set":
        assignments = parse_assignments(options.items, options.from_secret)
        for a in assignments:
            if a.secret is not None:
                _check_secret(ctx, a.secret, a.key or a.name)
        if options.secret:
            assignments, before_apply = _into_secret(ctx, app.name, assignments)
            notes.append(f"  the values go into secret {app.name}-env once confirmed (never shown)")
        else:
            _guard_literals(ctx, app, containers_of, assignments, options)
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
    from kubectl_trace.release.app import known_repository
    from kubectl_trace.release.flow import recorder_for

    keys = ", ".join(a.name for a in assignments) if options.action == "set" else what
    repository = known_repository(app, ctx.config.image_repository)
    return execute(
        ctx,
        heading=heading,
        verb=f"env {options.action}",
        plan=plan,
        settings=options.change,
        question=f"Change config vars of {len(plan.planned)} Deployment(s) of {app.name} in {ctx.namespace} "
        "(the pods restart)?",
        rollback_hint=f"undo with: kubectl nodeapp rollback {app.name} {ctx.flags}",
        recorder=recorder_for(ctx, app.name, repository, f"env {options.action}", keys),
        notes=notes,
        before_apply=before_apply,
    )


def _guard_literals(
    ctx: Context, app: App, containers_of: ContainersOf, assignments: list[Any], options: EnvOptions
) -> None:
    """Refuse to replace a reference with a literal (unless --force); warn about credentials."""
    from kubectl_trace.errors import NodeappError
    from kubectl_trace.release.envvars import credential_reason, replaced_references

    replaced = replaced_references(app.deployments, containers_of, assignments)
    if replaced and not options.force:
        raise NodeappError(
            "env set would replace a reference with a literal value: "
            + "; ".join(replaced)
            + "; nothing was changed",
            hint="change the value where it lives (the Secret or ConfigMap), or add --force to replace "
            "the reference",
        )
    for a in assignments:
        why = credential_reason(a.name, a.value)
        if why:
            ctx.note(
                f"warning: {a.name} looks like a credential ({why}): as a literal it is readable by anyone "
                "who can read the Deployment and it shows in kubectl describe. Keep it in a Secret: "
                f"kubectl nodeapp env {app.name} set --secret {a.name}=… {ctx.flags}"
            )


def _into_secret(ctx: Context, app: str, assignments: list[Any]) -> tuple[list[Any], Any]:
    """``--secret``: the values go into Secret APP-env (written once confirmed); the env references it."""
    import base64

    from kubectl_trace.kube.errors import ApiError
    from kubectl_trace.release.patches import EnvAssignment

    secret = f"{app}-env"
    refs = [EnvAssignment(a.name, secret=secret, key=a.name) for a in assignments]
    data = {a.name: base64.b64encode((a.value or "").encode()).decode() for a in assignments}

    def write() -> None:
        try:
            ctx.kube.get("secrets", secret, ctx.namespace)
        except ApiError as exc:
            if exc.status != 404:
                raise
            body = {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "Opaque",
                "metadata": {
                    "name": secret,
                    "namespace": ctx.namespace,
                    "labels": {ctx.config.app_label: app, "app.kubernetes.io/managed-by": "kubectl-nodeapp"},
                },
                "data": data,
            }
            ctx.kube.create("secrets", body, ctx.namespace)
        else:
            ctx.kube.patch("secrets", secret, {"data": data}, ctx.namespace, patch_type="merge")
        ctx.out(f"stored {', '.join(data)} in secret {secret}")

    return refs, write
