"""What a planner decides: actions for the shell to apply in order, and the status to write.

Each action is a small frozen dataclass describing one write (or one timer); the shell turns it
into an API call without deciding anything. Actions that need objects the planner does not own
(an AnalysisRun's merged spec, a traffic router's patch) carry the Rollout-side facts and name
the seam: the shell hands them to the `analysis` / `traffic` packages. A `Plan` also carries the
whole new status and the minimal merge patch against the old one (``None`` = write nothing), so
"one status patch per reconcile at most, none when nothing changed" holds by construction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "Action",
    "CreateAnalysisRun",
    "CreateExperiment",
    "CreateReplicaSet",
    "DeleteAnalysisRun",
    "DeleteExperiment",
    "DeleteReplicaSet",
    "EmitEvent",
    "EvictPod",
    "ExperimentDestination",
    "PatchReplicaSet",
    "PatchRollout",
    "Plan",
    "Requeue",
    "ScaleReplicaSet",
    "ScaleWorkload",
    "SetServiceSelector",
    "SetTrafficWeight",
    "TerminateAnalysisRun",
    "TerminateExperiment",
    "merge_patch",
]


@dataclass(frozen=True)
class CreateReplicaSet:
    """Create newRS from the complete manifest (``replicas: 0``), §3.2."""

    name: str
    manifest: Mapping[str, Any]


@dataclass(frozen=True)
class ScaleReplicaSet:
    """Set ``spec.replicas`` and refresh the ``desired-replicas`` annotation (§3.2 "Scaling an RS").

    ``annotations`` is a merge patch of the RS annotations (``None`` removes a key); it always
    carries ``rollout.argoproj.io/desired-replicas`` and, on a scale to zero, the removal of
    ``scale-down-deadline`` unless an abort delay is pending.
    """

    name: str
    replicas: int
    previous: int
    annotations: Mapping[str, str | None]

    @property
    def patch(self) -> dict[str, Any]:
        return {"metadata": {"annotations": dict(self.annotations)}, "spec": {"replicas": self.replicas}}


@dataclass(frozen=True)
class PatchReplicaSet:
    """A merge patch of an owned ReplicaSet (revision sync, scale-down deadline annotations)."""

    name: str
    patch: Mapping[str, Any]


@dataclass(frozen=True)
class DeleteReplicaSet:
    """Delete an old ReplicaSet beyond ``revisionHistoryLimit`` (§3.2)."""

    name: str


@dataclass(frozen=True)
class PatchRollout:
    """A merge patch of the Rollout's spec or metadata (never status): defaulted ``spec.replicas``,
    the ``rollout.argoproj.io/revision`` annotation."""

    patch: Mapping[str, Any]


@dataclass(frozen=True)
class SetServiceSelector:
    """Point ``service`` at ``pod_hash`` (§3.8); ``managed_by`` is set the first time only."""

    service: str
    pod_hash: str
    managed_by: str | None = None

    @property
    def patch(self) -> dict[str, Any]:
        body: dict[str, Any] = {"spec": {"selector": {"rollouts-pod-template-hash": self.pod_hash}}}
        if self.managed_by is not None:
            body["metadata"] = {
                "annotations": {"argo-rollouts.argoproj.io/managed-by-rollouts": self.managed_by}
            }
        return body


@dataclass(frozen=True)
class ExperimentDestination:
    """An experiment template's Service as an extra weighted destination (§3.6)."""

    service_name: str
    pod_template_hash: str
    weight: int


@dataclass(frozen=True)
class SetTrafficWeight:
    """Seam for the `traffic` package: route ``weight`` of ``max_weight`` to the canary hash, the
    ``extra`` experiment destinations their weights, stable the rest, and apply the pass's
    managed-route instructions (`routes.route_instructions`)."""

    weight: int
    canary_hash: str
    stable_hash: str
    max_weight: int = 100
    header_route: Mapping[str, Any] | None = None
    mirror_route: Mapping[str, Any] | None = None
    remove_managed_routes: bool = False
    extra: tuple[ExperimentDestination, ...] = ()


