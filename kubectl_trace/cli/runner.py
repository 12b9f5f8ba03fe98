"""The one place that runs a command and turns every outcome into an exit status.

``NodeappError`` → ``error: MESSAGE`` (plus a ``hint:`` line) and its exit code;
Ctrl-C → 130; a closed pipe → quiet exit; anything unexpected → one line, and the
traceback only with ``--debug``.
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from collections.abc import Sequence

from kubectl_trace import __version__
from kubectl_trace.cli.options import common_options
from kubectl_trace.cli.parser import build_parser, overview, split_command, unknown_command
from kubectl_trace.cli.registry import COMMANDS
from kubectl_trace.environment import Environment
from kubectl_trace.errors import ExitStatus, InsecureConnectionWarning, NodeappError, UsageError

__all__ = ["run"]


def run(argv: Sequence[str], env: Environment | None = None) -> int:
    """Run ``kubectl nodeapp ARGV…`` and return its exit status."""
    debug = "--debug" in argv
    stderr = env.stderr if env is not None else sys.stderr
    with warnings.catch_warnings():
        _one_line_warnings(stderr)
        return _run(argv, env, stderr, debug)


def _one_line_warnings(stderr: object) -> None:
    """Our warnings as ``warning: …`` lines, once each; urllib3's about insecure requests never."""
    warnings.filterwarnings("ignore", message="Unverified HTTPS request")  # urllib3 (we said it)
    warnings.simplefilter("once", InsecureConnectionWarning)
    shown = warnings.showwarning

    def show(message: Warning | str, category: type[Warning], *args: object, **kwargs: object) -> None:
        if issubclass(category, InsecureConnectionWarning):
            _safe_write(stderr, f"warning: {message}\n")
        else:
            shown(message, category, *args, **kwargs)  # type: ignore[arg-type]

    warnings.showwarning = show


def _run(argv: Sequence[str], env: Environment | None, stderr: object, debug: bool) -> int:
    try:
        return _dispatch(list(argv), env)
    except NodeappError as exc:
        _report(stderr, exc.message, exc.hint)
        if debug:
            _print_traceback(stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        _safe_write(stderr, "\n")
        return ExitStatus.INTERRUPTED
    except BrokenPipeError:
        # stdout went away (`… | head`): stop quietly, and keep Python's exit-time flush quiet.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return ExitStatus.OK
    except SystemExit as exc:  # argparse: --help (0) and usage errors (2)
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else ExitStatus.USAGE)
    except Exception as exc:  # the last line of defence: never a bare traceback
        if debug:
            _print_traceback(stderr)
        _report(
            stderr,
            f"unexpected {type(exc).__name__}: {exc}",
            None if debug else "run again with --debug to see the traceback, and please report it",
        )
        return ExitStatus.FAILURE


def _dispatch(argv: list[str], env: Environment | None) -> int:
    split = split_command(argv)
    if split.command is None:
        out = env.stdout if env is not None else sys.stdout
        if "--version" in split.rest:
            out.write(f"kubectl-nodeapp {__version__}\n")
            return ExitStatus.OK
        if not split.rest or set(split.rest) <= {"-h", "--help"}:
            out.write(overview(__version__))
            return ExitStatus.OK
        raise UsageError("no command given", hint="run 'kubectl nodeapp --help' for the list of commands")
    info = COMMANDS.get(split.command)
    if info is None:
        raise unknown_command(split.command)
    module = importlib.import_module(info.module)
    parser = build_parser(info.name, module, env.stdout if env is not None else None)
    if getattr(module, "INTERMIXED_ARGS", False):  # positionals split by flags: env APP -n NS set K=V
        args = parser.parse_intermixed_args(split.rest)
    else:
        args = parser.parse_args(split.rest)
    common = common_options(args)
    options = module.parse_options(args, common)
    env = Environment.from_process(common.color) if env is None else env.with_color(common.color)
    status = module.run(options, env)
    env.stdout.flush()  # a reader that went away raises BrokenPipeError; _run handles it
    return int(status)


def _print_traceback(stream: object) -> None:
    import traceback  # only on --debug: it costs ~15 ms of start-up

    traceback.print_exc(file=stream)  # type: ignore[arg-type]


def _report(stream: object, message: str, hint: str | None) -> None:
    from kubectl_trace.textsafe import safe_text  # messages quote the server and the user's input

    text = f"error: {safe_text(message)}\n"
    if hint:
        text += f"hint: {safe_text(hint)}\n"
    _safe_write(stream, text)


def _safe_write(stream: object, text: str) -> None:
    try:
        stream.write(text)  # type: ignore[attr-defined]
        stream.flush()  # type: ignore[attr-defined]
    except (OSError, ValueError):
        pass
