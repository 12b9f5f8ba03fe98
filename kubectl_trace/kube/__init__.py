"""The client layer: kubeconfig, API clients, TARGET resolution, errors, retries, watches.

It builds requests and interprets Kubernetes objects; it never prints.
"""
