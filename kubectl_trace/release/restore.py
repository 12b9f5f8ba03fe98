"""Which pod template every process goes to when the app returns to a release (pure).

Every process of the app goes to the template recorded for it in that release — never a
mix: a process the release does not have, a release process whose Deployment is gone, a
template that was not kept, or (without ``force``) a release whose processes ran different
tags is refused with the reason, before anything changes. A process whose ReplicaSet for
that release has been pruned is rebuilt from the recorded template, and the plan says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kubectl_trace.errors import NodeappError
from kubectl_trace.release.plans import ReleaseTarget
from kubectl_trace.release.recording import AppReleases
from kubectl_trace.release.records import Release, is_mixed, tags_summary, template_digest, template_of

__all__ = ["release_targets"]

Obj = Mapping[str, Any]


def release_targets(
    data: AppReleases, release: Release, replicasets: Sequence[Obj], *, force: bool = False
) -> list[ReleaseTarget]:
    """One ``ReleaseTarget`` per process of the app (NodeappError when the release cannot be restored)."""
    from kubectl_trace.health.rollout import deployment_replicasets

    if is_mixed(release) and not force:
        raise _refused(
            f"v{release.number} ran different tags on its processes ({tags_summary(release.processes)}): "
            "going back to it would put a mix of tags in place",
            hint="pick a release on one tag (--to vN, --to-tag TAG), or add --force to restore it as it was",
        )
    missing = sorted(set(data.deployments) - set(release.processes))
    if missing:
        raise _refused(
            f"v{release.number} has no {', '.join(missing)} process (it was added later): "
            "the app cannot run that release as a whole"
        )
    gone = sorted(set(release.processes) - set(data.deployments))
    if gone:
        raise _refused(f"v{release.number} ran {', '.join(gone)} whose Deployment no longer exists")
    out = []
    for process, state in sorted(release.processes.items()):
        deployment = data.deployments[process]
        template = data.templates.get(state.template)
        if template is None:
            raise _refused(
                f"the pod template of {process} in v{release.number} was not kept "
                "(its ReplicaSet is gone and no copy was recorded)"
            )
        owned = deployment_replicasets(deployment, replicasets)
        kept = any(template_digest(template_of(rs)) == state.template for rs in owned)
        live = data.live.get(process)
        out.append(
            ReleaseTarget(
                process=process,
                deployment=deployment,
                template=template,
                digest=state.template,
                from_tag=live.tag if live is not None else "?",
                to_tag=state.tag,
                note="" if kept else "rebuilt from the recorded template (its ReplicaSet is gone)",
            )
        )
    return out


def _refused(why: str, hint: str = "pick a later release with --to vN") -> NodeappError:
    """The error for a release that cannot be restored: ``why``, and that nothing changed."""
    return NodeappError(f"{why}; nothing was changed", hint=hint)
