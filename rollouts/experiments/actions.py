"""The writes an Experiment pass decides, beyond the ones it shares with the Rollout planner.

ReplicaSet creation and patches, AnalysisRun termination, Events and timers reuse the Rollout
planner's actions (`rollouts.planner.actions`), so the shell maps them to the same requests. Only
what Rollouts never do is declared here: template Services (created and deleted whole), and an
AnalysisRun built from an experiment analysis (the shell fetches the templates and composes the
spec with `analysis.composition`; the planner supplies everything that comes from the
Experiment: the name, the templated args, dry-run and retention rules, labels and annotations).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rollouts.planner.actions import (
    CreateReplicaSet,
    EmitEvent,
    PatchReplicaSet,
    Requeue,
    TerminateAnalysisRun,
)

__all__ = [
    "Action",
    "CreateExperimentRun",
    "CreateService",
    "DeleteService",
    "EmitRolloutEvent",
]


@dataclass(frozen=True)
class CreateService:
    """Create a template's Service (§8.3) from the complete manifest."""

    template: str
    manifest: Mapping[str, Any]

    @property
    def name(self) -> str:
        return str(self.manifest.get("metadata", {}).get("name", ""))


@dataclass(frozen=True)
class DeleteService:
    """Delete a template's Service once its pods are gone (or its ``service`` was removed)."""

    template: str
    name: str


@dataclass(frozen=True)
class CreateExperimentRun:
    """Build and create the AnalysisRun of one experiment analysis (§8.3, §6.3, §6.4).

    ``args`` are the caller's arguments with ``{{templates.*}}``/``{{experiment.*}}`` already
    resolved (only values survive); ``metadata`` holds the run's labels, annotations and
    ownerReference. If ``name`` is taken by an object this Experiment does not own, the shell
    appends ``.1``, ``.2``, ... as Argo's collision counter does.
    """

    analysis: str
    name: str
    template_name: str
    cluster_scope: bool
    args: Sequence[Mapping[str, str]]
    dry_run: Sequence[Mapping[str, Any]]
    measurement_retention: Sequence[Mapping[str, Any]]
    metadata: Mapping[str, Any]


@dataclass(frozen=True)
class EmitRolloutEvent:
    """A Warning Event on the Rollout that owns the experiment: its analyses' phase changes are
    mirrored there so the Rollout's notifications see them (§10.2)."""

    rollout: str
    uid: str
    reason: str
    message: str


Action = (
    CreateReplicaSet
    | PatchReplicaSet
    | CreateService
    | DeleteService
    | CreateExperimentRun
    | TerminateAnalysisRun
    | EmitEvent
    | EmitRolloutEvent
    | Requeue
)
