"""AnalysisTemplate and ClusterAnalysisTemplate, and the Metric they are made of.

The spec pieces here (metrics, args, dry-run and retention rules, template references) are also
the building blocks of an AnalysisRun spec (``run.py``) and of the analysis settings a Rollout or
Experiment carries, so they live in one module. Counts and limits stay IntOrString because they
may be ``"{{args.x}}"``; they are interpreted after argument substitution (``analysis.values``).
"""

from __future__ import annotations

from pydantic import Field

from analysis.models.base import IntOrString, KubeModel, ObjectMeta
from analysis.models.providers import MetricProvider

__all__ = [
    "AnalysisTemplate",
    "AnalysisTemplateRef",
    "AnalysisTemplateSpec",
    "Argument",
    "ClusterAnalysisTemplate",
    "DryRun",
    "FieldRef",
    "MeasurementRetention",
    "Metric",
    "SecretKeyRef",
    "ValueFrom",
]


class SecretKeyRef(KubeModel):
    """A key of a Secret in the AnalysisRun's namespace."""

    name: str
    """Secret name."""
    key: str
    """Key within the Secret."""


class FieldRef(KubeModel):
    """A path to a field of the owning object."""

    field_path: str
    """Field path, e.g. metadata.labels['app'] or status.canary.weights.canary.weight."""


class ValueFrom(KubeModel):
    """Where an argument's value comes from."""

    secret_key_ref: SecretKeyRef | None = None
    """A Secret key, resolved at measurement time and redacted from messages."""
    field_ref: FieldRef | None = None
    """A field of the owning object."""


class Argument(KubeModel):
    """A template argument; one without value or valueFrom must be supplied by the caller."""

    name: str
    """Argument name, referenced as {{args.<name>}}."""
    value: str | None = None
    """Literal value."""
    value_from: ValueFrom | None = None
    """Reference to the value."""


class DryRun(KubeModel):
    """Metrics that run but never affect the run's phase."""

    metric_name: str
    """Regular expression (RE2, unanchored) selecting metric names, e.g. .*"""


class MeasurementRetention(KubeModel):
    """How many measurements to keep for matching metrics."""

    metric_name: str
    """Regular expression (RE2, unanchored) selecting metric names."""
    limit: int
    """Measurements to keep (≤ 0 means the default of 10)."""


class AnalysisTemplateRef(KubeModel):
    """A reference to an AnalysisTemplate or ClusterAnalysisTemplate."""

    template_name: str
    """Template name."""
    cluster_scope: bool | None = None
    """Look up a ClusterAnalysisTemplate instead of a namespaced AnalysisTemplate."""


class Metric(KubeModel):
    """One metric: what to measure, how often, and what counts as success."""

    name: str
    """Metric name, unique within the run."""
    interval: str | None = None
    """Time between measurements (Go duration); without it one measurement is taken."""
    initial_delay: str | None = None
    """Wait after the run starts before the first measurement (Go duration)."""
    count: IntOrString | None = None
    """Number of measurements. Default 1 without interval, unbounded with interval."""
    success_condition: str | None = None
    """Expression over result that marks a measurement Successful."""
    failure_condition: str | None = None
    """Expression over result that marks a measurement Failed."""
    failure_limit: IntOrString | None = None
    """Failed measurements tolerated before the metric fails. Default 0; -1 disables."""
    inconclusive_limit: IntOrString | None = None
    """Inconclusive measurements tolerated. Default 0."""
    consecutive_error_limit: IntOrString | None = None
    """Consecutive errors tolerated before the metric errors. Default 4."""
    consecutive_success_limit: IntOrString | None = None
    """Consecutive successes that complete the metric early. Default 0 (disabled)."""
    provider: MetricProvider
    """The system the metric is measured with."""


class AnalysisTemplateSpec(KubeModel):
    """Metrics, arguments and settings an AnalysisRun is created from."""

    metrics: list[Metric] | None = None
    """Metrics to measure."""
    args: list[Argument] | None = None
    """Arguments the metrics may reference."""
    dry_run: list[DryRun] | None = None
    """Metrics run in dry-run mode."""
    measurement_retention: list[MeasurementRetention] | None = None
    """Measurement retention per metric."""
    templates: list[AnalysisTemplateRef] | None = None
    """Other templates whose metrics and args are merged in."""


class AnalysisTemplate(KubeModel):
    """A namespaced template for AnalysisRuns."""

    api_version: str | None = None
    kind: str | None = None
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: AnalysisTemplateSpec


class ClusterAnalysisTemplate(AnalysisTemplate):
    """A cluster-scoped template for AnalysisRuns (referenced with clusterScope: true)."""
