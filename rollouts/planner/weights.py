"""Traffic weight selection for a traffic-routed canary (§3.6): which weight the routers should
carry this pass, and the ``status.canary.weights`` record of it.

The routers themselves live in the `traffic` package; the planner only decides the number and
emits a `SetTrafficWeight` action, so a Rollout with ``trafficRouting`` is planned exactly as
Argo would plan it even before a router exists for its mesh. Experiment weight destinations join
the canary and stable ones where Argo adds them (`weight_choice`) and are recorded under
``additional``; managed header/mirror routes are decided in `routes`. ALB weight verification is
not done: ``verified`` is never set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from rollouts.planner.actions import ExperimentDestination
from rollouts.planner.inputs import ReplicaSetView, RolloutView, as_int, as_list, as_mapping, as_str
from rollouts.planner.steps import current_set_weight, current_step

__all__ = [
    "WeightChoice",
    "abort_weight",
    "desired_weight",
    "weight_choice",
    "weight_status",
    "weight_update_message",
    "weights_changed",
]


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


@dataclass(frozen=True)
class WeightChoice:
    """The canary weight of a pass, and whether the experiment destinations join it (§3.6)."""

    weight: int
    with_experiment: bool = False


def weight_choice(
    ro: RolloutView,
    *,
    new_rs: ReplicaSetView | None,
    stable_rs: ReplicaSetView | None,
    aborted: bool,
    at_desired_counts: bool,
) -> WeightChoice:
    """The canary weight for this pass, by §3.6's ordered cases (first match wins).

    Experiment destinations are added exactly where Argo adds them: while newRS has no available
    pods, and while stepping (not at the end of the steps); never when fully promoted, aborted or
    promoted in full.
    """
    if ro.is_fully_promoted:
        return WeightChoice(0)
    if aborted:
        return WeightChoice(abort_weight(ro, stable_rs))
    if new_rs is None or new_rs.available == 0:
        return WeightChoice(0, with_experiment=True)
    if ro.promote_full:
        if ro.dynamic_stable_scale:
            return WeightChoice((100 * new_rs.available) // max(ro.replicas, 1))
        recorded = ro.recorded_weights
        return WeightChoice(as_int(as_mapping(as_mapping(recorded).get("canary")).get("weight"), 0))
    steps = ro.steps
    _, index = current_step(steps, ro.current_step_index)
    if index is None:
        return WeightChoice(0)
    if not at_desired_counts:
        # the new ReplicaSet is not ready for the new weight yet: keep the previous setWeight
        for step in reversed(steps[:index]):
            if step.get("setWeight") is not None:
                return WeightChoice(as_int(step.get("setWeight"), 0), with_experiment=True)
        return WeightChoice(0, with_experiment=True)
    if index != len(steps):
        weight = current_set_weight(steps, index, aborted=False, max_weight=ro.max_traffic_weight)
        return WeightChoice(weight, with_experiment=True)
    return WeightChoice(ro.max_traffic_weight)


def desired_weight(
    ro: RolloutView,
    *,
    new_rs: ReplicaSetView | None,
    stable_rs: ReplicaSetView | None,
    aborted: bool,
    at_desired_counts: bool,
) -> int:
    """The canary weight for this pass (`weight_choice` without the experiment part)."""
    return weight_choice(
        ro, new_rs=new_rs, stable_rs=stable_rs, aborted=aborted, at_desired_counts=at_desired_counts
    ).weight


def weight_status(
    ro: RolloutView,
    weight: int,
    canary_hash: str,
    stable_hash: str,
    extra: Sequence[ExperimentDestination] = (),
) -> dict[str, Any]:
    """The ``status.canary.weights`` value recording ``weight`` and the experiment destinations
    (``additional``); stable gets the rest of ``maxTrafficWeight``."""
    canary = as_mapping(ro.canary)
    weights: dict[str, Any] = {
        "canary": {
            "weight": weight,
            "podTemplateHash": canary_hash,
            "serviceName": as_str(canary.get("canaryService")),
        },
        "stable": {
            "weight": ro.max_traffic_weight - weight - sum(d.weight for d in extra),
            "podTemplateHash": stable_hash,
            "serviceName": as_str(canary.get("stableService")),
        },
    }
    if extra:
        weights["additional"] = [
            {"weight": d.weight, "serviceName": d.service_name, "podTemplateHash": d.pod_template_hash}
            for d in extra
        ]
    return weights


_FIELDS: Final = ("weight", "serviceName", "podTemplateHash")


def _destination(weights: Mapping[str, Any] | None, side: str) -> dict[str, Any]:
    destination = as_mapping(as_mapping(weights).get(side))
    return {key: destination.get(key) for key in _FIELDS}


def _additional(weights: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    return [
        {key: as_mapping(entry).get(key) for key in _FIELDS}
        for entry in as_list(as_mapping(weights).get("additional"))
    ]


def weights_changed(previous: Mapping[str, Any] | None, new: Mapping[str, Any]) -> bool:
    if previous is None:
        return True
    return _additional(previous) != _additional(new) or any(
        _destination(previous, side) != _destination(new, side) for side in ("canary", "stable")
    )


def _go_destinations(entries: list[dict[str, Any]]) -> str:
    """Go's ``%v`` of ``[]WeightDestination`` (fields in declaration order: weight, service, hash)."""
    shown = [f"{{{e['weight']} {e['serviceName'] or ''} {e['podTemplateHash'] or ''}}}" for e in entries]
    return "[" + " ".join(shown) + "]"


def weight_update_message(previous: Mapping[str, Any] | None, new: Mapping[str, Any]) -> str:
    """``TrafficWeightUpdated`` Event text: ``Traffic weight updated from A to B`` (or ``to B``),
    with ``additional: [...]`` when the experiment destinations changed."""
    new_weight = _destination(new, "canary")["weight"]
    if previous is None:
        return f"Traffic weight updated to {new_weight}"
    details = []
    old_weight = _destination(previous, "canary")["weight"]
    if old_weight != new_weight:
        details.append(f"from {old_weight} to {new_weight}")
    if _additional(previous) != _additional(new):
        details.append(f"additional: {_go_destinations(_additional(new))}")
    return "Traffic weight updated " + ", ".join(details)
