"""``kubectl nodeapp shell [TARGET] [-c CONTAINER] [--process P] [-- COMMAND …]``."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubectl_trace.cli.options import (
    CommonOptions,
    add_command_arguments,
    add_target_argument,
    options_from,
)
from kubectl_trace.environment import Environment
from kubectl_trace.errors import ExitStatus, UsageError

if TYPE_CHECKING:
    from kubectl_trace.kube.calls import KubeClient

DESCRIPTION = (
    "Open an interactive shell (bash where the image has it, else sh) in a pod of an app, or\n"
    "run one command there. TARGET is a pod, deploy/NAME, an app name or a regular expression\n"
    "on pod names. A TARGET that means one Deployment takes any running, ready pod of it (as\n"
    "kubectl exec deploy/NAME does); otherwise you pick one from a list. On a terminal the\n"
    "remote side gets a real TTY (window size, Ctrl-C); with pipes, stdin, stdout and stderr\n"
    "are streamed as bytes. The remote command's exit status becomes this command's."
)
EXAMPLES = """\
  kubectl nodeapp shell trace-api --process web -n production
  kubectl nodeapp shell deploy/trace-api-worker -n staging -- node --version
  kubectl nodeapp shell -n production                  # pick any pod from a list
  printf 'a\\nb\\n' | kubectl nodeapp shell trace-api-web-7d9f-x2k -- cat"""

# `sh -c` finds bash itself: one round trip, nothing printed when bash is missing.
_DEFAULT_SCRIPT = "if command -v bash >/dev/null 2>&1; then exec bash; fi; exec sh"
_SAFE_TERM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")


@dataclass(frozen=True)
class ShellOptions:
    """Options of ``shell``."""

    common: CommonOptions
    target: str | None
    container: str | None
    process: str | None
    selector: str | None
    any_state: bool
    pick: bool
    no_tty: bool
    command: tuple[str, ...]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``shell``."""
    add_target_argument(parser)
    parser.add_argument("-c", "--container", metavar="NAME", help="container (default: the pod's default)")
    parser.add_argument("--process", metavar="P", help="only pods of this process type (web, worker, clock)")
    parser.add_argument("-l", "--selector", metavar="SELECTOR", help="only pods with these labels")
    parser.add_argument(
        "--any",
        dest="any_state",
        action="store_true",
        help="also consider pods that are not running and ready",
    )
    parser.add_argument(
        "--pick", action="store_true", help="always ask which pod, even within one deployment"
    )
    add_command_arguments(
        parser,
        usage="kubectl nodeapp shell [TARGET] [flags] [-- COMMAND [ARGS…]]",
        no_tty_help="no remote TTY even on a terminal (stdout and stderr apart)",
    )


def parse_options(args: argparse.Namespace, common: CommonOptions) -> ShellOptions:
    """Validate the flags."""
    command = getattr(args, "command", None)
    if command is not None and not command:
        raise UsageError("nothing after --", hint="give a command, e.g. -- node --version")
    if args.target is not None and not args.target.strip():
        raise UsageError("TARGET is empty")
    return options_from(ShellOptions, args, common, command=tuple(command or ()))


def default_command(tty: bool, environ: Any) -> list[str]:
    """The default command: bash where the image has it, else sh (plus a TERM on a TTY)."""
    script = _DEFAULT_SCRIPT
    term = str(environ.get("TERM") or "")
    if tty and _SAFE_TERM.fullmatch(term) and term != "dumb":
        script = f'[ -n "$TERM" ] || export TERM={term}; {script}'
    return ["sh", "-c", script]


def run(options: ShellOptions, env: Environment) -> int:
    """Choose the pod, open the exec stream, attach the terminal or the pipes."""
    from kubectl_trace.cli.client import connected
    from kubectl_trace.kube.exec import open_exec
    from kubectl_trace.shell.attach import attach_pipes, attach_tty
    from kubectl_trace.shell.choose import pick_container
    from kubectl_trace.shell.pods import container_names

    # the lean client for plain kubeconfigs: a shell should start fast
    with connected(options.common, env) as kube:
        pod = _choose(kube, options, env)
        if pod is None:
            return ExitStatus.INTERRUPTED
        meta = pod.get("metadata") or {}
        namespace, name = str(meta.get("namespace") or kube.namespace), str(meta.get("name"))
        container = pick_container(pod, options.container)
        tty = env.interactive and not options.no_tty
        names = container_names(pod)
        if tty and options.container is None and len(names) > 1:  # as kubectl says it
            env.stderr.write(f'Defaulted container "{container}" out of: {", ".join(names)}\n')
            env.stderr.flush()
        command = list(options.command) or default_command(tty, env.environ)
        session = open_exec(
            kube,
            namespace,
            name,
            command,
            container=container,
            stdin=True,
            stdout=True,
            stderr=not tty,
            tty=tty,
        )
        with session:
            if tty:
                return attach_tty(session, env)
            return attach_pipes(session, env)


def _choose(kube: KubeClient, options: ShellOptions, env: Environment) -> dict[str, Any] | None:
    """The pod to exec in (None when the user cancelled the picker)."""
    from kubectl_trace.kube.queries import Selection
    from kubectl_trace.kube.targets import resolve
    from kubectl_trace.shell.choose import candidates_error, choose_pod

    namespace = options.common.kube.namespace or kube.namespace
    among = Selection("pods", namespace, label_selector=options.selector)
    target = resolve(kube, options.target, among, process=options.process)
    if target.kind == "pod":
        pods = [target.pod if target.pod is not None else kube.get("pods", str(target.pod_name), namespace)]
    else:
        pods = kube.list_selection(among).items
        if not pods and target.kind != "deployment":  # a namespace that does not exist lists empty
            kube.require_namespace(namespace)
    choice = choose_pod(
        target, pods, container=options.container, any_state=options.any_state, pick=options.pick
    )
    if choice.pod is not None:
        if choice.automatic and env.interactive and not options.no_tty:
            _say_chosen(env, choice.pod, target)
        return dict(choice.pod)
    if not env.interactive:
        raise candidates_error(target, choice.candidates)
    from kubectl_trace.shell.picker import pick_pod
    from kubectl_trace.shell.pods import pod_row

    now = env.clock()
    rows = [
        pod_row(p, now, process_label=target.process_label, process_env=target.process_env)
        for p in choice.candidates
    ]
    title = f"Pick a pod of {target.description}" if target.kind != "all" else f"Pick a pod in {namespace}"
    picked = pick_pod(rows, title=title)
    if picked is None:
        return None
    return next(dict(p) for p in choice.candidates if (p.get("metadata") or {}).get("name") == picked)


def _say_chosen(env: Environment, pod: Any, target: Any) -> None:
    from kubectl_trace.shell.pods import pod_row
    from kubectl_trace.textsafe import visible

    row = pod_row(pod, env.clock(), process_label=target.process_label, process_env=target.process_env)
    facts = ", ".join(x for x in (row.process if row.process != "-" else "", row.tag) if x and x != "-")
    env.stderr.write(visible(f"→ {row.name}" + (f" ({facts})" if facts else "")) + "\n")
    env.stderr.flush()
