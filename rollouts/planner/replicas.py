"""Replica math for the canary strategy: basic canary (§3.4) and traffic-routed canary (§3.5).

Basic canary approximates the traffic weight with pod counts, so its numbers depend on the
current sizes of every ReplicaSet and on maxSurge/maxUnavailable. It works in two stages, kept
as two functions so each can be tested against the reference's tables:

1. `approximate_split` picks the (canary, stable) pair closest to the weight, allowing one extra
   pod when surge permits, and never leaving a side at zero for a weight strictly between 0 and
   the maximum when there are two or more pods to share;
2. `basic_canary_counts` walks from the current sizes toward that target without exceeding
   ``replicas + surge`` pods or dropping below ``replicas - unavailable`` available pods,
   growing stable before canary and draining older ReplicaSets before shrinking either.

With traffic routing the router carries the weight, so the math is only "enough canary pods for
the weight" and, with ``dynamicStableScale``, "no more stable pods than its traffic needs" — with
the stable side following the weights recorded in the *previous* status, so it shrinks one pass
after traffic moved away from it.

Floating-point steps mirror Go's float64 operations one for one, so rounding ties land where
Argo's land.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rollouts.planner.inputs import ReplicaSetView, as_int, as_mapping, as_str
from rollouts.planner.steps import active_set_canary_scale, current_set_weight

__all__ = [
    "CanaryTarget",
    "approximate_split",
    "basic_canary_counts",
    "canary_target",
    "min_pods",
    "progress_threshold_met",
    "traffic_routed_counts",
    "weight_to_replicas",
]


@dataclass(frozen=True)
class CanaryTarget:
    """What the canary side should be sized by: an explicit pod count, else a traffic weight."""

    weight: int
    replicas: int | None = None


def canary_target(
    *,
    steps: Sequence[Mapping[str, Any]],
    step_index: int | None,
    stable_rs: str,
    current_pod_hash: str,
    promote_full: bool,
    aborted: bool,
    traffic_routed: bool,
    abort_scale_down_delay_seconds: int | None,
    max_weight: int = 100,
) -> CanaryTarget:
    """Argo's "canary replicas or weight": full weight when promoting fully or already promoted,
    else an active ``setCanaryScale``, else the current ``setWeight`` (0 while aborted)."""
    if promote_full or not stable_rs or current_pod_hash == stable_rs:
        return CanaryTarget(weight=max_weight)
    scale = active_set_canary_scale(
        steps,
        step_index,
        traffic_routed=traffic_routed,
        aborted=aborted,
        abort_scale_down_delay_seconds=abort_scale_down_delay_seconds,
    )
    if scale is not None:
        if scale.get("replicas") is not None:
            return CanaryTarget(weight=0, replicas=as_int(scale.get("replicas"), 0))
        if scale.get("weight") is not None:
            return CanaryTarget(weight=as_int(scale.get("weight"), 0))
    return CanaryTarget(weight=current_set_weight(steps, step_index, aborted=aborted, max_weight=max_weight))


def _fraction(value: float) -> float:
    return value - math.trunc(value)


def _tied(weight: int, total: int, max_weight: int) -> bool:
    """Floor and ceiling are equally far from the weight (e.g. 3 pods at 50%)."""
    return _fraction(float(total) * (float(weight) / max_weight)) == 0.5


def _weight_delta(weight: int, canary: int, total: int, max_weight: int) -> float:
    return abs(float(canary * max_weight) / float(total) - float(weight))


def approximate_split(replicas: int, weight: int, max_surge: int, max_weight: int = 100) -> tuple[int, int]:
    """Step A of §3.4: the ``(canary, stable)`` counts that best approximate ``weight``.

    The pair may sum to ``replicas + 1`` when surging gets closer to the weight; ties keep the
    earlier candidate, and the candidates are ordered so that a tie prefers the larger canary.
    """
    if replicas == 0:
        return 0, 0
    ceil_count = math.ceil(float(replicas * weight) / float(max_weight))
    floor_count = math.floor(float(replicas * weight) / float(max_weight))
    zero_allowed = weight in (0, max_weight) or (replicas == 1 and max_surge == 0)
    options: list[tuple[int, int]] = []
    if ceil_count < replicas or zero_allowed:
        options.append((ceil_count, replicas))
    if not _tied(weight, replicas, max_weight) and (floor_count != 0 or zero_allowed):
        options.append((floor_count, replicas))
    if max_surge > 0:
        options.append((ceil_count, replicas + 1))
        if not _tied(weight, replicas + 1, max_weight) and (floor_count != 0 or zero_allowed):
            options.append((floor_count, replicas + 1))
    if not options:  # unreachable for valid weights; kept total so bad input cannot crash a pass
        return 0, replicas
    best = options[0]
    for option in options[1:]:
        if _weight_delta(weight, *option, max_weight) < _weight_delta(weight, *best, max_weight):
            best = option
    canary, total = best
    return canary, total - canary


def _counted_for_scale_down(rs: ReplicaSetView | None, ignore_availability: bool) -> int:
    """Pods of ``rs`` that count as available when deciding how far others may shrink.

    Pods above ``spec.replicas`` are already going away, so never count more than the spec; a side
    whose availability is ignored counts its spec (a crash-looping RS must not block the drain).
    """
    if rs is None:
        return 0
    if rs.spec_replicas < rs.available or ignore_availability:
        return rs.spec_replicas
    return rs.available


def _rebalance(
    *,
    drained: ReplicaSetView | None,
    adjusted: ReplicaSetView | None,
    drained_count: int,
    adjusted_count: int,
    max_total: int,
    min_available: int,
) -> tuple[int, int]:
    """Bring the pair back inside ``max_total`` pods while keeping ``min_available`` available.

    The adjusted side gives up the excess first, but keeps back as many of its available pods as
    are needed to stay at minimum availability; whatever is still over the limit comes off the
    drained side, whose availability was not relied on.
    """
    if adjusted is None:
        return drained_count, adjusted_count
    over_limit = max(0, adjusted_count + drained_count - max_total)
    available = min(drained.available, drained_count) if drained is not None else 0
    adjusted_count -= over_limit
    available += min(adjusted.available, adjusted_count)
    lost_available = max(0, adjusted.available - adjusted_count)
    still_needed = max(0, min_available - available)
    adjusted_count += min(lost_available, still_needed)
    drained_count -= max(0, adjusted_count + drained_count - max_total)
    return drained_count, adjusted_count


def basic_canary_counts(
    *,
    replicas: int,
    weight: int,
    max_surge: int,
    max_unavailable: int,
    new_rs: ReplicaSetView | None,
    stable_rs: ReplicaSetView | None,
    other_rss: Sequence[ReplicaSetView] = (),
) -> tuple[int, int]:
    """Step B of §3.4: the next ``(newRS, stableRS)`` spec sizes for a basic canary.

    ``max_surge``/``max_unavailable`` are the resolved counts (`units.surge_and_unavailable`).
    Without a distinct stable ReplicaSet the whole weight goes to newRS.
    """
    canary_target_count, stable_target_count = approximate_split(replicas, weight, max_surge)
    new_count = new_rs.spec_replicas if new_rs is not None else 0
    has_stable = stable_rs is not None and (new_rs is None or new_rs.name != stable_rs.name)
    stable_count = stable_rs.spec_replicas if has_stable and stable_rs is not None else 0
    if not has_stable:
        canary_target_count, stable_target_count = replicas, 0

    max_total = replicas + max_surge
    others_total = sum(rs.spec_replicas for rs in other_rss)
    scale_up = max_total - (others_total + new_count + stable_count)
    if (
        has_stable
        and stable_rs is not None
        and stable_rs.spec_replicas < stable_target_count
        and scale_up > 0
    ):
        stable_count = min(stable_target_count, stable_rs.spec_replicas + scale_up)
        scale_up -= stable_count - stable_rs.spec_replicas
    if new_rs is not None and new_rs.spec_replicas < canary_target_count and scale_up > 0:
        new_count = min(canary_target_count, new_rs.spec_replicas + scale_up)

    if others_total > 0:
        return new_count, stable_count  # older ReplicaSets drain first (§3.13)

    min_available = replicas - max_unavailable
    increasing = new_rs is None or canary_target_count >= new_rs.spec_replicas
    # Upstream counts stable_rs here even when it is newRS itself; kept for identical numbers.
    countable = _counted_for_scale_down(new_rs, not increasing) + _counted_for_scale_down(
        stable_rs, increasing
    )
    if countable <= min_available:
        return new_count, stable_count
    scale_down = countable - min_available
    # shrink the side whose availability was not counted: canary when its weight falls, else stable
    if not increasing:
        drained, adjusted, drained_count, adjusted_count = new_rs, stable_rs, new_count, stable_count
        drained_target = canary_target_count
    elif has_stable:
        drained, adjusted, drained_count, adjusted_count = stable_rs, new_rs, stable_count, new_count
        drained_target = stable_target_count
    else:
        return new_count, stable_count
    if drained is not None and drained.spec_replicas > drained_target:
        drained_count = max(drained_target, drained.spec_replicas - scale_down)
    drained_count, adjusted_count = _rebalance(
        drained=drained,
        adjusted=adjusted,
        drained_count=drained_count,
        adjusted_count=adjusted_count,
        max_total=max_total,
        min_available=min_available,
    )
    if not increasing:
        return drained_count, adjusted_count
    return adjusted_count, drained_count


def weight_to_replicas(replicas: int, weight: int, max_weight: int = 100) -> int:
    """Pods needed to serve ``weight`` of the traffic, rounded up."""
    return math.ceil(float(weight * replicas) / float(max_weight))


def min_pods(count: int, replicas: int, min_pods_per_replica_set: int | None) -> int:
    """Raise a non-zero count to ``minPodsPerReplicaSet`` (capped at ``replicas``), §1.3."""
    if count == 0 or min_pods_per_replica_set is None:
        return count
    return max(count, min(min_pods_per_replica_set, replicas))


def traffic_routed_counts(
    *,
    replicas: int,
    target: CanaryTarget,
    dynamic_stable_scale: bool,
    recorded_weights: Mapping[str, Any] | None,
    aborted: bool,
    min_pods_per_replica_set: int | None = None,
    max_weight: int = 100,
) -> tuple[int, int]:
    """§3.5: ``(canary, stable)`` sizes when a traffic router carries the weight.

    ``recorded_weights`` is ``status.canary.weights`` (``{canary: {weight}, stable: {weight}}``):
    with dynamic stable scaling the stable side keeps enough pods for the traffic it still gets,
    and an aborting canary keeps enough pods for the traffic not yet moved back.
    """
    if target.replicas is not None:
        canary = target.replicas
    else:
        canary = min_pods(
            weight_to_replicas(replicas, target.weight, max_weight), replicas, min_pods_per_replica_set
        )
    if not dynamic_stable_scale:
        return canary, replicas
    stable = weight_to_replicas(replicas, max_weight - target.weight, max_weight)
    if recorded_weights is not None:
        recorded_stable = as_int(as_mapping(recorded_weights.get("stable")).get("weight"), 0)
        stable = max(stable, weight_to_replicas(replicas, recorded_stable, max_weight))
        if aborted:
            recorded_canary = as_int(as_mapping(recorded_weights.get("canary")).get("weight"), 0)
            canary = max(canary, weight_to_replicas(replicas, recorded_canary, max_weight))
    return (
        min_pods(canary, replicas, min_pods_per_replica_set),
        min_pods(stable, replicas, min_pods_per_replica_set),
    )


def progress_threshold_met(available: int, desired: int, threshold: Mapping[str, Any] | None) -> bool:
    """``canary.replicaProgressThreshold``: enough canary pods are available to count as scaled.

    ``{type: Pods, value: n}`` needs ``n`` available pods (never more than ``desired``);
    ``{type: Percent, value: p}`` needs ``ceil(p% of desired)``. Without a threshold: all of them.
    """
    if threshold is None:
        return available >= desired
    value = as_int(threshold.get("value"), 100)
    if as_str(threshold.get("type")) == "Pods":
        return available >= min(value, desired)
    return available >= math.ceil(desired * value / 100)
