"""One-off processes on Kubernetes Jobs: ``run APP -- CMD`` and the release phase of ``deploy``.

``job`` builds the Job from an app's current pod template (pure); ``session`` creates it,
waits for its pod, streams its output and passes its exit status through; ``release``
runs the release command of a deploy before any Deployment is patched.
"""
