"""Phase and message (§3.15) and the progress deadline (§3.14), as pure predicates over status.

`rollout_phase` is what the controller writes into ``status.phase``/``status.message`` on every
status write; its rules are ordered and the first match wins, so the order of the checks below is
the specification. `client_phase` is the wrapper Argo's CLI and dashboard apply on top (they do
not trust a phase written for an older generation). The remaining predicates — healthy,
progressing, completed, timed out — feed the condition computation in `status`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from rollouts.planner.conditions import INVALID_SPEC, PROGRESSING, Reason, find_condition
from rollouts.planner.inputs import RolloutView, as_int, as_list, as_mapping, as_str, parse_time

__all__ = [
    "ANALYSIS_COMPLETED_PHASES",
    "client_phase",
    "progress_check_at",
    "rollout_completed",
    "rollout_healthy",
    "rollout_phase",
    "rollout_progressing",
    "timed_out",
]

DEGRADED: Final = "Degraded"
PAUSED: Final = "Paused"
PROGRESSING_PHASE: Final = "Progressing"
HEALTHY: Final = "Healthy"
ANALYSIS_COMPLETED_PHASES: Final = frozenset({"Successful", "Failed", "Error", "Inconclusive"})


def rollout_phase(ro: RolloutView, status: Mapping[str, Any]) -> tuple[str, str]:
    """``(phase, message)`` for ``status`` of the Rollout whose spec is ``ro`` (first match wins).

    Like upstream, the Degraded checks are one pass over the conditions, so when both an
    ``InvalidSpec`` and an aborted/timed-out Progressing condition exist, the earlier one decides.
    """
    for entry in as_list(status.get("conditions")):
        condition = as_mapping(entry)
        if condition.get("type") == INVALID_SPEC:
            return DEGRADED, f"{INVALID_SPEC}: {as_str(condition.get('message'))}"
        if condition.get("reason") in (Reason.ABORTED, Reason.TIMED_OUT):
            return DEGRADED, f"{condition['reason']}: {as_str(condition.get('message'))}"
    if ro.paused:
        return PAUSED, "manually paused"
    pause_conditions = as_list(status.get("pauseConditions"))
    if pause_conditions:
        return PAUSED, as_str(as_mapping(pause_conditions[0]).get("reason"))
    restart_at = parse_time(ro.restart_at)
    if restart_at is not None and restart_at != parse_time(status.get("restartedAt")):
        return PROGRESSING_PHASE, "rollout is restarting"
    updated = as_int(status.get("updatedReplicas"), 0)
    if updated < ro.replicas:
        return PROGRESSING_PHASE, "more replicas need to be updated"
    if as_int(status.get("availableReplicas"), 0) < updated:
        return PROGRESSING_PHASE, "updated replicas are still becoming available"
    stable = as_str(status.get("stableRS"))
    current = as_str(status.get("currentPodHash"))
    if ro.blue_green is not None:
        blue_green = as_mapping(status.get("blueGreen"))
        active = as_str(blue_green.get("activeSelector"))
        if not active or active != current:
            return PROGRESSING_PHASE, "active service cutover pending"
        if not stable or stable != current:
            if _waiting_for_post_promotion_analysis(ro, blue_green):
                return PROGRESSING_PHASE, "waiting for analysis to complete"
            return PROGRESSING_PHASE, "waiting for post-promotion verification to complete"
    elif ro.canary is not None:
        if ro.traffic_routing is None and as_int(status.get("replicas"), 0) > updated:
            return PROGRESSING_PHASE, "old replicas are pending termination"
        if not stable or stable != current:
            return PROGRESSING_PHASE, "waiting for all steps to complete"
    return HEALTHY, ""


def _waiting_for_post_promotion_analysis(ro: RolloutView, blue_green: Mapping[str, Any]) -> bool:
    if as_mapping(ro.blue_green).get("postPromotionAnalysis") is None:
        return False
    run = as_mapping(blue_green.get("postPromotionAnalysisRunStatus"))
    return as_str(run.get("status")) not in ANALYSIS_COMPLETED_PHASES


def client_phase(ro: RolloutView) -> tuple[str, str]:
    """The phase as Argo's clients show it (CLI ``status``, dashboard), §3.15 last paragraph."""
    observed = as_str(ro.status.get("observedGeneration"))
    if observed.isdigit() and int(observed) < ro.generation:
        return PROGRESSING_PHASE, "waiting for rollout spec update to be observed"
    if ro.controller_pause and not ro.pause_conditions:
        return PROGRESSING_PHASE, "waiting for rollout to unpause"
    workload_generation = ro.annotations.get("rollout.argoproj.io/workload-generation", "")
    observed_workload = as_str(ro.status.get("workloadObservedGeneration"))
    if (
        workload_generation.isdigit()
        and observed_workload.isdigit()
        and workload_generation != observed_workload
    ):
        return PROGRESSING_PHASE, "waiting for rollout spec update to be observed for the reference workload"
    phase = as_str(ro.status.get("phase"))
    if phase:
        return phase, as_str(ro.status.get("message"))
    return rollout_phase(ro, ro.status)


