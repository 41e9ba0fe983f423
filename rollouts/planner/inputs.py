"""What a planner reads: the Rollout as the API returns it, and small frozen views of its children.

The Rollout arrives as the raw camelCase dict (``metadata``/``spec``/``status``) rather than as the
pydantic models, for two reasons: the planners must survive objects the models would reject (a
malformed spec becomes an ``InvalidSpec`` condition, never an exception), and the status they
write back is a dict diffed against the old one. `RolloutView` gives typed, defaulted access to
the fields the rules use; every accessor tolerates a wrong JSON type by falling back to the
default, and `validation` is where wrong types are reported.

Children are reduced by the shell to views holding only what a decision needs (kept small on
purpose: memory per Rollout is a headline figure). Time never comes from a clock here: the
views carry parsed timestamps and every planner takes ``now``.

With ``workloadRef`` the shell resolves ``spec.template``/``spec.selector`` into the dict before
planning (in memory only, §3.1), so the planners never see the reference itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

__all__ = [
    "DEFAULT_PROGRESS_DEADLINE_SECONDS",
    "DEFAULT_REVISION_HISTORY_LIMIT",
    "DESIRED_REPLICAS_ANNOTATION",
    "NEVER",
    "POD_HASH_LABEL",
    "REVISION_ANNOTATION",
    "REVISION_HISTORY_ANNOTATION",
    "SCALE_DOWN_DEADLINE_ANNOTATION",
    "AnalysisRunView",
    "ExperimentTemplateView",
    "ExperimentView",
    "Observed",
    "PodView",
    "ReplicaSetView",
    "RolloutView",
    "ServiceView",
    "as_bool",
    "as_int",
    "as_list",
    "as_mapping",
    "as_str",
    "format_time",
    "parse_time",
]

POD_HASH_LABEL: Final = "rollouts-pod-template-hash"
REVISION_ANNOTATION: Final = "rollout.argoproj.io/revision"
REVISION_HISTORY_ANNOTATION: Final = "rollout.argoproj.io/revision-history"
DESIRED_REPLICAS_ANNOTATION: Final = "rollout.argoproj.io/desired-replicas"
SCALE_DOWN_DEADLINE_ANNOTATION: Final = "scale-down-deadline"  # no domain prefix (§14.15)
EXPERIMENT_NAME_ANNOTATION: Final = "experiment.argoproj.io/name"

NEVER: Final = datetime.min.replace(tzinfo=UTC)
"""The creation time of an object whose ``creationTimestamp`` is missing (sorts first)."""
DEFAULT_PROGRESS_DEADLINE_SECONDS: Final = 600
DEFAULT_REVISION_HISTORY_LIMIT: Final = 10
DEFAULT_MAX_TRAFFIC_WEIGHT: Final = 100


def as_mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def as_list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def as_str(value: object, default: str = "") -> str:
    return value if isinstance(value, str) else default


def as_bool(value: object) -> bool:
    return value is True


def as_int(value: object, default: int) -> int:
    """An integer field, or ``default`` when absent or of another JSON kind (bools are not ints)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return default
    return value


