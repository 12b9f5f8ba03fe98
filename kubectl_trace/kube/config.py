"""Kubeconfig loading exactly like kubectl.

``--kubeconfig FILE`` alone, else every file of ``KUBECONFIG`` (``:``-separated, missing
ones skipped, the first to define a name wins, as in client-go's loading rules), else
``~/.kube/config``, else in-cluster config. ``--context`` picks the context; the namespace
is ``-n``, else the context's, else ``default``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubectl_trace.kube.errors import KubeConfigError
from kubectl_trace.kube.settings import KubeSettings

__all__ = [
    "Connection",
    "Kubeconfig",
    "SelectedContext",
    "load_connection",
    "load_kubeconfig_dict",
    "select_context",
]

_SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
# Fields holding file paths, resolved against the directory of the file that holds them.
_PATH_FIELDS = {
    "clusters": ("certificate-authority",),
    "users": ("client-certificate", "client-key", "tokenFile"),
}


@dataclass(frozen=True, eq=False)
class Connection:
    """Where and as whom to talk: the outcome of kubeconfig resolution."""

    context: str
    cluster: str
    user: str
    namespace: str
    server: str
    source: str
    request_timeout: float | None = None
    configuration: Any = field(default=None, repr=False)
    insecure: bool = False  # insecure-skip-tls-verify


def _files(settings: KubeSettings, environ: Mapping[str, str]) -> list[str]:
    if settings.kubeconfig:
        path = os.path.expanduser(settings.kubeconfig)
        if not os.path.exists(path):
            raise KubeConfigError(f'kubeconfig "{settings.kubeconfig}" not found')
        return [path]
    env_value = environ.get("KUBECONFIG", "")
    if env_value:
        listed = [os.path.expanduser(p) for p in env_value.split(os.pathsep) if p]
        present = [p for p in listed if os.path.exists(p)]
        if not present:
            raise KubeConfigError(
                f"none of the files in KUBECONFIG exist: {', '.join(listed)}",
                hint="fix KUBECONFIG or pass --kubeconfig",
            )
        return present
    home = os.path.expanduser("~/.kube/config")
    return [home] if os.path.exists(home) else []


def _read(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise KubeConfigError(f'cannot read kubeconfig "{path}": {exc.strerror}') from None
    except UnicodeDecodeError as exc:
        raise KubeConfigError(f'kubeconfig "{path}" is not UTF-8 text: {exc.reason}') from None
    from kubectl_trace.kube.simple_yaml import parse

    data = parse(text)  # the plain YAML kubeconfigs are made of, without importing PyYAML
    if data is None and text.strip():
        data = _read_yaml(path, text)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise KubeConfigError(f'kubeconfig "{path}" is not a kubeconfig (expected a mapping)')
    return data


def _read_yaml(path: str, text: str) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 4x faster
    try:
        return yaml.load(text, Loader=loader)  # a safe loader (C or Python)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise KubeConfigError(f'kubeconfig "{path}" is not valid YAML{where}: {problem}') from None


def _absolutize(entry: dict[str, Any], section: str, base: str) -> dict[str, Any]:
    key = section[:-1]  # clusters → cluster, users → user
    inner = entry.get(key)
    if not isinstance(inner, dict):
        return entry
    inner = dict(inner)
    for name in _PATH_FIELDS.get(section, ()):
        value = inner.get(name)
        if isinstance(value, str) and value and not os.path.isabs(value):
            inner[name] = os.path.join(base, os.path.expanduser(value))
    plugin = inner.get("exec") if section == "users" else None
    if isinstance(plugin, dict):
        command = plugin.get("command")
        # As client-go: a command with a path separator is relative to the kubeconfig's directory.
        if isinstance(command, str) and os.sep in command and not os.path.isabs(command):
            inner["exec"] = {**plugin, "command": os.path.join(base, command)}
    return {**entry, key: inner}


def load_kubeconfig_dict(paths: list[str]) -> dict[str, Any]:
    """Merge kubeconfig files the way kubectl does: the first definition of a name wins."""
    merged: dict[str, Any] = {"clusters": [], "users": [], "contexts": []}
    seen: dict[str, set[str]] = {s: set() for s in merged}
    for path in paths:
        data = _read(path)
        base = os.path.dirname(os.path.abspath(path))
        if "current-context" not in merged and data.get("current-context"):
            merged["current-context"] = data["current-context"]
        for section in ("clusters", "users", "contexts"):
            entries = data.get(section) or []
            if not isinstance(entries, list):
                raise KubeConfigError(f'kubeconfig "{path}": "{section}" must be a list')
            for entry in entries:
                if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                    raise KubeConfigError(f'kubeconfig "{path}": an entry of "{section}" has no name')
                if entry["name"] in seen[section]:
                    continue
                seen[section].add(entry["name"])
                merged[section].append(_absolutize(entry, section, base))
    return merged


def _by_name(config: Mapping[str, Any], section: str) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in config.get(section, [])}


def _in_cluster(settings: KubeSettings, environ: Mapping[str, str]) -> Connection | None:
    host, port = environ.get("KUBERNETES_SERVICE_HOST"), environ.get("KUBERNETES_SERVICE_PORT")
    if not host or not port or not os.path.exists(os.path.join(_SA_DIR, "token")):
        return None
    from kubernetes import client
    from kubernetes.config.incluster_config import InClusterConfigLoader

    configuration = client.Configuration()
    loader = InClusterConfigLoader(
        token_filename=os.path.join(_SA_DIR, "token"),
        cert_filename=os.path.join(_SA_DIR, "ca.crt"),
        environ=environ,
    )
    loader.load_and_set(configuration)
    namespace = settings.namespace
    if not namespace:
        try:
            with open(os.path.join(_SA_DIR, "namespace"), encoding="utf-8") as handle:
                namespace = handle.read().strip() or "default"
        except OSError:
            namespace = "default"
    return Connection(
        context="in-cluster",
        cluster="in-cluster",
        user="serviceaccount",
        namespace=namespace,
        server=configuration.host,
        source="in-cluster",
        request_timeout=settings.request_timeout,
        configuration=configuration,
    )


@dataclass(frozen=True)
class Kubeconfig:
    """The kubeconfig files in effect (``paths``) and their contents merged as kubectl merges them."""

    paths: tuple[str, ...]
    merged: dict[str, Any]

    @property
    def source(self) -> str:
        """The files as KUBECONFIG lists them (for messages and ``Connection.source``)."""
        return os.pathsep.join(self.paths)

    @property
    def base_path(self) -> str:
        """Where relative file names in it start from: the first file's directory."""
        return os.path.dirname(os.path.abspath(self.paths[0]))

    def context_names(self) -> list[str]:
        """The names of its contexts, sorted."""
        return sorted(_by_name(self.merged, "contexts"))


