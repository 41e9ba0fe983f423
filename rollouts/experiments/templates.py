"""One experiment template per pass (§8.3): its ReplicaSet, its Service and its status.

The ReplicaSet is named ``<experiment>-<template>`` (no hash suffix) and carries the
``rollouts-pod-template-hash`` of its pod template — the template with any user-set hash label
removed, plus ``templateStatuses[].collisionCount`` — computed by `rollouts.hashes` exactly as
for a Rollout's ReplicaSets. It is created at the desired size, kept there while the experiment
runs, and brought to zero at the end only once the ``scale-down-deadline`` annotation (now +
``scaleDownDelaySeconds``) has passed; the deadline lives on the ReplicaSet, so a restarted
controller waits exactly as long.

Two choices where Argo's code does something that would cost writes or resources without effect,
both behaviour-preserving for a user: a template's ``lastTransitionTime`` moves when the
ReplicaSet is really scaled (Argo also moves it on every pass while a scale-down waits for its
deadline, which would rewrite the status each pass), and no ReplicaSet is created for a template
whose desired size is already zero (an experiment terminated before it started).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from rollouts.experiments.actions import Action, CreateService, DeleteService
from rollouts.experiments.inputs import (
    EXPERIMENT_NAME_ANNOTATION,
    SCALE_DOWN_DEADLINE_ANNOTATION,
    TEMPLATE_NAME_ANNOTATION,
    ExperimentObject,
    Observed,
)
from rollouts.hashes import pod_template_hash
from rollouts.planner.actions import CreateReplicaSet, EmitEvent, PatchReplicaSet
from rollouts.planner.inputs import (
    POD_HASH_LABEL,
    ReplicaSetView,
    as_int,
    as_list,
    as_mapping,
    as_str,
    format_time,
    parse_time,
)

__all__ = [
    "TemplateOutcome",
    "desired_replicas",
    "reconcile_template",
    "replica_set_manifest",
    "service_manifest",
]

COMPLETED_TEMPLATE_STATUSES: Final = frozenset({"Successful", "Failed", "Error"})


@dataclass
class TemplateOutcome:
    """What one template contributes to the pass: writes, Events, its status, its next timer."""

    status: dict[str, Any]
    actions: list[Action] = field(default_factory=list)
    scale_down_at: datetime | None = None
    """The scale-down deadline a scale to zero waits for."""
    deadline_at: datetime | None = None
    """When the template's progress deadline passes, while it is short of its desired size."""


def replicas_of(template: Mapping[str, Any]) -> int:
    return as_int(template.get("replicas"), 1)


def desired_replicas(experiment: ExperimentObject, template: Mapping[str, Any]) -> int:
    """0 once the experiment is finished or terminating or the template completed, else its size."""
    previous = as_mapping(experiment.template_status(as_str(template.get("name"))))
    if experiment.terminating or previous.get("status") in COMPLETED_TEMPLATE_STATUSES:
        return 0
    return replicas_of(template)


def _pod_template(template: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The pod template without a user-set hash label, and that label's value."""
    pod_template = copy.deepcopy(dict(as_mapping(template.get("template"))))
    metadata = dict(as_mapping(pod_template.get("metadata")))
    labels = dict(as_mapping(metadata.get("labels")))
    removed = labels.pop(POD_HASH_LABEL, None)
    if "labels" in metadata:
        metadata["labels"] = labels
        pod_template["metadata"] = metadata
    return pod_template, removed


def template_hash(experiment: ExperimentObject, template: Mapping[str, Any]) -> str:
    """The pod-template hash of a template's ReplicaSet (``ValueError`` if Go could not encode it)."""
    previous = as_mapping(experiment.template_status(as_str(template.get("name"))))
    collision = previous.get("collisionCount")
    pod_template, _ = _pod_template(template)
    return pod_template_hash(pod_template, collision if isinstance(collision, int) else None)


def replica_set_manifest(
    experiment: ExperimentObject, template: Mapping[str, Any], replicas: int
) -> dict[str, Any]:
    """The template's ReplicaSet: hash label on it, its selector and its pods; Argo's annotations."""
    name = as_str(template.get("name"))
    pod_hash = template_hash(experiment, template)
    pod_template, _ = _pod_template(template)
    metadata = dict(as_mapping(pod_template.get("metadata")))
    metadata["labels"] = {**as_mapping(metadata.get("labels")), POD_HASH_LABEL: pod_hash}
    pod_template["metadata"] = metadata
    selector = dict(as_mapping(template.get("selector")))
    selector["matchLabels"] = {**as_mapping(selector.get("matchLabels")), POD_HASH_LABEL: pod_hash}
    spec: dict[str, Any] = {"replicas": replicas, "selector": selector, "template": pod_template}
    min_ready = as_int(template.get("minReadySeconds"), 0)
    if min_ready:
        spec["minReadySeconds"] = min_ready
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{experiment.name}-{name}",
            "namespace": experiment.namespace,
            "labels": {POD_HASH_LABEL: pod_hash},
            "annotations": {EXPERIMENT_NAME_ANNOTATION: experiment.name, TEMPLATE_NAME_ANNOTATION: name},
            "ownerReferences": [experiment.owner_reference()],
        },
        "spec": spec,
    }


