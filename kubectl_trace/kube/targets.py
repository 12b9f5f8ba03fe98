"""TARGET resolution, shared by every command.

A TARGET is, in this order: ``pod/NAME`` or a pod's exact name; ``deploy/NAME`` (or
``deployment/NAME``); an app name — Deployments whose name equals it or starts with
``NAME-``, or that carry label ``app=NAME``; otherwise a regular expression on pod names
(stern style). ``--process web|worker|clock`` narrows to pods with label ``process=P`` or
env ``PROCESS_TYPE=P``; ``-l`` adds a label selector.

``classify`` and ``Target.matches`` are pure; ``resolve`` asks the API what exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubectl_trace.errors import UsageError
from kubectl_trace.kube.queries import Selection
from kubectl_trace.kube.selectors import (
    LabelRequirement,
    SelectorError,
    match_label_selector_object,
    match_labels,
    parse_label_selector,
)

if TYPE_CHECKING:
    from kubectl_trace.kube.calls import KubeClient
    from kubectl_trace.userconfig import UserConfig

__all__ = [
    "APP_NAME_LABEL",
    "PROCESS_ENV",
    "PROCESS_LABEL",
    "Target",
    "TargetQuery",
    "app_deployments",
    "app_names",
    "app_of",
    "classify",
    "deployment_process",
    "pod_process",
    "resolve",
    "resolve_app",
    "resolve_in_namespace",
]

PROCESS_LABEL = "process"
APP_NAME_LABEL = "app.kubernetes.io/name"  # the recommended label, always honoured besides the configured key
PROCESS_ENV = "PROCESS_TYPE"
RUN_PROCESS = "run"  # the process type of one-off Job pods (kubectl_trace.run)
_DNS_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")
_POD_PREFIXES = ("pod/", "pods/", "po/")
_DEPLOY_PREFIXES = ("deploy/", "deployment/", "deployments/", "deployment.apps/", "deployments.apps/")


@dataclass(frozen=True)
class TargetQuery:
    """What the TARGET text says, before asking the API."""

    kind: str  # "all", "pod", "deployment", "name" (pod, app or regex), "regex"
    text: str = ""


def classify(target: str | None) -> TargetQuery:
    """Classify the TARGET text (no I/O). Raises UsageError for an invalid regex."""
    if target is None or target == "":
        return TargetQuery("all")
    from kubectl_trace.kube.names import compile_pattern, validate_name

    lower = target.lower()
    for prefix in _POD_PREFIXES:
        if lower.startswith(prefix):
            return TargetQuery("pod", validate_name("pod", target[len(prefix) :]))
    for prefix in _DEPLOY_PREFIXES:
        if lower.startswith(prefix):
            return TargetQuery("deployment", validate_name("deployment", target[len(prefix) :]))
    if _DNS_NAME.fullmatch(target):
        return TargetQuery("name", validate_name("pod or app", target))
    compile_pattern(target, "TARGET")  # refused when it could backtrack for ever on a pod name
    return TargetQuery("regex", target)


def _compile(pattern: str) -> re.Pattern[str]:
    from kubectl_trace.kube.names import compile_pattern

    return compile_pattern(pattern, "TARGET")


def _env_value(container: Mapping[str, Any], name: str) -> str | None:
    for item in container.get("env") or []:
        if item.get("name") == name and "value" in item:
            return str(item["value"])
    return None


def pod_process(
    pod_spec_labels: Mapping[str, str] | None,
    containers: Iterable[Mapping[str, Any]],
    *,
    label: str = PROCESS_LABEL,
    env: str = PROCESS_ENV,
) -> str | None:
    """The process type of a pod (or pod template): label ``process``, else env PROCESS_TYPE.

    ``label``/``env`` come from the user config when a team names them differently.
    """
    labels = pod_spec_labels or {}
    if labels.get(label):
        return labels[label]
    for container in containers:
        value = _env_value(container, env)
        if value:
            return value
    return None


def deployment_process(
    deployment: Mapping[str, Any], *, label: str = PROCESS_LABEL, env: str = PROCESS_ENV
) -> str | None:
    """The process type a Deployment runs (from its pod template)."""
    template = (deployment.get("spec") or {}).get("template") or {}
    return pod_process(
        (template.get("metadata") or {}).get("labels"),
        (template.get("spec") or {}).get("containers") or [],
        label=label,
        env=env,
    )


def _of_pod(pod: Mapping[str, Any], label: str, env: str) -> str | None:
    return pod_process(
        (pod.get("metadata") or {}).get("labels"),
        (pod.get("spec") or {}).get("containers") or [],
        label=label,
        env=env,
    )


@dataclass(frozen=True)
class Target:
    """A resolved TARGET: which pods (and Deployments) a command works on."""

    namespace: str | None  # None with --all-namespaces
    description: str
    kind: str  # "all", "pod", "deployment", "app", "regex"
    deployments: tuple[Mapping[str, Any], ...] = ()
    pod_name: str | None = None
    pod_regex: re.Pattern[str] | None = None
    process: str | None = None
    labels: tuple[LabelRequirement, ...] = ()
    label_selector: str | None = None  # the -l text, sent to the server
    app: str | None = None
    process_label: str = PROCESS_LABEL
    process_env: str = PROCESS_ENV
    app_label: str = "app"
    extra: Mapping[str, Any] = field(default_factory=dict)
    pod: dict[str, Any] | None = field(default=None, compare=False, repr=False)  # kind "pod": as fetched

    def matches(self, pod: Mapping[str, Any]) -> bool:
        """Whether ``pod`` belongs to this target (pure; used on every watch event)."""
        meta = pod.get("metadata") or {}
        labels = meta.get("labels") or {}
        if self.namespace and meta.get("namespace") not in (None, self.namespace):
            return False
        if self.labels and not match_labels(self.labels, labels):
            return False
        if self.process is not None and _of_pod(pod, self.process_label, self.process_env) != self.process:
            return False
        name = meta.get("name", "")
        if self.kind == "pod":
            return bool(name == self.pod_name)
        if self.kind == "regex":
            return bool(self.pod_regex and self.pod_regex.search(name))
        if self.kind in ("deployment", "app"):
            if self.app and labels.get(self.app_label) == self.app:
                return True
            return any(
                match_label_selector_object((d.get("spec") or {}).get("selector"), labels)
                for d in self.deployments
            )
        return True

    @property
    def pods(self) -> Selection:
        """The pods to list or watch for this target (``matches`` then narrows them)."""
        return Selection(
            "pods", self.namespace, all_namespaces=self.namespace is None, label_selector=self.label_selector
        )

    def select(self, pods: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """The pods of ``pods`` that match, in name order."""
        return sorted((p for p in pods if self.matches(p)), key=lambda p: p["metadata"]["name"])


def _app_deployments(
    name: str, deployments: Sequence[Mapping[str, Any]], app_key: str = "app"
) -> list[Mapping[str, Any]]:
    out = []
    for d in deployments:
        meta = d.get("metadata") or {}
        dname = meta.get("name", "")
        app_label = (meta.get("labels") or {}).get(app_key) or (
            ((d.get("spec") or {}).get("template") or {}).get("metadata") or {}
        ).get("labels", {}).get(app_key)
        if dname == name or dname.startswith(f"{name}-") or app_label == name:
            out.append(d)
    return out


def app_of(deployment: Mapping[str, Any], app_key: str = "app") -> str | None:
    """The app a Deployment is labelled with (``app_key``, else ``app.kubernetes.io/name``).

    The Deployment's own labels first, then its pod template's; None when it has neither.
    """
    meta = deployment.get("metadata") or {}
    template_labels = (((deployment.get("spec") or {}).get("template") or {}).get("metadata") or {}).get(
        "labels"
    ) or {}
    for labels in (meta.get("labels") or {}, template_labels):
        for key in (app_key, APP_NAME_LABEL):
            value = labels.get(key)
            if value:
                return str(value)
    return None


def app_deployments(
    name: str, deployments: Sequence[Mapping[str, Any]], app_key: str = "app"
) -> list[Mapping[str, Any]]:
    """The Deployments of app ``name``, strictly (pure).

    Those labelled with the app; only when none is, the unlabelled ones named ``NAME`` or
    ``NAME-<process>`` (a labelled Deployment of another app never counts by its name).
    """
    labelled = [d for d in deployments if app_of(d, app_key) == name]
    if labelled:
        return labelled
    out = []
    for d in deployments:
        dname = str((d.get("metadata") or {}).get("name") or "")
        if app_of(d, app_key) is None and (dname == name or dname.startswith(f"{name}-")):
            out.append(d)
    return out


def app_names(deployments: Sequence[Mapping[str, Any]], app_key: str = "app") -> list[str]:
    """Every app of a namespace (pure): the label values, and ``NAME`` of unlabelled ``NAME-<process>``."""
    names = set()
    for d in deployments:
        app = app_of(d, app_key)
        if app is None:
            dname = str((d.get("metadata") or {}).get("name") or "")
            app = dname.rsplit("-", 1)[0] if "-" in dname else dname
        names.add(app)
    return sorted(names)


def resolve_app(
    kube: KubeClient,
    name: str,
    *,
    namespace: str,
    process: str | None = None,
    config: UserConfig | None = None,
) -> tuple[Mapping[str, Any], ...]:
    """The Deployments of exactly one app (what mutating commands act on), one LIST.

    Raises UsageError for a name that is not a plain app name, NodeappError naming the apps of
    the namespace when ``name`` is none of them (a prefix of other apps included), and
    UsageError when the app has no ``process``.
    """
    from kubectl_trace.errors import NodeappError

    if config is None:
        from kubectl_trace.userconfig import load_user_config

        config = load_user_config()
    from kubectl_trace.kube.names import label_error, shown_name

    problem = label_error(name)  # an app name is a label value: at most 63 characters
    if problem is not None or not _DNS_NAME.fullmatch(name):
        what = "at most 63 lower-case letters, digits and '-', like trace-api"
        raise UsageError(f"{shown_name(name)} is not an app name ({what}; it has {len(name)} characters)")
    items = kube.list("deployments", namespace).items
    matched = app_deployments(name, items, config.app_label)
    if not matched:
        apps = app_names(items, config.app_label)
        here = f"apps here: {', '.join(apps)}" if apps else "it has no Deployments"
        raise NodeappError(
            f"no app '{name}' in {namespace}; {here}",
            hint=f"an app is the Deployments labelled {config.app_label}=NAME "
            f"(or {APP_NAME_LABEL}=NAME); list them with: kubectl get deployments -n {namespace} "
            f"-L {config.app_label}",
        )
    plabel, penv = config.process_label, config.process_env
    narrowed = _narrow(matched, process, plabel, penv)
    if process is not None and not narrowed:
        have = sorted({p for p in (deployment_process(d, label=plabel, env=penv) for d in matched) if p})
        raise UsageError(
            f'app "{name}" has no {process} process' + (f" (it has: {', '.join(have)})" if have else "")
        )
    return narrowed


def _narrow(
    deployments: Sequence[Mapping[str, Any]], process: str | None, label: str, env: str
) -> tuple[Mapping[str, Any], ...]:
    if process is None:
        return tuple(deployments)
    return tuple(d for d in deployments if deployment_process(d, label=label, env=env) == process)


def resolve_in_namespace(
    kube: KubeClient, target: str | None, *, process: str | None = None, label_selector: str | None = None
) -> tuple[str, Target]:
    """The connection's namespace (a clear error when it does not exist) and TARGET resolved in it."""
    namespace = str(kube.namespace)
    kube.require_namespace(namespace)
    among = Selection("pods", namespace, label_selector=label_selector)
    return namespace, resolve(kube, target, among, process=process)


