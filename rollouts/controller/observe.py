"""Compact projections of what a Rollout owns, and the `Observed` built from them (§3.1 step 2).

kopf keeps the projections in its indexes, so what is held per object is decided here: for a
ReplicaSet the planner's `ReplicaSetView` (counts, annotations, timestamps) plus its uid,
resourceVersion, controller owner and a digest of its pod template — never the template itself,
nor ``managedFields``; for a Service its selector and managed-by annotation; for an AnalysisRun
or Experiment its phase and message and what pruning reads (pod-hash label, age, deletion,
termination), and for an Experiment also its template Services (name, Service, pod hash: the
experiment step's extra traffic destinations).
Every projection carries the ``resourceVersion`` so the shell can tell its own fresher writes
from a watch that has not caught up (`writeback`).

`observe` turns those records into the planner's `Observed` for one Rollout: the ReplicaSets its
controller reference claims, newRS found by the §3.2 fallbacks when no ReplicaSet carries the
computed hash, the Services it names, its runs and experiments. Orphan ReplicaSets that match the
selector are reported for adoption (controller-ref semantics) rather than silently used.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rollouts.controller.templates import ephemeral_metadata, template_digest
from rollouts.hashes import legacy_pod_template_hash, pod_template_hash, step_hash
from rollouts.planner.inputs import (
    NEVER,
    POD_HASH_LABEL,
    AnalysisRunView,
    ExperimentTemplateView,
    ExperimentView,
    Observed,
    PodView,
    ReplicaSetView,
    RolloutView,
    ServiceView,
    as_int,
    as_list,
    as_mapping,
    as_str,
    parse_time,
)
from rollouts.planner.validation import TEMPLATE_RESOLVED_FROM_REF

__all__ = [
    "ChildRecord",
    "ReplicaSetRecord",
    "ServiceRecord",
    "controller_owner",
    "desired_hashes",
    "matches_selector",
    "observe",
    "pod_view",
    "project_child",
    "project_replica_set",
    "project_service",
    "referenced_services",
    "with_workload",
]

MANAGED_BY_ANNOTATION = "argo-rollouts.argoproj.io/managed-by-rollouts"


@dataclass(frozen=True)
class ReplicaSetRecord:
    """What is kept in memory of one ReplicaSet."""

    view: ReplicaSetView
    uid: str
    resource_version: str
    owner_uid: str = ""
    owner_name: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    template_digest: str = ""

    @property
    def name(self) -> str:
        return self.view.name


@dataclass(frozen=True)
class ServiceRecord:
    view: ServiceView
    resource_version: str

    @property
    def name(self) -> str:
        return self.view.name


@dataclass(frozen=True)
class ChildRecord:
    """An AnalysisRun or Experiment: its phase is what a Rollout reacts to, plus what pruning
    reads; an Experiment also names its template Services (weighted by traffic routing)."""

    name: str
    phase: str
    message: str
    resource_version: str
    owner_uid: str = ""
    templates: tuple[ExperimentTemplateView, ...] = ()
    pod_hash: str | None = None
    created_at: datetime = NEVER
    deleting: bool = False
    terminating: bool = False

    def run_view(self) -> AnalysisRunView:
        return AnalysisRunView(
            self.name,
            self.phase,
            self.message,
            pod_hash=self.pod_hash,
            created_at=self.created_at,
            deleting=self.deleting,
            terminating=self.terminating,
        )

    def experiment_view(self) -> ExperimentView:
        return ExperimentView(
            self.name,
            self.phase,
            self.message,
            templates=self.templates,
            pod_hash=self.pod_hash,
            created_at=self.created_at,
            deleting=self.deleting,
            terminating=self.terminating,
        )


def controller_owner(metadata: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ownerReference with ``controller: true``, if any."""
    for entry in as_list(metadata.get("ownerReferences")):
        reference = as_mapping(entry)
        if reference.get("controller") is True:
            return reference
    return None


def _rollout_owner(metadata: Mapping[str, Any]) -> Mapping[str, Any] | None:
    owner = controller_owner(metadata)
    if (
        owner is None
        or owner.get("kind") != "Rollout"
        or not as_str(owner.get("apiVersion")).startswith("argoproj.io/")
    ):
        return None
    return owner


def project_replica_set(body: Mapping[str, Any]) -> ReplicaSetRecord:
    metadata = as_mapping(body.get("metadata"))
    owner = _rollout_owner(metadata)
    annotations = as_mapping(metadata.get("annotations"))
    template = as_mapping(as_mapping(body.get("spec")).get("template"))
    return ReplicaSetRecord(
        view=ReplicaSetView.from_manifest(body),
        uid=as_str(metadata.get("uid")),
        resource_version=as_str(metadata.get("resourceVersion")),
        owner_uid=as_str(owner.get("uid")) if owner is not None else "",
        owner_name=as_str(owner.get("name")) if owner is not None else "",
        labels={k: v for k, v in as_mapping(metadata.get("labels")).items() if isinstance(v, str)},
        template_digest=template_digest(template, ephemeral_metadata(annotations)),
    )


