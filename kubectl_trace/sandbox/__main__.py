"""``python -m kubectl_trace.sandbox``: run one sandbox API server in the foreground.

``kubectl nodeapp sandbox up`` starts this in the background; ``--foreground`` runs it in
the same process instead.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from kubectl_trace.sandbox.interfaces import SandboxOptions

__all__ = ["build_parser", "main", "options_from_args"]


def build_parser() -> argparse.ArgumentParser:
    """The server's flags (the same names as ``sandbox up``)."""
    parser = argparse.ArgumentParser(prog="python -m kubectl_trace.sandbox", description=__doc__)
    parser.add_argument("--kubeconfig", required=True, help="kubeconfig file to write")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (0 = any free port)")
    parser.add_argument("--time-scale", type=float, default=1.0, help="multiplies every simulated delay")
    parser.add_argument("--log-rate", type=float, default=2.0, help="log lines per second per container")
    parser.add_argument("--log-backlog", type=int, default=0, help="lines of history per container at start")
    parser.add_argument("--fixture", choices=("demo", "empty"), default="demo")
    parser.add_argument(
        "--containers",
        choices=("auto", "node", "simulated"),
        default="auto",
        help="real Node.js processes, simulated ones, or auto (node when a Node.js >= 18 is found)",
    )
    parser.add_argument("--state-dir", default="", help="state directory (default: next to the kubeconfig)")
    parser.add_argument("--exit-with-parent", type=int, default=None, metavar="PID", help=argparse.SUPPRESS)
    parser.add_argument(
        "--image-fault", action="append", default=[], metavar="TAG=FAULT", help="mark an image at start"
    )
    return parser


def options_from_args(args: argparse.Namespace) -> SandboxOptions:
    """Parsed flags → SandboxOptions (ValueError on bad values)."""
    extra: dict[str, str] = {}
    for item in args.image_fault:
        tag, sep, fault = item.partition("=")
        if not sep or not tag or not fault:
            raise ValueError(f"--image-fault expects TAG=FAULT, got {item!r}")
        extra[tag] = fault
    if args.time_scale <= 0:
        raise ValueError("--time-scale must be greater than 0")
    if args.log_rate < 0:
        raise ValueError("--log-rate must not be negative")
    if args.log_backlog < 0:
        raise ValueError("--log-backlog must not be negative")
    if not 0 <= args.port <= 65535:
        raise ValueError("--port must be between 0 and 65535")
    if args.containers == "node":
        from kubectl_trace.sandbox.nodejs import choose_containers

        choose_containers("node")  # ValueError when there is no Node.js >= 18
    return SandboxOptions(
        host=args.host,
        port=args.port,
        time_scale=args.time_scale,
        log_rate=args.log_rate,
        log_backlog=args.log_backlog,
        fixture=args.fixture,
        state_dir=args.state_dir,
        extra_images=extra,
        containers=args.containers,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server until SIGTERM/SIGINT; returns the exit status."""
    from kubectl_trace.sandbox.server.serve import LoopbackError, check_loopback, serve

    args = build_parser().parse_args(argv)
    try:
        options = options_from_args(args)
        check_loopback(options.host)
    except (ValueError, LoopbackError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    def ready(state: dict[str, object]) -> None:
        print(f"sandbox: serving {state['server']} (pid {state['pid']})", file=sys.stderr, flush=True)

    try:
        asyncio.run(serve(options, args.kubeconfig, exit_with_parent=args.exit_with_parent, on_ready=ready))
    except OSError as exc:
        print(f"error: cannot start the sandbox: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
