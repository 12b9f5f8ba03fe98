"""The PaaS release flow on Kubernetes: deploy, history, rollback, promote, env, scale, restart.

An app is exactly one set of process Deployments (``app``: APP → those labelled
``app=APP`` or ``app.kubernetes.io/name=APP``, unlabelled ``APP-<process>`` only when none is,
through ``kube.targets.resolve_app``). Its **releases** (``records``: number, action, tag and
pod-template digest of every process, author, time, outcome) live in the cluster in one
ConfigMap per app (``store``: why a ConfigMap, optimistic concurrency, bounds);
``recording`` reads them beside the live state (current release, drift; reconstructed from
the ReplicaSets when none is recorded) and records the release a change makes.

Every mutating command goes the same way (``flow``):

1. ``plans``: read the Deployments and build, per Deployment, the exact patch (``patches``;
   ``restore`` + ``plans.plan_release`` put a release's pod templates back) and what it
   changes (old → new);
2. ``--dry-run`` prints the patches; ``confirm`` decides whether to ask (production
   namespaces from the user config, ``promote`` always) or refuse without a terminal;
3. ``apply``: guarded patches (``metadata.resourceVersion`` in strategic merge patches,
   ``test`` operations in JSON patches); a conflict re-reads the object and rebuilds the
   patch; a failure part-way puts back the Deployments already changed and says so;
4. the release is recorded (``recording.Recorder``);
5. ``follow``: watches of Deployments, ReplicaSets, pods and events feed a live view
   (``view``: rich on a terminal, plain lines otherwise) until every rollout has ended —
   complete (unprobed new containers kept running a moment), or failed (progress deadline,
   crash, crash loop, image pull error) — or ``--timeout`` passes; a per-process summary and
   the release's outcome follow;
6. ``explain``: the failing pod's probe and container problems, the Warning events since
   the change and its last log lines (the error line kept); ``--auto-rollback`` puts the
   changed Deployments back, as a release too.

Pure parts (no I/O): ``records``, ``restore``, ``history_view``, ``promote_diff``, ``tags``
(but ``git_short_head``), ``patches``, ``history``, ``envvars``, ``scaleargs``,
``confirm.decide``, ``plans``, ``follow.progress_of``, ``explain.explain``,
``gate.app_problems``, ``view.progress_table``.
"""
