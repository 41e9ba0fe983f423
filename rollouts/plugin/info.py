"""From API objects to what ``get`` shows: a summary and a tree of revisions, ReplicaSets, pods,
Experiments, AnalysisRuns and Jobs (reference §9), as plain data with no terminal concerns.

The functions take the Rollout (or Experiment) and *all* candidate children in its namespace and
pick the owned ones by ``ownerReferences`` uid, so the shell can list each kind once and the
same lists serve every redraw of a watch. ``now`` is a parameter: ages are deterministic in tests.

Statuses follow Argo's plugin: a ReplicaSet is ScaledDown at 0 replicas, Degraded with a
ReplicaFailure condition, Progressing while its controller lags or pods are unavailable, else
Healthy; pods show kubectl's status word (``ContainerCreating``, ``CrashLoopBackOff``...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rollouts.planner.inputs import (
    POD_HASH_LABEL,
    REVISION_ANNOTATION,
    SCALE_DOWN_DEADLINE_ANNOTATION,
    RolloutView,
    as_int,
    as_list,
    as_mapping,
    as_str,
    parse_time,
)
from rollouts.planner.phase import client_phase
from rollouts.planner.steps import current_set_weight
from rollouts.plugin.ages import age, human_duration

__all__ = ["ExperimentInfo", "Node", "RolloutInfo", "experiment_info", "rollout_info"]


@dataclass(frozen=True)
class Node:
    """One row of the tree; ``kind`` ``Revision`` rows carry only a name (``revision:3``).

    ``health`` picks the icon when the status word alone does not (a ``Running`` pod is
    healthy, a ``Running`` AnalysisRun is in progress).
    """

    kind: str
    name: str
    status: str = ""
    age: str = ""
    info: tuple[str, ...] = ()
    children: tuple[Node, ...] = ()
    health: str = ""


@dataclass(frozen=True)
class RolloutInfo:
    name: str
    namespace: str
    status: str
    message: str
    strategy: str
    step: str = ""
    set_weight: str = ""
    actual_weight: str = ""
    images: tuple[tuple[str, tuple[str, ...]], ...] = ()
    replicas: tuple[tuple[str, int], ...] = ()
    tree: Node = field(default_factory=lambda: Node("Rollout", ""))


@dataclass(frozen=True)
class ExperimentInfo:
    name: str
    namespace: str
    status: str
    message: str
    images: tuple[tuple[str, tuple[str, ...]], ...] = ()
    tree: Node = field(default_factory=lambda: Node("Experiment", ""))


@dataclass(frozen=True)
class Children:
    """Everything that might belong to the object being shown, listed once per refresh."""

    replica_sets: Sequence[Mapping[str, Any]] = ()
    pods: Sequence[Mapping[str, Any]] = ()
    analysis_runs: Sequence[Mapping[str, Any]] = ()
    experiments: Sequence[Mapping[str, Any]] = ()
    jobs: Sequence[Mapping[str, Any]] = ()


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return as_mapping(obj.get("metadata"))


def _owned_by(objects: Sequence[Mapping[str, Any]], owner: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    uid = as_str(_meta(owner).get("uid"))
    if not uid:
        return []
    found = [
        obj
        for obj in objects
        if any(as_mapping(ref).get("uid") == uid for ref in as_list(_meta(obj).get("ownerReferences")))
    ]
    return sorted(
        found, key=lambda obj: (as_str(_meta(obj).get("creationTimestamp")), as_str(_meta(obj).get("name")))
    )


def _revision(obj: Mapping[str, Any]) -> int | None:
    text = as_str(as_mapping(_meta(obj).get("annotations")).get(REVISION_ANNOTATION))
    return int(text) if text.isdigit() else None


# -- pods and jobs
def pod_status(pod: Mapping[str, Any]) -> str:
    """kubectl's STATUS column for a pod, reduced to what the tree needs."""
    if _meta(pod).get("deletionTimestamp"):
        return "Terminating"
    status = as_mapping(pod.get("status"))
    reason = as_str(status.get("reason"))
    for entry in as_list(status.get("initContainerStatuses")):
        state = as_mapping(as_mapping(entry).get("state"))
        waiting = as_str(as_mapping(state.get("waiting")).get("reason"))
        terminated = as_mapping(state.get("terminated"))
        if terminated and as_int(terminated.get("exitCode"), 0) != 0:
            return f"Init:{as_str(terminated.get('reason'), 'Error')}"
        if waiting and waiting != "PodInitializing":
            return f"Init:{waiting}"
    containers = [as_mapping(entry) for entry in as_list(status.get("containerStatuses"))]
    for container in containers:
        container_state = as_mapping(container.get("state"))
        waiting = as_str(as_mapping(container_state.get("waiting")).get("reason"))
        stopped = as_str(as_mapping(container_state.get("terminated")).get("reason"))
        if waiting:
            return waiting
        if stopped:
            return stopped
    phase = as_str(status.get("phase"), "Unknown")
    if reason and phase != "Running":
        return reason
    if phase == "Running":
        return "Running" if containers and all(c.get("ready") is True for c in containers) else "NotReady"
    return phase


