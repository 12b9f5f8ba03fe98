"""Helpers the controllers share (after client-go / kube-controller-manager's util packages)."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import math
import random
import re
from typing import Any

from kubectl_trace.kube.selectors import match_label_selector_object
from kubectl_trace.sandbox.store import Store, StoreError, rfc3339

__all__ = [
    "ALPHANUMS",
    "HASH_LABEL",
    "controller_of",
    "equal_ignore_hash",
    "graceful_delete",
    "int_or_percent",
    "is_pod_active",
    "is_pod_ready",
    "new_replicaset",
    "owned_object",
    "owner_reference",
    "random_suffix",
    "selector_matches",
    "template_hash",
]

Obj = dict[str, Any]

HASH_LABEL = "pod-template-hash"
# k8s.io/apimachinery/pkg/util/rand: no vowels, no look-alike characters
ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"


def random_suffix(n: int = 5) -> str:
    """A random name suffix as ``generateName`` produces it."""
    return "".join(random.choice(ALPHANUMS) for _ in range(n))


def safe_encode(text: str) -> str:
    """``rand.SafeEncodeString``: every byte mapped into ``ALPHANUMS``."""
    return "".join(ALPHANUMS[b % len(ALPHANUMS)] for b in text.encode())


def _prune(value: Any) -> Any:
    """Drop None, empty maps and empty lists (Semantic.DeepEqual treats them as unset)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            pruned = _prune(item)
            if pruned is None or pruned == {} or pruned == []:
                continue
            out[key] = pruned
        return out
    if isinstance(value, list):
        return [_prune(item) for item in value]
    return value


def _without_hash(template: Obj | None) -> Obj:
    tpl = copy.deepcopy(template or {})
    labels = (tpl.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    pruned: Obj = _prune(tpl)
    return pruned


def equal_ignore_hash(a: Obj | None, b: Obj | None) -> bool:
    """Two pod templates are equal ignoring the ``pod-template-hash`` label."""
    return _without_hash(a) == _without_hash(b)


def template_hash(template: Obj | None, collision_count: int | None = None) -> str:
    """A stable hash of a pod template, spelled like ``controller.ComputeHash`` (``5d9c8f7b6``)."""
    text = json.dumps(_without_hash(template), sort_keys=True, separators=(",", ":"))
    if collision_count:
        text += f"#{collision_count}"
    digest = hashlib.blake2b(text.encode(), digest_size=4).digest()
    return safe_encode(str(int.from_bytes(digest, "big")))


def int_or_percent(value: Any, total: int, *, round_up: bool) -> int:
    """``intstr.GetScaledValueFromIntOrPercent``."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    text = str(value).strip()
    match = re.fullmatch(r"(\d+)%", text)
    if match:
        scaled = int(match.group(1)) * total / 100
        return math.ceil(scaled) if round_up else math.floor(scaled)
    try:
        return int(text)
    except ValueError:
        return 0


def owner_reference(obj: Obj) -> Obj:
    """A controller owner reference to ``obj``."""
    return {
        "apiVersion": obj.get("apiVersion", "v1"),
        "kind": obj.get("kind", ""),
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def owned_object(
    owner: Obj, api_version: str, kind: str, name: str, labels: Obj, annotations: Obj | None = None
) -> Obj:
    """A new object ``name`` in ``owner``'s namespace, controlled by ``owner`` (no spec yet)."""
    meta: Obj = {"name": name, "namespace": owner["metadata"]["namespace"], "labels": labels}
    if annotations is not None:
        meta["annotations"] = annotations
    meta["ownerReferences"] = [owner_reference(owner)]
    return {"apiVersion": api_version, "kind": kind, "metadata": meta}


def new_replicaset(
    deployment: Obj, template: Obj, pod_hash: str, replicas: int, annotations: Obj | None = None
) -> Obj:
    """A ReplicaSet of ``deployment`` for ``template``: named, labelled and selecting by ``pod_hash``."""
    template = copy.deepcopy(template)
    tmeta = template.setdefault("metadata", {})
    tmeta["labels"] = {**(tmeta.get("labels") or {}), HASH_LABEL: pod_hash}
    selector = copy.deepcopy(deployment["spec"].get("selector") or {})
    selector["matchLabels"] = {**(selector.get("matchLabels") or {}), HASH_LABEL: pod_hash}
    name = f"{deployment['metadata']['name']}-{pod_hash}"
    rs = owned_object(deployment, "apps/v1", "ReplicaSet", name, dict(tmeta["labels"]), annotations)
    rs["spec"] = {"replicas": replicas, "selector": selector, "template": template}
    return rs


def controller_of(obj: Obj) -> Obj | None:
    """The controller owner reference of ``obj``, if any."""
    ref: Obj
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def selector_matches(selector: Obj | None, labels: Obj | None) -> bool:
    """Whether a ``LabelSelector`` object selects ``labels`` (an empty selector selects nothing here)."""
    if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        return False
    return match_label_selector_object(selector, labels)


def is_pod_active(pod: Obj) -> bool:
    """``controller.IsPodActive``: not terminal and not being deleted."""
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and not pod["metadata"].get("deletionTimestamp")


def is_pod_terminating(pod: Obj) -> bool:
    """Being deleted but not yet terminal."""
    phase = (pod.get("status") or {}).get("phase")
    return bool(pod["metadata"].get("deletionTimestamp")) and phase not in ("Succeeded", "Failed")


def ready_condition(pod: Obj) -> Obj | None:
    """The pod's Ready condition."""
    cond: Obj
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond
    return None


def is_pod_ready(pod: Obj) -> bool:
    """``podutil.IsPodReady``."""
    cond = ready_condition(pod)
    return bool(cond and cond.get("status") == "True")


def graceful_delete(store: Store, pod: Obj, grace: int | None = None, *, now: float) -> None:
    """Delete a pod as the API server does.

    Unbound or terminal pods go at once; others get ``deletionTimestamp`` and
    ``deletionGracePeriodSeconds`` for the kubelet to honour.
    """
    meta = pod["metadata"]
    ns, name = meta.get("namespace"), meta["name"]
    if meta.get("deletionTimestamp"):
        return
    if grace is None:
        grace = int((pod.get("spec") or {}).get("terminationGracePeriodSeconds", 30))
    phase = (pod.get("status") or {}).get("phase")
    if grace <= 0 or not (pod.get("spec") or {}).get("nodeName") or phase in ("Succeeded", "Failed"):
        with contextlib.suppress(StoreError):
            store.remove("pods", ns, name, uid=meta.get("uid"))
        return

    def mark(draft: Obj) -> None:
        draft["metadata"]["deletionTimestamp"] = rfc3339(now + grace)
        draft["metadata"]["deletionGracePeriodSeconds"] = grace

    with contextlib.suppress(StoreError):
        store.mutate("pods", ns, name, mark)