def parse_time(value: object) -> datetime | None:
    """Parse a Kubernetes RFC3339 timestamp; ``None`` when absent or malformed."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_time(moment: datetime) -> str:
    """Format as ``metav1.Time`` does: UTC, whole seconds, ``Z`` suffix."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class RolloutView:
    """Typed, defaulted reads of a Rollout dict; never raises on a malformed object."""

    def __init__(self, obj: Mapping[str, Any]) -> None:
        self.obj = obj
        self.metadata = as_mapping(obj.get("metadata"))
        self.spec = as_mapping(obj.get("spec"))
        self.status = as_mapping(obj.get("status"))
        self.strategy = as_mapping(self.spec.get("strategy"))

    # -- metadata
    @property
    def name(self) -> str:
        return as_str(self.metadata.get("name"))

    @property
    def namespace(self) -> str:
        return as_str(self.metadata.get("namespace"))

    @property
    def uid(self) -> str:
        return as_str(self.metadata.get("uid"))

    def owner_reference(self) -> dict[str, Any]:
        """The controller ownerReference every object this Rollout creates or adopts carries (§4.3)."""
        return {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Rollout",
            "name": self.name,
            "uid": self.uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }

    @property
    def generation(self) -> int:
        return as_int(self.metadata.get("generation"), 0)

    @property
    def annotations(self) -> Mapping[str, str]:
        return {k: v for k, v in as_mapping(self.metadata.get("annotations")).items() if isinstance(v, str)}

    @property
    def deleting(self) -> bool:
        return bool(self.metadata.get("deletionTimestamp"))

    @property
    def revision(self) -> int:
        text = self.annotations.get(REVISION_ANNOTATION, "")
        return int(text) if text.isdigit() else 0

    # -- spec
    @property
    def replicas_set(self) -> bool:
        return self.spec.get("replicas") is not None

    @property
    def replicas(self) -> int:
        return as_int(self.spec.get("replicas"), 1)

    @property
    def paused(self) -> bool:
        return as_bool(self.spec.get("paused"))

    @property
    def min_ready_seconds(self) -> int:
        return as_int(self.spec.get("minReadySeconds"), 0)

    @property
    def revision_history_limit(self) -> int:
        return as_int(self.spec.get("revisionHistoryLimit"), DEFAULT_REVISION_HISTORY_LIMIT)

    @property
    def progress_deadline_seconds(self) -> int:
        return as_int(self.spec.get("progressDeadlineSeconds"), DEFAULT_PROGRESS_DEADLINE_SECONDS)

    @property
    def progress_deadline_abort(self) -> bool:
        return as_bool(self.spec.get("progressDeadlineAbort"))

    @property
    def restart_at(self) -> str:
        return as_str(self.spec.get("restartAt"))

    @property
    def rollback_window_revisions(self) -> int:
        return as_int(as_mapping(self.spec.get("rollbackWindow")).get("revisions"), 0)

    @property
    def canary(self) -> Mapping[str, Any] | None:
        value = self.strategy.get("canary")
        return value if isinstance(value, Mapping) else None

    @property
    def blue_green(self) -> Mapping[str, Any] | None:
        value = self.strategy.get("blueGreen")
        return value if isinstance(value, Mapping) else None

    @property
    def steps(self) -> list[Mapping[str, Any]]:
        return [as_mapping(step) for step in as_list(as_mapping(self.canary).get("steps"))]

    @property
    def traffic_routing(self) -> Mapping[str, Any] | None:
        value = as_mapping(self.canary).get("trafficRouting")
        return value if isinstance(value, Mapping) else None

    @property
    def max_traffic_weight(self) -> int:
        routing = as_mapping(self.traffic_routing)
        return as_int(routing.get("maxTrafficWeight"), DEFAULT_MAX_TRAFFIC_WEIGHT)

    @property
    def dynamic_stable_scale(self) -> bool:
        return as_bool(as_mapping(self.canary).get("dynamicStableScale"))

    @property
    def pod_template_labels(self) -> Mapping[str, Any]:
        return as_mapping(as_mapping(as_mapping(self.spec.get("template")).get("metadata")).get("labels"))

    # -- previous status
    @property
    def stable_rs(self) -> str:
        return as_str(self.status.get("stableRS"))

    @property
    def current_pod_hash(self) -> str:
        return as_str(self.status.get("currentPodHash"))

    @property
    def current_step_hash(self) -> str:
        return as_str(self.status.get("currentStepHash"))

    @property
    def current_step_index(self) -> int | None:
        value = self.status.get("currentStepIndex")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def aborted(self) -> bool:
        return as_bool(self.status.get("abort"))

    @property
    def promote_full(self) -> bool:
        return as_bool(self.status.get("promoteFull"))

    @property
    def controller_pause(self) -> bool:
        return as_bool(self.status.get("controllerPause"))

    @property
    def pause_conditions(self) -> list[Mapping[str, Any]]:
        return [as_mapping(c) for c in as_list(self.status.get("pauseConditions"))]

    @property
    def conditions(self) -> list[Mapping[str, Any]]:
        return [as_mapping(c) for c in as_list(self.status.get("conditions"))]

    @property
    def observed_generation_matches(self) -> bool:
        return as_str(self.status.get("observedGeneration")) == str(self.generation)

    @property
    def is_fully_promoted(self) -> bool:
        return self.stable_rs == self.current_pod_hash

    def pause_condition(self, reason: str) -> Mapping[str, Any] | None:
        return next((c for c in self.pause_conditions if c.get("reason") == reason), None)

    @property
    def active_selector(self) -> str:
        return as_str(as_mapping(self.status.get("blueGreen")).get("activeSelector"))

    @property
    def preview_selector(self) -> str:
        return as_str(as_mapping(self.status.get("blueGreen")).get("previewSelector"))

    @property
    def scale_up_preview_checkpoint(self) -> bool:
        return as_bool(as_mapping(self.status.get("blueGreen")).get("scaleUpPreviewCheckPoint"))

    @property
    def recorded_weights(self) -> Mapping[str, Any] | None:
        value = as_mapping(self.status.get("canary")).get("weights")
        return value if isinstance(value, Mapping) else None


