"""``kubectl nodeapp logs [TARGET]``: merged, coloured logs of every matching container."""

from __future__ import annotations

import argparse
import math
import re
from typing import Any

from kubectl_trace.cli.options import CommonOptions, add_target_argument, options_from
from kubectl_trace.errors import UsageError
from kubectl_trace.logs.options import LogsOptions

DESCRIPTION = """\
Merged logs of every pod and container that TARGET matches, each line prefixed and
coloured by pod. JSON lines (winston, Cloud Logging, pino, bunyan) are parsed: level
coloured, message, the other fields as key=value, stacks as an indented block. Follows
pods that appear during a rollout and containers that restart; a dropped stream is
resumed with no line lost or repeated.

TARGET is a pod name, deploy/NAME, an app name or a regular expression on pod names
(all pods of the namespace when omitted)."""

EXAMPLES = """\
  kubectl nodeapp logs trace-api -n production                 # every web, worker and clock pod
  kubectl nodeapp logs trace-api --process worker --level warn # warnings and errors of workers
  kubectl nodeapp logs deploy/trace-api-web --since 10m --no-follow -o json | jq .message
  kubectl nodeapp logs trace-api -i 'orderId=42' -H 'timeout|refused' --timestamps"""

__all__ = ["DESCRIPTION", "EXAMPLES", "add_arguments", "parse_options", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``logs``."""
    add_target_argument(parser)
    sel = parser.add_argument_group("what to read")
    sel.add_argument("-l", "--selector", metavar="SELECTOR", help="label selector (k=v,k!=v,k in (a,b))")
    sel.add_argument("--process", metavar="TYPE", help="only this process type: web, worker, clock, …")
    sel.add_argument("-c", "--container", metavar="REGEX", help="only containers whose name matches")
    sel.add_argument("-E", "--exclude-container", metavar="REGEX", help="skip containers whose name matches")
    sel.add_argument("--exclude-pod", metavar="REGEX", help="skip pods whose name matches")
    sel.add_argument("-A", "--all-namespaces", action="store_true", help="pods of every namespace")
    sel.add_argument(
        "--since", metavar="DURATION|TIME", help="only lines newer than 5m, 1h, or an RFC 3339 time"
    )
    sel.add_argument(
        "--tail",
        metavar="N",
        help="lines of history per container (default 10 while following, all with --no-follow; -1: all)",
    )
    follow = sel.add_mutually_exclusive_group()
    follow.add_argument(
        "-f", "--follow", dest="follow", action="store_true", default=True, help="follow (default)"
    )
    follow.add_argument(
        "--no-follow", dest="follow", action="store_false", help="print what there is and exit"
    )
    sel.add_argument(
        "-p",
        "--previous",
        action="store_true",
        help="logs of the previous (crashed) instance; implies --no-follow",
    )
    sel.add_argument(
        "--max-streams", type=int, default=100, metavar="N", help="containers read at once (default 100)"
    )
    flt = parser.add_argument_group("what to show")
    flt.add_argument(
        "--level",
        choices=("debug", "info", "warn", "error"),
        help="minimum severity (lines with no level are hidden)",
    )
    flt.add_argument(
        "-i", "--include", action="append", default=[], metavar="REGEX", help="only lines matching"
    )
    flt.add_argument(
        "-e", "--exclude", action="append", default=[], metavar="REGEX", help="hide lines matching"
    )
    flt.add_argument(
        "-H", "--highlight", action="append", default=[], metavar="REGEX", help="highlight matches"
    )
    out = parser.add_argument_group("how to show it")
    out.add_argument(
        "-o",
        "--output",
        choices=("pretty", "raw", "json"),
        default="pretty",
        help="pretty (default), raw (the original lines), json (one object per line)",
    )
    out.add_argument(
        "--raw-bytes",
        action="store_true",
        help="with -o raw on a terminal: write the bytes as they are, control characters included "
        "(by default they are shown as ^[ and <9b> there; into a pipe or file raw is always byte-exact)",
    )
    out.add_argument("--timestamps", action="store_true", help="show the kubelet's timestamp of each line")
    out.add_argument(
        "--order",
        choices=("arrival", "time"),
        default="arrival",
        help="arrival (default), or time: merged by timestamp across pods (a short delay)",
    )


def _regex(flag: str, text: str | None) -> re.Pattern[str] | None:
    """The compiled pattern; patterns that could backtrack for ever on a hostile line are refused."""
    if text is None:
        return None
    from kubectl_trace.kube.names import compile_pattern

    return compile_pattern(text, flag)


def _since(text: str | None) -> tuple[int | None, str | None]:
    if text is None:
        return None, None
    from kubectl_trace.timeparse import format_rfc3339_nano, parse_duration, parse_rfc3339

    try:
        return None, format_rfc3339_nano(parse_rfc3339(text))
    except ValueError:
        pass
    try:
        seconds = parse_duration(text, flag="--since", allow_bare_seconds=False)
    except UsageError:
        raise UsageError(
            f"invalid --since {text!r}: expected a duration (30s, 5m, 2h) "
            "or an RFC 3339 time (2026-01-02T15:04:05Z)"
        ) from None
    if seconds <= 0:
        raise UsageError(f"invalid --since {text!r}: the duration must be positive")
    return max(1, math.ceil(seconds)), None


def _tail(text: str | None, *, follow: bool, since: bool) -> int | None:
    if text is None:
        return 10 if follow and not since else None
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"invalid --tail {text!r}: expected a number of lines (-1 for all)") from None
    if value < -1:
        raise UsageError(f"invalid --tail {text!r}: expected a number of lines (-1 for all)")
    return None if value == -1 else value


def parse_options(args: argparse.Namespace, common: CommonOptions) -> LogsOptions:
    """Flags → LogsOptions (UsageError for bad regexes, durations and numbers)."""
    from kubectl_trace.kube.targets import classify

    classify(args.target)  # an invalid TARGET regex is a usage error before any request
    follow = bool(args.follow) and not args.previous
    since_seconds, since_time = _since(args.since)
    if args.raw_bytes and args.output != "raw":
        raise UsageError("--raw-bytes applies only to -o raw")
    if args.max_streams < 1:
        raise UsageError(f"invalid --max-streams {args.max_streams}: must be at least 1")
    highlight = None
    if args.highlight:
        for pattern in args.highlight:
            _regex("--highlight", pattern)
        highlight = _regex("--highlight", "|".join(f"(?:{p})" for p in args.highlight))
    if args.selector is not None:
        from kubectl_trace.kube.selectors import SelectorError, parse_label_selector

        try:
            parse_label_selector(args.selector)
        except SelectorError as exc:
            raise UsageError(str(exc)) from None
    return options_from(
        LogsOptions,
        args,
        kube=common.kube,
        container=_regex("--container", args.container),
        exclude_container=_regex("--exclude-container", args.exclude_container),
        exclude_pod=_regex("--exclude-pod", args.exclude_pod),
        follow=follow,
        tail=_tail(args.tail, follow=follow, since=args.since is not None),
        since_seconds=since_seconds,
        since_time=since_time,
        include=tuple(p for p in (_regex("--include", t) for t in args.include) if p is not None),
        exclude=tuple(p for p in (_regex("--exclude", t) for t in args.exclude) if p is not None),
        highlight=highlight,
        color=common.color,
        debug=common.debug,
    )


def run(options: LogsOptions, env: Any) -> int:
    """Run the pipeline with the environment's streams."""
    from kubectl_trace.logs.pipeline import run_logs

    return run_logs(options, env)
