"""``kubectl nodeapp sandbox``: run a local Kubernetes API sandbox (for demos and tests)."""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubectl_trace.cli.options import CommonOptions, options_from
from kubectl_trace.environment import Environment
from kubectl_trace.errors import NodeappError, UsageError

if TYPE_CHECKING:
    from kubectl_trace.sandbox.interfaces import SandboxOptions
    from kubectl_trace.sandbox.process import SandboxHandle

__all__ = ["DESCRIPTION", "EXAMPLES", "SandboxCommand", "add_arguments", "parse_options", "run"]

DESCRIPTION = """\
Run a local Kubernetes API sandbox: an HTTPS server on 127.0.0.1 that the real kubectl and
this plugin talk to, with a simulated cluster inside (deployments, pods, logs, exec).

actions:
  up                       start it in the background; prints `export KUBECONFIG=FILE`
  down                     stop it and remove its state and the kubeconfig it wrote
  status                   uptime, objects, open streams, request counts, active faults
  image mark TAG --fault F mark an image tag: unready, crash, missing, slow-start, leak, ignore-sigterm
  image unmark TAG         back to a healthy image
  image list               the marked tags
  fault drop-streams       end every open log, watch and exec stream now
  fault api-errors --rate R --seconds S
                           answer that fraction of API requests with 503/429 + Retry-After
  fault latency --ms N --seconds S
                           delay every API request
  fault kill POD [-n NS] [-c C]
                           kill a pod's container(s) now (exit 137)

The sandbox writes only the --kubeconfig file you name (never ~/.kube/config) and keeps
its state in FILE.sandbox/ next to it. Without --kubeconfig, down/status/image/fault use
$KUBECONFIG."""

EXAMPLES = """\
  eval "$(kubectl nodeapp sandbox up --kubeconfig /tmp/sandbox.kubeconfig)"
  kubectl nodeapp sandbox fault api-errors --rate 0.3 --seconds 60
  kubectl nodeapp sandbox image mark 9d8e7f6 --fault crash
  kubectl nodeapp sandbox down --kubeconfig /tmp/sandbox.kubeconfig"""

_ACTIONS = ("up", "down", "status", "image", "fault")
_IMAGE_ACTIONS = ("mark", "unmark", "list")
_FAULTS = ("drop-streams", "api-errors", "latency", "kill")
_IMAGE_FAULTS = ("unready", "crash", "missing", "slow-start", "leak", "ignore-sigterm")