def rollout_healthy(ro: RolloutView, status: Mapping[str, Any]) -> bool:
    """Every desired pod updated and available, generation observed, strategy finished (§3.15.1)."""
    current = as_str(status.get("currentPodHash"))
    if ro.blue_green is not None:
        blue_green = as_mapping(status.get("blueGreen"))
        finished = as_str(blue_green.get("activeSelector")) == current
        if as_str(ro.blue_green.get("previewService")):
            finished = finished and as_str(blue_green.get("previewSelector")) == current
    else:
        steps = len(ro.steps)
        index = status.get("currentStepIndex")
        all_steps = steps == 0 or index is None or index == steps
        stable = as_str(status.get("stableRS"))
        finished = (
            all_steps
            and bool(stable)
            and stable == current
            and as_int(status.get("replicas"), 0) == ro.replicas
        )
    return (
        as_int(status.get("updatedReplicas"), 0) == ro.replicas
        and as_int(status.get("availableReplicas"), 0) == ro.replicas
        and ro.observed_generation_matches
        and finished
    )


def rollout_progressing(ro: RolloutView, status: Mapping[str, Any]) -> bool:
    """Whether ``status`` shows progress against the previous status (§3.14 "Progress")."""
    old = ro.status

    def number(source: Mapping[str, Any], key: str) -> int:
        return as_int(source.get(key), 0)

    if ro.blue_green is not None:
        old_bg, new_bg = as_mapping(old.get("blueGreen")), as_mapping(status.get("blueGreen"))
        strategy_progress = any(
            old_bg.get(key, "") != new_bg.get(key, "") for key in ("activeSelector", "previewSelector")
        )
    else:
        old_index, new_index = old.get("currentStepIndex"), status.get("currentStepIndex")
        strategy_progress = (
            status.get("stableRS", "") != old.get("stableRS", "")
            or (old_index is not None and new_index is not None and old_index != new_index)
            or status.get("currentStepHash", "") != old.get("currentStepHash", "")
        )
    old_leftovers = number(old, "replicas") - number(old, "updatedReplicas")
    new_leftovers = number(status, "replicas") - number(status, "updatedReplicas")
    return (
        number(status, "updatedReplicas") != number(old, "updatedReplicas")
        or new_leftovers < old_leftovers
        or number(status, "readyReplicas") > number(old, "readyReplicas")
        or number(status, "availableReplicas") > number(old, "availableReplicas")
        or strategy_progress
    )


def rollout_completed(status: Mapping[str, Any]) -> bool:
    stable = as_str(status.get("stableRS"))
    return bool(stable) and stable == as_str(status.get("currentPodHash"))


def timed_out(conditions: Sequence[Mapping[str, Any]], progress_deadline_seconds: int, now: datetime) -> bool:
    """§3.14: the Progressing condition is older than the deadline, or already says so.

    An aborted (or paused) Progressing condition never times out: a retry must not inherit the
    age of the abort.
    """
    condition = find_condition(conditions, PROGRESSING)
    if condition is None or condition.get("reason") in (Reason.ABORTED, Reason.PAUSED):
        return False
    if condition.get("reason") == Reason.TIMED_OUT:
        return True
    updated = parse_time(condition.get("lastUpdateTime"))
    return updated is not None and updated + timedelta(seconds=progress_deadline_seconds) < now


def progress_check_at(
    conditions: Sequence[Mapping[str, Any]], progress_deadline_seconds: int
) -> datetime | None:
    """When to look again for a stuck rollout: Progressing ``lastUpdateTime`` + deadline + 1 s."""
    condition = find_condition(conditions, PROGRESSING)
    updated = parse_time(as_mapping(condition).get("lastUpdateTime"))
    if updated is None:
        return None
    return updated + timedelta(seconds=progress_deadline_seconds + 1)
