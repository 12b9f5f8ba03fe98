"""The rollout dashboard (``kubectl nodeapp rollout``): watches in, a pure state, views out.

Data flows one way:

- ``feed``: one ``kube.watch.ResilientWatch`` per kind (Deployments, ReplicaSets, pods,
  events of the namespace), each in its own thread, and a ``LogFollower`` for the selected
  pod, put small frozen inputs (``state.WatchInput``, ``state.LogInput``) in an ``Inbox``;
- ``reducer.reduce_all(snapshot, inputs)`` folds them into an immutable ``state.Snapshot``
  (``pmap.PMap``: a change copies one shard, thousands of pods cost little), including
  each watch's connection state (connecting, live, reconnecting with the last error,
  failed) — the "reconnecting" banner and the stale marks come from there;
- ``derive.derive(snapshot, ui, now)`` computes the ``Frame`` a screen shows (rollout
  state of every Deployment via ``kubectl_trace.health``, the selected Deployment's pods
  in order, the pod whose log is tailed);
- ``panels`` and ``views`` render a frame (+ ``ui.UiState``, the clock, the size) with
  rich — pod health is derived only for visible rows; ``keys.handle_key`` turns a key
  into a new ``UiState`` and maybe an ``ui.Action``;
- ``app.Dashboard`` is the prompt_toolkit application that ties it together (redraws
  coalesced to at most ~10 a second); ``actions`` performs undo / pause / resume /
  restart; ``headless`` gives ``--once`` and ``--until-complete``.

``run_dashboard(kube, namespace, deployment=None, env=…, on_ready=…)`` is the entry point
for other commands (``demo``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kubectl_trace.dashboard.app import DashboardHandle
    from kubectl_trace.environment import Environment
    from kubectl_trace.kube.calls import KubeClient

__all__ = ["run_dashboard"]


def run_dashboard(
    kube: KubeClient,
    namespace: str,
    *,
    deployment: str | None = None,
    env: Environment,
    global_args: Sequence[str] | None = None,
    on_ready: Callable[[DashboardHandle], None] | None = None,
) -> int:
    """Show the dashboard of ``namespace`` on the terminal until the user quits; returns 0.

    ``deployment`` is selected first. ``global_args`` (``--kubeconfig F``, ``--context C``)
    are passed to the ``kubectl nodeapp logs|shell`` the ``l`` and ``s`` keys run, so they
    reach the same cluster. ``on_ready(handle)`` is called once, in a thread of its own,
    when the dashboard is on screen: ``handle.narrate(text)`` shows a line in the footer,
    ``handle.select(name)`` selects a Deployment, ``handle.exit()`` closes the dashboard,
    ``handle.snapshot`` is the latest state. The terminal is restored on return.
    """
    import gc

    from kubectl_trace.dashboard.feed import Inbox, WatchFeed
    from kubectl_trace.dashboard.usage import METRICS_EVERY

    # The first lists of a big namespace decode into a million objects; the cyclic
    # collector would scan them all several times while they arrive (~150 ms at 1,250 pods
    # and 10,000 events). It is off until the first whole frame, which then freezes what
    # was loaded (see ``Dashboard._settle_memory``); objects are still freed by refcount.
    collecting = gc.isenabled()
    gc.disable()
    try:
        # The watches start listing before prompt_toolkit and rich are even imported: the
        # first frame then has the whole namespace to show.
        inbox = Inbox()
        feed = WatchFeed(kube, namespace, inbox, clock=env.clock, metrics_every=METRICS_EVERY)
        feed.start()
        try:
            from kubectl_trace.dashboard.app import Dashboard, DashboardSettings
        except BaseException:
            feed.stop()
            raise

        settings = DashboardSettings(
            namespace=namespace,
            context=kube.conn.context,
            deployment=deployment,
            color=env.color,
            global_args=tuple(global_args or ()),
            user=env.environ.get("USER", "") or env.environ.get("LOGNAME", ""),
        )
        dashboard = Dashboard(
            kube, settings, clock=env.clock, on_ready=on_ready, inbox=inbox, feed=feed, manage_gc=collecting
        )
        return dashboard.run()
    finally:
        gc.unfreeze()
        if collecting:
            gc.enable()
