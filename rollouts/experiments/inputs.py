"""What the Experiment planner reads: a tolerant view of the Experiment and the observed children.

The planner works on the Experiment as the API returns it (camelCase dicts), through
`ExperimentObject`, whose accessors never raise: a malformed object (a missing selector, a
template that is not a mapping, a duration that does not parse) must become an ``InvalidSpec``
condition, not an exception in the controller. The children are compact projections the shell
builds from its caches — a ReplicaSet's counts and annotations (`ReplicaSetView`, shared with
the Rollout planner), a Service's name, an AnalysisRun's phase — keyed the way §8.3 claims them:
by the ``experiment.argoproj.io/template-name`` annotation, for objects this Experiment controls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from analysis.values import DurationError, parse_go_duration
from rollouts.planner.inputs import (
    ReplicaSetView,
    as_bool,
    as_int,
    as_list,
    as_mapping,
    as_str,
    parse_time,
)

__all__ = [
    "COMPLETED_PHASES",
    "DEFAULT_PROGRESS_DEADLINE_SECONDS",
    "DEFAULT_SCALE_DOWN_DELAY_SECONDS",
    "EXPERIMENT_NAME_ANNOTATION",
    "INSTANCE_ID_LABEL",
    "SCALE_DOWN_DEADLINE_ANNOTATION",
    "TEMPLATE_NAME_ANNOTATION",
    "ExperimentObject",
    "Observed",
    "RunView",
    "ServiceRef",
]

EXPERIMENT_NAME_ANNOTATION: Final = "experiment.argoproj.io/name"
TEMPLATE_NAME_ANNOTATION: Final = "experiment.argoproj.io/template-name"
SCALE_DOWN_DEADLINE_ANNOTATION: Final = "scale-down-deadline"
INSTANCE_ID_LABEL: Final = "argo-rollouts.argoproj.io/controller-instance-id"
"""§0.2; the same key as the shell's `rollouts.controller.settings`, which imports kopf."""
DEFAULT_PROGRESS_DEADLINE_SECONDS: Final = 600
DEFAULT_SCALE_DOWN_DELAY_SECONDS: Final = 30
COMPLETED_PHASES: Final = frozenset({"Successful", "Failed", "Error", "Inconclusive"})


