"""Builders shared by the Experiment planner's unit tests: manifests, observed children, a clock."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from rollouts.experiments import Observed, RunView, ServiceRef
from rollouts.experiments.inputs import ExperimentObject
from rollouts.experiments.templates import template_hash
from rollouts.planner.inputs import ReplicaSetView, format_time

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
UID = "uid-ex"


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def stamp(seconds: float = 0) -> str:
    return format_time(at(seconds))


def template(
    name: str, *, replicas: int | None = 1, ports: bool = True, service: bool = False
) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "web", "image": f"web:{name}"}
    if ports:
        container["ports"] = [{"name": "http", "containerPort": 8080}]
    body: dict[str, Any] = {
        "name": name,
        "selector": {"matchLabels": {"app": "demo", "variant": name}},
        "template": {
            "metadata": {"labels": {"app": "demo", "variant": name}},
            "spec": {"containers": [container]},
        },
    }
    if replicas is not None:
        body["replicas"] = replicas
    if service:
        body["service"] = {}
    return body


def experiment(
    *templates: dict[str, Any], status: dict[str, Any] | None = None, **spec: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Experiment",
        "metadata": {"name": "ex", "namespace": "ns", "uid": UID, "resourceVersion": "7"},
        "spec": {"templates": list(templates) or [template("baseline"), template("canary")], **spec},
    }
    if status is not None:
        body["status"] = status
    return body


def replica_set(
    body: dict[str, Any],
    name: str,
    *,
    spec_replicas: int = 1,
    available: int = 0,
    ready: int | None = None,
    replicas: int | None = None,
    deadline: str | None = None,
) -> ReplicaSetView:
    annotations = {
        "experiment.argoproj.io/name": "ex",
        "experiment.argoproj.io/template-name": name,
    }
    if deadline is not None:
        annotations["scale-down-deadline"] = deadline
    spec_template = next(t for t in body["spec"]["templates"] if t["name"] == name)
    return ReplicaSetView(
        name=f"ex-{name}",
        pod_hash=template_hash(ExperimentObject(body), spec_template),
        spec_replicas=spec_replicas,
        created_at=NOW,
        replicas=available if replicas is None else replicas,
        ready=available if ready is None else ready,
        available=available,
        annotations=annotations,
    )


def running_status(
    body: dict[str, Any], *, available_at: float = -60, since: float = -60, **extra: Any
) -> dict[str, Any]:
    """A status in which every template is Running at its size since ``since``."""
    statuses = [
        {
            "name": t["name"],
            "replicas": t.get("replicas", 1),
            "updatedReplicas": t.get("replicas", 1),
            "readyReplicas": t.get("replicas", 1),
            "availableReplicas": t.get("replicas", 1),
            "status": "Running",
            "lastTransitionTime": stamp(since),
        }
        for t in body["spec"]["templates"]
    ]
    status = {"phase": "Running", "availableAt": stamp(available_at), "templateStatuses": statuses, **extra}
    return status


def with_status(body: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(body)
    result["status"] = status
    return result


def all_running(body: dict[str, Any], **overrides: Any) -> Observed:
    """Observed children of ``body`` with every template's pods available."""
    sets = tuple(
        replica_set(body, t["name"], spec_replicas=t.get("replicas", 1), available=t.get("replicas", 1))
        for t in body["spec"]["templates"]
    )
    return Observed(replica_sets=sets, **overrides)


__all__ = [
    "NOW",
    "UID",
    "Observed",
    "RunView",
    "ServiceRef",
    "all_running",
    "at",
    "experiment",
    "replica_set",
    "running_status",
    "stamp",
    "template",
    "with_status",
]