def replica_set_index_key(body: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """Index key: ``("owned", ns, rollout)`` for a Rollout's RS, ``("orphan", ns, "")`` for an
    RS nobody controls (adoptable), ``None`` for an RS another controller owns."""
    metadata = as_mapping(body.get("metadata"))
    namespace = as_str(metadata.get("namespace"))
    owner = _rollout_owner(metadata)
    if owner is not None:
        return ("owned", namespace, as_str(owner.get("name")))
    if controller_owner(metadata) is None:
        return ("orphan", namespace, "")
    return None


def project_service(body: Mapping[str, Any]) -> ServiceRecord:
    metadata = as_mapping(body.get("metadata"))
    selector = as_mapping(as_mapping(body.get("spec")).get("selector"))
    return ServiceRecord(
        view=ServiceView(
            name=as_str(metadata.get("name")),
            selector={k: v for k, v in selector.items() if isinstance(v, str)},
            managed_by=as_str(as_mapping(metadata.get("annotations")).get(MANAGED_BY_ANNOTATION)),
        ),
        resource_version=as_str(metadata.get("resourceVersion")),
    )


def project_child(body: Mapping[str, Any]) -> ChildRecord:
    metadata = as_mapping(body.get("metadata"))
    status = as_mapping(body.get("status"))
    owner = _rollout_owner(metadata)
    labels = as_mapping(metadata.get("labels"))
    pod_hash = labels.get(POD_HASH_LABEL)
    return ChildRecord(
        name=as_str(metadata.get("name")),
        phase=as_str(status.get("phase")),
        message=as_str(status.get("message")),
        resource_version=as_str(metadata.get("resourceVersion")),
        owner_uid=as_str(owner.get("uid")) if owner is not None else "",
        templates=tuple(
            ExperimentTemplateView(
                as_str(entry.get("name")),
                as_str(entry.get("serviceName")),
                as_str(entry.get("podTemplateHash")),
            )
            for entry in map(as_mapping, as_list(status.get("templateStatuses")))
        ),
        pod_hash=pod_hash if isinstance(pod_hash, str) else None,
        created_at=parse_time(metadata.get("creationTimestamp")) or NEVER,
        deleting=bool(metadata.get("deletionTimestamp")),
        terminating=as_mapping(body.get("spec")).get("terminate") is True,
    )


def child_index_key(body: Mapping[str, Any]) -> tuple[str, str] | None:
    metadata = as_mapping(body.get("metadata"))
    owner = _rollout_owner(metadata)
    if owner is None:
        return None
    return (as_str(metadata.get("namespace")), as_str(owner.get("name")))


def pod_view(body: Mapping[str, Any], min_ready_seconds: int, now: datetime) -> PodView | None:
    """A pod owned by a ReplicaSet, for restarts (§3.20); available = Ready for minReadySeconds."""
    metadata = as_mapping(body.get("metadata"))
    owner = controller_owner(metadata)
    if owner is None or owner.get("kind") != "ReplicaSet":
        return None
    ready_since = None
    for entry in as_list(as_mapping(body.get("status")).get("conditions")):
        condition = as_mapping(entry)
        if condition.get("type") == "Ready" and condition.get("status") == "True":
            ready_since = parse_time(condition.get("lastTransitionTime"))
    available = ready_since is not None and (now - ready_since).total_seconds() >= min_ready_seconds
    return PodView(
        name=as_str(metadata.get("name")),
        replica_set=as_str(owner.get("name")),
        created_at=parse_time(metadata.get("creationTimestamp")) or datetime.min.replace(tzinfo=UTC),
        available=available,
        deleting=bool(metadata.get("deletionTimestamp")),
    )


def matches_selector(labels: Mapping[str, str], selector: Mapping[str, Any]) -> bool:
    """``metav1.LabelSelector`` matching; an empty or malformed selector matches nothing."""
    match_labels = as_mapping(selector.get("matchLabels"))
    expressions = as_list(selector.get("matchExpressions"))
    if not match_labels and not expressions:
        return False
    if any(labels.get(key) != value for key, value in match_labels.items()):
        return False
    for entry in expressions:
        expression = as_mapping(entry)
        key, operator = as_str(expression.get("key")), expression.get("operator")
        values = [str(v) for v in as_list(expression.get("values"))]
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
        if operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return False
    return True


def referenced_services(ro: RolloutView) -> list[str]:
    """Names of the Services the strategy points at (canary/stable/ping/pong, active/preview)."""
    names: list[str] = []
    canary = as_mapping(ro.canary)
    names += [as_str(canary.get("stableService")), as_str(canary.get("canaryService"))]
    ping_pong = as_mapping(canary.get("pingPong"))  # canary.pingPong, beside trafficRouting
    names += [as_str(ping_pong.get("pingService")), as_str(ping_pong.get("pongService"))]
    blue_green = as_mapping(ro.blue_green)
    names += [as_str(blue_green.get("activeService")), as_str(blue_green.get("previewService"))]
    return [name for name in dict.fromkeys(names) if name]


def desired_hashes(ro: RolloutView) -> tuple[str, str]:
    """(pod-template hash, step hash) of the Rollout; ``ValueError`` if the template cannot be
    serialised as a Go ``PodTemplateSpec`` (a wrong JSON type somewhere in it)."""
    collision = ro.status.get("collisionCount")
    count = as_int(collision, 0) if collision is not None else None
    pod_hash = pod_template_hash(as_mapping(ro.spec.get("template")), count)
    steps_hash = ""
    if ro.canary is not None:
        steps = ro.canary.get("steps")
        steps_hash = step_hash(steps if isinstance(steps, list) else None)
    return pod_hash, steps_hash


def _find_new_rs_by_fallbacks(
    ro: RolloutView, replica_sets: Sequence[ReplicaSetRecord], desired_hash: str
) -> str:
    """§3.2's fallbacks when no RS has the computed hash: the hash releases up to 1.8 computed
    (their ReplicaSets are adopted, not recreated), else the oldest RS with an equal template."""
    if any(record.view.pod_hash == desired_hash for record in replica_sets):
        return ""
    live = [record for record in replica_sets if not record.view.deleting]
    if live:
        collision = ro.status.get("collisionCount")
        count = as_int(collision, 0) if collision is not None else None
        try:
            legacy = legacy_pod_template_hash(as_mapping(ro.spec.get("template")), count)
        except ValueError:  # not a Go PodTemplateSpec: the computed hash failed the same way
            legacy = ""
        by_legacy = sorted(
            (record for record in live if legacy and record.view.pod_hash == legacy),
            key=lambda record: (record.view.created_at, record.name),
        )
        if by_legacy:
            return by_legacy[0].name
    digest = template_digest(as_mapping(ro.spec.get("template")))
    candidates = sorted(
        (record for record in replica_sets if record.template_digest == digest and not record.view.deleting),
        key=lambda record: (record.view.created_at, record.name),
    )
    return candidates[0].name if candidates else ""


def observe(
    rollout: Mapping[str, Any],
    *,
    replica_sets: Iterable[ReplicaSetRecord],
    services: Mapping[str, ServiceRecord],
    runs: Iterable[ChildRecord] = (),
    experiments: Iterable[ChildRecord] = (),
    pods: Sequence[PodView] | None = None,
    hashes: tuple[str, str] | None = None,
) -> Observed:
    """The planner's view of the children of ``rollout`` (only those its uid controls)."""
    ro = RolloutView(rollout)
    owned = [record for record in replica_sets if record.owner_uid == ro.uid]
    pod_hash, steps_hash = hashes if hashes is not None else desired_hashes(ro)
    return Observed(
        replica_sets=tuple(record.view for record in owned),
        desired_pod_hash=pod_hash,
        step_hash=steps_hash,
        new_rs_name=_find_new_rs_by_fallbacks(ro, owned, pod_hash) if pod_hash else "",
        services={name: services[name].view for name in referenced_services(ro) if name in services},
        analysis_runs={r.name: r.run_view() for r in runs if r.owner_uid == ro.uid},
        experiments={e.name: e.experiment_view() for e in experiments if e.owner_uid == ro.uid},
        pods=pods,
    )


def adoptable(rollout: Mapping[str, Any], orphans: Iterable[ReplicaSetRecord]) -> list[ReplicaSetRecord]:
    """Orphan ReplicaSets the Rollout's selector matches (adopted before planning, §3.1 step 2.2)."""
    ro = RolloutView(rollout)
    selector = as_mapping(ro.spec.get("selector"))
    return [
        record
        for record in orphans
        if not record.view.deleting and not record.owner_uid and matches_selector(record.labels, selector)
    ]


def with_workload(rollout: Mapping[str, Any], workload: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``rollout`` planned as if ``spec.template`` (and, except for a PodTemplate,
    ``spec.selector``) were the referenced workload's (§3.16) — in memory only, marked resolved
    so validation checks the template instead of demanding an empty one."""
    resolved = copy.deepcopy(dict(rollout))
    spec = resolved.setdefault("spec", {})
    kind = as_str(as_mapping(spec.get("workloadRef")).get("kind"))
    source = (
        as_mapping(workload.get("template")) if kind == "PodTemplate" else as_mapping(workload.get("spec"))
    )
    if kind == "PodTemplate":
        spec["template"] = copy.deepcopy(dict(source))
    else:
        spec["template"] = copy.deepcopy(dict(as_mapping(source.get("template"))))
        spec["selector"] = copy.deepcopy(dict(as_mapping(source.get("selector"))))
    spec[TEMPLATE_RESOLVED_FROM_REF] = True
    return resolved
