"""Pod and Deployment health, derived from objects and events: pure, cheap, shared.

Used by ``status``, the rollout dashboard (``rollout``) and ``deploy``.
Every function takes plain JSON dicts exactly as the API server sends them (camelCase,
empty fields omitted) and an injected ``now`` (epoch seconds); nothing here does I/O,
reads a clock or keeps state. Results are small frozen dataclasses; ``to_json`` turns
any of them into JSON-ready dicts (fields ending in ``_at`` become RFC 3339 strings).

Pods
----
``pod_health(pod, events, now) -> PodHealth``
    ``events``: an ``EventIndex`` (build one per batch with ``index_events(event_dicts)``;
    a lookup is one dict access) or any iterable of event dicts/``EventRecord`` (filtered
    to the pod by ``involvedObject`` kind/namespace/name/uid: fine for one pod, O(events)
    per call). ``PodHealth`` carries:

    - ``verdict``: ``healthy`` | ``starting`` | ``unhealthy`` | ``terminating`` | ``completed``;
      ``ok`` is False only for ``unhealthy``;
    - ``status`` (kubectl's STATUS column: ``Running``, ``CrashLoopBackOff``,
      ``ImagePullBackOff``, ``ContainerCreating``, ``Init:0/1``, ``Terminating`` …),
      ``phase``, ``ready``, ``ready_text`` (``1/2``), ``template_hash``, ``owner``;
    - ``restarts`` and ``last_termination`` (``Termination``: reason, exit_code, signal,
      finished_at) with ``last_restart_cause`` (``liveness`` when the kubelet killed it for
      failing the probe) and ``restarts_text(now)`` → ``3 (OOMKilled 2h)``, ``5 (liveness 6s)``;
    - ``containers`` / ``init_containers``: ``ContainerHealth`` (state running / waiting /
      terminated with ``reason`` such as CrashLoopBackOff, ImagePullBackOff, ErrImagePull,
      ContainerCreating; ``restarts``; ``termination`` (this instance) and
      ``last_termination`` (the previous one), ``latest_termination``, ``crash_looping``;
      ``readiness`` / ``liveness`` / ``startup``: ``ProbeHealth``);
    - ``ProbeHealth.state``: ``ok`` | ``failing`` | ``unknown`` | ``none`` (no probe declared),
      with ``failures`` (count from ``Unhealthy`` events), ``last_failure`` (kubelet message
      without the ``Readiness probe failed:`` prefix), ``first_failure_at`` /
      ``last_failure_at``, ``detail`` (why unknown), ``threshold`` (failureThreshold) and
      ``sustained`` (failures ≥ threshold); ``short`` → ``failing ×3 (503)`` for a column and
      ``sentence(now)`` for a line. ``PodHealth.probe("readiness")`` gives the worst
      container's. A probe failing fewer times than its threshold (a start-up blip) is a
      ``warning`` problem; a sustained one an ``error``;
    - ``scheduling``: why the pod cannot be scheduled (PodScheduled=False / FailedScheduling);
    - ``problems``: ``Problem(code, severity, message, container)``, ``severity`` ``error``
      (makes the pod unhealthy) or ``warning``; ``summary``: one line (the first problem,
      else ``ready`` / ``starting (ContainerCreating)`` …).

Deployments
-----------
``deployment_rollout(deployment, replicasets, now) -> RolloutState``
    ``replicasets`` may be all of the namespace's (picked by controller owner uid).
    ``state``: ``complete`` | ``progressing`` | ``stalled`` | ``paused`` (as
    ``kubectl rollout status`` decides), ``message`` (e.g. the controller's
    ``ReplicaSet "x" has timed out progressing.``), ``revision``, ``images`` / ``tags``,
    ``desired`` / ``current`` / ``updated`` / ``ready`` / ``available`` / ``unavailable``,
    ``strategy``, ``max_surge`` / ``max_unavailable`` (resolved ints; ``*_spec`` as written),
    ``surge``, ``over_surge`` / ``over_unavailable``, ``progress`` (0..1),
    ``progress_deadline_seconds`` and ``deadline_left``, ``new`` / ``old`` (active old
    ReplicaSets) / ``history`` (``ReplicaSetInfo``: name, revision, tags, desired, ready,
    available …), ``old_tags``, ``revision_of(template_hash)`` (a pod's REV column),
    ``problems``, ``summary``, ``ok``.
``deployment_pods(deployment, pods)`` and ``deployment_replicasets(deployment, rss)`` pick a
Deployment's own objects out of a namespace's.

Events
------
``event_record(event) -> EventRecord`` normalises one core/v1 Event (classic
``firstTimestamp``/``lastTimestamp``/``count`` or ``eventTime``/``series``): kind,
object_name, container (from ``fieldPath``), type, reason, message, count, first_at,
last_at, ``warning``, ``object_ref`` (``pod/x``), ``span`` (``×12 over 3m``).
``index_events``, ``events_for``, ``timeline(events, since_at=, types=)`` (sorted by last
occurrence) and ``group_events`` (merges records saying the same thing about the same
object: counts add, spans widen). ``EventScope.of(deployments=…, pods=…)`` decides
which events belong to a Deployment (its ReplicaSets and pods by name, gone ones included).

Practice findings
-----------------
``deployment_findings(deployment)`` / ``pod_findings(pod)`` → ``[Finding(code, object,
container, message, why, fix)]``. Codes: ``no-readiness-probe``,
``liveness-equals-readiness`` (same check, failureThreshold ≤ 3), ``no-prestop``,
``short-grace-period``, ``image-tag-latest`` (``latest`` or no tag), ``literal-credential``
(a credential-like env name, or a URL with a password, as a literal ``value`` instead of
``secretKeyRef`` — the value is never part of the finding), ``single-replica-production``
(namespace ``production``/``prod``; a ``clock`` process is exempt), ``no-resource-requests``.

Resources and shutdowns
-----------------------
Imported from their modules (not re-exported): ``quantity`` (CPU/memory quantities),
``resources`` (``pod_usages``/``process_usages``: PodMetrics against requests and limits),
``heap`` (``oom_advice``: the memory limit, the V8 heap allowed, what to change),
``shutdown`` (``shutdown_facts``: graceful or killed after the grace period, and why) and
``processes`` (mixed Node.js versions, plain-text logs).

Cost
----
``pod_health`` with an ``EventIndex`` does a few dozen dict lookups and allocates a few
small frozen objects per pod: about 50–100 µs per pod on the shared 2-core CI machine, so
a frame of 2,000 pods costs 0.1–0.2 s (``bench/status.py`` has the figures). Timestamps are
parsed through a cache and probe specs are remembered by the identity of the probe dict:
treat objects as read-only snapshots (replace, never mutate in place), as the watch gives
them. A dashboard should keep each ``PodHealth`` until its pod or that pod's events change,
and recompute on a slow tick (ages and "recent" windows depend on ``now``), rather than
derive every pod on every frame.
"""

