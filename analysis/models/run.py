"""AnalysisRun: a template instantiated with resolved args, plus the measurements taken so far.

AnalysisRuns have no status subresource (Argo writes their status with a merge patch on the
object), so spec and status are plain fields here like everything else. Phases are kept as the
strings the API holds; :class:`AnalysisPhase` names the known ones for code that compares them.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from analysis.models.base import KubeModel, ObjectMeta, Time
from analysis.models.template import Argument, DryRun, MeasurementRetention, Metric

__all__ = [
    "AnalysisPhase",
    "AnalysisRun",
    "AnalysisRunSpec",
    "AnalysisRunStatus",
    "Measurement",
    "MetricResult",
    "RunSummary",
    "TTLStrategy",
]


class AnalysisPhase(StrEnum):
    """Phase of an AnalysisRun, a metric result or a measurement (also used by Experiments)."""

    PENDING = "Pending"
    RUNNING = "Running"
    SUCCESSFUL = "Successful"
    FAILED = "Failed"
    ERROR = "Error"
    INCONCLUSIVE = "Inconclusive"

    @property
    def completed(self) -> bool:
        """Successful, Failed, Error and Inconclusive are final."""
        return self not in (AnalysisPhase.PENDING, AnalysisPhase.RUNNING)


class TTLStrategy(KubeModel):
    """When to delete a completed AnalysisRun, counted from status.completedAt."""

    seconds_after_completion: int | None = None
    """Seconds after completion in any phase."""
    seconds_after_failure: int | None = None
    """Seconds after completing Failed."""
    seconds_after_success: int | None = None
    """Seconds after completing Successful."""


class AnalysisRunSpec(KubeModel):
    """The merged metrics and resolved args of a run."""

    metrics: list[Metric]
    """Metrics to measure."""
    args: list[Argument] | None = None
    """Arguments with their values."""
    terminate: bool | None = None
    """Stop the run early; running measurements are terminated."""
    dry_run: list[DryRun] | None = None
    """Metrics run in dry-run mode."""
    measurement_retention: list[MeasurementRetention] | None = None
    """Measurement retention per metric."""
    ttl_strategy: TTLStrategy | None = None
    """Deletion of the run after it completes."""


class Measurement(KubeModel):
    """One measurement of one metric."""

    phase: str
    """Pending, Running, Successful, Failed, Error or Inconclusive."""
    message: str | None = None
    """Detail, e.g. the provider error."""
    started_at: Time | None = None
    """When the measurement started."""
    finished_at: Time | None = None
    """When the measurement finished."""
    value: str | None = None
    """The measured value as text."""
    metadata: dict[str, str] | None = None
    """Provider data, e.g. job-name or ResolvedPrometheusQuery."""
    resume_at: Time | None = None
    """When to check an asynchronous measurement again."""


class MetricResult(KubeModel):
    """The recent measurements and counters of one metric."""

    name: str
    """Metric name."""
    phase: str
    """Assessed phase of the metric."""
    measurements: list[Measurement] | None = None
    """Most recent measurements (10 unless a retention rule says otherwise)."""
    message: str | None = None
    """Detail of the phase."""
    count: int | None = None
    """Measurements that did not error."""
    successful: int | None = None
    """Successful measurements."""
    failed: int | None = None
    """Failed measurements."""
    inconclusive: int | None = None
    """Inconclusive measurements."""
    error: int | None = None
    """Errored measurements."""
    consecutive_error: int | None = None
    """Errors in a row."""
    consecutive_success: int | None = None
    """Successes in a row."""
    dry_run: bool | None = None
    """The metric runs in dry-run mode."""
    metadata: dict[str, str] | None = None
    """Provider data about the metric, e.g. the resolved query."""


class RunSummary(KubeModel):
    """Metrics counted by their completed phase."""

    count: int | None = None
    """Metrics counted."""
    successful: int | None = None
    """Successful metrics."""
    failed: int | None = None
    """Failed metrics."""
    inconclusive: int | None = None
    """Inconclusive metrics."""
    error: int | None = None
    """Errored metrics."""


class AnalysisRunStatus(KubeModel):
    """Progress and results of the run."""

    phase: str
    """Pending, Running, Successful, Failed, Error or Inconclusive."""
    message: str | None = None
    """Why the run is in its phase."""
    started_at: Time | None = None
    """First reconcile of the run."""
    completed_at: Time | None = None
    """When the phase first became final."""
    run_summary: RunSummary | None = None
    """Summary of the metrics that are not dry-run."""
    dry_run_summary: RunSummary | None = None
    """Summary of the dry-run metrics."""
    metric_results: list[MetricResult] | None = None
    """Per-metric results."""


class AnalysisRun(KubeModel):
    """An instantiation of analysis templates that takes measurements until it completes."""

    api_version: str | None = None
    kind: str | None = None
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: AnalysisRunSpec
    status: AnalysisRunStatus | None = None
