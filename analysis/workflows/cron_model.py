"""The ``CronWorkflow`` kind of our group (``workflows.rollouts.dev/v1alpha1``): Argo's
CronWorkflow ``spec`` and ``status`` (reference §7.4), typed so the CRD has a schema.

We never register ``argoproj.io`` kinds (a real Argo Workflows may be installed beside us), so
the kind lives in our group with short name ``cwfr`` (Argo keeps ``cwf``/``cronwf``). The
``workflowSpec`` is stored as written, like a ``WorkflowRun``'s spec: the engine validates it
when a run starts. ``schedule`` (v3, singular) and ``schedules`` (v3.6+) are both accepted;
:meth:`CronWorkflowSpec.all_schedules` gives the union Argo schedules.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from analysis.models.base import Int64, KubeModel, ObjectMeta, OpaqueObject, ResourceMetadata
from analysis.workflows.status import GROUP, VERSION

__all__ = [
    "CRON_KIND",
    "CRON_PLURAL",
    "CronCondition",
    "CronWorkflow",
    "CronWorkflowSpec",
    "CronWorkflowStatus",
    "ObjectReference",
    "StopStrategy",
]

CRON_KIND = "CronWorkflow"
CRON_PLURAL = "cronworkflows"

ConcurrencyPolicy = Literal["Allow", "Forbid", "Replace"]


class StopStrategy(KubeModel):
    """When to stop scheduling for good (Argo v3.6+)."""

    expression: str
    """expr-lang over ``cronworkflow.succeeded``/``cronworkflow.failed`` (and name, labels, ...);
    true stops scheduling (``status.phase: Stopped``)."""


class CronWorkflowSpec(KubeModel):
    """Argo's CronWorkflow spec."""

    schedules: list[str] | None = None
    """Cron expressions (five fields or a descriptor); a run is due at each tick of any of them."""
    schedule: str | None = None
    """The single schedule of Argo v3 (deprecated): treated as one more entry of ``schedules``."""
    timezone: str | None = None
    """IANA timezone of the schedules (default UTC)."""
    concurrency_policy: ConcurrencyPolicy | None = None
    """Allow (default), Forbid (skip a tick while a run is active) or Replace (terminate it)."""
    starting_deadline_seconds: Int64 | None = Field(default=None, ge=0)
    """How late a tick may still start (a missed tick after an outage, a postponed Forbid tick)."""
    successful_jobs_history_limit: int | None = Field(default=None, ge=0)
    """Succeeded runs kept (default 3); older ones are deleted."""
    failed_jobs_history_limit: int | None = Field(default=None, ge=0)
    """Failed or errored runs kept (default 1); older ones are deleted."""
    suspend: bool | None = None
    """No new runs while true."""
    stop_strategy: StopStrategy | None = None
    """Stop scheduling for good when its expression is true."""
    when: str | None = None
    """Checked at each tick after ``{{cronworkflow.*}}`` substitution; false skips the tick."""
    workflow_spec: OpaqueObject
    """The Argo WorkflowSpec of each run."""
    workflow_metadata: ResourceMetadata | None = None
    """Labels and annotations given to each run."""

    def all_schedules(self) -> list[str]:
        return list(self.schedules or []) + ([self.schedule] if self.schedule else [])


class ObjectReference(KubeModel):
    """A reference to one active run (``status.active``)."""

    api_version: str | None = None
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None
    uid: str | None = None


class CronCondition(KubeModel):
    """``SubmissionError`` or ``SpecError``; no timestamps, as Argo's workflow conditions."""

    type: str
    status: str
    message: str | None = None


class CronWorkflowStatus(KubeModel):
    """Argo's CronWorkflow status."""

    active: list[ObjectReference] | None = None
    """Runs not finished yet."""
    last_scheduled_time: str | None = None
    """The tick of the last run created (RFC 3339)."""
    conditions: list[CronCondition] | None = None
    succeeded: int | None = None
    """Runs that ended Succeeded."""
    failed: int | None = None
    """Runs that ended Failed or Error."""
    phase: str | None = None
    """Active, or Stopped once the stop strategy held."""


class CronWorkflow(KubeModel):
    """Runs an Argo-style workflow on a cron schedule: Argo's CronWorkflow, creating WorkflowRuns."""

    api_version: str = f"{GROUP}/{VERSION}"
    kind: str = CRON_KIND
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: CronWorkflowSpec
    status: CronWorkflowStatus | None = None
