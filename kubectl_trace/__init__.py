"""kubectl-nodeapp: kubectl plugins for teams that run Node.js apps on Kubernetes."""

__version__ = "0.1.0"
__all__ = ["__version__"]
