"""``kubectl nodeapp inspect APP [--process P] [--pod NAME] [--cpu-profile D | --heap-snapshot] [-o F]``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from kubectl_trace.cli.options import (
    CommonOptions,
    FeatureOptions,
    add_pod_choice_arguments,
    pod_choice,
    whole_number,
)
from kubectl_trace.environment import Environment
from kubectl_trace.errors import UsageError

if TYPE_CHECKING:
    from kubectl_trace.debug.inspect import InspectSettings

DESCRIPTION = (
    "Open the Node.js inspector of a ready pod of APP and forward it to 127.0.0.1: the node\n"
    "process is found in the container even when PID 1 is npm or a shell, gets SIGUSR1 (which\n"
    "opens its inspector), and the inspector port is forwarded (local 9229 when free, so\n"
    "chrome://inspect lists it at once). Prints the devtools:// URL and waits for Ctrl-C, or\n"
    "with --cpu-profile / --heap-snapshot writes a .cpuprofile / .heapsnapshot file that Chrome\n"
    "DevTools and VS Code open. An inspector this command opened is closed again at the end."
)
EXAMPLES = """\
  kubectl nodeapp inspect trace-api --process web -n production
  kubectl nodeapp inspect trace-api --cpu-profile 30s -o api.cpuprofile -n production
  kubectl nodeapp inspect trace-api --heap-snapshot -o api.heapsnapshot --pod trace-api-web-7d9f-x2k"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``inspect``."""
    add_pod_choice_arguments(parser, pod_help="this pod of the app (default: the newest ready one)")
    what = parser.add_mutually_exclusive_group()
    what.add_argument(
        "--cpu-profile", metavar="DURATION", help="take a CPU profile this long (e.g. 30s) into a .cpuprofile"
    )
    what.add_argument(
        "--heap-snapshot", action="store_true", help="take a heap snapshot into a .heapsnapshot"
    )
    parser.add_argument(
        "-o",
        "--output",
        dest="output_file",
        metavar="FILE",
        help="the file to write (default: POD-TIME.KIND)",
    )
    parser.add_argument("--port", metavar="LOCAL", help="local port of the forward (default: 9229 when free)")


def parse_options(args: argparse.Namespace, common: CommonOptions) -> FeatureOptions[InspectSettings]:
    """Validate the flags."""
    from kubectl_trace.debug.inspect import InspectSettings
    from kubectl_trace.timeparse import parse_duration

    seconds = None
    if args.cpu_profile is not None:
        seconds = parse_duration(args.cpu_profile, flag="--cpu-profile")
        if not 0 < seconds <= 3600:
            raise UsageError(f"--cpu-profile {args.cpu_profile}: give a duration from 1ms to 1h, e.g. 30s")
    if args.output_file is not None and seconds is None and not args.heap_snapshot:
        raise UsageError("-o FILE needs --cpu-profile DURATION or --heap-snapshot")
    if args.output_file is not None and not args.output_file.strip():
        raise UsageError("-o FILE is empty")
    port = whole_number(
        args.port,
        low=0,
        high=65535,
        error=f"invalid --port {args.port!r} (a number 0-65535; 0 picks a free one)",
    )
    settings = InspectSettings(
        pod_choice(args, common),
        cpu_profile=seconds,
        heap_snapshot=args.heap_snapshot,
        output=args.output_file,
        local_port=port,
    )
    return FeatureOptions(common, settings)


def run(options: FeatureOptions[InspectSettings], env: Environment) -> int:
    """Resolve the app, open and forward the inspector, use it, close it."""
    from kubectl_trace.cli.client import connected
    from kubectl_trace.debug.inspect import run_inspect

    with connected(options.common, env) as kube:
        return run_inspect(kube, options.settings, env)
