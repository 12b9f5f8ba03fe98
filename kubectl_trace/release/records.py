"""App releases as records (pure): what one release is, the live state, legacy ones, drift.

A release is the whole app at one moment: per process the Deployment, the image tag and a
digest of the pod template, plus what made it (``deploy a41c9e7``, ``env set LOG_LEVEL``,
``rollback to v3``, ``promote from staging``), who, when and how its rollout ended
(``healthy``, ``failed``, ``pending`` while followed or with ``--no-wait``, ``unknown`` for
releases reconstructed from ReplicaSets).

The digest ignores what does not make a different release: the ``pod-template-hash`` label
the controller adds and ``kubectl.kubernetes.io/restartedAt`` (a restart runs the same
release again). Pod templates themselves are kept beside the records (by digest) so a
rollback can rebuild a process whose ReplicaSet the controller has pruned.

Releases made before nodeapp recorded any (or by plain kubectl) are reconstructed from the
ReplicaSets (``legacy_releases``): their creation times ordered, ReplicaSets created within
``GROUP_SECONDS`` of each other form one release, and consecutive states with the same
digests fold into one.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from kubectl_trace.errors import NodeappError, UsageError
from kubectl_trace.release.shutdowns import ProcessShutdowns

__all__ = [
    "GROUP_SECONDS",
    "DriftItem",
    "Ledger",
    "ProcessState",
    "Release",
    "current_release",
    "default_target",
    "drift",
    "find_target",
    "is_mixed",
    "legacy_releases",
    "live_state",
    "parse_release_number",
    "process_tag",
    "release_from_json",
    "release_to_json",
    "tags_summary",
    "template_digest",
    "template_of",
]

Obj = Mapping[str, Any]
GROUP_SECONDS = 120.0
TEMPLATE_HASH = "pod-template-hash"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
HEALTHY, FAILED, PENDING, UNKNOWN = "healthy", "failed", "pending", "unknown"


@dataclass(frozen=True)
class ProcessState:
    """One process of a release: its Deployment, image tag and pod-template digest."""

    deployment: str
    tag: str
    template: str  # "sha256:…" (template_digest)


@dataclass(frozen=True)
class Release:
    """One numbered release of an app."""

    number: int
    action: str  # deploy, env set, env unset, rollback, promote, kubectl
    argument: str  # the tag, the keys (never values), "v3", "staging"
    processes: Mapping[str, ProcessState]
    author: str
    time: float
    outcome: str = UNKNOWN
    legacy: bool = False
    shutdowns: tuple[ProcessShutdowns, ...] = ()  # how the old pods stopped in its rollout

    @property
    def description(self) -> str:
        """``deploy d4e5f6a``, ``rollback to v3``, ``kubectl (reconstructed)``."""
        return f"{self.action} {self.argument}".strip()

    def digests(self) -> dict[str, str]:
        """Process → template digest."""
        return {p: s.template for p, s in self.processes.items()}


@dataclass(frozen=True)
class DriftItem:
    """A process whose live state is not the one its last release recorded."""

    process: str
    deployment: str
    recorded_tag: str | None  # None: the process is not in the release
    live_tag: str | None  # None: the Deployment is gone

    def to_json(self) -> dict[str, Any]:
        """``{process, deployment, recordedTag, liveTag}``."""
        return {
            "process": self.process,
            "deployment": self.deployment,
            "recordedTag": self.recorded_tag,
            "liveTag": self.live_tag,
        }

    def text(self, release: int) -> str:
        """``trace-api-web runs 9e1f00a, not v12's a41c9e7``."""
        if self.live_tag is None:
            return f"{self.deployment} ({self.process}) of v{release} no longer exists"
        if self.recorded_tag is None:
            return f"{self.deployment} ({self.process}) is not part of v{release}"
        if self.live_tag != self.recorded_tag:
            return f"{self.deployment} runs {self.live_tag}, not v{release}'s {self.recorded_tag}"
        return f"{self.deployment} runs {self.live_tag} with a pod template other than v{release}'s"


