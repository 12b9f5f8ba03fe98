"""The sandbox: a local server that speaks the Kubernetes API well enough for the real kubectl.

Layout: ``store`` (objects and resourceVersions), ``interfaces`` (what the API server needs
from the simulated cluster), the HTTP API server, the controllers and kubelet, images,
log generation, faults, the demo fixture.
"""
