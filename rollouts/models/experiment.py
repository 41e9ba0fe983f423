"""The Experiment kind: ReplicaSets run side by side for a while, with AnalysisRuns over them.

Like AnalysisRuns, Experiments have no status subresource. Template pod templates stay plain
dicts for the same reason as the Rollout's.
"""

from __future__ import annotations

from pydantic import Field

from analysis.models import (
    Argument,
    Condition,
    DryRun,
    KubeModel,
    LabelSelector,
    MeasurementRetention,
    ObjectMeta,
    OpaqueObject,
    ResourceMetadata,
    Time,
)
from rollouts.models.common import TemplateService

__all__ = [
    "Experiment",
    "ExperimentAnalysisRunStatus",
    "ExperimentAnalysisTemplateRef",
    "ExperimentSpec",
    "ExperimentStatus",
    "TemplateSpec",
    "TemplateStatus",
]


class TemplateSpec(KubeModel):
    """A ReplicaSet the experiment runs."""

    name: str
    """Template name, unique within the experiment."""
    replicas: int | None = None
    """Replicas. Default 1."""
    min_ready_seconds: int | None = None
    """Seconds a pod must be ready to count as available."""
    selector: LabelSelector
    """Label selector of the pods."""
    template: OpaqueObject
    """Pod template (core/v1 PodTemplateSpec)."""
    service: TemplateService | None = None
    """Create a Service for these pods."""


class ExperimentAnalysisTemplateRef(KubeModel):
    """An AnalysisRun started once every template is available."""

    name: str
    """Name of this analysis within the experiment."""
    template_name: str
    """AnalysisTemplate name."""
    cluster_scope: bool | None = None
    """Use a ClusterAnalysisTemplate."""
    args: list[Argument] | None = None
    """Arguments for the run."""
    required_for_completion: bool | None = None
    """The experiment completes when all such analyses are Successful."""


class ExperimentSpec(KubeModel):
    """Desired state of an Experiment."""

    templates: list[TemplateSpec]
    """ReplicaSets to run."""
    duration: str | None = None
    """How long to run once available (Go duration). Default indefinitely."""
    progress_deadline_seconds: int | None = None
    """Seconds a template may take to become available. Default 600."""
    terminate: bool | None = None
    """Stop the experiment early."""
    analyses: list[ExperimentAnalysisTemplateRef] | None = None
    """AnalysisRuns to start."""
    scale_down_delay_seconds: int | None = None
    """Delay before the ReplicaSets are scaled down at the end; 0 immediately. Default 30."""
    dry_run: list[DryRun] | None = None
    """Metrics run in dry-run mode in every run."""
    measurement_retention: list[MeasurementRetention] | None = None
    """Measurement retention in every run."""
    analysis_run_metadata: ResourceMetadata | None = None
    """Labels and annotations added to every run."""


class TemplateStatus(KubeModel):
    """Observed state of one template's ReplicaSet."""

    name: str
    """Template name."""
    replicas: int
    """Pods."""
    updated_replicas: int
    """Pods with the current template."""
    ready_replicas: int
    """Ready pods."""
    available_replicas: int
    """Available pods."""
    collision_count: int | None = None
    """Hash collisions met when creating the ReplicaSet."""
    status: str | None = None
    """Progressing, Running, Successful, Failed or Error."""
    message: str | None = None
    """Detail of the status."""
    last_transition_time: Time | None = None
    """When the status last changed."""
    service_name: str | None = None
    """Service created for the template."""
    pod_template_hash: str | None = None
    """Pod template hash of the ReplicaSet."""


class ExperimentAnalysisRunStatus(KubeModel):
    """Observed state of one of the experiment's AnalysisRuns."""

    name: str
    """Analysis name within the experiment."""
    analysis_run: str
    """AnalysisRun name."""
    phase: str
    """AnalysisRun phase."""
    message: str | None = None
    """AnalysisRun message."""


class ExperimentStatus(KubeModel):
    """Observed state of an Experiment, written by the controller."""

    phase: str | None = None
    """Pending, Running, Successful, Failed, Error or Inconclusive."""
    message: str | None = None
    """Why the experiment is in its phase."""
    available_at: Time | None = None
    """When every template first became available."""
    conditions: list[Condition] | None = None
    """Progressing, Running, Completed, InvalidSpec, ReplicaFailure."""
    template_statuses: list[TemplateStatus] | None = None
    """Per-template status."""
    analysis_runs: list[ExperimentAnalysisRunStatus] | None = None
    """Per-analysis status."""


class Experiment(KubeModel):
    """ReplicaSets run for a limited time, optionally analysed, e.g. baseline against canary."""

    api_version: str | None = None
    kind: str | None = None
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: ExperimentSpec
    status: ExperimentStatus | None = None
