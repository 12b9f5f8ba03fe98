"""The PaaS release flow on Kubernetes: deploy, history, rollback, promote, env, scale, restart.

An app is its process Deployments (``app``: APP → ``trace-api-web``, ``-worker``, ``-clock``
through ``kube.targets.resolve``). Every mutating command goes the same way (``flow``):

1. ``plans``: read the Deployments and build, per Deployment, the exact patch (``patches``;
   ``history`` for kubectl's client-side undo) and what it changes (old → new);
2. ``--dry-run`` prints the patches; ``confirm`` decides whether to ask (production
   namespaces from the user config, ``promote`` always) or refuse without a terminal;
3. ``apply``: guarded patches (``metadata.resourceVersion`` in strategic merge patches,
   ``test`` operations in JSON patches); a conflict re-reads the object and rebuilds the
   patch; a failure part-way puts back the Deployments already changed and says so;
4. ``follow``: watches of Deployments, ReplicaSets, pods and events feed a live view
   (``view``: rich on a terminal, plain lines otherwise) until every rollout completes,
   one fails (progress deadline, crash loop, image pull error) or ``--timeout`` passes;
5. ``explain``: the failing pod's probe and container problems, the Warning events since
   the change and its last log lines; ``--auto-rollback`` puts the changed Deployments back.

Pure parts (no I/O): ``tags`` (but ``git_short_head``), ``patches``, ``history``,
``envvars``, ``scaleargs``, ``confirm.decide``, ``plans``, ``follow.progress_of``,
``explain.explain``, ``gate.app_problems``, ``view.progress_table``.
"""
