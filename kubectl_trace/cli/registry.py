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


# Per group, in the order a user needs them: name, summary, and the module when it is not the name's.
_TABLE: dict[str, tuple[tuple[str, ...], ...]] = {
    "Debug an app": (
        ("logs", "merged, coloured logs of every pod of an app; follows rollouts"),
        ("shell", "an interactive shell (or a command) in a pod of the app"),
        ("run", "a one-off process (migration, console, script) of the app as a Job"),
        ("events", "one timeline of the events of a deployment, its replica sets and pods"),
        ("status", "is it healthy, and if not, why: rollout, probes, restarts, findings"),
        ("forward", "a local port to a pod of the app, following rollouts"),
        ("inspect", "the Node inspector of a pod of the app: DevTools URL, CPU profile, heap snapshot"),
        ("rollout", "live dashboard of rollouts and probe health, rollback at a key"),
    ),
    "Release": (
        ("deploy", "the current git commit (tag = short hash) as a new release, followed"),
        ("history", "the app's releases: number, tag of every process, author, drift"),
        ("releases", "the same as history", "history"),
        ("rollback", "the whole app back to an earlier release (default: the last healthy one)"),
        ("promote", "staging's current release becomes a new production release"),
        ("env", "config vars of an app: list (secrets masked), set, unset (a release)"),
        ("scale", "set the number of pods per process: web=3 worker=2"),
        ("restart", "rolling restart of every process of an app"),
    ),
    "Try it out": (
        ("demo", "a private sandbox cluster playing a release story in the dashboard"),
        ("sandbox", "run a local Kubernetes API sandbox (for demos and tests)"),
    ),
    "Set-up": (
        ("info", "which cluster, context and namespace the commands use, and whether they can"),
        ("completion", "shell completion script for bash, zsh or fish"),
    ),
}
GROUPS = tuple(_TABLE)


def _available() -> dict[str, CommandInfo]:
    # Commands whose module is not in this build are left out (no dead entries).
    from importlib.util import find_spec

    table = {}
    for group, rows in _TABLE.items():
        for name, summary, *module in rows:
            path = f"kubectl_trace.cli.cmd_{module[0] if module else name}"
            if find_spec(path) is not None:
                table[name] = CommandInfo(name, path, summary, group)
    return table


COMMANDS: dict[str, CommandInfo] = _available()
