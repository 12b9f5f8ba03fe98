"""What to offer for the word being completed, in Cobra's protocol (kubectl speaks it).

Output: one candidate per line (``value<TAB>description``), then ``:DIRECTIVE``
(4 = no file completion, 0 = default, which lets the shell complete file names).
The commands and their parsers come from the caller as a ``CommandLine`` (``cli.cmd_completion``
builds it from the CLI's own table), so this package does not reach up into ``cli``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["CommandLine", "Completion", "complete", "render"]

NO_FILES = 4
DEFAULT = 0
_TARGET_DESTS = ("target", "app", "deployment", "pod")
_GLOBAL_FLAGS = [
    ("--kubeconfig", "path to the kubeconfig file"),
    ("--context", "kubeconfig context"),
    ("-n", "namespace"),
    ("--namespace", "namespace"),
    ("--request-timeout", "timeout of one API request"),
    ("--color", "auto, always or never"),
    ("--help", "help for nodeapp"),
    ("--version", "print the version"),
]


@dataclass(frozen=True)
class CommandLine:
    """The command line being completed, as its owner describes it."""

    summaries: Mapping[str, str]  # every command, in the order help lists them -> its summary
    split: Callable[[Sequence[str]], tuple[str | None, list[str]]]  # argv -> (command, its words)
    parser: Callable[[str | None], argparse.ArgumentParser]  # a command's parser; None: global flags


@dataclass(frozen=True)
class Completion:
    """Candidates and the Cobra directive."""

    candidates: tuple[str, ...]
    directive: int = NO_FILES


def render(result: Completion) -> str:
    """The text kubectl expects from a completion executable."""
    return "".join(f"{c}\n" for c in result.candidates) + f":{result.directive}\n"


def _value_flags(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    out = {}
    for action in parser._actions:
        if action.option_strings and action.nargs != 0:
            for opt in action.option_strings:
                out[opt] = action
    return out


def _flag_candidates(parser: argparse.ArgumentParser, prefix: str) -> list[str]:
    out = []
    for action in parser._actions:
        for opt in action.option_strings:
            if opt.startswith(prefix) and (opt.startswith("--") or prefix in ("-", "") or len(prefix) <= 2):
                help_text = (action.help or "").split("\n")[0].replace("\t", " ")
                out.append(f"{opt}\t{help_text}" if help_text and help_text != argparse.SUPPRESS else opt)
    return out


def _scan(
    words: Sequence[str], value_flags: Mapping[str, argparse.Action]
) -> tuple[dict[str, str], list[str]]:
    """Flag values given so far and the positional words."""
    given: dict[str, str] = {}
    positional: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("-") and word != "-":
            if "=" in word:
                flag, value = word.split("=", 1)
                given[flag] = value
            elif word in value_flags:
                if i + 1 < len(words):
                    given[word] = words[i + 1]
                i += 1
        else:
            positional.append(word)
        i += 1
    return given, positional


def _apps(deployments: Sequence[Mapping[str, Any]], app_label: str, process_label: str) -> dict[str, str]:
    apps: dict[str, str] = {}
    for d in deployments:
        meta = d.get("metadata") or {}
        name = meta.get("name", "")
        tmpl_labels = ((((d.get("spec") or {}).get("template")) or {}).get("metadata") or {}).get(
            "labels"
        ) or {}
        app = (meta.get("labels") or {}).get(app_label) or tmpl_labels.get(app_label)
        process = tmpl_labels.get(process_label)
        if not app and process and name.endswith(f"-{process}"):
            app = name[: -len(process) - 1]
        if app:
            apps.setdefault(app, "app")
    return apps


def _targets(names: Any, namespace: str, prefix: str) -> list[str]:
    from kubectl_trace.userconfig import load_user_config

    config = load_user_config(names.environ)
    deployments = names.deployments(namespace)
    out: list[str] = []
    if not prefix.startswith(("deploy/", "pod/")):
        for app in sorted(_apps(deployments, config.app_label, config.process_label)):
            out.append(f"{app}\tapp")
    for d in deployments:
        out.append(f"deploy/{d['metadata']['name']}\tdeployment")
    if not prefix.startswith("deploy/"):
        for pod in names.pods(namespace):
            out.append(f"{pod}\tpod")
    return [c for c in out if c.startswith(prefix) or c.startswith(f"pod/{prefix}")]


def _before_command(cli: CommandLine, current: str, before: Sequence[str]) -> Completion | None:
    """No command yet: a global flag, or a command (None when ``current`` is a flag's value)."""
    if current.startswith("-"):
        return Completion(tuple(f"{f}\t{h}" for f, h in _GLOBAL_FLAGS if f.startswith(current)))
    prev = before[-1] if before else ""
    if prev in ("-n", "--namespace", "--context", "--kubeconfig", "--color"):
        return None
    commands = cli.summaries.items()
    return Completion(tuple(f"{n}\t{s}" for n, s in commands if n.startswith(current)))


def _cluster_names(given: Mapping[str, str], environ: Mapping[str, str]) -> Any:
    from kubectl_trace.completion.cluster import ClusterNames
    from kubectl_trace.kube.settings import KubeSettings

    settings = KubeSettings(
        kubeconfig=given.get("--kubeconfig"),
        context=given.get("--context"),
        namespace=given.get("-n") or given.get("--namespace"),
    )
    return ClusterNames(settings, environ)


def _flag_value(action: argparse.Action, current: str, names: Any, namespace: str) -> Completion:
    """The value of the flag before ``current``."""
    if action.dest == "namespace":
        return Completion(tuple(n for n in names.namespaces() if n.startswith(current)))
    if action.dest == "context":
        return Completion(tuple(c for c in names.contexts() if c.startswith(current)))
    if action.dest == "kubeconfig":
        return Completion((), DEFAULT)
    if action.choices:
        return Completion(tuple(str(c) for c in action.choices if str(c).startswith(current)))
    if action.dest == "process":
        return Completion(tuple(p for p in ("web", "worker", "clock") if p.startswith(current)))
    if action.dest == "pod":
        return Completion(tuple(p for p in names.pods(namespace) if p.startswith(current)))
    if action.dest == "output_file":
        return Completion((), DEFAULT)  # a file name: the shell completes it
    return Completion(())


def _positional(
    parser: argparse.ArgumentParser, index: int, current: str, names: Any, namespace: str
) -> Completion:
    """The ``index``-th positional argument of the command."""
    positionals = [a for a in parser._actions if not a.option_strings and a.dest != "help"]
    if index < len(positionals):
        action = positionals[index]
        if action.choices:
            return Completion(tuple(str(c) for c in action.choices if str(c).startswith(current)))
        if action.dest in _TARGET_DESTS:
            return Completion(tuple(_targets(names, namespace, current)))
    return Completion(())


def complete(
    cli: CommandLine,
    command: str | None,
    words: Sequence[str],
    environ: Mapping[str, str],
    names: Any = None,
) -> Completion:
    """Complete the last of ``words`` (the arguments after ``kubectl nodeapp [COMMAND]``)."""
    words = list(words) or [""]
    current = words[-1]
    before = words[:-1]
    if command is None:
        command, before = cli.split(before)
        if command is None:
            early = _before_command(cli, current, before)
            if early is not None:
                return early
    if command is not None and command not in cli.summaries:
        return Completion(())
    parser = cli.parser(command)
    value_flags = _value_flags(parser)
    given, positional = _scan(before, value_flags)
    if names is None:
        names = _cluster_names(given, environ)
    names.environ = environ
    namespace = names.namespace(given.get("-n") or given.get("--namespace"))
    prev = before[-1] if before else ""
    if prev in value_flags and not current.startswith("--"):
        return _flag_value(value_flags[prev], current, names, namespace)
    if current.startswith("-"):
        return Completion(tuple(_flag_candidates(parser, current)))
    return _positional(parser, len(positional), current, names, namespace)
