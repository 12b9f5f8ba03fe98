"""The Job of a one-off process, built from an app's process Deployment (pure).

The pod template of process P is the starting point, so the one-off process sees the same
image, env, envFrom, volumes, service account and resources as the app; what makes it a
one-off: only the app's container (no sidecars, no ports, no probes, no lifecycle hooks),
the command given, ``restartPolicy: Never``, ``backoffLimit: 0``, labels ``app`` and
``process=run`` (so no Service sends it traffic), ``PROCESS_TYPE=run`` unless the user
sets it, an annotation saying who ran what, and ``ttlSecondsAfterFinished`` as a safety
net for when the client never comes back to delete it.
"""

from __future__ import annotations

import copy
import random
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubectl_trace.health.images import image_ref
from kubectl_trace.kube.targets import RUN_PROCESS as TARGET_RUN_PROCESS

__all__ = [
    "RUN_ANNOTATION",
    "RUN_PROCESS",
    "RunSpec",
    "build_run_job",
    "job_condition",
    "run_job_name",
]

Obj = Mapping[str, Any]

RUN_ANNOTATION = "nodeapp.kubectl-trace.io/run"
RUN_PROCESS = TARGET_RUN_PROCESS
_SUFFIX = "bcdfghjklmnpqrstvwxz2456789"
_DROPPED = ("livenessProbe", "readinessProbe", "startupProbe", "lifecycle", "ports")
_POD_DROPPED = ("hostname", "subdomain", "nodeName", "readinessGates")


@dataclass(frozen=True)
class RunSpec:
    """What to run and how."""

    app: str
    command: tuple[str, ...]
    name: str
    user: str
    at: str  # RFC 3339, when it was asked for
    tag: str | None = None  # another tag of the app's image (default: the one process P runs)
    repository: str | None = None  # the app's image repository (its container is the one run)
    tty: bool = False
    env: tuple[tuple[str, str], ...] = ()
    timeout_seconds: int | None = None  # activeDeadlineSeconds
    ttl_seconds: int = 3600
    process_label: str = "process"
    process_env: str = "PROCESS_TYPE"
    app_label: str = "app"
    kind: str = "run"  # or "release" (the annotation says which)


def run_job_name(app: str, kind: str = "run", rng: random.Random | None = None) -> str:
    """``trace-api-run-x7k2q``: the app, the kind, a random suffix (a DNS label)."""
    pick = rng or random.SystemRandom()
    suffix = "".join(pick.choice(_SUFFIX) for _ in range(5))
    return f"{app[: 63 - len(kind) - 7].rstrip('-')}-{kind}-{suffix}"


def _main_container(containers: Sequence[Obj], repository: str | None) -> int:
    if repository:
        for index, container in enumerate(containers):
            image = str(container.get("image") or "")
            if image and image_ref(image).repository == repository:
                return index
    return 0


def _with_tag(image: str, tag: str) -> str:
    ref = image_ref(image)
    return f"{ref.repository}:{tag}"


def _set_env(container: dict[str, Any], name: str, value: str) -> None:
    env = [dict(e) for e in container.get("env") or [] if e.get("name") != name]
    env.append({"name": name, "value": value})
    container["env"] = env


def build_run_job(deployment: Obj, spec: RunSpec) -> dict[str, Any]:
    """The Job running ``spec.command`` with the pod template of ``deployment``."""
    meta = deployment.get("metadata") or {}
    template = copy.deepcopy(((deployment.get("spec") or {}).get("template")) or {})
    pod_spec: dict[str, Any] = dict(template.get("spec") or {})
    containers = list(pod_spec.get("containers") or [])
    if not containers:
        raise ValueError(f"Deployment {meta.get('name')} has no containers")
    main = dict(containers[_main_container(containers, spec.repository)])
    for key in _DROPPED:
        main.pop(key, None)
    main["command"] = list(spec.command)
    main.pop("args", None)
    if spec.tag:
        main["image"] = _with_tag(str(main.get("image") or ""), spec.tag)
    user_env = dict(spec.env)
    user_env.setdefault(spec.process_env, RUN_PROCESS)
    for name, value in user_env.items():
        _set_env(main, name, value)
    if spec.tty:
        main.update({"stdin": True, "stdinOnce": True, "tty": True})
    else:
        for key in ("stdin", "stdinOnce", "tty"):
            main.pop(key, None)
    pod_spec["containers"] = [main]
    pod_spec["restartPolicy"] = "Never"
    for key in _POD_DROPPED:
        pod_spec.pop(key, None)
    labels = {
        k: v
        for k, v in ((template.get("metadata") or {}).get("labels") or {}).items()
        if k != "pod-template-hash"
    }
    labels[spec.app_label] = spec.app
    labels[spec.process_label] = RUN_PROCESS
    what = shlex.join(spec.command)
    annotation = f"{spec.kind} by {spec.user or 'unknown'} at {spec.at}: {what}"
    annotations = {RUN_ANNOTATION: annotation}
    job_spec: dict[str, Any] = {
        "backoffLimit": 0,
        "ttlSecondsAfterFinished": spec.ttl_seconds,
        "template": {"metadata": {"labels": labels, "annotations": annotations}, "spec": pod_spec},
    }
    if spec.timeout_seconds is not None:
        job_spec["activeDeadlineSeconds"] = spec.timeout_seconds
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": spec.name,
            "namespace": meta.get("namespace"),
            "labels": {spec.app_label: spec.app, spec.process_label: RUN_PROCESS},
            "annotations": dict(annotations),
        },
        "spec": job_spec,
    }


def job_condition(job: Obj, type_: str) -> Obj | None:
    """The Job's condition ``type_`` (``Complete``, ``Failed``, …) when it holds, else None."""
    for cond in (job.get("status") or {}).get("conditions") or []:
        if cond.get("type") == type_ and cond.get("status") == "True":
            return dict(cond)
    return None
