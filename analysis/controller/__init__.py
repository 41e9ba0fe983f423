"""The AnalysisRun controller: a kopf shell around the pure assessment in `analysis.assessment`.

Modules: ``api`` (the seam to the Kubernetes API, supplied by the caller), ``reconcile`` (one
reconcile of one run), ``loops`` (one wake-up loop per run), ``registry`` (the kopf handlers
and ``register``). This package imports nothing eagerly, so providers can use ``api`` without
pulling in kopf.
"""