@dataclass(frozen=True)
class SelectedContext:
    """The kubeconfig entries a context resolves to (no client library involved)."""

    name: str
    cluster_name: str
    user_name: str
    cluster: dict[str, Any]
    user: dict[str, Any]
    namespace: str
    kubeconfig: Kubeconfig

    def connection(self, settings: KubeSettings, configuration: Any = None) -> Connection:
        """The Connection this context describes (``configuration``: the official client's)."""
        return Connection(
            context=self.name,
            cluster=self.cluster_name,
            user=self.user_name,
            namespace=self.namespace,
            server=str(self.cluster["server"]),
            source=self.kubeconfig.source,
            request_timeout=settings.request_timeout,
            configuration=configuration,
            insecure=bool(self.cluster.get("insecure-skip-tls-verify")),
        )


def select_context(settings: KubeSettings, environ: Mapping[str, str]) -> SelectedContext | None:
    """Pick the context as kubectl does; None when there is no kubeconfig at all.

    Cheap: the files are read with ``kube.simple_yaml`` (PyYAML only for YAML beyond it), so
    shell completion uses it without loading the kubernetes client.
    """
    paths = _files(settings, environ)
    if not paths:
        return None
    config = load_kubeconfig_dict(paths)
    kubeconfig = Kubeconfig(tuple(paths), config)
    contexts = _by_name(config, "contexts")
    available = ", ".join(kubeconfig.context_names()) or "none"
    name = settings.context or config.get("current-context")
    if not name:
        raise KubeConfigError(
            f"no current context in kubeconfig (available: {available})",
            hint="pass --context NAME or run: kubectl config use-context NAME",
        )
    if name not in contexts:
        raise KubeConfigError(f'context "{name}" not found in kubeconfig (available: {available})')
    ctx = contexts[name].get("context") or {}
    cluster_name, user_name = ctx.get("cluster"), ctx.get("user") or ""
    clusters = _by_name(config, "clusters")
    if not cluster_name or cluster_name not in clusters:
        raise KubeConfigError(
            f'context "{name}" refers to cluster "{cluster_name}", which is not in the kubeconfig'
        )
    cluster = clusters[cluster_name].get("cluster") or {}
    if not cluster.get("server"):
        raise KubeConfigError(f'cluster "{cluster_name}" in the kubeconfig has no server address')
    users = _by_name(config, "users")
    if user_name and user_name not in users:
        raise KubeConfigError(
            f'context "{name}" refers to user "{user_name}", which is not in the kubeconfig'
        )
    return SelectedContext(
        name=name,
        cluster_name=cluster_name,
        user_name=user_name,
        cluster=cluster,
        user=(users.get(user_name) or {}).get("user") or {},
        namespace=settings.namespace or ctx.get("namespace") or "default",
        kubeconfig=kubeconfig,
    )


def load_connection(settings: KubeSettings, environ: Mapping[str, str] | None = None) -> Connection:
    """Resolve the kubeconfig into a Connection with a ready ``kubernetes`` Configuration."""
    environ = os.environ if environ is None else environ
    selected = select_context(settings, environ)
    if selected is None:
        found = _in_cluster(settings, environ)
        if found is not None:
            return found
        raise KubeConfigError(
            "no kubeconfig found at ~/.kube/config and not running inside a cluster",
            hint="set KUBECONFIG or pass --kubeconfig (try: kubectl nodeapp sandbox up)",
        )
    from kubernetes import client
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.kube_config import KubeConfigLoader

    name = selected.name
    configuration = client.Configuration()
    try:
        loader = KubeConfigLoader(
            config_dict=selected.kubeconfig.merged,
            active_context=name,
            config_base_path=selected.kubeconfig.base_path,
        )
        loader.load_and_set(configuration)
    except ConfigException as exc:
        raise KubeConfigError(f"invalid kubeconfig (context {name!r}): {exc}") from None
    except (OSError, ValueError) as exc:
        raise KubeConfigError(f"cannot load credentials of context {name!r}: {exc}") from None
    return selected.connection(settings, configuration)