def template_of(obj: Obj) -> dict[str, Any]:
    """The pod template of a Deployment or ReplicaSet, without ``pod-template-hash`` (a copy)."""
    return without_hash((obj.get("spec") or {}).get("template"))


def without_hash(template: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of a pod template without the ``pod-template-hash`` label ReplicaSets add."""
    out = copy.deepcopy(dict(template or {}))
    meta = dict(out.get("metadata") or {})
    labels = dict(meta.get("labels") or {})
    labels.pop(TEMPLATE_HASH, None)
    if labels:
        meta["labels"] = labels
    else:
        meta.pop("labels", None)
    out["metadata"] = meta
    return out


def template_digest(template: Mapping[str, Any]) -> str:
    """A stable digest of a pod template, blind to the hash label and restarts."""
    body = copy.deepcopy(dict(template))
    meta = dict(body.get("metadata") or {})
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if k != TEMPLATE_HASH}
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k != RESTARTED_AT}
    meta.pop("creationTimestamp", None)
    meta["labels"] = labels
    meta["annotations"] = annotations
    body["metadata"] = meta
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:16]


def process_tag(obj: Obj, repository: str | None) -> str:
    """The tag(s) a pod template runs of the app's image (``a,b`` when its containers differ)."""
    from kubectl_trace.health.images import image_ref

    spec = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    containers = list(spec.get("containers") or [])
    images = [str(c.get("image") or "") for c in containers]
    if repository:
        mine = [i for i in images if i and image_ref(i).repository == repository]
        images = mine or images[:1]
    else:
        images = images[:1]
    tags = list(dict.fromkeys((image_ref(i).tag or "(no tag)") if i else "(no image)" for i in images))
    return ",".join(tags) or "(no image)"


def live_state(
    deployments: Iterable[tuple[str, Obj]], repository: str | None
) -> tuple[dict[str, ProcessState], dict[str, dict[str, Any]]]:
    """Process → state of the live Deployments (``(process, deployment)`` pairs), and the templates."""
    states: dict[str, ProcessState] = {}
    templates: dict[str, dict[str, Any]] = {}
    for process, d in deployments:
        template = template_of(d)
        digest = template_digest(template)
        templates[digest] = template
        name = str((d.get("metadata") or {}).get("name") or "")
        states[process] = ProcessState(name, process_tag(d, repository), digest)
    return states, templates


def is_mixed(release: Release) -> bool:
    """Whether the processes of a release run different tags."""
    return len({s.tag for s in release.processes.values()}) > 1


def tags_summary(processes: Mapping[str, ProcessState]) -> str:
    """``web,worker,clock=d4e5f6a`` or ``web,clock=d4e5f6a worker=a41c9e7``."""
    by_tag: dict[str, list[str]] = {}
    for process, state in processes.items():
        by_tag.setdefault(state.tag, []).append(process)
    return " ".join(f"{','.join(ps)}={tag}" for tag, ps in by_tag.items()) or "(no processes)"


def drift(last: Release | None, live: Mapping[str, ProcessState]) -> list[DriftItem]:
    """How the live state differs from the last release (empty: none, or no release yet)."""
    if last is None:
        return []
    out = []
    for process, state in last.processes.items():
        now = live.get(process)
        if now is None:
            out.append(DriftItem(process, state.deployment, state.tag, None))
        elif now.template != state.template:
            out.append(DriftItem(process, state.deployment, state.tag, now.tag))
    for process, now in live.items():
        if process not in last.processes:
            out.append(DriftItem(process, now.deployment, None, now.tag))
    return out


def current_release(releases: Sequence[Release], live: Mapping[str, ProcessState]) -> Release | None:
    """The newest release whose every process runs the live pod template."""
    wanted = {p: s.template for p, s in live.items()}
    for r in sorted(releases, key=lambda r: r.number, reverse=True):
        if r.digests() == wanted:
            return r
    return None


def parse_release_number(text: str) -> int:
    """``v3`` or ``3`` → 3 (UsageError otherwise)."""
    match = re.fullmatch(r"[vV]?([0-9]{1,9})", text.strip())
    if not match or int(match.group(1)) < 1:
        raise UsageError(f"--to takes a release like v3, not {text!r}")
    return int(match.group(1))


def find_target(releases: Sequence[Release], *, number: int | None = None, tag: str | None = None) -> Release:
    """The release ``--to vN`` or ``--to-tag TAG`` names (the newest one on that tag)."""
    ordered = sorted(releases, key=lambda r: r.number, reverse=True)
    have = ", ".join(f"v{r.number}" for r in ordered[:8]) or "none"
    if number is not None:
        for r in ordered:
            if r.number == number:
                return r
        raise NodeappError(f"there is no release v{number} (releases: {have})")
    for r in ordered:
        if r.processes and all(s.tag == tag for s in r.processes.values()):
            return r
    tags = ", ".join(dict.fromkeys(s.tag for r in ordered for s in r.processes.values() if "," not in s.tag))
    raise NodeappError(
        f"no release runs {tag} on every process" + (f" (tags in the history: {tags})" if tags else "")
    )


def default_target(releases: Sequence[Release], live: Mapping[str, ProcessState]) -> tuple[Release, str]:
    """The release ``rollback`` goes to by default, and why that one.

    The newest release, other than what runs now, whose rollout completed healthy; without
    one, the newest not known to have failed (reconstructed releases and those made with
    ``--no-wait`` have no known outcome).
    """
    wanted = {p: s.template for p, s in live.items()}
    ordered = sorted(releases, key=lambda r: r.number, reverse=True)
    others = [r for r in ordered if r.digests() != wanted and r.processes]
    for r in others:
        if r.outcome == HEALTHY:
            return r, "the last release whose rollout completed healthy"
    for r in others:
        if r.outcome in (UNKNOWN, PENDING):  # reconstructed, or made with --no-wait
            return r, "the last release not known to have failed (its outcome was not recorded)"
    raise NodeappError(
        "no earlier release to roll back to: every other release failed or is still rolling out",
        hint="name one with --to vN (see them with: kubectl nodeapp history APP)",
    )


_CAUSE_BY = re.compile(r"\bby (?P<who>\S+) at \S+$")


def legacy_releases(
    deployments: Sequence[tuple[str, Obj]],
    replicasets: Sequence[Obj],
    repository: str | None,
    *,
    first_number: int = 1,
) -> tuple[list[Release], dict[str, dict[str, Any]]]:
    """Releases reconstructed from the ReplicaSets of ``(process, deployment)`` pairs (oldest first)."""
    from kubectl_trace.health.rollout import deployment_replicasets
    from kubectl_trace.timeparse import parse_rfc3339

    changes: list[tuple[float, int, str, Obj]] = []
    for process, d in deployments:
        mine: list[tuple[int, float, Obj]] = []
        for rs in deployment_replicasets(d, replicasets):
            meta = rs.get("metadata") or {}
            annotations = meta.get("annotations") or {}
            try:
                revision = int(annotations.get("deployment.kubernetes.io/revision", "0"))
                created = parse_rfc3339(str(meta.get("creationTimestamp") or ""))
            except (TypeError, ValueError):
                continue
            mine.append((revision, created, rs))
        # A ReplicaSet brought back by an undo keeps its creation time but takes the newest
        # revision: it went live after the revision before it, whatever its age.
        latest = float("-inf")
        for revision, created, rs in sorted(mine, key=lambda m: m[0]):
            # (its own release: later than the group of the revision before it)
            latest = created if created >= latest else latest + GROUP_SECONDS + 1
            changes.append((latest, revision, process, rs))
    changes.sort(key=lambda c: (c[0], c[1]))
    releases: list[Release] = []
    templates: dict[str, dict[str, Any]] = {}
    state: dict[str, ProcessState] = {}
    index = 0
    while index < len(changes):
        start = changes[index][0]
        causes: list[str] = []
        group_end = index
        while group_end < len(changes) and changes[group_end][0] - start <= GROUP_SECONDS:
            group_end += 1
        for _created, _, process, rs in changes[index:group_end]:
            template = template_of(rs)
            digest = template_digest(template)
            templates[digest] = template
            d_name = next(str(d["metadata"]["name"]) for p, d in deployments if p == process)
            state[process] = ProcessState(d_name, process_tag(rs, repository), digest)
            annotations = (rs.get("metadata") or {}).get("annotations") or {}
            cause = str(annotations.get("kubernetes.io/change-cause") or "")
            if cause:
                causes.append(cause)
        at = changes[group_end - 1][0]
        index = group_end
        snapshot = dict(state)
        if releases and releases[-1].digests() == {p: s.template for p, s in snapshot.items()}:
            continue
        cause = causes[-1] if causes else ""
        who = _CAUSE_BY.search(cause)
        releases.append(
            Release(
                number=first_number + len(releases),
                action="kubectl",
                argument=f"({cause})" if cause else "(reconstructed)",
                processes=snapshot,
                author=who.group("who") if who else "unknown",
                time=at,
                outcome=UNKNOWN,
                legacy=True,
            )
        )
    return releases, templates


def release_to_json(release: Release) -> dict[str, Any]:
    """The stored (and ``-o json``) form of a release."""
    from kubectl_trace.health import rfc3339

    out: dict[str, Any] = {
        "release": release.number,
        "action": release.action,
        "argument": release.argument,
        "description": release.description,
        "processes": {
            p: {"deployment": s.deployment, "tag": s.tag, "template": s.template}
            for p, s in release.processes.items()
        },
        "author": release.author,
        "time": rfc3339(release.time),
        "outcome": release.outcome,
        "legacy": release.legacy,
    }
    if release.shutdowns:  # only releases whose rollout was followed to the end have them
        out["shutdowns"] = [s.to_json() for s in release.shutdowns]
    return out


def release_from_json(data: Mapping[str, Any]) -> Release:
    """Read a stored release (ValueError/KeyError/TypeError on a malformed one)."""
    from kubectl_trace.timeparse import parse_rfc3339

    processes = {
        str(p): ProcessState(str(s["deployment"]), str(s["tag"]), str(s["template"]))
        for p, s in (data.get("processes") or {}).items()
    }
    return Release(
        number=int(data["release"]),
        action=str(data["action"]),
        argument=str(data.get("argument") or ""),
        processes=processes,
        author=str(data.get("author") or "unknown"),
        time=parse_rfc3339(str(data["time"])),
        outcome=str(data.get("outcome") or UNKNOWN),
        legacy=bool(data.get("legacy")),
        shutdowns=tuple(ProcessShutdowns.from_json(s) for s in data.get("shutdowns") or ()),
    )


@dataclass
class Ledger:
    """Every recorded release of an app, and the pod templates they refer to."""

    releases: list[Release] = field(default_factory=list)
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def last(self) -> Release | None:
        """The newest release."""
        return max(self.releases, key=lambda r: r.number) if self.releases else None

    @property
    def next_number(self) -> int:
        """The number the next release gets."""
        last = self.last
        return last.number + 1 if last is not None else 1

    def with_outcome(
        self, number: int, outcome: str, shutdowns: Sequence[ProcessShutdowns] | None = None
    ) -> bool:
        """Set a release's outcome, and how its old pods stopped (False when it is not there any more)."""
        for i, r in enumerate(self.releases):
            if r.number == number:
                stops = r.shutdowns if shutdowns is None else tuple(shutdowns)
                self.releases[i] = replace(r, outcome=outcome, shutdowns=stops)
                return True
        return False

    def trim(self, keep: int) -> None:
        """Keep the newest ``keep`` releases and only the templates they use."""
        self.releases = sorted(self.releases, key=lambda r: r.number)[-keep:]
        used = {s.template for r in self.releases for s in r.processes.values()}
        self.templates = {k: v for k, v in self.templates.items() if k in used}
