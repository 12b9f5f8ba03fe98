"""Shell completion: the ``kubectl_complete-nodeapp*`` executables and ``completion bash|zsh|fish``.

Fast by design: no kubernetes client import; the cluster is asked through the standard
library's HTTPS client with the kubeconfig's credentials, and every failure is silent.
"""
