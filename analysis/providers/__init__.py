"""Metric providers: where measurements come from.

``base`` holds the contract (:class:`Provider`), the sans-I/O HTTP driver and the conversion of
failures into Error measurements; ``prometheus`` and ``web`` are the HTTP providers, built on
``oauth2`` (client-credentials tokens), ``jsonpath`` (Kubernetes JSONPath) and ``golang`` (Go's
spelling of values). Providers never raise: a failure is an ``Error`` measurement.
"""

from analysis.providers.base import (
    Flow,
    HttpDriver,
    Outcome,
    Provider,
    ProviderError,
    SynchronousProvider,
    error_measurement,
)
from analysis.providers.prometheus import PrometheusProvider
from analysis.providers.web import WebProvider

__all__ = [
    "Flow",
    "HttpDriver",
    "Outcome",
    "PrometheusProvider",
    "Provider",
    "ProviderError",
    "SynchronousProvider",
    "WebProvider",
    "error_measurement",
]
