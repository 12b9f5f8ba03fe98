"""``kubectl nodeapp demo``: a private sandbox playing a release story with the product itself.

The story: production runs ``trace-api 3f9c2a1``; ``deploy`` rolls out a good release;
``deploy`` of ``badc0de`` (its ``/healthz`` answers 503) stalls on readiness until the
progress deadline and explains why; ``rollback`` puts the good release back. Every act is
the product's own command. On a terminal the rollout dashboard shows it live (and stays
open to explore afterwards); without one the commands' own output tells the story. The
sandbox is always stopped, Ctrl-C included.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from kubectl_trace.cli.options import CommonOptions, options_from
from kubectl_trace.environment import Environment
from kubectl_trace.errors import NodeappError, UsageError

if TYPE_CHECKING:
    from kubectl_trace.kube.calls import KubeClient

__all__ = ["DESCRIPTION", "EXAMPLES", "DemoOptions", "add_arguments", "parse_options", "run"]

DESCRIPTION = """\
Start a private sandbox cluster and play a short release story in it with nodeapp's own
commands: `deploy` rolls out a good release of trace-api to production, `deploy` of a bad
one (its /healthz answers 503) stalls on readiness until the progress deadline and explains
why, and `rollback` puts the good release back. On a terminal you watch it in the rollout
dashboard (stay and explore, q quits); without one the commands' output tells the story.
The sandbox is stopped at the end (and on Ctrl-C); nothing outside it is touched."""

EXAMPLES = """\
  kubectl nodeapp demo
  kubectl nodeapp demo --time-scale 0.2
  kubectl nodeapp demo --good-tag 5e6f7a8 | tee demo.txt"""

APP = "trace-api"
APP_DEPLOYMENTS = ("trace-api-web", "trace-api-worker", "trace-api-clock")
NAMESPACE = "production"
BAD_TAG = "badc0de"


@dataclass(frozen=True)
class DemoOptions:
    """Options of ``demo``."""

    common: CommonOptions
    time_scale: float
    good_tag: str
    live: bool | None  # None: live when stdin and stdout are a terminal
    containers: str = "auto"


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
    parser.add_argument(
        "--containers",
        choices=("auto", "node", "simulated"),
        default="auto",
        help="the sandbox's containers: real Node.js processes, simulated ones, or auto (node when found)",
    )
    live = parser.add_mutually_exclusive_group()
    live.add_argument(
        "--live", dest="live", action="store_true", default=None, help="always show the dashboard"
    )
    live.add_argument("--text", dest="live", action="store_false", help="always tell the story as text")


def parse_options(args: argparse.Namespace, common: CommonOptions) -> DemoOptions:
    """Validate the flags."""
    import re

    if not 0.01 <= args.time_scale <= 1.0:
        raise UsageError(f"--time-scale must be between 0.01 and 1 (got {args.time_scale:g})")
    if not re.fullmatch(r"[0-9a-f]{7}", args.good_tag) or args.good_tag == BAD_TAG:
        raise UsageError(
            f"--good-tag must be a 7-character git short hash other than {BAD_TAG} (got {args.good_tag!r})"
        )
    return options_from(DemoOptions, args, common)


class Story:
    """The three acts, played with nodeapp's own commands against one sandbox."""

    def __init__(self, kube: KubeClient, kubeconfig: str, options: DemoOptions, env: Environment) -> None:
        self.kube = kube
        self.kubeconfig = kubeconfig
        self.options = options
        self.env = env

    # -- looking at the cluster -----------------------------------------------------------

    def states(self) -> dict[str, Any]:
        """Each app Deployment's rollout (``kubectl_trace.health``), by name."""
        from kubectl_trace.health import deployment_rollout

        now = time.time()
        replicasets = self.kube.list("replicasets", NAMESPACE).items
        return {
            d["metadata"]["name"]: deployment_rollout(d, replicasets, now)
            for d in self.kube.list("deployments", NAMESPACE).items
            if d["metadata"]["name"] in APP_DEPLOYMENTS
        }

    def wait_until(self, done: Callable[[dict[str, Any]], bool], timeout: float, what: str) -> None:
        """Poll the rollouts until ``done`` (or fail saying what did not happen)."""
        deadline = time.monotonic() + timeout
        while not done(self.states()):
            if time.monotonic() > deadline:
                raise NodeappError(f"the demo story got stuck: {what} did not happen within {timeout:.0f}s")
            time.sleep(0.25)

    def all_on(self, tag: str) -> Callable[[dict[str, Any]], bool]:
        """Every app Deployment rolled out on ``tag``."""
        return lambda s: (
            len(s) == len(APP_DEPLOYMENTS)
            and all(r.state == "complete" and r.tags == (tag,) for r in s.values())
        )

    # -- acting -------------------------------------------------------------------------------

    def command(self, argv: Sequence[str], env: Environment) -> int:
        """Run ``kubectl nodeapp ARGV… -n production --kubeconfig SANDBOX`` in process."""
        from kubectl_trace.cli.runner import run as run_command

        return run_command([*argv, "-n", NAMESPACE, "--kubeconfig", self.kubeconfig], env)

    def acts(self) -> list[tuple[str, list[str], int, Callable[[dict[str, Any]], bool], str]]:
        """(title, command, exit status it should have, what marks its end, what that is)."""
        good = self.options.good_tag
        deadline = 120 * self.options.time_scale
        return [
            (
                f"1/3  deploy {APP} {good} to production (a good release)",
                ["deploy", APP, "--tag", good, "--yes"],
                0,
                self.all_on(good),
                f"the rollout of {good}",
            ),
            (
                f"2/3  deploy {APP} {BAD_TAG} (its /healthz answers 503): the rollout stalls on readiness "
                f"until the progress deadline (120s, {deadline:.0f}s here) and nodeapp explains why",
                ["deploy", APP, "--tag", BAD_TAG, "--yes"],
                1,
                lambda s: any(r.state == "stalled" for r in s.values()),
                f"the stall of {BAD_TAG}",
            ),
            (
                f"3/3  roll {APP} back to the previous release",
                ["rollback", APP, "--yes"],
                0,
                self.all_on(good),
                f"the rollback to {good}",
            ),
        ]

    def play_text(self) -> None:
        """Without a terminal: each command's own output, with its stderr in line."""
        out = replace(self.env, stderr=self.env.stdout, stdin_isatty=False, stdout_isatty=False)
        self.wait_until(self.all_on("3f9c2a1"), 60, "the start of production")
        self.line(f"production runs {APP} 3f9c2a1: web ×3, worker ×2, clock ×1")
        for title, argv, expected, _, what in self.acts():
            self.line("")
            self.line(title)
            self.line(f"$ kubectl nodeapp {' '.join(argv)} -n {NAMESPACE}")
            code = self.command(argv, out)
            if code != expected:
                raise NodeappError(f"the demo story went wrong: {what} ended with exit status {code}")
        self.line("")
        self.line(f"production runs {APP} {self.options.good_tag} again; the bad pods never took traffic")

    def play_live(self, handle: Any) -> None:
        """On the dashboard: the same acts (``--no-wait``), narrated in its footer."""
        errors = io.StringIO()
        quiet = Environment(io.StringIO(), io.StringIO(), errors, False, False, False, self.env.environ)
        try:
            handle.select("trace-api-web")
            handle.narrate("production runs trace-api 3f9c2a1 — the story starts in a moment")
            self.wait_until(self.all_on("3f9c2a1"), 60, "the start of production")
            time.sleep(2)
            for title, argv, _, done, what in self.acts():
                handle.narrate(f"{title.split(':')[0]}   $ kubectl nodeapp {' '.join(argv)}")
                if self.command([*argv, "--no-wait"], quiet) != 0:
                    raise NodeappError(f"{' '.join(argv)} failed: {errors.getvalue().strip()}")
                self.wait_until(done, 60 + 240 * self.options.time_scale, what)
                time.sleep(3)
            handle.narrate(
                "the story is over — explore: ↑↓ select, l logs, s shell, u rollback, ? help; "
                "q quits and stops the sandbox"
            )
        except Exception as exc:  # shown, not raised: the dashboard thread has no caller
            handle.narrate(f"the demo story stopped: {exc} — q quits")

    def line(self, text: str) -> None:
        """One line of the story."""
        self.env.stdout.write(text + "\n")
        self.env.stdout.flush()


