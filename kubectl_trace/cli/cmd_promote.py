"""``kubectl nodeapp promote APP --from staging --to production``: the source's release, as a new one."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubectl_trace.cli.options import AppOptions, CommonOptions, add_app_argument, options_from
from kubectl_trace.environment import Environment
from kubectl_trace.release.settings import ChangeSettings, add_change_arguments, change_settings

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kubectl_trace.release.flow import Context
    from kubectl_trace.release.plans import Plan

DESCRIPTION = (
    "The current release of APP in the --from namespace becomes one new release in the --to\n"
    "namespace: every process gets the image tag its counterpart (same process) runs there —\n"
    "code piping from staging to production. Refuses a source whose processes run different\n"
    "tags, or that is not healthy (unless --force). Config differences are shown and not copied\n"
    "unless --with-config (then each process takes the source's env and envFrom); a change of\n"
    "the Node.js version the images carry is warned about. Shows old → new per process, always\n"
    "asks for confirmation on a terminal (--yes otherwise), then follows the rollouts like deploy."
)
EXAMPLES = """\
  kubectl nodeapp promote trace-api --from staging --to production
  kubectl nodeapp promote trace-api --from staging --to production --yes --auto-rollback
  kubectl nodeapp promote trace-api --from staging --to production --with-config
  kubectl nodeapp promote trace-api --from staging --to production --dry-run"""


@dataclass(frozen=True)
class PromoteOptions(AppOptions):
    """Options of ``promote``."""

    source: str
    target: str
    force: bool
    change: ChangeSettings
    with_config: bool = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``promote``."""
    add_app_argument(parser)
    parser.add_argument(
        "--from", dest="source", metavar="NS", required=True, help="the namespace to copy from"
    )
    parser.add_argument("--to", dest="target", metavar="NS", required=True, help="the namespace to change")
    parser.add_argument(
        "--force", action="store_true", help="promote even when the source is not healthy or runs mixed tags"
    )
    parser.add_argument(
        "--with-config", action="store_true", help="also copy each process's env and envFrom from the source"
    )
    add_change_arguments(parser, auto_rollback=True)


def parse_options(args: argparse.Namespace, common: CommonOptions) -> PromoteOptions:
    """Validate the flags."""
    from kubectl_trace.errors import UsageError

    if args.source == args.target:
        raise UsageError(f"--from and --to are the same namespace ({args.source})")
    return options_from(PromoteOptions, args, common, change=change_settings(args))


def run(options: PromoteOptions, env: Environment) -> int:
    """Check the source, plan, confirm, apply, record, follow."""
    from dataclasses import replace

    from kubectl_trace.cli.release_context import connect
    from kubectl_trace.errors import NodeappError
    from kubectl_trace.release.app import infer_repository, load_app, process_name
    from kubectl_trace.release.flow import execute, recorder_for, rfc3339_seconds, user_name
    from kubectl_trace.release.gate import source_problems
    from kubectl_trace.release.patches import change_cause
    from kubectl_trace.release.plans import plan_promote
    from kubectl_trace.release.promote_diff import config_differences
    from kubectl_trace.release.recording import read_releases
    from kubectl_trace.release.records import is_mixed, tags_summary

    common = replace(options.common, kube=replace(options.common.kube, namespace=options.target))
    ctx = connect(common, env)
    source = load_app(ctx.kube, options.app, namespace=options.source, config=ctx.config)
    target = load_app(ctx.kube, options.app, namespace=options.target, config=ctx.config)
    repository = infer_repository(target.name, target.deployments, ctx.config.image_repository)
    origin = read_releases(ctx.kube, source.name, options.source, source.deployments, ctx.config, repository)
    current = origin.current
    where = f"{options.source} v{current.number}" if current is not None else f"{options.source} (unrecorded)"
    live = origin.live
    if len({s.tag for s in live.values()}) > 1 or (current is not None and is_mixed(current)):
        mix = tags_summary(live)
        if not options.force:
            raise NodeappError(
                f"{options.source} runs different tags on its processes ({mix}): promoting it would put "
                "a mix in production; nothing was changed",
                hint=f"deploy one tag to {options.source} first (kubectl nodeapp deploy {options.app} "
                f"-n {options.source} --tag TAG), or promote the mix anyway with --force",
            )
        ctx.note(f"warning: promoting {options.source}'s mixed tags ({mix}) because of --force")
    problems = source_problems(ctx.kube, source, ctx.now())
    if problems:
        listing = "; ".join(problems)
        if not options.force:
            raise NodeappError(
                f"{options.source} is not healthy, so it is not promoted: {listing}",
                hint=f"look with: kubectl nodeapp status {options.app} "
                f"-n {options.source}{ctx.connection_flags}; "
                "promote anyway with --force",
            )
        ctx.note(f"warning: promoting although {options.source} is not healthy (--force): {listing}")
    at = rfc3339_seconds(ctx.now())
    user = user_name(env.environ)

    def process_of(d: object) -> str:
        return process_name(d, ctx.config)  # type: ignore[arg-type]

    differences = config_differences(
        source.deployments, target.deployments, process_of, options.source, options.target
    )
    notes = _notes(ctx, options, source.deployments, target.deployments, differences)
    if options.with_config:
        plan = _plan_with_config(ctx, options, source.deployments, target.deployments, repository, at, user)
    else:
        plan = plan_promote(
            source.deployments,
            target.deployments,
            repository,
            lambda tag: change_cause(f"promote {tag} from {options.source}", user, at),
            process_of,
        )
    return execute(
        ctx,
        heading=f"promote app {target.name}: {where} → {options.target}:",
        verb=f"promote {options.source} → {options.target}",
        plan=plan,
        settings=options.change,
        question=f"Promote {len(plan.planned)} Deployment(s) of {target.name} from {options.source} "
        f"to {options.target}?",
        always_confirm=True,
        rollback_hint=f"roll back with: kubectl nodeapp rollback {target.name} {ctx.flags}",
        recorder=recorder_for(ctx, target.name, repository, "promote", f"from {where}"),
        notes=notes,
    )