def service_manifest(
    experiment: ExperimentObject, template: Mapping[str, Any], rs: ReplicaSetView
) -> dict[str, Any] | None:
    """The template's Service: every container port, selecting the ReplicaSet's hash; ``None``
    when the pods declare no port (Argo creates no Service then)."""
    ports: list[dict[str, Any]] = []
    pod_spec = as_mapping(as_mapping(template.get("template")).get("spec"))
    for container in as_list(pod_spec.get("containers")):
        for entry in as_list(as_mapping(container).get("ports")):
            port = as_mapping(entry)
            number = as_int(port.get("containerPort"), 0)
            service_port: dict[str, Any] = {
                "protocol": as_str(port.get("protocol"), "TCP"),
                "port": number,
                "targetPort": number,
            }
            if as_str(port.get("name")):
                service_port["name"] = port["name"]
            ports.append(service_port)
    if not ports:
        return None
    name = as_str(template.get("name"))
    service_name = as_str(as_mapping(template.get("service")).get("name")) or rs.name
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": service_name,
            "namespace": experiment.namespace,
            "annotations": {EXPERIMENT_NAME_ANNOTATION: experiment.name, TEMPLATE_NAME_ANNOTATION: name},
            "ownerReferences": [experiment.owner_reference()],
        },
        "spec": {"selector": {POD_HASH_LABEL: rs.pod_hash}, "ports": ports},
    }


def _scale_down_deadline(
    experiment: ExperimentObject, rs: ReplicaSetView, now: datetime, outcome: TemplateOutcome
) -> datetime | None:
    """Ensure the deadline annotation a scale to zero waits for; the deadline in force."""
    delay = experiment.scale_down_delay_seconds
    present = SCALE_DOWN_DEADLINE_ANNOTATION in rs.annotations
    if delay <= 0:
        if present:
            outcome.actions.append(
                PatchReplicaSet(
                    rs.name, {"metadata": {"annotations": {SCALE_DOWN_DEADLINE_ANNOTATION: None}}}
                )
            )
        return None
    if present:
        return parse_time(rs.annotations[SCALE_DOWN_DEADLINE_ANNOTATION])
    deadline = now + timedelta(seconds=delay)
    outcome.actions.append(
        PatchReplicaSet(
            rs.name, {"metadata": {"annotations": {SCALE_DOWN_DEADLINE_ANNOTATION: format_time(deadline)}}}
        )
    )
    return deadline


def _scale(
    experiment: ExperimentObject,
    template: Mapping[str, Any],
    rs: ReplicaSetView,
    *,
    desired: int,
    now: datetime,
    outcome: TemplateOutcome,
) -> None:
    target = desired
    if desired == 0:
        deadline = _scale_down_deadline(experiment, rs, now, outcome)
        if deadline is not None and deadline > now:
            target = replicas_of(template)
            outcome.scale_down_at = deadline
    if target == rs.spec_replicas:
        return
    direction = "up" if target > rs.spec_replicas else "down"
    outcome.actions.append(PatchReplicaSet(rs.name, {"spec": {"replicas": target}}))
    outcome.actions.append(
        EmitEvent(
            "ScalingReplicaSet",
            f"Scaled {direction} ReplicaSet {rs.name} from {rs.spec_replicas} to {target}",
        )
    )
    outcome.status["lastTransitionTime"] = format_time(now)


