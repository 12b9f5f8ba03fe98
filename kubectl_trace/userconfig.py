"""The user's config file: defaults a team sets once.

``$XDG_CONFIG_HOME/kubectl-nodeapp/config.toml`` (``~/.config/…`` when XDG_CONFIG_HOME is
unset), or the file named by ``KUBECTL_NODEAPP_CONFIG``. Parsed with the standard library
(``tomllib``, Python ≥ 3.11). Every key is optional::

    production_namespaces = ["production", "prod", "live"]   # mutating commands confirm here
    process_label = "process"                                  # pod label naming the process type
    process_env = "PROCESS_TYPE"                               # …or the env var that does
    app_label = "app"
    color = "auto"                                             # auto | always | never
    image_repository = "registry.example.com/team/trace-api"   # what `deploy` sets tags on

    [apps.trace-api]                                           # per app
    release_command = "npm run migrate"                        # deploy runs it first, as a Job
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from kubectl_trace.errors import UsageError

__all__ = ["UserConfig", "config_path", "load_user_config"]


@dataclass(frozen=True)
class UserConfig:
    """Team defaults (all have sensible values without a file)."""

    production_namespaces: tuple[str, ...] = ("production", "prod")
    process_label: str = "process"
    process_env: str = "PROCESS_TYPE"
    app_label: str = "app"
    color: str = "auto"
    image_repository: str | None = None
    release_commands: tuple[tuple[str, str], ...] = ()  # (app, command) from [apps.APP]
    path: str | None = None

    def release_command(self, app: str) -> str | None:
        """The release command of ``app`` (``[apps.APP] release_command``), if any."""
        return dict(self.release_commands).get(app)

    def is_production(self, namespace: str | None) -> bool:
        """Whether mutating commands must confirm in ``namespace``."""
        return namespace is not None and namespace in self.production_namespaces


def config_path(environ: Mapping[str, str]) -> str:
    """Where the config file is looked for."""
    explicit = environ.get("KUBECTL_NODEAPP_CONFIG")
    if explicit:
        return os.path.expanduser(explicit)
    base = environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "kubectl-nodeapp", "config.toml")


def _check(path: str, data: Mapping[str, Any]) -> dict[str, Any]:
    known = {f.name: f for f in fields(UserConfig) if f.name not in ("path", "release_commands")}
    known_keys = [*known, "apps"]
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "apps":
            out["release_commands"] = _apps(path, value)
            continue
        if key not in known:
            raise UsageError(f'{path}: unknown setting "{key}" (known: {", ".join(sorted(known_keys))})')
        if key == "production_namespaces":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise UsageError(f"{path}: production_namespaces must be a list of strings")
            out[key] = tuple(value)
        elif key == "color":
            if value not in ("auto", "always", "never"):
                raise UsageError(f"{path}: color must be auto, always or never")
            out[key] = value
        else:
            if not isinstance(value, str) or not value:
                raise UsageError(f"{path}: {key} must be a non-empty string")
            out[key] = value
    return out


def _apps(path: str, value: Any) -> tuple[tuple[str, str], ...]:
    """``[apps.APP]`` tables: only ``release_command`` (a non-empty string) so far."""
    if not isinstance(value, dict):
        raise UsageError(f"{path}: apps must be a table of [apps.APP] tables")
    out = []
    for app, settings in value.items():
        if not isinstance(settings, dict):
            raise UsageError(f"{path}: apps.{app} must be a table")
        for key, item in settings.items():
            if key != "release_command":
                raise UsageError(f'{path}: unknown setting "apps.{app}.{key}" (known: release_command)')
            if not isinstance(item, str) or not item.strip():
                raise UsageError(f"{path}: apps.{app}.release_command must be a non-empty string")
            out.append((str(app), item))
    return tuple(out)


_CACHE: dict[str, UserConfig] = {}


def load_user_config(environ: Mapping[str, str] | None = None) -> UserConfig:
    """Read the config file (once per path); defaults when there is none.

    A malformed file is a UsageError naming the file and the problem.
    """
    environ = os.environ if environ is None else environ
    path = config_path(environ)
    if path in _CACHE:
        return _CACHE[path]
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        config = UserConfig()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    else:
        import tomllib

        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise UsageError(f"{path} is not valid TOML: {exc}") from None
        config = UserConfig(**_check(path, data), path=path)
    _CACHE[path] = config
    return config
