"""``kubectl nodeapp demo``: a private sandbox playing a release story.

The story: production runs ``trace-api 3f9c2a1``; a good release rolls out; a bad one
(``badc0de``, whose ``/healthz`` answers 503) stalls on readiness until the progress
deadline; it is rolled back. On a terminal the cluster is shown live; without one the
same story is narrated as text lines. The sandbox is always stopped, Ctrl-C included.
"""

from __future__ import annotations

import argparse
import copy
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubectl_trace.cli.environment import Environment
from kubectl_trace.cli.options import CommonOptions
from kubectl_trace.errors import NodeappError, UsageError

__all__ = ["DESCRIPTION", "EXAMPLES", "DemoOptions", "add_arguments", "parse_options", "run"]

DESCRIPTION = """\
Start a private sandbox cluster and play a short release story in it: a good release of
trace-api rolls out to production, a bad one (its /healthz answers 503) stalls on readiness
until the progress deadline, and it is rolled back. On a terminal you watch the cluster
live; without one the story is told as text. The sandbox is stopped at the end (and on
Ctrl-C); nothing outside it is touched."""

EXAMPLES = """\
  kubectl nodeapp demo
  kubectl nodeapp demo --time-scale 0.2
  kubectl nodeapp demo --good-tag 5e6f7a8 | tee demo.txt"""

IMAGE = "registry.sandbox.local/trace/trace-api"
APP_DEPLOYMENTS = ("trace-api-web", "trace-api-worker", "trace-api-clock")
NAMESPACE = "production"
BAD_TAG = "badc0de"