def _services(
    experiment: ExperimentObject,
    template: Mapping[str, Any],
    rs: ReplicaSetView,
    *,
    desired: int,
    observed: Observed,
    outcome: TemplateOutcome,
) -> None:
    name = as_str(template.get("name"))
    existing = observed.service(name)
    wanted = template.get("service") is not None
    if existing is not None and (not wanted or (desired == 0 and rs.available == 0)):
        outcome.actions.append(DeleteService(name, existing.name))
        outcome.status.pop("serviceName", None)
        outcome.status.pop("podTemplateHash", None)
        return
    if existing is not None:
        outcome.status["serviceName"] = existing.name
        outcome.status["podTemplateHash"] = rs.pod_hash
        return
    if wanted and desired > 0:
        manifest = service_manifest(experiment, template, rs)
        if manifest is not None:
            outcome.actions.append(CreateService(name, manifest))
            outcome.status["serviceName"] = manifest["metadata"]["name"]
            outcome.status["podTemplateHash"] = rs.pod_hash


_COUNTS: Final = ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas")


def _next_status(
    experiment: ExperimentObject,
    name: str,
    status: dict[str, Any],
    desired: int,
    now: datetime,
) -> None:
    """Argo's template status transitions; completed statuses never change."""
    if status.get("status") in COMPLETED_TEMPLATE_STATUSES:
        return
    if desired == status["availableReplicas"]:
        finished = experiment.passed_duration(now) or experiment.terminating
        status["status"] = "Successful" if finished else "Running"
        return
    # Terminating first: a template scaled to zero at the end is not late, whatever its age.
    since = parse_time(status.get("lastTransitionTime")) or now
    deadline = experiment.progress_deadline_seconds
    if experiment.terminating:
        status["status"] = "Successful"
    elif now > since + timedelta(seconds=deadline):
        status["status"] = "Failed"
        status["message"] = f"Template '{name}' exceeded its progressDeadlineSeconds ({deadline})"
    else:
        status["status"] = "Progressing"


def reconcile_template(
    experiment: ExperimentObject, template: Mapping[str, Any], observed: Observed, now: datetime
) -> TemplateOutcome:
    """Writes and the new ``templateStatuses[]`` entry for one template (a valid spec only)."""
    name = as_str(template.get("name"))
    previous = dict(experiment.template_status(name) or {"name": name})
    outcome = TemplateOutcome(status=dict(previous))
    status = outcome.status
    desired = desired_replicas(experiment, template)
    rs = observed.replica_set(experiment.name, name)
    error = observed.template_errors.get(name)
    if rs is None:
        if desired > 0 and error is None:
            manifest = replica_set_manifest(experiment, template, desired)
            rs_name = manifest["metadata"]["name"]
            outcome.actions.append(CreateReplicaSet(rs_name, manifest))
            outcome.actions.append(
                EmitEvent("NewReplicaSetCreated", f"Created ReplicaSet {rs_name} with size {desired}")
            )
            status["lastTransitionTime"] = format_time(now)
    else:
        _services(experiment, template, rs, desired=desired, observed=observed, outcome=outcome)
        if desired > 0 and SCALE_DOWN_DEADLINE_ANNOTATION in rs.annotations:
            # running again (a retried experiment): an old deadline must not cut the new run short
            outcome.actions.append(
                PatchReplicaSet(
                    rs.name, {"metadata": {"annotations": {SCALE_DOWN_DEADLINE_ANNOTATION: None}}}
                )
            )
        if rs.spec_replicas != desired or desired == 0:
            _scale(experiment, template, rs, desired=desired, now=now, outcome=outcome)
    counts = (rs.replicas, rs.replicas, rs.ready, rs.available) if rs is not None else (0, 0, 0, 0)
    status.update(zip(_COUNTS, counts, strict=True))
    if any(previous.get(key, 0) != status[key] for key in _COUNTS):
        status["lastTransitionTime"] = format_time(now)
    if error is not None and status.get("status") not in COMPLETED_TEMPLATE_STATUSES:
        status["status"] = "Error"
        status["message"] = error
        if name in observed.collisions:
            status["collisionCount"] = as_int(previous.get("collisionCount"), 0) + 1
    _next_status(experiment, name, status, desired, now)
    before, after = as_str(previous.get("status")), as_str(status.get("status"))
    if before != after:
        message = f"Template '{name}' transitioned from {before} -> {after}"
        if as_str(status.get("message")):
            message += f": {status['message']}"
        outcome.actions.append(EmitEvent(f"Template{after}", message, warning=after in ("Failed", "Error")))
    if after in ("Progressing", "Running") and desired != status["availableReplicas"]:
        since = parse_time(status.get("lastTransitionTime"))
        if since is not None:
            outcome.deadline_at = since + timedelta(
                seconds=experiment.progress_deadline_seconds, milliseconds=1
            )
    return outcome