def _pod_node(pod: Mapping[str, Any], now: datetime) -> Node:
    containers = [as_mapping(c) for c in as_list(as_mapping(pod.get("status")).get("containerStatuses"))]
    total = len(as_list(as_mapping(pod.get("spec")).get("containers"))) or len(containers)
    ready = sum(1 for c in containers if c.get("ready") is True)
    restarts = sum(as_int(c.get("restartCount"), 0) for c in containers)
    info = [f"ready:{ready}/{total}"]
    if restarts:
        info.append(f"restarts:{restarts}")
    status = pod_status(pod)
    return Node(
        "Pod",
        as_str(_meta(pod).get("name")),
        status,
        age(_meta(pod).get("creationTimestamp"), now),
        tuple(info),
        health="Ready" if status == "Running" else status,
    )


def _job_node(job: Mapping[str, Any], now: datetime) -> Node:
    status = as_mapping(job.get("status"))
    conditions = {
        as_str(as_mapping(c).get("type")): as_str(as_mapping(c).get("status"))
        for c in as_list(status.get("conditions"))
    }
    if conditions.get("Complete") == "True":
        phase = "Successful"
    elif conditions.get("Failed") == "True":
        phase = "Failed"
    elif as_int(status.get("active"), 0) > 0:
        phase = "Running"
    else:
        phase = "Pending"
    return Node("Job", as_str(_meta(job).get("name")), phase, age(_meta(job).get("creationTimestamp"), now))


# -- analysis runs
def run_counts(run: Mapping[str, Any]) -> tuple[str, ...]:
    """``✔ 3``, ``✖ 1``... summed over the run's metric results."""
    totals = {"successful": 0, "failed": 0, "inconclusive": 0, "error": 0}
    for entry in as_list(as_mapping(run.get("status")).get("metricResults")):
        result = as_mapping(entry)
        for key in totals:
            totals[key] += as_int(result.get(key), 0)
    marks = (("successful", "✔"), ("failed", "✖"), ("inconclusive", "?"), ("error", "⚠"))
    return tuple(f"{mark} {totals[key]}" for key, mark in marks if totals[key])


def _run_node(run: Mapping[str, Any], children: Children, now: datetime) -> Node:
    phase = as_str(as_mapping(run.get("status")).get("phase"), "Pending")
    jobs = tuple(_job_node(job, now) for job in _owned_by(children.jobs, run))
    return Node(
        "AnalysisRun",
        as_str(_meta(run).get("name")),
        phase,
        age(_meta(run).get("creationTimestamp"), now),
        run_counts(run),
        jobs,
    )


# -- replica sets
def replica_set_status(rs: Mapping[str, Any]) -> str:
    spec, status = as_mapping(rs.get("spec")), as_mapping(rs.get("status"))
    wanted = as_int(spec.get("replicas"), 1)
    if any(
        as_mapping(c).get("type") == "ReplicaFailure" and as_mapping(c).get("status") == "True"
        for c in as_list(status.get("conditions"))
    ):
        return "Degraded"
    if wanted == 0:
        return "ScaledDown"
    if as_int(status.get("observedGeneration"), 0) < as_int(_meta(rs).get("generation"), 0):
        return "Progressing"
    if as_int(status.get("availableReplicas"), 0) < wanted:
        return "Progressing"
    return "Healthy"


