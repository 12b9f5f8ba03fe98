"""The one flow every mutating release command follows.

plan (read, build each patch, show old → new) → ``--dry-run`` prints the exact patches and
stops → confirmation (production namespaces, ``promote``) → guarded apply of every
Deployment (all or nothing: a failure puts back what was changed) → follow the rollouts
with a live view → on failure explain why (and with ``--auto-rollback`` put every changed
Deployment back and follow that) and exit 1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kubectl_trace.errors import NodeappError
from kubectl_trace.release.apply import Applied, Step, apply_all, revert_all
from kubectl_trace.release.confirm import Decision, confirm, decide
from kubectl_trace.release.plans import Plan, Planned
from kubectl_trace.release.recording import user_name
from kubectl_trace.release.settings import ChangeSettings
from kubectl_trace.release.store import store_name

if TYPE_CHECKING:
    from kubectl_trace.environment import Environment
    from kubectl_trace.kube.calls import KubeClient
    from kubectl_trace.release.follow import Snapshot
    from kubectl_trace.release.recording import Recorder
    from kubectl_trace.release.shutdowns import ProcessShutdowns
    from kubectl_trace.userconfig import UserConfig

__all__ = [
    "Context",
    "execute",
    "follow",
    "process_summary",
    "recorder_for",
    "rfc3339_seconds",
    "user_name",
]


@dataclass
class Context:
    """What a release command runs with: the client, the I/O context, the user config."""

    kube: KubeClient
    env: Environment
    config: UserConfig
    connection_flags: str = ""  # " --context C --kubeconfig F" as given, for pasteable hints

    @property
    def namespace(self) -> str:
        """The namespace the command works in."""
        return self.kube.namespace

    @property
    def flags(self) -> str:
        """``-n NS`` and the connection flags the user gave: what makes a hint pasteable."""
        return f"-n {self.namespace}{self.connection_flags}"

    def out(self, text: str = "") -> None:
        """A line on stdout (cluster text in it shown safely: ``textsafe``)."""
        from kubectl_trace.textsafe import safe_text

        self.env.stdout.write(safe_text(text) + "\n")
        self.env.stdout.flush()

    def note(self, text: str) -> None:
        """A note on stderr (shown safely too)."""
        from kubectl_trace.textsafe import safe_text

        self.env.stderr.write(safe_text(text) + "\n")
        self.env.stderr.flush()

    def now(self) -> float:
        """The current time."""
        return self.env.clock()


def rfc3339_seconds(at: float) -> str:
    """``2026-03-01T12:00:00Z``."""
    return datetime.fromtimestamp(int(at), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _print_plan(
    ctx: Context, heading: str, planned: Sequence[Planned], unchanged: Sequence[tuple[str, str]]
) -> None:
    ctx.out(heading)
    width = max((len(n) for n in [*(p.name for p in planned), *(n for n, _ in unchanged)]), default=0)
    for p in planned:
        ctx.out(f"  {p.name.ljust(width)}  {p.patch.summary}")
    for name, why in unchanged:
        ctx.out(f"  {name.ljust(width)}  unchanged: {why}")


def follow(
    ctx: Context,
    tracked: Sequence[Any],
    *,
    since: float,
    title: str,
    timeout: float | None,
    linger: bool = False,
) -> Snapshot:
    """Follow rollouts with the live view (plain lines when stdout is not a terminal).

    ``linger``: once complete, follow on while the old pods stop (``Snapshot.stops``).
    """
    from kubectl_trace.release.follow import Follower
    from kubectl_trace.release.view import make_view

    view = make_view(ctx.env, title)
    try:
        follower = Follower(ctx.kube, ctx.namespace, tracked, since=since, clock=ctx.env.clock, linger=linger)
        return follower.run(view, timeout=timeout)
    except KeyboardInterrupt:
        view.close()
        ctx.note(
            "stopped following; the change is applied and keeps rolling out in the cluster "
            f"(watch it with: kubectl nodeapp rollout {ctx.flags})"
        )
        raise
    finally:
        view.close()


def _tracked(applied: Sequence[Applied | Mapping[str, Any]], labels: Mapping[str, str]) -> list[Any]:
    from kubectl_trace.release.follow import Tracked

    out = []
    for a in applied:
        obj = a.after if isinstance(a, Applied) else a
        meta = obj.get("metadata") or {}
        name = str(meta.get("name"))
        out.append(Tracked(name, int(meta.get("generation") or 0), labels.get(name, "")))
    return out


def _explain(ctx: Context, snap: Snapshot, timeout: float | None) -> list[str]:
    from kubectl_trace.release.explain import explain, failing_container, read_log_tail, timed_out_reason

    lines: list[str] = []
    failed = list(snap.failed)
    if not failed and snap.timed_out:
        failed = [i for i in snap.items if i.outcome != "complete"]
    shown_log = False  # one log tail is enough: the first failed process that has one
    for number, item in enumerate(failed):
        reason = "" if item.outcome == "failed" else timed_out_reason(item, timeout or 0)
        which = failing_container(item) if not shown_log and number < 3 else None
        log = read_log_tail(ctx.kube, ctx.namespace, *which) if which is not None else None
        if log is not None and not log.lines and number + 1 < min(len(failed), 3):
            log = None  # nothing logged (yet): try the next failed process
        shown_log = shown_log or log is not None
        lines.extend(explain(item, snap, log, snap.at, reason=reason, brief=number > 0 and log is None))
    return lines


def _failure_summary(snap: Snapshot, timeout: float | None) -> str:
    failed = snap.failed
    if failed:
        parts = []
        for item in failed:
            reason = (item.short or item.reason).rstrip(".")
            if len(reason) > 120:
                reason = reason[:119] + "…"
            parts.append(f"{item.name}: {reason}")
        return "; ".join(parts)
    pending = [i.name for i in snap.items if i.outcome != "complete"]
    return f"{', '.join(pending)} not rolled out after --timeout {timeout or 0:g}s"


def process_summary(snap: Snapshot) -> str:
    """One line for every followed Deployment.

    ``✓ trace-api-web  ✗ trace-api-clock: CrashLoopBackOff (exit 1)``
    """
    parts = []
    for item in snap.items:
        if item.outcome == "complete":
            parts.append(f"✓ {item.name}")
        elif item.outcome == "failed":
            parts.append(f"✗ {item.name}: {(item.short or item.reason).rstrip('.')}")
        else:
            parts.append(f"… {item.name}: not rolled out yet")
    return "  ".join(parts)


def _report_stops(ctx: Context, snap: Snapshot) -> tuple[ProcessShutdowns, ...]:
    """Print how the old pods stopped (one line per process) and return it for the release record."""
    from kubectl_trace.health.resources import pod_process
    from kubectl_trace.release.shutdowns import rollout_stops

    if snap.stops is None:
        return ()
    label, env = ctx.config.process_label, ctx.config.process_env
    stops = snap.stops
    summaries = rollout_stops(
        stops.pods, stops.events, stops.logs, ctx.now(), lambda p: pod_process(p, label, env)
    )
    for summary in summaries:
        ctx.out(summary.line())
    if snap.stops.interrupted:
        ctx.out("stopped waiting for the old pods (Ctrl-C); the release is done")
    return summaries


def _record(ctx: Context, recorder: Recorder | None, applied: Sequence[Applied]) -> None:
    from kubectl_trace.kube.errors import KubeError

    if recorder is None:
        return
    try:
        release = recorder.record({a.name: a.after for a in applied})
    except (KubeError, NodeappError) as exc:
        ctx.note(
            f"warning: the change is applied but its release could not be recorded: {exc}"
            f" (ConfigMap {store_name(recorder.app)})"
        )
        return
    ctx.out(f"release v{release.number} of {recorder.app}: {release.description}")


def _finish(
    ctx: Context, recorder: Recorder | None, outcome: str, shutdowns: Sequence[ProcessShutdowns] = ()
) -> None:
    from kubectl_trace.kube.errors import KubeError

    if recorder is None or recorder.release is None:
        return
    try:
        recorder.finish(outcome, shutdowns)
    except (KubeError, NodeappError) as exc:
        ctx.note(f"warning: could not record that release v{recorder.release.number} is {outcome}: {exc}")


def _rollback_hint(ctx: Context, recorder: Recorder | None, fallback: str) -> str:
    """A pasteable rollback command to the release the default rollback would choose."""
    from kubectl_trace.kube.errors import KubeError
    from kubectl_trace.release.records import default_target
    from kubectl_trace.release.store import ReleaseStore

    if recorder is None or recorder.release is None:
        return fallback
    try:
        ledger = ReleaseStore(ctx.kube, ctx.namespace, recorder.app).load()
        if ledger is None:
            return fallback
        target, why = default_target(ledger.releases, dict(recorder.release.processes))
    except (KubeError, NodeappError):
        return fallback
    return (
        f"roll back to v{target.number} ({why}; {target.description}) with: "
        f"kubectl nodeapp rollback {recorder.app} {ctx.flags} --to v{target.number}"
    )


def execute(
    ctx: Context,
    *,
    heading: str,
    verb: str,
    plan: Plan,
    settings: ChangeSettings,
    question: str,
    always_confirm: bool = False,
    rollback_hint: str = "",
    recorder: Recorder | None = None,
    notes: Sequence[str] = (),
    before_apply: Callable[[], None] | None = None,
) -> int:
    """Run the flow for a planned change; returns the exit status (raises on failure).

    ``recorder`` (``recording.Recorder``) records the release the change makes; ``notes``
    are printed under the plan (warnings the user should see before confirming);
    ``before_apply`` runs once confirmed, before the first patch (e.g. writing a Secret).
    """
    planned, unchanged = plan.planned, plan.unchanged
    _print_plan(ctx, heading, planned, unchanged)
    for line in notes:
        ctx.out(line)
    if not planned:
        ctx.out("nothing to change")
        return 0
    _refuse_paused(ctx, planned)
    if settings.dry_run:
        _print_dry_run(ctx, planned)
        return 0
    decision: Decision = decide(
        ctx.namespace,
        yes=settings.yes,
        dry_run=settings.dry_run,
        interactive=ctx.env.interactive,
        config=ctx.config,
        always=always_confirm,
    )
    confirm(decision, ctx.env, question)

    def conflict(name: str, count: int) -> None:
        ctx.note(
            f"note: {name} changed while it was being patched (conflict {count}); read it again and reapplied"
        )

    if before_apply is not None:
        before_apply()
    if recorder is not None:
        recorder.prepare()
    started = ctx.now()
    steps = [Step(ctx.namespace, p.name, p.build, p.deployment) for p in planned]
    outcome = apply_all(ctx.kube, steps, on_conflict=conflict)  # ChangeFailed says what was put back
    for a in outcome.applied:
        ctx.out(f"patched {a.name}: {a.patch.summary}")
    for name in outcome.unchanged:
        ctx.out(f"{name}: already as wanted (changed meanwhile by someone else); left alone")
    if not outcome.applied:
        return 0
    _record(ctx, recorder, outcome.applied)
    labels = {p.name: p.label for p in planned}
    if not settings.wait:
        ctx.out(
            f"not waiting for the rollout (--no-wait); follow it with: kubectl nodeapp rollout {ctx.flags}"
        )
        return 0
    snap = follow(
        ctx,
        _tracked(outcome.applied, labels),
        since=started,
        title=f"{verb} · {ctx.namespace}",
        timeout=settings.timeout,
        linger=True,
    )
    ctx.out(process_summary(snap))
    if snap.complete:
        _finish(ctx, recorder, "healthy", _report_stops(ctx, snap))
        ctx.out(f"✓ {verb}: every rollout complete in {snap.elapsed:.0f}s")
        return 0
    _finish(ctx, recorder, "failed" if snap.failed else "pending")
    ctx.out("")
    for line in _explain(ctx, snap, settings.timeout):
        ctx.out(line)
    summary = _failure_summary(snap, settings.timeout)
    if settings.auto_rollback:
        _auto_rollback(ctx, outcome.applied, verb, settings, recorder)
        raise NodeappError(f"{verb} failed: {summary}; rolled back (--auto-rollback)")
    raise NodeappError(f"{verb} failed: {summary}", hint=_rollback_hint(ctx, recorder, rollback_hint) or None)


def _refuse_paused(ctx: Context, planned: Sequence[Planned]) -> None:
    """A template change to a paused Deployment would not roll out: refuse before changing anything."""
    paused = [
        p.name for p in planned if (p.deployment.get("spec") or {}).get("paused") and _changes_template(p)
    ]
    if paused:
        raise NodeappError(
            f"deployment {', '.join(paused)} is paused: the change would not roll out; nothing was changed",
            hint=f"resume it first: kubectl rollout resume deployment/{paused[0]} {ctx.flags}",
        )


def _print_dry_run(ctx: Context, planned: Sequence[Planned]) -> None:
    """``--dry-run``: the patches that would be sent (credentials masked)."""
    ctx.out("")
    ctx.out(f"dry run: these {len(planned)} patch{'es' if len(planned) != 1 else ''} would be sent:")
    rendered = [p.patch.render() for p in planned]
    for text in rendered:
        ctx.out(text.rstrip("\n"))
    if any(text != p.patch.render(reveal=True) for text, p in zip(rendered, planned, strict=True)):
        from kubectl_trace.release.patches import MASKED

        ctx.out(f"dry run: values that look like credentials are shown as {MASKED}")
    ctx.out("dry run: nothing was changed")


def _changes_template(planned: Planned) -> bool:
    body = planned.patch.body
    if isinstance(body, list):
        return any(op.get("path", "").startswith("/spec/template") for op in body)
    return "template" in (body.get("spec") or {})


def _auto_rollback(
    ctx: Context,
    applied: Sequence[Applied],
    verb: str,
    settings: ChangeSettings,
    recorder: Recorder | None = None,
) -> None:
    from kubectl_trace.health.images import image_tag

    ctx.out("")
    plural = "s" if len(applied) != 1 else ""
    ctx.out(f"--auto-rollback: putting back the {len(applied)} Deployment{plural} {verb} changed")
    started = ctx.now()
    results = revert_all(ctx.kube, applied)
    back = []
    labels = {}
    for r, a in zip(results, applied, strict=True):
        if r.ok:
            before = sorted({image_tag(c.get("image", "")) or "?" for c in _containers(a.before)})
            ctx.out(f"rolled back {r.name} to {', '.join(before)}")
            labels[r.name] = "rollback → " + ", ".join(before)
            if r.after is not None:
                back.append(r.after)
        else:
            ctx.out(f"could NOT roll back {r.name}: {r.detail}")
    stuck = [r for r in results if not r.ok]
    if back and recorder is not None and recorder.release is not None:
        failed = recorder.release.number
        recorder.action, recorder.argument = "rollback", f"of v{failed} (--auto-rollback)"
        recorder.release = None
        _record(ctx, recorder, [])
    if back:
        snap = follow(ctx, _tracked(back, labels), since=started, title="rollback", timeout=settings.timeout)
        if snap.complete:
            _finish(ctx, recorder, "healthy")
            ctx.out("✓ rollback complete")
        else:
            _finish(ctx, recorder, "failed" if snap.failed else "pending")
            ctx.out(f"rollback not complete: {_failure_summary(snap, settings.timeout)}")
    if stuck:
        app = f" {recorder.app}" if recorder is not None else ""
        raise NodeappError(
            f"{verb} failed and {len(stuck)} Deployment(s) could not be rolled back: "
            + "; ".join(f"{r.name} ({r.detail})" for r in stuck),
            hint=f"check them with: kubectl nodeapp history{app} {ctx.flags}",
        )


def _containers(deployment: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    spec = ((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}
    return list(spec.get("containers") or [])


def recorder_for(ctx: Context, app: str, repository: str | None, action: str, argument: str) -> Recorder:
    """The recorder of the release a change of ``app`` makes (author: git user.email, else USER@host)."""
    from kubectl_trace.release.recording import Recorder, author_of

    return Recorder(
        ctx.kube,
        app,
        ctx.namespace,
        ctx.config,
        repository,
        action,
        argument,
        author_of(ctx.env.environ),
        ctx.now(),
    )
