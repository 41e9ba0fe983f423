"""Traffic weight selection for a traffic-routed canary (§3.6): which weight the routers should
carry this pass, and the ``status.canary.weights`` record of it.

The routers themselves live in the `traffic` package; the planner only decides the number and
emits a `SetTrafficWeight` action, so a Rollout with ``trafficRouting`` is planned exactly as
Argo would plan it even before a router exists for its mesh. Experiment weight destinations,
managed header/mirror routes and ALB weight verification are not decided here yet: the action
carries canary/stable only and ``verified`` is never set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rollouts.planner.inputs import ReplicaSetView, RolloutView, as_int, as_mapping, as_str
from rollouts.planner.steps import current_set_weight, current_step

__all__ = ["abort_weight", "desired_weight", "weight_status", "weight_update_message"]


def abort_weight(ro: RolloutView, stable_rs: ReplicaSetView | None) -> int:
    """Canary weight while aborting (or rolling back to stable): 0, or with dynamic stable scaling
    whatever share stable cannot serve yet — never more than the weight already recorded."""
    if not ro.dynamic_stable_scale:
        return 0
    available = stable_rs.available if stable_rs is not None else 0
    weight = 100 - (100 * available) // max(ro.replicas, 1)
    recorded = ro.recorded_weights
    if recorded is not None:
        weight = min(weight, as_int(as_mapping(recorded.get("canary")).get("weight"), 0))
    return weight


def desired_weight(
    ro: RolloutView,
    *,
    new_rs: ReplicaSetView | None,
    stable_rs: ReplicaSetView | None,
    aborted: bool,
    at_desired_counts: bool,
) -> int:
    """The canary weight for this pass, by §3.6's ordered cases (first match wins)."""
    if ro.is_fully_promoted:
        return 0
    if aborted:
        return abort_weight(ro, stable_rs)
    if new_rs is None or new_rs.available == 0:
        return 0
    if ro.promote_full:
        if ro.dynamic_stable_scale:
            return (100 * new_rs.available) // max(ro.replicas, 1)
        recorded = ro.recorded_weights
        return as_int(as_mapping(as_mapping(recorded).get("canary")).get("weight"), 0)
    steps = ro.steps
    _, index = current_step(steps, ro.current_step_index)
    if index is None:
        return 0
    if not at_desired_counts:
        # the new ReplicaSet is not ready for the new weight yet: keep the previous setWeight
        for step in reversed(steps[:index]):
            if step.get("setWeight") is not None:
                return as_int(step.get("setWeight"), 0)
        return 0
    if index != len(steps):
        return current_set_weight(steps, index, aborted=False, max_weight=ro.max_traffic_weight)
    return ro.max_traffic_weight


def weight_status(ro: RolloutView, weight: int, canary_hash: str, stable_hash: str) -> dict[str, Any]:
    """The ``status.canary.weights`` value recording ``weight`` (stable gets the rest of
    ``maxTrafficWeight``)."""
    canary = as_mapping(ro.canary)
    return {
        "canary": {
            "weight": weight,
            "podTemplateHash": canary_hash,
            "serviceName": as_str(canary.get("canaryService")),
        },
        "stable": {
            "weight": ro.max_traffic_weight - weight,
            "podTemplateHash": stable_hash,
            "serviceName": as_str(canary.get("stableService")),
        },
    }


def _destination(weights: Mapping[str, Any] | None, side: str) -> dict[str, Any]:
    destination = as_mapping(as_mapping(weights).get(side))
    return {key: destination.get(key) for key in ("weight", "podTemplateHash", "serviceName")}


def weights_changed(previous: Mapping[str, Any] | None, new: Mapping[str, Any]) -> bool:
    if previous is None:
        return True
    return any(_destination(previous, side) != _destination(new, side) for side in ("canary", "stable"))


def weight_update_message(previous: Mapping[str, Any] | None, new: Mapping[str, Any]) -> str:
    """``TrafficWeightUpdated`` Event text: ``Traffic weight updated from A to B`` (or ``to B``)."""
    new_weight = _destination(new, "canary")["weight"]
    if previous is None:
        return f"Traffic weight updated to {new_weight}"
    old_weight = _destination(previous, "canary")["weight"]
    if old_weight != new_weight:
        return f"Traffic weight updated from {old_weight} to {new_weight}"
    return "Traffic weight updated "