def _notes(
    ctx: Context,
    options: PromoteOptions,
    source: Sequence[Any],
    target: Sequence[Any],
    differences: Sequence[str],
) -> list[str]:
    from kubectl_trace.release.promote_diff import node_change

    notes = []
    if differences:
        how = "copied (--with-config)" if options.with_config else "NOT copied (--with-config copies them)"
        notes.append(f"config differences, {how}:")
        notes.extend(f"  {line}" for line in differences)
    change = node_change(
        _node_version(ctx, options.source, source), _node_version(ctx, options.target, target)
    )
    if change:
        notes.append(f"warning: {change}: check the app runs on it")
    return notes


def _node_version(ctx: Context, namespace: str, deployments: Sequence[Any]) -> str | None:
    """``node --version`` in one running pod of the app's first process (None when it cannot be asked)."""
    from kubectl_trace.kube.errors import KubeError
    from kubectl_trace.kube.selectors import match_label_selector_object
    from kubectl_trace.status.checks import run_node_version

    try:
        pods = ctx.kube.list("pods", namespace).items
    except KubeError:
        return None
    for d in deployments:
        selector = (d.get("spec") or {}).get("selector")
        for pod in pods:
            labels = (pod.get("metadata") or {}).get("labels") or {}
            status = pod.get("status") or {}
            if status.get("phase") != "Running" or not match_label_selector_object(selector, labels):
                continue
            statuses = status.get("containerStatuses") or []
            running = [c for c in statuses if (c.get("state") or {}).get("running")]
            if not running:
                continue
            found = run_node_version(ctx.kube, namespace, pod["metadata"]["name"], str(running[0]["name"]))
            return found.version or None
    return None


def _plan_with_config(
    ctx: Context,
    options: PromoteOptions,
    source: Sequence[Any],
    target: Sequence[Any],
    repository: str,
    at: str,
    user: str,
) -> Plan:
    from kubectl_trace.health.images import image_ref
    from kubectl_trace.release.app import process_name
    from kubectl_trace.release.patches import change_cause
    from kubectl_trace.release.plans import ReleaseTarget, app_tag, plan_release
    from kubectl_trace.release.promote_diff import config_template
    from kubectl_trace.release.records import process_tag, template_digest
    from kubectl_trace.release.tags import with_tag

    by_process = {process_name(d, ctx.config): d for d in source}
    targets = []
    for d in target:
        src = by_process.get(process_name(d, ctx.config))
        if src is None:
            continue
        tag = app_tag(src, repository)
        template = config_template(d, src)
        for c in (template.get("spec") or {}).get("containers") or []:
            if c.get("image") and image_ref(str(c["image"])).repository == repository:
                c["image"] = with_tag(str(c["image"]), tag)
        targets.append(
            ReleaseTarget(
                process_name(d, ctx.config),
                d,
                template,
                template_digest(template),
                process_tag(d, repository),
                tag,
                "with the source's config",
            )
        )
    cause = change_cause(f"promote from {options.source} with config", user, at)
    return plan_release(targets, cause)
