"""Compact projections of what an Experiment controls, as kopf's indexes keep them.

An Experiment's ReplicaSets, Services and AnalysisRuns are found the way Argo claims them: the
controller ownerReference names an ``Experiment``, and the index is keyed by (namespace,
experiment name). Only what the planner reads is kept — a ReplicaSet's counts and annotations,
a Service's name and template, a run's phase — plus the owner's uid (an object left by a
deleted Experiment of the same name is not ours) and the ``resourceVersion``, so the shell can
prefer its own fresher writes (`rollouts.controller.writeback`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from rollouts.experiments.inputs import TEMPLATE_NAME_ANNOTATION, RunView, ServiceRef
from rollouts.planner.inputs import ReplicaSetView, as_list, as_mapping, as_str, parse_time

__all__ = [
    "Record",
    "ReplicaSetRecord",
    "RunRecord",
    "ServiceRecord",
    "experiment_key",
    "project_replica_set",
    "project_run",
    "project_service",
]

Key = tuple[str, str]


def _owner(metadata: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for entry in as_list(metadata.get("ownerReferences")):
        reference = as_mapping(entry)
        if (
            reference.get("controller") is True
            and reference.get("kind") == "Experiment"
            and as_str(reference.get("apiVersion")).startswith("argoproj.io/")
        ):
            return reference
    return None


def experiment_key(body: Mapping[str, Any]) -> Key | None:
    """(namespace, experiment) of the Experiment controlling ``body``; ``None`` if none does."""
    metadata = as_mapping(body.get("metadata"))
    owner = _owner(metadata)
    return None if owner is None else (as_str(metadata.get("namespace")), as_str(owner.get("name")))


def _owner_uid(body: Mapping[str, Any]) -> str:
    return as_str(as_mapping(_owner(as_mapping(body.get("metadata")))).get("uid"))


def _version(body: Mapping[str, Any]) -> str:
    return as_str(as_mapping(body.get("metadata")).get("resourceVersion"))


class _Named(Protocol):
    @property
    def name(self) -> str: ...


V = TypeVar("V", bound=_Named)


@dataclass(frozen=True)
class Record(Generic[V]):
    """A child's view with what the shell needs besides: its version and its owner's uid."""

    view: V
    resource_version: str
    owner_uid: str

    @property
    def name(self) -> str:
        return self.view.name


ReplicaSetRecord = Record[ReplicaSetView]
ServiceRecord = Record[ServiceRef]
RunRecord = Record[RunView]


def project_replica_set(body: Mapping[str, Any]) -> ReplicaSetRecord:
    return Record(ReplicaSetView.from_manifest(body), _version(body), _owner_uid(body))


def project_service(body: Mapping[str, Any]) -> ServiceRecord:
    metadata = as_mapping(body.get("metadata"))
    template = as_str(as_mapping(metadata.get("annotations")).get(TEMPLATE_NAME_ANNOTATION))
    return Record(ServiceRef(as_str(metadata.get("name")), template), _version(body), _owner_uid(body))


def project_run(body: Mapping[str, Any]) -> RunRecord:
    metadata = as_mapping(body.get("metadata"))
    status = as_mapping(body.get("status"))
    view = RunView(
        name=as_str(metadata.get("name")),
        phase=as_str(status.get("phase")),
        message=as_str(status.get("message")),
        terminate=as_mapping(body.get("spec")).get("terminate") is True,
        created_at=parse_time(metadata.get("creationTimestamp")),
    )
    return Record(view, _version(body), _owner_uid(body))
