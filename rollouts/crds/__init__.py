"""The argoproj.io CRDs: generated from the models, checked in sync, installed into a cluster.

``schema`` turns model classes into structural OpenAPI schemas, ``generate`` builds the five CRDs
and their YAML files, ``structural`` checks the structural-schema rules without a cluster,
``install`` applies them with server-side apply, ``cli`` is ``rollouts crds ...``.
"""