@dataclass(frozen=True)
class ReplicaSetView:
    """The fields of an owned ReplicaSet the planners read (§3.2, §3.4, §3.13)."""

    name: str
    pod_hash: str
    spec_replicas: int
    created_at: datetime
    replicas: int = 0
    ready: int = 0
    available: int = 0
    annotations: Mapping[str, str] = field(default_factory=dict)
    generation: int = 0
    observed_generation: int = 0
    deleting: bool = False
    min_ready_seconds: int = 0
    replica_failure: Mapping[str, Any] | None = None

    @classmethod
    def from_manifest(cls, obj: Mapping[str, Any]) -> ReplicaSetView:
        """Project an API ReplicaSet dict onto the view (tolerant of missing fields)."""
        metadata = as_mapping(obj.get("metadata"))
        spec = as_mapping(obj.get("spec"))
        status = as_mapping(obj.get("status"))
        failure = next(
            (
                as_mapping(c)
                for c in as_list(status.get("conditions"))
                if as_mapping(c).get("type") == "ReplicaFailure"
            ),
            None,
        )
        return cls(
            name=as_str(metadata.get("name")),
            pod_hash=as_str(as_mapping(metadata.get("labels")).get(POD_HASH_LABEL)),
            spec_replicas=as_int(spec.get("replicas"), 1),
            created_at=parse_time(metadata.get("creationTimestamp")) or datetime.min.replace(tzinfo=UTC),
            replicas=as_int(status.get("replicas"), 0),
            ready=as_int(status.get("readyReplicas"), 0),
            available=as_int(status.get("availableReplicas"), 0),
            annotations={
                k: v for k, v in as_mapping(metadata.get("annotations")).items() if isinstance(v, str)
            },
            generation=as_int(metadata.get("generation"), 0),
            observed_generation=as_int(status.get("observedGeneration"), 0),
            deleting=bool(metadata.get("deletionTimestamp")),
            min_ready_seconds=as_int(spec.get("minReadySeconds"), 0),
            replica_failure=failure,
        )

    @property
    def revision(self) -> int | None:
        """The ``rollout.argoproj.io/revision`` annotation; ``None`` when absent or not a number."""
        text = self.annotations.get(REVISION_ANNOTATION)
        return int(text) if text is not None and text.isdigit() else None

    @property
    def desired_replicas_annotation(self) -> int | None:
        text = self.annotations.get(DESIRED_REPLICAS_ANNOTATION)
        return int(text) if text is not None and text.isdigit() else None

    @property
    def scale_down_deadline(self) -> datetime | None:
        return parse_time(self.annotations.get(SCALE_DOWN_DEADLINE_ANNOTATION))

    @property
    def has_scale_down_deadline(self) -> bool:
        return bool(self.annotations.get(SCALE_DOWN_DEADLINE_ANNOTATION))

    @property
    def is_experiment_owned(self) -> bool:
        return bool(self.annotations.get(EXPERIMENT_NAME_ANNOTATION))


@dataclass(frozen=True)
class ServiceView:
    """A Service a Rollout references: does it exist, which hash does it select, who manages it."""

    name: str
    selector: Mapping[str, str] = field(default_factory=dict)
    managed_by: str = ""

    @property
    def selected_hash(self) -> str:
        return self.selector.get(POD_HASH_LABEL, "")


@dataclass(frozen=True)
class AnalysisRunView:
    """An owned AnalysisRun: its phase to react to, and what retention reads (§3.9)."""

    name: str
    phase: str = ""
    message: str = ""
    pod_hash: str | None = None
    """The ``rollouts-pod-template-hash`` label; ``None`` when the label is absent."""
    created_at: datetime = NEVER
    deleting: bool = False
    terminating: bool = False
    """``spec.terminate`` is already set: terminating it again would be a wasted write."""


@dataclass(frozen=True)
class ExperimentTemplateView:
    """One ``status.templateStatuses[]`` entry: where an experiment template's traffic goes (§3.6)."""

    name: str
    service_name: str = ""
    pod_template_hash: str = ""


@dataclass(frozen=True)
class ExperimentView:
    """An owned Experiment: its phase to react to (§3.10), its template Services to weight (§3.6),
    and what pruning reads (pod-hash label, age, deletion)."""

    name: str
    phase: str = ""
    message: str = ""
    templates: tuple[ExperimentTemplateView, ...] = ()
    pod_hash: str | None = None
    """The ``rollouts-pod-template-hash`` label; ``None`` when the label is absent."""
    created_at: datetime = NEVER
    deleting: bool = False
    terminating: bool = False
    """``spec.terminate`` is already set: terminating it again would be a wasted write."""


@dataclass(frozen=True)
class PodView:
    """A pod of one of the Rollout's ReplicaSets, reduced to what a restart decides on (§3.20)."""

    name: str
    replica_set: str
    created_at: datetime
    available: bool = True
    deleting: bool = False


@dataclass(frozen=True)
class Observed:
    """Everything the shell observed about a Rollout's children in one pass.

    ``desired_pod_hash`` is the hash of ``spec.template`` (``rollouts.hashes``) and ``step_hash``
    the hash of the canary steps; the shell computes both so the planner stays free of the Go-JSON
    encoder. ``new_rs_name`` names the ReplicaSet the shell matched as newRS by the §3.2 fallbacks
    (legacy hash, semantic template equality); when empty, newRS is the one whose hash label equals
    ``desired_pod_hash``. ``pods`` is listed only while a restart is due (`restart.pods_needed`).
    """

    replica_sets: Sequence[ReplicaSetView] = ()
    desired_pod_hash: str = ""
    step_hash: str = ""
    new_rs_name: str = ""
    services: Mapping[str, ServiceView] = field(default_factory=dict)
    analysis_runs: Mapping[str, AnalysisRunView] = field(default_factory=dict)
    experiments: Mapping[str, ExperimentView] = field(default_factory=dict)
    pods: Sequence[PodView] | None = None