def run(options: DemoOptions, env: Environment) -> int:
    """Start the sandbox, play the story, always stop the sandbox."""
    from kubectl_trace.kube.client import connect
    from kubectl_trace.kube.settings import KubeSettings
    from kubectl_trace.sandbox.interfaces import SandboxOptions
    from kubectl_trace.sandbox.process import start_sandbox

    live = env.interactive if options.live is None else options.live
    directory = tempfile.mkdtemp(prefix="nodeapp-demo-")
    handle = None
    started = time.monotonic()
    say = env.stderr if live else env.stdout
    try:
        speed = 1 / options.time_scale
        say.write(f"nodeapp demo: starting a private sandbox (simulated time runs {speed:g}x faster)…\n")
        say.flush()
        handle = start_sandbox(
            os.path.join(directory, "kubeconfig"),
            SandboxOptions(
                time_scale=options.time_scale, fixture="demo", log_rate=1.0, containers=options.containers
            ),
            exit_with_parent=os.getpid(),
            timeout=60,
        )
        kube = connect(KubeSettings(kubeconfig=handle.kubeconfig, namespace=NAMESPACE))
        story = Story(kube, handle.kubeconfig, options, env)
        try:
            if live:
                from kubectl_trace.dashboard import run_dashboard

                run_dashboard(
                    kube,
                    NAMESPACE,
                    deployment="trace-api-web",
                    env=env,
                    global_args=["--kubeconfig", handle.kubeconfig],
                    on_ready=story.play_live,
                )
            else:
                say.write(
                    f"sandbox ready at {handle.server} (context nodeapp-sandbox, namespace {NAMESPACE})\n"
                )
                story.play_text()
        finally:
            kube.close()
        say.write(f"done in {time.monotonic() - started:.1f}s; stopping the sandbox\n")
        say.flush()
    finally:
        if handle is not None:
            handle.stop()
        shutil.rmtree(directory, ignore_errors=True)
    return 0