@dataclass(frozen=True)
class CreateAnalysisRun:
    """Seam for the `analysis` package: build and create the run from the Rollout's analysis block.

    ``kind`` is the ``rollout-type`` label value (Step, Background, PrePromotion, PostPromotion).
    """

    name: str
    kind: str
    analysis: Mapping[str, Any]
    pod_hash: str
    revision: int
    step_index: int | None = None


@dataclass(frozen=True)
class TerminateAnalysisRun:
    """Merge patch ``{"spec": {"terminate": true}}`` on a run that is not completed."""

    name: str


@dataclass(frozen=True)
class DeleteAnalysisRun:
    """Delete a finished non-current run beyond the history limits or whose ReplicaSet is gone (§3.9)."""

    name: str


@dataclass(frozen=True)
class CreateExperiment:
    """Create the step's Experiment (§3.10), built by `experiments.experiment_manifest` from the
    pod templates of the two ReplicaSets named here (the shell reads them: the planner's views
    keep no templates)."""

    name: str
    step_index: int
    experiment: Mapping[str, Any]
    pod_hash: str
    stable_hash: str
    revision: int
    new_rs_name: str = ""
    stable_rs_name: str = ""


@dataclass(frozen=True)
class TerminateExperiment:
    name: str


@dataclass(frozen=True)
class DeleteExperiment:
    """Delete a finished Experiment beyond the history limits or whose ReplicaSet is gone (§3.10)."""

    name: str


@dataclass(frozen=True)
class ScaleWorkload:
    """Set ``spec.replicas`` of the ``workloadRef`` target (§3.16 ``scaleDown``), if it differs."""

    api_version: str
    kind: str
    name: str
    replicas: int


@dataclass(frozen=True)
class EvictPod:
    """Evict one pod through the Eviction API (PodDisruptionBudgets apply; a 429 is retried later)."""

    name: str


@dataclass(frozen=True)
class EmitEvent:
    """A Kubernetes Event on the Rollout with Argo's reason (§10.2).

    Most Events report a status transition (aborted, paused, a run's new phase, a new weight);
    the Rollout shell posts those only once the pass's status write succeeded, because a pass
    whose status patch conflicts is planned again and would report the same transition twice.
    ``with_write`` marks an Event that reports a write of the same plan (a scale, a creation):
    it is posted as the plan reaches it, since a re-planned pass does not repeat the write.
    """

    reason: str
    message: str
    warning: bool = False
    with_write: bool = False


@dataclass(frozen=True)
class Requeue:
    """Reconcile again at ``at`` (pause expiry, scale-down deadline, progress deadline...)."""

    at: datetime
    why: str


Action = (
    CreateReplicaSet
    | ScaleReplicaSet
    | PatchReplicaSet
    | DeleteReplicaSet
    | PatchRollout
    | SetServiceSelector
    | SetTrafficWeight
    | CreateAnalysisRun
    | TerminateAnalysisRun
    | DeleteAnalysisRun
    | CreateExperiment
    | TerminateExperiment
    | DeleteExperiment
    | EvictPod
    | ScaleWorkload
    | EmitEvent
    | Requeue
)


def merge_patch(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """RFC 7386 merge patch turning ``old`` into ``new`` (lists are replaced whole, as for CRDs)."""
    patch: dict[str, Any] = {}
    for key, value in new.items():
        before = old.get(key)
        if key in old and before == value:
            continue
        if isinstance(value, Mapping) and isinstance(before, Mapping):
            nested = merge_patch(before, value)
            if nested:
                patch[key] = nested
        else:
            patch[key] = value
    for key in old:
        if key not in new:
            patch[key] = None
    return patch


@dataclass(frozen=True)
class Plan:
    """The outcome of one planning pass."""

    actions: Sequence[Action] = ()
    status: Mapping[str, Any] | None = None
    status_patch: Mapping[str, Any] | None = None
    notes: Sequence[str] = field(default_factory=tuple)

    def of_type(self, kind: type[Any]) -> list[Any]:
        """The actions of one type, in order (convenient for the shell's metrics and for tests)."""
        return [action for action in self.actions if isinstance(action, kind)]