def resolve(
    kube: KubeClient,
    target: str | None,
    among: Selection | None = None,
    *,
    process: str | None = None,
    config: UserConfig | None = None,
) -> Target:
    """Resolve TARGET against the cluster (a ``Kube``): one or two GETs at most.

    ``among`` is where TARGET's pods are (its namespace or all of them, its ``-l`` label
    selector); by default, the connection's namespace. ``config`` (default: the user's config
    file) names the process label/env and app label.

    Raises UsageError for an invalid regex or selector, ApiError for API failures
    (404 for ``deploy/NAME`` or ``pod/NAME`` that does not exist).
    """
    query = classify(target)
    among = among or Selection("pods")
    try:
        labels = parse_label_selector(among.label_selector)
    except SelectorError as exc:
        raise UsageError(str(exc)) from None
    ns = None if among.all_namespaces else (among.namespace or kube.namespace)
    if config is None:
        from kubectl_trace.userconfig import load_user_config

        config = load_user_config()
    common: dict[str, Any] = {
        "namespace": ns,
        "process": process,
        "labels": labels,
        "label_selector": among.label_selector or None,
        "process_label": config.process_label,
        "process_env": config.process_env,
        "app_label": config.app_label,
    }
    plabel, penv = config.process_label, config.process_env
    suffix = f" ({process})" if process else ""
    if query.kind == "all":
        return Target(description=f"all pods{suffix}", kind="all", **common)
    if query.kind == "pod":
        pod = kube.get("pods", query.text, ns)  # 404 → a clear error
        return Target(description=f"pod {query.text}", kind="pod", pod_name=query.text, pod=pod, **common)
    if query.kind == "deployment":
        deployment = kube.get("deployments", query.text, ns)
        return Target(
            description=f"deployment {query.text}",
            kind="deployment",
            deployments=(deployment,),
            **common,
        )
    if query.kind == "regex":
        return Target(
            description=f"pods matching /{query.text}/{suffix}",
            kind="regex",
            pod_regex=_compile(query.text),
            **common,
        )
    # A bare name: a pod, else an app, else a regex on pod names.
    from kubectl_trace.kube.errors import ApiError

    if not among.all_namespaces:
        try:
            pod = kube.get("pods", query.text, ns)
            return Target(description=f"pod {query.text}", kind="pod", pod_name=query.text, pod=pod, **common)
        except ApiError as exc:
            if exc.status != 404:
                raise
    deployments = kube.list("deployments", ns, all_namespaces=among.all_namespaces).items
    matched = _app_deployments(query.text, deployments, config.app_label)
    if matched:
        narrowed = _narrow(matched, process, plabel, penv)
        if process == RUN_PROCESS and not narrowed:
            # one-off processes (``run``, release phases): Job pods labelled app=APP, process=run
            return Target(description=f"app {query.text}{suffix}", kind="app", app=query.text, **common)
        if process is not None and not narrowed:
            have = sorted({p for p in (deployment_process(d, label=plabel, env=penv) for d in matched) if p})
            raise UsageError(
                f'app "{query.text}" has no {process} process'
                + (f" (it has: {', '.join(have)})" if have else "")
            )
        return Target(
            description=f"app {query.text}{suffix}",
            kind="app",
            deployments=narrowed,
            app=query.text if process is None else None,
            **common,
        )
    return Target(
        description=f"pods matching /{query.text}/{suffix}",
        kind="regex",
        pod_regex=_compile(query.text),
        **common,
    )