def replica_set_tags(ro: RolloutView, pod_hash: str) -> list[str]:
    """Which role a Rollout's ReplicaSet plays: stable, canary, active, preview, ping, pong."""
    tags: list[str] = []
    if not pod_hash:
        return tags
    if ro.blue_green is not None:
        if pod_hash == ro.stable_rs:
            tags.append("stable")
        if pod_hash == ro.active_selector:
            tags.append("active")
        if pod_hash == ro.preview_selector and pod_hash != ro.active_selector:
            tags.append("preview")
        return tags
    if pod_hash == ro.stable_rs:
        tags.append("stable")
    elif pod_hash == ro.current_pod_hash:
        tags.append("canary")
    if as_mapping(ro.canary).get("pingPong") is not None and tags:
        stable_side = as_str(as_mapping(ro.status.get("canary")).get("stablePingPong"), "ping")
        other = "pong" if stable_side == "ping" else "ping"
        tags.append(stable_side if tags[0] == "stable" else other)
    return tags


def _replica_set_node(rs: Mapping[str, Any], tags: Sequence[str], children: Children, now: datetime) -> Node:
    info = list(tags)
    deadline = parse_time(as_mapping(_meta(rs).get("annotations")).get(SCALE_DOWN_DEADLINE_ANNOTATION))
    if deadline is not None and as_int(as_mapping(rs.get("spec")).get("replicas"), 1) > 0:
        info.append(f"delay:{human_duration(deadline - now)}" if deadline > now else "delay:passed")
    pods = tuple(_pod_node(pod, now) for pod in _owned_by(children.pods, rs))
    return Node(
        "ReplicaSet",
        as_str(_meta(rs).get("name")),
        replica_set_status(rs),
        age(_meta(rs).get("creationTimestamp"), now),
        tuple(info),
        pods,
    )