@dataclass(frozen=True)
class DemoOptions:
    """Options of ``demo``."""

    common: CommonOptions
    time_scale: float
    good_tag: str
    live: bool | None  # None: live when stdout is a terminal


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``demo``."""
    parser.add_argument(
        "--time-scale",
        type=float,
        default=0.1,
        metavar="X",
        help="simulated delays last X times as long (default 0.1: ten times faster than real)",
    )
    parser.add_argument(
        "--good-tag", default="d4e5f6a", metavar="TAG", help="the tag of the good release (default d4e5f6a)"
    )
    live = parser.add_mutually_exclusive_group()
    live.add_argument("--live", dest="live", action="store_true", default=None, help="always render live")
    live.add_argument("--text", dest="live", action="store_false", help="always narrate as text lines")


def parse_options(args: argparse.Namespace, common: CommonOptions) -> DemoOptions:
    """Validate the flags."""
    import re

    if not 0.01 <= args.time_scale <= 1.0:
        raise UsageError(f"--time-scale must be between 0.01 and 1 (got {args.time_scale:g})")
    if not re.fullmatch(r"[0-9a-f]{7}", args.good_tag) or args.good_tag == BAD_TAG:
        raise UsageError(
            f"--good-tag must be a 7-character git short hash other than {BAD_TAG} (got {args.good_tag!r})"
        )
    return DemoOptions(common=common, time_scale=args.time_scale, good_tag=args.good_tag, live=args.live)


# -- what the story looks at ------------------------------------------------------------------


@dataclass
class DeploymentView:
    """One Deployment as the story shows it."""

    name: str
    tag: str
    revision: str
    desired: int
    updated: int
    ready: int
    available: int
    state: str  # Complete, Progressing, Stalled, Paused


@dataclass
class PodView:
    """One pod as the story shows it."""

    name: str
    tag: str
    phase: str
    ready: bool
    restarts: int
    reason: str
    terminating: bool


@dataclass
class Snapshot:
    """The namespace at one moment."""

    deployments: list[DeploymentView] = field(default_factory=list)
    pods: list[PodView] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def _tag(image: str) -> str:
    return image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else "latest"


def deployment_state(d: dict[str, Any]) -> str:
    """Complete, Progressing, Stalled or Paused, as ``kubectl rollout status`` would judge it."""
    if (d.get("spec") or {}).get("paused"):
        return "Paused"
    status = d.get("status") or {}
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Progressing" and cond.get("reason") == "ProgressDeadlineExceeded":
            return "Stalled"
    want = int((d.get("spec") or {}).get("replicas", 1))
    done = (
        int(status.get("observedGeneration") or 0) >= int(d["metadata"].get("generation") or 1)
        and int(status.get("updatedReplicas") or 0) == want
        and int(status.get("replicas") or 0) == want
        and int(status.get("availableReplicas") or 0) == want
    )
    return "Complete" if done else "Progressing"


def snapshot(kube: Any) -> Snapshot:
    """Read the namespace (deployments of the app, their pods, recent events)."""
    shot = Snapshot()
    for d in kube.list("deployments", NAMESPACE).items:
        if d["metadata"]["name"] not in APP_DEPLOYMENTS:
            continue
        status = d.get("status") or {}
        shot.deployments.append(
            DeploymentView(
                name=d["metadata"]["name"],
                tag=_tag(d["spec"]["template"]["spec"]["containers"][0]["image"]),
                revision=(d["metadata"].get("annotations") or {}).get(
                    "deployment.kubernetes.io/revision", "?"
                ),
                desired=int(d["spec"].get("replicas", 1)),
                updated=int(status.get("updatedReplicas") or 0),
                ready=int(status.get("readyReplicas") or 0),
                available=int(status.get("availableReplicas") or 0),
                state=deployment_state(d),
            )
        )
    for p in kube.list("pods", NAMESPACE, label_selector="app=trace-api").items:
        statuses = (p.get("status") or {}).get("containerStatuses") or []
        cs = statuses[0] if statuses else {}
        state = cs.get("state") or {}
        reason = (
            (state.get("waiting") or {}).get("reason") or (state.get("terminated") or {}).get("reason") or ""
        )
        shot.pods.append(
            PodView(
                name=p["metadata"]["name"],
                tag=_tag(p["spec"]["containers"][0]["image"]),
                phase=(p.get("status") or {}).get("phase", "Pending"),
                ready=bool(cs.get("ready")),
                restarts=int(cs.get("restartCount") or 0),
                reason=reason,
                terminating=bool(p["metadata"].get("deletionTimestamp")),
            )
        )
    events = kube.list("events", NAMESPACE).items
    events.sort(key=lambda e: (e.get("lastTimestamp") or "", e["metadata"].get("resourceVersion", "")))
    shot.events = events[-200:]
    return shot


# -- telling it ------------------------------------------------------------------------------


class Narrator:
    """Text lines: the story without a terminal."""

    def __init__(self, env: Environment) -> None:
        self.env = env
        self.started = time.monotonic()
        self._seen_events: dict[str, int] = {}
        self._states: dict[str, str] = {}
        self._initial = True  # the first snapshot is the starting point, not news

    def line(self, text: str) -> None:
        self.env.stdout.write(text + "\n")
        self.env.stdout.flush()

    def at(self, text: str) -> None:
        self.line(f"  +{time.monotonic() - self.started:5.1f}s  {text}")

    def step(self, text: str) -> None:
        self.line("")
        self.line(text)

    def show(self, shot: Snapshot) -> None:
        """Narrate what changed since the last snapshot."""
        for event in shot.events:
            key = event["metadata"]["name"]
            count = int(event.get("count") or 1)
            before = self._seen_events.get(key)
            self._seen_events[key] = count
            if before is not None and (event.get("reason") != "Unhealthy" or before >= 3 or count == before):
                continue
            if before is None and self._initial:
                continue
            reason = event.get("reason", "")
            if reason not in ("ScalingReplicaSet", "Unhealthy", "Killing", "BackOff", "Failed"):
                continue
            who = event["involvedObject"].get("name", "")
            times = f" (x{count})" if count > 1 else ""
            self.at(f"{who:<34} {reason}: {event.get('message', '')}{times}")
        for d in shot.deployments:
            old = self._states.get(d.name)
            label = f"{d.state}:{d.tag}"
            if old != label and not self._initial:
                ready = f"{d.ready}/{d.desired} ready, {d.updated} updated"
                if d.state == "Complete":
                    self.at(f"{d.name:<34} rolled out: {ready} on {d.tag} (revision {d.revision})")
                elif d.state == "Stalled":
                    self.at(
                        f"{d.name:<34} STALLED (ProgressDeadlineExceeded): {ready}; old pods keep serving"
                    )
            self._states[d.name] = label
        self._initial = False

    def close(self) -> None:
        """Nothing to tear down."""


class LiveView(Narrator):
    """A live rich rendering of the cluster (the rollout dashboard will replace it)."""

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        from rich.live import Live

        self.console = env.console()
        self.title = "starting"
        self.notes: list[str] = []
        self.shot = Snapshot()
        self.live = Live(
            console=self.console, get_renderable=self._render, refresh_per_second=8, transient=False
        )
        self.live.start()

    def line(self, text: str) -> None:
        if text:
            self.notes.append(text)
            self.notes = self.notes[-6:]
        self.live.refresh()

    def at(self, text: str) -> None:
        self.line(f"+{time.monotonic() - self.started:5.1f}s  {text}")

    def step(self, text: str) -> None:
        self.title = text
        self.line(text)

    def show(self, shot: Snapshot) -> None:
        self.shot = shot
        self.live.refresh()

    def _render(self) -> Any:
        from rich.console import Group
        from rich.panel import Panel
        from rich.table import Table
        from rich.text import Text

        styles = {"Complete": "green", "Progressing": "yellow", "Stalled": "bold red", "Paused": "cyan"}
        deployments = Table(expand=True, box=None)
        for column in ("DEPLOYMENT", "TAG", "REV", "UPDATED", "READY", "AVAILABLE", "STATE"):
            deployments.add_column(column)
        for d in self.shot.deployments:
            deployments.add_row(
                d.name,
                d.tag,
                d.revision,
                f"{d.updated}/{d.desired}",
                f"{d.ready}/{d.desired}",
                str(d.available),
                Text(d.state, style=styles.get(d.state, "")),
            )
        pods = Table(expand=True, box=None)
        for column in ("POD", "TAG", "PHASE", "READY", "RESTARTS", "REASON"):
            pods.add_column(column)
        for p in sorted(self.shot.pods, key=lambda p: p.name):
            pods.add_row(
                Text(p.name, style="dim" if p.terminating else ""),
                p.tag,
                "Terminating" if p.terminating else p.phase,
                Text("✓", style="green") if p.ready else Text("✗", style="red"),
                str(p.restarts),
                Text(p.reason, style="red" if p.reason in ("CrashLoopBackOff", "ImagePullBackOff") else ""),
            )
        events = Table(expand=True, box=None, show_header=False)
        events.add_column("event", overflow="ellipsis", no_wrap=True)
        for event in self.shot.events[-8:]:
            warn = event.get("type") == "Warning"
            who = event["involvedObject"].get("name", "")
            count = int(event.get("count") or 1)
            text = f"{'⚠ ' if warn else '  '}{event.get('reason', '')}  {who}: {event.get('message', '')}"
            events.add_row(Text(text + (f" (x{count})" if count > 1 else ""), style="yellow" if warn else ""))
        story = Text("\n".join(self.notes))
        return Group(
            Panel(story, title=f"nodeapp demo · {self.title}", border_style="blue"),
            Panel(deployments, title=f"Deployments · namespace {NAMESPACE}"),
            Panel(pods, title="Pods · app=trace-api"),
            Panel(events, title="Recent events"),
        )

    def close(self) -> None:
        """Stop rendering, leaving the last frame on screen."""
        self.live.stop()


# -- the story --------------------------------------------------------------------------------


class Story:
    """The three acts, against a sandbox reachable through ``kube``."""

    def __init__(self, kube: Any, teller: Narrator, time_scale: float, good_tag: str) -> None:
        self.kube = kube
        self.teller = teller
        self.time_scale = time_scale
        self.good_tag = good_tag

    def _follow(self, done: Callable[[Snapshot], bool], timeout: float) -> Snapshot:
        deadline = time.monotonic() + timeout
        while True:
            shot = snapshot(self.kube)
            self.teller.show(shot)
            if done(shot):
                return shot
            if time.monotonic() > deadline:
                raise NodeappError(f"the demo story got stuck (no progress within {timeout:.0f}s)")
            time.sleep(0.25)

    def _deploy(self, tag: str) -> None:
        """What ``kubectl nodeapp deploy trace-api --tag TAG`` does: one image, three processes."""
        for name in APP_DEPLOYMENTS:
            process = name.rsplit("-", 1)[-1]
            patch = {
                "metadata": {"annotations": {"kubernetes.io/change-cause": f"deploy trace-api {tag}"}},
                "spec": {
                    "template": {"spec": {"containers": [{"name": process, "image": f"{IMAGE}:{tag}"}]}}
                },
            }
            self.kube.patch("deployments", name, patch, NAMESPACE)

    def _rollback(self) -> None:
        """``kubectl rollout undo`` for each process: the previous revision's template."""
        for name in APP_DEPLOYMENTS:
            d = self.kube.get("deployments", name, NAMESPACE)
            current = int(
                (d["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", "0")
            )
            selector = ",".join(f"{k}={v}" for k, v in d["spec"]["selector"]["matchLabels"].items())
            candidates = []
            for rs in self.kube.list("replicasets", NAMESPACE, label_selector=selector).items:
                owners = [r.get("uid") for r in rs["metadata"].get("ownerReferences") or []]
                revision = int(
                    (rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", "0")
                )
                if d["metadata"]["uid"] in owners and revision < current:
                    candidates.append((revision, rs))
            if not candidates:
                continue
            _, previous = max(candidates, key=lambda item: item[0])
            template = copy.deepcopy(previous["spec"]["template"])
            template["metadata"]["labels"].pop("pod-template-hash", None)
            annotations = dict(d["metadata"].get("annotations") or {})
            cause = (previous["metadata"].get("annotations") or {}).get("kubernetes.io/change-cause")
            if cause:
                annotations["kubernetes.io/change-cause"] = cause
            ops = [
                {"op": "replace", "path": "/spec/template", "value": template},
                {"op": "replace", "path": "/metadata/annotations", "value": annotations},
            ]
            self.kube.patch("deployments", name, ops, NAMESPACE, patch_type="json")

    def play(self) -> None:
        """Run the three acts."""
        speed = 1 / self.time_scale
        deadline = 120 * self.time_scale
        initial = self._follow(lambda s: all(d.state == "Complete" for d in s.deployments), 60)
        tags = {d.tag for d in initial.deployments}
        self.teller.line(f"production runs trace-api {', '.join(sorted(tags))} ({len(initial.pods)} pods)")

        self.teller.step(f"1/3  deploy trace-api {self.good_tag} to production (a good release)")
        self._deploy(self.good_tag)
        self._follow(
            lambda s: all(d.state == "Complete" and d.tag == self.good_tag for d in s.deployments), 60
        )

        self.teller.step(
            f"2/3  deploy trace-api {BAD_TAG} (its /healthz answers 503): the rollout stalls on readiness; "
            f"progress deadline 120s ({deadline:.0f}s at {speed:g}x)"
        )
        self._deploy(BAD_TAG)
        self._follow(lambda s: any(d.state == "Stalled" for d in s.deployments), 40 + 2 * deadline)

        self.teller.step("3/3  roll back trace-api to the previous revision")
        self._rollback()
        self._follow(
            lambda s: all(d.state == "Complete" and d.tag == self.good_tag for d in s.deployments), 60
        )
        self.teller.line(
            f"production runs trace-api {self.good_tag} again; no bad web or worker pod ever became ready"
        )


def run(options: DemoOptions, env: Environment) -> int:
    """Start the sandbox, play the story, always stop the sandbox."""
    from kubectl_trace.kube.client import connect
    from kubectl_trace.kube.settings import KubeSettings
    from kubectl_trace.sandbox.interfaces import SandboxOptions
    from kubectl_trace.sandbox.process import start_sandbox

    live = env.stdout_isatty if options.live is None else options.live
    teller: Narrator = LiveView(env) if live else Narrator(env)
    directory = tempfile.mkdtemp(prefix="nodeapp-demo-")
    handle = None
    started = time.monotonic()
    try:
        speed = 1 / options.time_scale
        teller.line(f"nodeapp demo: starting a private sandbox (simulated time runs {speed:g}x faster)…")
        handle = start_sandbox(
            os.path.join(directory, "kubeconfig"),
            SandboxOptions(time_scale=options.time_scale, fixture="demo", log_rate=1.0),
            exit_with_parent=os.getpid(),
            timeout=60,
        )
        teller.line(f"sandbox ready at {handle.server} (context nodeapp-sandbox, namespace {NAMESPACE})")
        kube = connect(KubeSettings(kubeconfig=handle.kubeconfig, namespace=NAMESPACE))
        try:
            Story(kube, teller, options.time_scale, options.good_tag).play()
        finally:
            kube.close()
        teller.line(f"done in {time.monotonic() - started:.1f}s; stopping the sandbox")
    finally:
        teller.close()
        if handle is not None:
            handle.stop()
        shutil.rmtree(directory, ignore_errors=True)
    return 0