from __future__ import annotations

from kubectl_trace.health._json import rfc3339, to_json
from kubectl_trace.health.events import (
    EventIndex,
    EventRecord,
    EventScope,
    EventSource,
    event_record,
    events_for,
    group_events,
    index_events,
    timeline,
)
from kubectl_trace.health.findings import Finding, deployment_findings, pod_findings, pod_spec_findings
from kubectl_trace.health.images import ImageRef, image_ref, image_tag
from kubectl_trace.health.pods import (
    ContainerHealth,
    PodHealth,
    ProbeHealth,
    Problem,
    Termination,
    pod_health,
)
from kubectl_trace.health.probes import ProbeSpec, probe_spec
from kubectl_trace.health.rollout import (
    ContainerImage,
    ReplicaSetInfo,
    RolloutState,
    deployment_pods,
    deployment_replicasets,
    deployment_rollout,
)

__all__ = [
    "ContainerHealth",
    "ContainerImage",
    "EventIndex",
    "EventRecord",
    "EventScope",
    "EventSource",
    "Finding",
    "ImageRef",
    "PodHealth",
    "ProbeHealth",
    "ProbeSpec",
    "Problem",
    "ReplicaSetInfo",
    "RolloutState",
    "Termination",
    "deployment_findings",
    "deployment_pods",
    "deployment_replicasets",
    "deployment_rollout",
    "event_record",
    "events_for",
    "group_events",
    "image_ref",
    "image_tag",
    "index_events",
    "pod_findings",
    "pod_health",
    "pod_spec_findings",
    "probe_spec",
    "rfc3339",
    "timeline",
    "to_json",
]
