"""rollouts: a progressive delivery controller for Kubernetes, API-compatible with Argo Rollouts."""

__version__ = "0.1.0"
