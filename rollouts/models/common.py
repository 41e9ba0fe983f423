"""Pieces shared by the Rollout and the Experiment models.

The analysis settings a Rollout carries (``RolloutAnalysis`` and its argument form, which can take
values from the Rollout's ReplicaSets or fields) and the small helper objects used by both
strategies and by experiment steps. Everything analysis itself defines (dry-run and retention
rules, template references) is imported from ``analysis.models``; the dependency only goes that
way.
"""

from __future__ import annotations

from analysis.models import (
    AnalysisTemplateRef,
    DryRun,
    FieldRef,
    KubeModel,
    MeasurementRetention,
    ResourceMetadata,
)

__all__ = [
    "AnalysisRunArgument",
    "AntiAffinity",
    "ArgumentValueFrom",
    "PreferredAntiAffinity",
    "RequiredAntiAffinity",
    "RolloutAnalysis",
    "RolloutAnalysisBackground",
    "RolloutAnalysisRunStatus",
    "TemplateService",
]


class ArgumentValueFrom(KubeModel):
    """Where a Rollout-supplied argument takes its value from."""

    pod_template_hash_value: str | None = None
    """Stable or Latest: the pod template hash of the stable or the newest ReplicaSet."""
    field_ref: FieldRef | None = None
    """A field of the Rollout."""


class AnalysisRunArgument(KubeModel):
    """An argument passed by a Rollout to its AnalysisRuns, resolved when the run is created."""

    name: str
    """Argument name."""
    value: str | None = None
    """Literal value; not with valueFrom."""
    value_from: ArgumentValueFrom | None = None
    """Reference to the value; not with value."""


class RolloutAnalysis(KubeModel):
    """How a Rollout creates an AnalysisRun: templates to merge and the arguments to pass."""

    templates: list[AnalysisTemplateRef] | None = None
    """Templates merged into the run."""
    args: list[AnalysisRunArgument] | None = None
    """Arguments passed to the run."""
    dry_run: list[DryRun] | None = None
    """Metrics run in dry-run mode."""
    measurement_retention: list[MeasurementRetention] | None = None
    """Measurement retention per metric."""
    analysis_run_metadata: ResourceMetadata | None = None
    """Labels and annotations added to the run."""


class RolloutAnalysisBackground(RolloutAnalysis):
    """An AnalysisRun that runs alongside the canary steps."""

    starting_step: int | None = None
    """Do not start before status.currentStepIndex reaches this step. Default 0."""


class RolloutAnalysisRunStatus(KubeModel):
    """The AnalysisRun currently gating a Rollout."""

    name: str
    """AnalysisRun name."""
    status: str
    """Its phase."""
    message: str | None = None
    """Its message."""


class PreferredAntiAffinity(KubeModel):
    """Soft anti-affinity to the previous version's pods."""

    weight: int
    """Weight 1-100 of the injected preferred term."""


class RequiredAntiAffinity(KubeModel):
    """Hard anti-affinity to the previous version's pods (no settings)."""


class AntiAffinity(KubeModel):
    """Anti-affinity injected into new pods against the previous version's; exactly one field."""

    preferred_during_scheduling_ignored_during_execution: PreferredAntiAffinity | None = None
    """Preferred (soft) anti-affinity."""
    required_during_scheduling_ignored_during_execution: RequiredAntiAffinity | None = None
    """Required (hard) anti-affinity."""


class TemplateService(KubeModel):
    """A Service created for an experiment template's pods."""

    name: str | None = None
    """Service name. Default <experiment>-<template>."""