@dataclass(frozen=True)
class SandboxCommand:
    """The validated ``sandbox`` invocation."""

    action: str
    kubeconfig: str | None
    server: SandboxOptions  # up: the sandbox to start
    sub: str | None = None
    target: str | None = None
    namespace: str | None = None
    container: str | None = None
    foreground: bool = False
    exit_with_parent: int | None = None
    fault: str | None = None
    rate: float | None = None
    seconds: float | None = None
    ms: float | None = None
    output: str = "text"
    extra: dict[str, Any] = field(default_factory=dict)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of every action (each action checks the ones it takes)."""
    parser.add_argument("action", metavar="ACTION", help=f"one of: {', '.join(_ACTIONS)}")
    parser.add_argument("args", nargs="*", metavar="ARG", help="the action's arguments (see above)")
    up = parser.add_argument_group("up")
    up.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    up.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        metavar="X",
        help="multiplies every simulated delay: 0.1 runs ten times faster (default 1)",
    )
    up.add_argument(
        "--log-rate", type=float, default=2.0, metavar="N", help="log lines per second per container"
    )
    up.add_argument(
        "--log-backlog", type=int, default=0, metavar="N", help="lines of history per container at start"
    )
    up.add_argument(
        "--fixture", choices=("demo", "empty"), default="demo", help="what the cluster holds at start"
    )
    up.add_argument(
        "--containers",
        choices=("auto", "node", "simulated"),
        default="auto",
        help="containers run real Node.js processes (node), simulated ones, or auto: node when "
        "a Node.js >= 18 is found (default)",
    )
    up.add_argument("--foreground", action="store_true", help="run in this terminal until Ctrl-C")
    up.add_argument("--exit-with-parent", type=int, default=None, metavar="PID", help=argparse.SUPPRESS)
    faults = parser.add_argument_group("image and fault")
    faults.add_argument("--fault", choices=_IMAGE_FAULTS, help="image mark: how the image misbehaves")
    faults.add_argument("--rate", type=float, help="api-errors: fraction of API requests to fail (0–1)")
    faults.add_argument("--seconds", type=float, help="api-errors, latency: how long the fault lasts")
    faults.add_argument("--ms", type=float, help="latency: milliseconds added to each API request")
    faults.add_argument("-c", "--container", help="kill: only this container")
    parser.add_argument(
        "-o", "--output", choices=("text", "json"), default="text", help="status, image list: format"
    )


def _kubeconfig(common: CommonOptions, action: str) -> str | None:
    path = common.kube.kubeconfig
    if path:
        return path
    if action == "up":
        raise UsageError(
            "sandbox up needs --kubeconfig FILE (the file it writes)",
            hint="e.g. kubectl nodeapp sandbox up --kubeconfig /tmp/sandbox.kubeconfig",
        )
    env_value = os.environ.get("KUBECONFIG", "")
    paths = [p for p in env_value.split(os.pathsep) if p]
    if len(paths) == 1:
        return paths[0]
    raise UsageError(
        f"sandbox {action} needs --kubeconfig FILE (the file `sandbox up` wrote)",
        hint="or export KUBECONFIG=FILE as `sandbox up` printed",
    )


def _image_args(args: argparse.Namespace, rest: list[str]) -> tuple[str, str | None]:
    """``image list|mark TAG|unmark TAG``: the sub-action and its tag (taken from ``rest``)."""
    if not rest or rest[0] not in _IMAGE_ACTIONS:
        raise UsageError(f"sandbox image needs one of: {', '.join(_IMAGE_ACTIONS)}")
    sub = rest.pop(0)
    if sub not in ("mark", "unmark"):
        return sub, None
    if len(rest) != 1:
        raise UsageError(f"sandbox image {sub} needs exactly one TAG")
    if sub == "mark" and not args.fault:
        raise UsageError("sandbox image mark needs --fault " + "|".join(_IMAGE_FAULTS))
    return sub, rest.pop(0)


def _fault_args(args: argparse.Namespace, rest: list[str]) -> tuple[str, str | None]:
    """``fault kill POD|api-errors|latency|…``: the fault and its pod (taken from ``rest``), checked."""
    if not rest or rest[0] not in _FAULTS:
        raise UsageError(f"sandbox fault needs one of: {', '.join(_FAULTS)}")
    sub = rest.pop(0)
    target = None
    if sub == "kill":
        if len(rest) != 1:
            raise UsageError("sandbox fault kill needs exactly one POD")
        target = rest.pop(0)
    if sub == "api-errors" and (args.rate is None or not 0 <= args.rate <= 1):
        raise UsageError("sandbox fault api-errors needs --rate R between 0 and 1")
    if sub == "latency" and (args.ms is None or args.ms < 0):
        raise UsageError("sandbox fault latency needs --ms N (0 or more)")
    if sub in ("api-errors", "latency") and (args.seconds is None or args.seconds < 0):
        raise UsageError(f"sandbox fault {sub} needs --seconds S (0 or more)")
    return sub, target


def _check_up(args: argparse.Namespace) -> None:
    if args.time_scale <= 0:
        raise UsageError("--time-scale must be greater than 0")
    if args.log_rate < 0 or args.log_backlog < 0:
        raise UsageError("--log-rate and --log-backlog must not be negative")
    if not 0 <= args.port <= 65535:
        raise UsageError("--port must be between 0 and 65535")
    if args.containers == "node":
        from kubectl_trace.sandbox.nodejs import choose_containers

        try:
            choose_containers("node")
        except ValueError as exc:
            raise UsageError(str(exc)) from None


def parse_options(args: argparse.Namespace, common: CommonOptions) -> SandboxCommand:
    """Validate the action and its arguments."""
    from kubectl_trace.sandbox.interfaces import SandboxOptions

    action = args.action
    rest: list[str] = list(args.args)
    if action not in _ACTIONS:
        raise UsageError(f"unknown sandbox action {action!r} (choose one of: {', '.join(_ACTIONS)})")
    sub = target = None
    if action == "image":
        sub, target = _image_args(args, rest)
    elif action == "fault":
        sub, target = _fault_args(args, rest)
    if rest:
        raise UsageError(f"unexpected arguments for sandbox {action}: {' '.join(rest)}")
    if action == "up":
        _check_up(args)
    return options_from(
        SandboxCommand,
        args,
        kubeconfig=_kubeconfig(common, action),
        server=options_from(SandboxOptions, args),
        sub=sub,
        target=target,
        namespace=common.kube.namespace,
    )


def _require(kubeconfig: str) -> SandboxHandle:
    from kubectl_trace.sandbox.process import find_sandbox

    handle = find_sandbox(kubeconfig)
    if handle is None:
        raise NodeappError(
            f"no sandbox is running for {kubeconfig}",
            hint=f"start one: kubectl nodeapp sandbox up --kubeconfig {kubeconfig}",
        )
    return handle


def _up(cmd: SandboxCommand, env: Environment) -> int:
    assert cmd.kubeconfig is not None
    kubeconfig = os.path.abspath(os.path.expanduser(cmd.kubeconfig))
    if cmd.foreground:
        return _foreground(cmd, kubeconfig, env)
    from kubectl_trace.sandbox.process import start_sandbox

    handle = start_sandbox(kubeconfig, cmd.server, exit_with_parent=cmd.exit_with_parent)
    env.stderr.write(
        f"sandbox running at {handle.server} (pid {handle.pid}); stop it with: "
        f"kubectl nodeapp sandbox down --kubeconfig {kubeconfig}\n"
    )
    env.stderr.write(f"containers: {handle.state.get('containers', 'simulated')}\n")
    problem = handle.state.get("podIsolationProblem")
    if problem:
        env.stderr.write(
            f"warning: pod isolation unavailable ({problem}): exec and cp run in per-pod "
            "directories on the host\n"
        )
    env.stderr.flush()
    env.stdout.write(f"export KUBECONFIG={kubeconfig}\n")
    return 0


def _foreground(cmd: SandboxCommand, kubeconfig: str, env: Environment) -> int:
    import asyncio

    from kubectl_trace.sandbox.process import claim_kubeconfig
    from kubectl_trace.sandbox.server.serve import serve

    claim_kubeconfig(kubeconfig)

    def ready(state: dict[str, Any]) -> None:
        env.stderr.write(f"sandbox running at {state['server']}; Ctrl-C stops it\n")
        env.stderr.write(f"containers: {state.get('containers', 'simulated')}\n")
        env.stderr.flush()
        env.stdout.write(f"export KUBECONFIG={kubeconfig}\n")
        env.stdout.flush()

    try:
        asyncio.run(serve(cmd.server, kubeconfig, exit_with_parent=cmd.exit_with_parent, on_ready=ready))
    except OSError as exc:
        raise NodeappError(f"cannot start the sandbox: {exc}") from None
    return 0


def _down(cmd: SandboxCommand, env: Environment) -> int:
    from kubectl_trace.sandbox.process import clear_stale, find_sandbox

    assert cmd.kubeconfig is not None
    handle = find_sandbox(cmd.kubeconfig)
    if handle is None:
        if clear_stale(cmd.kubeconfig):
            env.stderr.write(f"sandbox for {cmd.kubeconfig} was not running; removed its leftovers\n")
            return 0
        raise NodeappError(f"no sandbox is running for {cmd.kubeconfig}")
    handle.stop()
    env.stderr.write(f"sandbox at {handle.server} stopped\n")
    return 0


def _status(cmd: SandboxCommand, env: Environment) -> int:
    assert cmd.kubeconfig is not None
    handle = _require(cmd.kubeconfig)
    data = handle.status()
    data = {
        "server": handle.server,
        "pid": handle.pid,
        "kubeconfig": handle.kubeconfig,
        "containers": handle.state.get("containers", "simulated"),
        **data,
    }
    if cmd.output == "json":
        env.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
        return 0
    out = env.stdout
    from kubectl_trace.timeparse import format_age

    out.write(f"server:     {handle.server} (pid {handle.pid})\n")
    out.write(f"kubeconfig: {handle.kubeconfig}\n")
    out.write(f"containers: {data['containers']}\n")
    out.write(f"uptime:     {format_age(float(data.get('uptimeSeconds', 0)))}\n")
    objects = data.get("objects") or {}
    out.write("objects:    " + ", ".join(f"{k} {v}" for k, v in objects.items() if v) + "\n")
    streams = data.get("streams") or {}
    out.write(
        "streams:    " + (", ".join(f"{k} {v}" for k, v in streams.items() if k != "total") or "none") + "\n"
    )
    requests = data.get("requests") or {}
    by_verb = requests.get("byVerb") or {}
    out.write(
        f"requests:   {requests.get('total', 0)}"
        + (" (" + ", ".join(f"{k} {v}" for k, v in sorted(by_verb.items())) + ")" if by_verb else "")
        + "\n"
    )
    faults = data.get("faults") or {}
    if faults:
        parts = []
        if "apiErrors" in faults:
            f = faults["apiErrors"]
            parts.append(f"api-errors rate {f['rate']:g} ({f['remainingSeconds']:g}s left)")
        if "latency" in faults:
            f = faults["latency"]
            parts.append(f"latency {f['ms']:g}ms ({f['remainingSeconds']:g}s left)")
        out.write("faults:     " + "; ".join(parts) + "\n")
    return 0


def _image(cmd: SandboxCommand, env: Environment) -> int:
    assert cmd.kubeconfig is not None
    handle = _require(cmd.kubeconfig)
    if cmd.sub == "mark":
        handle.admin("POST", "images/mark", {"tag": cmd.target, "fault": cmd.fault})
        env.stderr.write(f"image tag {cmd.target} marked: {cmd.fault}\n")
        return 0
    if cmd.sub == "unmark":
        handle.admin("POST", "images/unmark", {"tag": cmd.target})
        env.stderr.write(f"image tag {cmd.target} unmarked\n")
        return 0
    images = (handle.admin("GET", "images") or {}).get("images") or {}
    if cmd.output == "json":
        env.stdout.write(json.dumps(images, indent=2, sort_keys=True) + "\n")
        return 0
    if not images:
        env.stdout.write("no marked images: every well-formed tag pulls and runs\n")
        return 0
    width = max(len("TAG"), *(len(t) for t in images))
    env.stdout.write(f"{'TAG'.ljust(width)}  FAULT\n")
    for tag, fault in sorted(images.items()):
        env.stdout.write(f"{tag.ljust(width)}  {fault}\n")
    return 0


def _fault(cmd: SandboxCommand, env: Environment) -> int:
    assert cmd.kubeconfig is not None
    handle = _require(cmd.kubeconfig)
    if cmd.sub == "drop-streams":
        result = handle.admin("POST", "faults/drop-streams")
        env.stderr.write(f"dropped {result.get('dropped', 0)} open stream(s)\n")
    elif cmd.sub == "api-errors":
        handle.admin("POST", "faults/api-errors", {"rate": cmd.rate, "seconds": cmd.seconds})
        env.stderr.write(f"failing {cmd.rate:g} of API requests (503/429) for {cmd.seconds:g}s\n")
    elif cmd.sub == "latency":
        handle.admin("POST", "faults/latency", {"ms": cmd.ms, "seconds": cmd.seconds})
        env.stderr.write(f"delaying API requests by {cmd.ms:g}ms for {cmd.seconds:g}s\n")
    elif cmd.sub == "kill":
        namespace = cmd.namespace or "default"
        handle.admin(
            "POST", "faults/kill", {"namespace": namespace, "pod": cmd.target, "container": cmd.container}
        )
        what = f"container {cmd.container} of " if cmd.container else ""
        env.stderr.write(f"killed {what}pod {namespace}/{cmd.target}\n")
    return 0


def run(options: SandboxCommand, env: Environment) -> int:
    """Carry out the action."""
    actions = {"up": _up, "down": _down, "status": _status, "image": _image, "fault": _fault}
    return actions[options.action](options, env)
