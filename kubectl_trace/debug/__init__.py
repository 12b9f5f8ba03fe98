"""Debugging the Node.js process itself.

``forward``: a port of a pod of the app, following rollouts; ``inspect``: the Node inspector,
CPU profiles and heap snapshots over such a forward.
"""
