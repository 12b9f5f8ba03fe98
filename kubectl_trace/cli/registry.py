"""The command table: names, one-line summaries and the module that implements each.

Kept free of imports so that ``kubectl nodeapp --help`` never loads a command.
A command module provides ``add_arguments(parser)``, ``parse_options(args, common)``
(flags → a frozen dataclass, raising UsageError) and ``run(options, env) -> int``;
optionally ``DESCRIPTION`` and ``EXAMPLES`` strings for its ``--help``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["COMMANDS", "GROUPS", "CommandInfo"]


@dataclass(frozen=True)
class CommandInfo:
    """One subcommand."""

    name: str
    module: str
    summary: str
    group: str


GROUPS = ("Debug an app", "Release", "Try it out", "Set-up")

_TABLE = (
    # name, module, summary, group — in the order a user needs them
    ("logs", "logs", "merged, coloured logs of every pod of an app; follows rollouts", "Debug an app"),
    ("shell", "shell", "an interactive shell (or a command) in a pod of the app", "Debug an app"),
    ("run", "run", "a one-off process (migration, console, script) of the app as a Job", "Debug an app"),
    (
        "events",
        "events",
        "one timeline of the events of a deployment, its replica sets and pods",
        "Debug an app",
    ),
    (
        "status",
        "status",
        "is it healthy, and if not, why: rollout, probes, restarts, findings",
        "Debug an app",
    ),
    ("forward", "forward", "a local port to a pod of the app, following rollouts", "Debug an app"),
    (
        "inspect",
        "inspect",
        "the Node inspector of a pod of the app: DevTools URL, CPU profile, heap snapshot",
        "Debug an app",
    ),
    ("rollout", "rollout", "live dashboard of rollouts and probe health, rollback at a key", "Debug an app"),
    ("deploy", "deploy", "the current git commit (tag = short hash) as a new release, followed", "Release"),
    ("history", "history", "the app's releases: number, tag of every process, author, drift", "Release"),
    ("releases", "history", "the same as history", "Release"),
    (
        "rollback",
        "rollback",
        "the whole app back to an earlier release (default: the last healthy one)",
        "Release",
    ),
    ("promote", "promote", "staging's current release becomes a new production release", "Release"),
    ("env", "env", "config vars of an app: list (secrets masked), set, unset (a release)", "Release"),
    ("scale", "scale", "set the number of pods per process: web=3 worker=2", "Release"),
    ("restart", "restart", "rolling restart of every process of an app", "Release"),
    ("demo", "demo", "a private sandbox cluster playing a release story in the dashboard", "Try it out"),
    ("sandbox", "sandbox", "run a local Kubernetes API sandbox (for demos and tests)", "Try it out"),
    ("info", "info", "which cluster, context and namespace the commands use, and whether they can", "Set-up"),
    ("completion", "completion", "shell completion script for bash, zsh or fish", "Set-up"),
)


def _available() -> dict[str, CommandInfo]:
    # Commands whose module is not in this build are left out (no dead entries).
    from importlib.util import find_spec

    table = {}
    for name, module, summary, group in _TABLE:
        path = f"kubectl_trace.cli.cmd_{module}"
        if find_spec(path) is not None:
            table[name] = CommandInfo(name, path, summary, group)
    return table


COMMANDS: dict[str, CommandInfo] = _available()