class ExperimentObject:
    """Typed, defaulted reads of an Experiment dict; never raises on a malformed object."""

    def __init__(self, obj: Mapping[str, Any]) -> None:
        self.obj = obj
        self.metadata = as_mapping(obj.get("metadata"))
        self.spec = as_mapping(obj.get("spec"))
        self.status = as_mapping(obj.get("status"))

    @property
    def name(self) -> str:
        return as_str(self.metadata.get("name"))

    @property
    def namespace(self) -> str:
        return as_str(self.metadata.get("namespace"))

    @property
    def uid(self) -> str:
        return as_str(self.metadata.get("uid"))

    @property
    def labels(self) -> Mapping[str, str]:
        return {k: v for k, v in as_mapping(self.metadata.get("labels")).items() if isinstance(v, str)}

    @property
    def templates(self) -> list[Mapping[str, Any]]:
        return [as_mapping(entry) for entry in as_list(self.spec.get("templates"))]

    @property
    def analyses(self) -> list[Mapping[str, Any]]:
        return [as_mapping(entry) for entry in as_list(self.spec.get("analyses"))]

    @property
    def terminate(self) -> bool:
        return as_bool(self.spec.get("terminate"))

    @property
    def progress_deadline_seconds(self) -> int:
        return as_int(self.spec.get("progressDeadlineSeconds"), DEFAULT_PROGRESS_DEADLINE_SECONDS)

    @property
    def scale_down_delay_seconds(self) -> int:
        return as_int(self.spec.get("scaleDownDelaySeconds"), DEFAULT_SCALE_DOWN_DELAY_SECONDS)

    @property
    def duration_text(self) -> str:
        return as_str(self.spec.get("duration"))

    @property
    def duration_seconds(self) -> float | None:
        """``spec.duration`` in seconds; ``None`` when absent (indefinite) or unparsable (the
        validation reports that one)."""
        text = self.duration_text
        if not text:
            return None
        try:
            return parse_go_duration(text)
        except DurationError:
            return None

    @property
    def phase(self) -> str:
        return as_str(self.status.get("phase"))

    @property
    def finished(self) -> bool:
        return self.phase in COMPLETED_PHASES

    @property
    def available_at(self) -> datetime | None:
        return parse_time(self.status.get("availableAt"))

    def template_status(self, name: str) -> Mapping[str, Any] | None:
        for entry in as_list(self.status.get("templateStatuses")):
            if as_mapping(entry).get("name") == name:
                return as_mapping(entry)
        return None

    def run_status(self, name: str) -> Mapping[str, Any] | None:
        for entry in as_list(self.status.get("analysisRuns")):
            if as_mapping(entry).get("name") == name:
                return as_mapping(entry)
        return None

    def passed_duration(self, now: datetime) -> bool:
        """Whether the experiment has run for ``spec.duration`` since ``availableAt`` (Go's
        ``After``: strictly later)."""
        seconds = self.duration_seconds
        available = self.available_at
        if seconds is None or available is None:
            return False
        return (now - available).total_seconds() > seconds

    @property
    def terminating(self) -> bool:
        """§8.3: stop creating runs and scale down — asked to, already completed, a template
        Failed/Error, or a run Failed/Error/Inconclusive."""
        if self.terminate or self.finished:
            return True
        for entry in as_list(self.status.get("templateStatuses")):
            if as_mapping(entry).get("status") in ("Failed", "Error"):
                return True
        return any(
            as_mapping(entry).get("phase") in ("Failed", "Error", "Inconclusive")
            for entry in as_list(self.status.get("analysisRuns"))
        )

    def owner_reference(self) -> dict[str, Any]:
        """The controller reference its ReplicaSets, Services and AnalysisRuns carry (§4.3)."""
        return {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Experiment",
            "name": self.name,
            "uid": self.uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }

    def rollout_owner(self) -> Mapping[str, Any] | None:
        """The controlling Rollout of an experiment step, if any (its Events are mirrored there)."""
        for entry in as_list(self.metadata.get("ownerReferences")):
            reference = as_mapping(entry)
            if reference.get("controller") is True and reference.get("kind") == "Rollout":
                return reference
        return None


@dataclass(frozen=True)
class ServiceRef:
    """A Service this Experiment controls, claimed for a template by its annotation."""

    name: str
    template: str


@dataclass(frozen=True)
class RunView:
    """An AnalysisRun this Experiment controls."""

    name: str
    phase: str = ""
    message: str = ""
    terminate: bool = False
    created_at: datetime | None = None

    @property
    def completed(self) -> bool:
        return self.phase in COMPLETED_PHASES


@dataclass(frozen=True)
class Observed:
    """The Experiment's children as the shell saw them, and what its last writes reported.

    ``replica_sets`` and ``services`` hold only objects controlled by this Experiment (the shell
    checks the owner uid); the planner claims them per template by annotation. ``runs`` are its
    AnalysisRuns by name. ``template_errors`` / ``analysis_errors`` carry a failed write of the
    previous pass (an API error creating or scaling a ReplicaSet or Service, an AnalysisRun that
    could not be built or created), or a referenced AnalysisTemplate that does not exist, which
    §8.3 turns into an ``Error`` status.
    """

    replica_sets: tuple[ReplicaSetView, ...] = ()
    services: tuple[ServiceRef, ...] = ()
    runs: Mapping[str, RunView] = field(default_factory=dict)
    template_errors: Mapping[str, str] = field(default_factory=dict)
    analysis_errors: Mapping[str, str] = field(default_factory=dict)
    collisions: frozenset[str] = frozenset()
    """Templates whose ReplicaSet name was taken by another object (their collisionCount grows)."""

    def replica_set(self, experiment: str, template: str) -> ReplicaSetView | None:
        """The template's ReplicaSet: claimed by annotation, the expected name winning a tie."""
        claimed = [
            rs
            for rs in self.replica_sets
            if rs.annotations.get(TEMPLATE_NAME_ANNOTATION) == template
            and rs.annotations.get(EXPERIMENT_NAME_ANNOTATION, experiment) == experiment
        ]
        for rs in claimed:
            if rs.name == f"{experiment}-{template}":
                return rs
        return claimed[0] if claimed else None

    def service(self, template: str) -> ServiceRef | None:
        return next((svc for svc in self.services if svc.template == template), None)