def _images(
    replica_sets: Sequence[tuple[Mapping[str, Any], Sequence[str]]],
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Images of ReplicaSets that have a role or pods, each with the roles that run it."""
    images: dict[str, list[str]] = {}
    for rs, tags in replica_sets:
        busy = (
            as_int(as_mapping(rs.get("spec")).get("replicas"), 1) > 0
            or as_int(as_mapping(rs.get("status")).get("replicas"), 0) > 0
        )
        if not tags and not busy:
            continue
        pod_spec = as_mapping(as_mapping(as_mapping(rs.get("spec")).get("template")).get("spec"))
        for key in ("initContainers", "containers"):
            for container in as_list(pod_spec.get(key)):
                image = as_str(as_mapping(container).get("image"))
                if image:
                    roles = images.setdefault(image, [])
                    roles.extend(tag for tag in tags if tag not in roles)
    return tuple((image, tuple(roles)) for image, roles in images.items())


# -- experiments
def _experiment_tree(experiment: Mapping[str, Any], children: Children, now: datetime) -> Node:
    replica_sets = tuple(
        _replica_set_node(rs, (), children, now) for rs in _owned_by(children.replica_sets, experiment)
    )
    runs = tuple(_run_node(run, children, now) for run in _owned_by(children.analysis_runs, experiment))
    phase = as_str(as_mapping(experiment.get("status")).get("phase"), "Pending")
    return Node(
        "Experiment",
        as_str(_meta(experiment).get("name")),
        phase,
        age(_meta(experiment).get("creationTimestamp"), now),
        (),
        replica_sets + runs,
    )


def experiment_info(experiment: Mapping[str, Any], children: Children, now: datetime) -> ExperimentInfo:
    status = as_mapping(experiment.get("status"))
    owned = _owned_by(children.replica_sets, experiment)
    template_of = {
        as_str(as_mapping(_meta(rs).get("annotations")).get("experiment.argoproj.io/template-name")): rs
        for rs in owned
    }
    tagged = [(rs, (name,) if name else ()) for name, rs in template_of.items()]
    return ExperimentInfo(
        name=as_str(_meta(experiment).get("name")),
        namespace=as_str(_meta(experiment).get("namespace")),
        status=as_str(status.get("phase"), "Pending"),
        message=as_str(status.get("message")),
        images=_images(tagged),
        tree=_experiment_tree(experiment, children, now),
    )


# -- rollouts
def actual_weight(ro: RolloutView, set_weight: int, canary_available: int) -> str:
    """§9: full weight past the last step; the router's recorded weight; else the pod ratio."""
    steps = ro.steps
    index = ro.current_step_index
    max_weight = ro.max_traffic_weight
    if steps and index is not None and index >= len(steps):
        return str(max_weight)
    weights = ro.recorded_weights
    if weights is not None:
        return str(as_int(as_mapping(weights.get("canary")).get("weight"), 0))
    if ro.traffic_routing is not None:
        return str(set_weight)
    available = as_int(ro.status.get("availableReplicas"), 0)
    return "0" if available == 0 else str(canary_available * max_weight // available)


def rollout_info(rollout: Mapping[str, Any], children: Children, now: datetime) -> RolloutInfo:
    ro = RolloutView(rollout)
    phase, message = client_phase(ro)
    # oldest revision first, so images read "stable" before "canary" (creation times may tie)
    owned_sets = sorted(_owned_by(children.replica_sets, rollout), key=lambda rs: _revision(rs) or 0)
    tagged = [
        (rs, replica_set_tags(ro, as_str(as_mapping(_meta(rs).get("labels")).get(POD_HASH_LABEL))))
        for rs in owned_sets
    ]
    revisions: dict[int, list[Node]] = {}
    for rs, tags in tagged:
        revisions.setdefault(_revision(rs) or 0, []).append(_replica_set_node(rs, tags, children, now))
    for experiment in _owned_by(children.experiments, rollout):
        revisions.setdefault(_revision(experiment) or 0, []).append(
            _experiment_tree(experiment, children, now)
        )
    for run in _owned_by(children.analysis_runs, rollout):
        revisions.setdefault(_revision(run) or 0, []).append(_run_node(run, children, now))
    revision_nodes = tuple(
        Node("Revision", f"revision:{number}", children=tuple(revisions[number]))
        for number in sorted(revisions, reverse=True)
    )
    tree = Node("Rollout", ro.name, phase, age(ro.metadata.get("creationTimestamp"), now), (), revision_nodes)

    status = ro.status
    step = set_weight = weight = ""
    if ro.blue_green is not None:
        strategy = "BlueGreen"
    elif ro.canary is not None:
        strategy = "Canary"
        steps = ro.steps
        if steps:
            index = ro.current_step_index
            step = f"{index if index is not None else 0}/{len(steps)}"
        current = current_set_weight(
            steps, ro.current_step_index, aborted=ro.aborted, max_weight=ro.max_traffic_weight
        )
        if not steps and ro.is_fully_promoted:
            current = ro.max_traffic_weight
        canary_available = sum(
            as_int(as_mapping(rs.get("status")).get("availableReplicas"), 0)
            for rs, tags in tagged
            if "canary" in tags
        )
        set_weight, weight = str(current), actual_weight(ro, current, canary_available)
    else:
        strategy = "-"
    replicas = (
        ("Desired", ro.replicas),
        ("Current", as_int(status.get("replicas"), 0)),
        ("Updated", as_int(status.get("updatedReplicas"), 0)),
        ("Ready", as_int(status.get("readyReplicas"), 0)),
        ("Available", as_int(status.get("availableReplicas"), 0)),
    )
    return RolloutInfo(
        name=ro.name,
        namespace=ro.namespace,
        status=phase,
        message=message,
        strategy=strategy,
        step=step,
        set_weight=set_weight,
        actual_weight=weight,
        images=_images(tagged),
        replicas=replicas,
        tree=tree,
    )
