"""The canary pipeline (§3.1 "Canary pipeline", §3.3-§3.6): one pass from observed state to a Plan.

`plan_canary` follows Argo's ``rolloutCanary`` stage by stage, and like it moves the rollout at
most one step per pass: any stage that changed the world (a ReplicaSet resized, a pause added)
ends the pass with a status write, and the next watch event or timer starts the next pass.

A template or step change short-circuits everything: the status is reset (step 0, pauses and
abort cleared) and nothing is scaled in that pass — which is also how a brand-new Rollout starts,
since its step hash is still empty. Going back to the stable template skips the steps.

Seams, each planned here and executed elsewhere: `SetTrafficWeight` (routers in `traffic`, with
the experiment step's template Services as extra destinations), `CreateAnalysisRun` (run specs
in `analysis`), `CreateExperiment` (the object built by `experiments` from the ReplicaSets the
shell reads). Not planned yet: in-place ephemeral-metadata updates of existing ReplicaSets
(§3.17), ALB weight verification and step plugins (§3.22); a Rollout using them is still
planned, those parts are simply not acted on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, Final

from rollouts.planner.actions import DeleteReplicaSet, Plan, SetTrafficWeight
from rollouts.planner.context import PassContext
from rollouts.planner.experiments import experiment_destinations
from rollouts.planner.inputs import (
    Observed,
    ReplicaSetView,
    as_int,
    as_mapping,
    as_str,
)
from rollouts.planner.pause import CANARY_PAUSE_STEP, INCONCLUSIVE_ANALYSIS
from rollouts.planner.prelude import is_scaling_event, start
from rollouts.planner.replicas import (
    CanaryTarget,
    basic_canary_counts,
    canary_target,
    progress_threshold_met,
    traffic_routed_counts,
)
from rollouts.planner.replicasets import ensure_new_rs
from rollouts.planner.restart import reconcile_restart
from rollouts.planner.routes import route_instructions
from rollouts.planner.runs import current_experiment, reconcile_canary_analysis, reconcile_experiment
from rollouts.planner.scaledown import (
    canary_old_rs_decisions,
    is_referenced,
    revision_history_deletions,
    unhealthy_cleanup,
)
from rollouts.planner.status import base_status, compute_conditions, finish, format_selector, promote
from rollouts.planner.steps import (
    StepFacts,
    current_step,
    pause_expires_at,
    step_completed,
    step_description,
    step_kind,
)
from rollouts.planner.units import surge_and_unavailable
from rollouts.planner.weights import weight_choice, weight_status, weight_update_message, weights_changed

__all__ = ["plan_canary"]

DEFAULT_DELAY_SECONDS: Final = 30


def plan_canary(rollout: Mapping[str, Any], observed: Observed, now: datetime) -> Plan:
    """Plan one reconcile pass of a canary Rollout (raw API dict) against what the shell observed."""
    ctx, early = start(rollout, observed, now)
    if early is not None:
        return early
    if is_scaling_event(ctx):
        return _replicas_only(ctx)
    return _pipeline(ctx)


# -- inputs derived from spec and previous status


def _canary(ctx: PassContext) -> Mapping[str, Any]:
    return as_mapping(ctx.ro.canary)


def _traffic_routed(ctx: PassContext) -> bool:
    return ctx.ro.traffic_routing is not None


def _explicit_abort_delay(ctx: PassContext) -> int | None:
    value = _canary(ctx).get("abortScaleDownDelaySeconds")
    return None if value is None else as_int(value, 0)


def _surge_and_unavailable(ctx: PassContext) -> tuple[int, int]:
    canary = _canary(ctx)
    return surge_and_unavailable(
        canary.get("maxSurge", "25"), canary.get("maxUnavailable", "25"), ctx.ro.replicas
    )


def _target(ctx: PassContext) -> CanaryTarget:
    ro = ctx.ro
    return canary_target(
        steps=ro.steps,
        step_index=ro.current_step_index,
        stable_rs=ro.stable_rs,
        current_pod_hash=ro.current_pod_hash,
        promote_full=ro.promote_full,
        aborted=ro.aborted,
        traffic_routed=_traffic_routed(ctx),
        abort_scale_down_delay_seconds=_explicit_abort_delay(ctx),
        max_weight=ro.max_traffic_weight if _traffic_routed(ctx) else 100,
    )


def _desired_counts(ctx: PassContext, weights: Mapping[str, Any] | None) -> tuple[int, int]:
    """``(newRS, stableRS)`` sizes for this pass (§3.4 or §3.5)."""
    ro = ctx.ro
    if _traffic_routed(ctx):
        minimum = _canary(ctx).get("minPodsPerReplicaSet")
        return traffic_routed_counts(
            replicas=ro.replicas,
            target=_target(ctx),
            dynamic_stable_scale=ro.dynamic_stable_scale,
            recorded_weights=weights,
            aborted=ro.aborted,
            min_pods_per_replica_set=None if minimum is None else as_int(minimum, 0),
            max_weight=ro.max_traffic_weight,
        )
    surge, unavailable = _surge_and_unavailable(ctx)
    return basic_canary_counts(
        replicas=ro.replicas,
        weight=_target(ctx).weight,
        max_surge=surge,
        max_unavailable=unavailable,
        new_rs=ctx.new_rs,
        stable_rs=ctx.stable_rs,
        other_rss=ctx.other_rss,
    )


def _at_desired_counts(ctx: PassContext, weights: Mapping[str, Any] | None) -> bool:
    """§3.3 "at desired counts": newRS sized and available (or past the progress threshold),
    stable sized (unless dynamic), and for basic canary no other ReplicaSet serving."""
    new_count, stable_count = _desired_counts(ctx, weights)
    new_rs, stable_rs = ctx.new_rs, ctx.stable_rs
    threshold = _canary(ctx).get("replicaProgressThreshold")
    if new_rs is None or new_rs.spec_replicas != new_count:
        return False
    if not progress_threshold_met(new_rs.available, new_count, as_mapping(threshold) if threshold else None):
        return False
    if threshold is None and new_rs.available != new_count:
        return False
    if not (_traffic_routed(ctx) and ctx.ro.dynamic_stable_scale) and (
        stable_rs is None or stable_rs.spec_replicas != stable_count or stable_rs.replicas != stable_count
    ):
        return False
    return _traffic_routed(ctx) or sum(rs.available for rs in ctx.other_rss) == 0


def _template_or_steps_changed(ctx: PassContext) -> bool:
    ro = ctx.ro
    if not ro.current_step_hash or ro.current_step_hash != ctx.observed.step_hash:
        return True
    return bool(ro.current_pod_hash) and ro.current_pod_hash != ctx.current_pod_hash


# -- pipeline stages


def _pipeline(ctx: PassContext) -> Plan:
    # newRS is created (with 0 pods) in the very pass that sees the change, as Argo's
    # rolloutCanary does before it returns with the status-only sync; scaling starts next pass.
    ensure_new_rs(ctx)
    if _template_or_steps_changed(ctx):
        return _sync_status(ctx, changed=True)
    if reconcile_restart(ctx, max_unavailable=_surge_and_unavailable(ctx)[1]):
        return Plan(actions=tuple(ctx.actions), notes=("evicting pods for spec.restartAt",))
    for rs in revision_history_deletions(ctx.other_rss, ctx.ro.revision_history_limit):
        ctx.actions.append(DeleteReplicaSet(rs.name))
    _reconcile_ping_pong(ctx)
    _reconcile_services(ctx)
    weights = _reconcile_traffic(ctx)
    experiment_phase = reconcile_experiment(ctx, ctx.status["canary"])
    reconcile_canary_analysis(ctx, ctx.status["canary"])
    if ctx.pause.add:
        return _sync_status(ctx, experiment_phase=experiment_phase)
    if not _scale_replica_sets(ctx, weights):
        _reconcile_pause_step(ctx)
    return _sync_status(ctx, experiment_phase=experiment_phase)


def _ping_pong_roles(canary: Mapping[str, Any], stable_ping_pong: object) -> tuple[str, str] | None:
    """``(stable, canary)`` of the ping and pong Services, or ``None`` without ``pingPong``.

    ``status.canary.stablePingPong`` names the one fronting stable; until the first promotion it
    is empty and pong counts as stable, so ping takes the first ReplicaSet (Argo's ``IsStablePing``).
    """
    ping_pong = canary.get("pingPong")
    if not isinstance(ping_pong, Mapping):
        return None
    ping, pong = as_str(ping_pong.get("pingService")), as_str(ping_pong.get("pongService"))
    return (ping, pong) if stable_ping_pong == "ping" else (pong, ping)


def _reconcile_ping_pong(ctx: PassContext) -> None:
    """§3.1 canary step 6: point the canary role of ping/pong at newRS while an update runs.

    At once, without waiting for available pods (Argo's ``ensureSVCTargets`` without the check):
    the routers give that Service no traffic until the weights move. The stable role is left as
    it is — it was the canary of the previous update, so it already selects stableRS — and the
    roles swap when `promote` flips ``stablePingPong``.
    """
    roles = _ping_pong_roles(_canary(ctx), as_mapping(ctx.ro.status.get("canary")).get("stablePingPong"))
    if roles is None or ctx.ro.is_fully_promoted:
        return
    ctx.point_service(roles[1], ctx.new_rs, require_available=False)


def _reconcile_services(ctx: PassContext) -> None:
    """Stable Service -> stableRS; canary Service -> newRS, or back to stable on an abort.

    With traffic routing the traffic stage moves the canary Service back (once no traffic is left
    on the canary), so it is not pointed at newRS here in the meantime.
    """
    canary = _canary(ctx)
    stable_service, canary_service = (
        str(canary.get("stableService", "")),
        str(canary.get("canaryService", "")),
    )
    ctx.point_service(stable_service, ctx.stable_rs, require_available=True)
    if ctx.pause.aborted:
        if not _traffic_routed(ctx):
            ctx.point_service(canary_service, ctx.stable_rs, require_available=True)
        return
    ctx.point_service(canary_service, ctx.new_rs, require_available=True)


def _reconcile_traffic(ctx: PassContext) -> Mapping[str, Any] | None:
    """§3.6: the weight for the routers this pass; returns the weights recorded for scaling newRS."""
    ro = ctx.ro
    if not _traffic_routed(ctx):
        ctx.status["canary"].pop("weights", None)
        return None
    choice = weight_choice(
        ro,
        new_rs=ctx.new_rs,
        stable_rs=ctx.stable_rs,
        aborted=ctx.pause.aborted,
        at_desired_counts=_at_desired_counts(ctx, None),
    )
    weight = choice.weight
    step, _ = current_step(ro.steps, ro.current_step_index)
    extra = experiment_destinations(step or {}, current_experiment(ctx)) if choice.with_experiment else ()
    if ctx.pause.aborted and (weight == 0 or not ro.dynamic_stable_scale):
        # require_available=False: stable pods may all be unready behind readiness gates (upstream #2507)
        ctx.point_service(str(_canary(ctx).get("canaryService", "")), ctx.stable_rs, require_available=False)
    canary_hash = ctx.new_rs.pod_hash if ctx.new_rs is not None else ""
    stable_hash = ctx.stable_rs.pod_hash if ctx.stable_rs is not None else ""
    routes = route_instructions(ro, aborted=ctx.pause.aborted, new_rs=ctx.new_rs, revision=ctx.revision)
    ctx.actions.append(
        SetTrafficWeight(
            weight,
            canary_hash,
            stable_hash,
            ro.max_traffic_weight,
            header_route=routes.header_route,
            mirror_route=routes.mirror_route,
            remove_managed_routes=routes.remove_managed_routes,
            extra=extra,
        )
    )
    new_weights = weight_status(ro, weight, canary_hash, stable_hash, extra)
    previous = ro.recorded_weights
    if weights_changed(previous, new_weights):
        ctx.event("TrafficWeightUpdated", weight_update_message(previous, new_weights))
        ctx.status["canary"]["weights"] = new_weights
    return as_mapping(ctx.status["canary"].get("weights")) or None


def _halted(ctx: PassContext) -> bool:
    return ctx.ro.paused or ctx.ro.pause_condition(INCONCLUSIVE_ANALYSIS) is not None


def _delay_abort_scale_down(ctx: PassContext) -> bool:
    """Argo's ``shouldDelayScaleDownOnAbort`` for a traffic-routed canary."""
    if not ctx.pause.aborted or ctx.stable_rs is None or not _traffic_routed(ctx):
        return False
    explicit = _explicit_abort_delay(ctx)
    if explicit == 0:
        return False
    return not (ctx.ro.dynamic_stable_scale and explicit is None)


def _scale_replica_sets(ctx: PassContext, weights: Mapping[str, Any] | None) -> bool:
    """Stable first, then newRS, then the others; ``True`` as soon as one of them changed size."""
    if _halted(ctx):
        return False
    delay_abort = _delay_abort_scale_down(ctx)
    if ctx.new_rs is not None and not delay_abort:
        ctx.set_deadline(ctx.new_rs, None)
    if ctx.stable_rs is not None and (ctx.new_rs is None or ctx.stable_rs.name != ctx.new_rs.name):
        ctx.set_deadline(ctx.stable_rs, None)
    if ctx.distinct_stable and ctx.stable_rs is not None:
        # stable follows the weights of the *previous* status: it shrinks one pass after traffic left
        _, stable_count = _desired_counts(ctx, ctx.ro.recorded_weights)
        if ctx.scale(ctx.stable_rs, stable_count):
            return True
    if ctx.new_rs is not None and _scale_new_rs(ctx, weights, delay_abort):
        return True
    return _scale_down_others(ctx)


def _scale_new_rs(ctx: PassContext, weights: Mapping[str, Any] | None, delay_abort: bool) -> bool:
    new_rs = ctx.new_rs
    assert new_rs is not None
    new_count, _ = _desired_counts(ctx, weights)
    if (
        ctx.pause.aborted
        and _traffic_routed(ctx)
        and ctx.stable_rs is not None
        and _explicit_abort_delay(ctx) == 0
    ):
        return False  # abortScaleDownDelaySeconds: 0 leaves the aborted canary up (§3.5)
    delay = (_explicit_abort_delay(ctx) or DEFAULT_DELAY_SECONDS) if delay_abort else None
    return ctx.size_new_rs(new_count, abort_delay_seconds=delay)


def _scale_down_others(ctx: PassContext) -> bool:
    active = [rs for rs in ctx.other_rss if rs.spec_replicas > 0]
    if not active:
        return False
    scaled = False
    cleaned: list[ReplicaSetView] = []
    for decision in unhealthy_cleanup(active):
        scaled = ctx.scale(decision.rs, decision.replicas) or scaled
    cleaned_names = {d.rs.name: d.replicas for d in unhealthy_cleanup(active)}
    for rs in active:
        cleaned.append(replace(rs, spec_replicas=cleaned_names[rs.name]) if rs.name in cleaned_names else rs)
    ro = ctx.ro
    canary = _canary(ctx)
    _, unavailable = _surge_and_unavailable(ctx)
    services = [str(canary.get("canaryService", "")), str(canary.get("stableService", ""))]
    referenced = [
        rs.pod_hash for rs in cleaned if is_referenced(rs, ro.status, ctx.observed.services, services)
    ]
    limit = canary.get("scaleDownDelayRevisionLimit")
    decisions = canary_old_rs_decisions(
        other_rss=cleaned,
        available_total=sum(rs.available for rs in ctx.all_rss),
        replicas=ro.replicas,
        max_unavailable=unavailable,
        traffic_routed=_traffic_routed(ctx),
        fully_promoted=ro.is_fully_promoted,
        dynamic_stable_scale=ro.dynamic_stable_scale,
        scale_down_delay_seconds=as_int(canary.get("scaleDownDelaySeconds"), DEFAULT_DELAY_SECONDS),
        revision_limit=None if limit is None else as_int(limit, 0),
        referenced=referenced,
        now=ctx.now,
    )
    return any([ctx.apply_decision(decision) for decision in decisions]) or scaled


def _reconcile_pause_step(ctx: PassContext) -> None:
    """Add the ``CanaryPauseStep`` condition on a pause step, and time its end."""
    ro = ctx.ro
    if ro.paused or ro.promote_full:
        return
    step, _ = current_step(ro.steps, ro.current_step_index)
    if step is None or step_kind(step) != "pause":
        return
    condition = ro.pause_condition(CANARY_PAUSE_STEP)
    if condition is None:
        if not ro.controller_pause:
            ctx.pause.add.append(CANARY_PAUSE_STEP)
        return
    expires = pause_expires_at(step, condition)
    if expires is not None:
        ctx.requeue(expires, "pause step duration")


# -- status


def _replicas_only(ctx: PassContext) -> Plan:
    """§3.1 step 5: resize for a changed ``spec.replicas`` without advancing anything."""
    ctx.sync_new_rs_revision()
    if ctx.new_rs is None and ctx.ro.current_pod_hash != ctx.ro.stable_rs:
        ctx.new_rs = ctx.rs_by_hash(ctx.ro.current_pod_hash)
    _scale_replica_sets(ctx, ctx.ro.recorded_weights)
    status = dict(ctx.ro.status)
    status["availableReplicas"] = sum(rs.available for rs in ctx.all_rss)
    status["HPAReplicas"] = sum(rs.replicas for rs in ctx.all_rss)
    return finish(ctx, status)


def _should_full_promote(ctx: PassContext, step_index: int | None) -> str:
    """§3.3 "Full promotion": the reason to mark newRS stable, or ``""``."""
    ro = ctx.ro
    if ctx.stable_rs is None:
        return "Initial deploy"
    if ctx.pause.aborted:
        return ""
    new_rs = ctx.new_rs
    threshold = _canary(ctx).get("replicaProgressThreshold")
    if new_rs is None or not (
        new_rs.available >= ro.replicas
        or (
            threshold is not None
            and progress_threshold_met(new_rs.available, ro.replicas, as_mapping(threshold))
        )
    ):
        return ""
    if ro.promote_full:
        return "Full promotion requested"
    if ctx.rollback_within_window():
        return "Rollback within window"
    step_count = len(ro.steps)
    if step_count in (0, step_index):
        return f"Completed all {step_count} canary steps"
    return ""


def _reset(ctx: PassContext, status: dict[str, Any]) -> None:
    """Status as at the start of a new update (§3.1 canary step 1)."""
    ctx.pause.clear = True
    ctx.pause.remove_abort = True
    status["restartedAt"] = ctx.ro.restart_at or None
    status["promoteFull"] = False
    status["canary"].pop("currentStepAnalysisRunStatus", None)
    status["canary"].pop("currentBackgroundAnalysisRunStatus", None)
    status["currentStepIndex"] = 0 if ctx.ro.steps else None


def _sync_status(ctx: PassContext, *, changed: bool = False, experiment_phase: str = "") -> Plan:
    ro = ctx.ro
    status = base_status(ctx)
    status["canary"] = dict(ctx.status["canary"])
    if ro.status.get("canary") and as_mapping(ro.status.get("canary")).get("stablePingPong"):
        status["canary"]["stablePingPong"] = as_mapping(ro.status["canary"])["stablePingPong"]
    status["availableReplicas"] = sum(rs.available for rs in ctx.all_rss)
    status["HPAReplicas"] = sum(rs.replicas for rs in ctx.all_rss)
    status["selector"] = format_selector(as_mapping(ro.spec.get("selector")))
    status["stableRS"] = ro.stable_rs
    status["currentStepHash"] = ctx.observed.step_hash
    steps = ro.steps
    step_count = len(steps)
    step, index = current_step(steps, ro.current_step_index)

    if changed:
        _reset(ctx, status)
        if ctx.new_rs is not None and step_count > 0:
            if ro.stable_rs == ctx.new_rs.pod_hash:
                ctx.event("SkipSteps", "Rollback to stable ReplicaSets")
                status["currentStepIndex"] = step_count
            elif ctx.rollback_within_window() and ctx.new_rs.spec_replicas > 0:
                ctx.event("SkipSteps", "Rollback to active ReplicaSets within RollbackWindow")
                status["currentStepIndex"] = step_count
        compute_conditions(ctx, status)
        return finish(ctx, status)

    if ro.promote_full or ctx.rollback_within_window():
        ctx.pause.clear = True
        ctx.pause.remove_abort = True
        if step_count > 0:
            index = step_count
    reason = _should_full_promote(ctx, index)
    if reason:
        promote(ctx, status, reason)
        compute_conditions(ctx, status)
        return finish(ctx, status)
    if ctx.pause.aborted:
        if step_count > 0:
            status["currentStepIndex"] = step_count if status["stableRS"] == status["currentPodHash"] else 0
        compute_conditions(ctx, status)
        return finish(ctx, status)

    facts = StepFacts(
        at_desired_counts=_at_desired_counts(ctx, as_mapping(status["canary"].get("weights")) or None),
        experiment_phase=experiment_phase,
        analysis_phase=str(
            as_mapping(status["canary"].get("currentStepAnalysisRunStatus")).get("status", "")
        ),
    )
    if (
        index is not None
        and index < step_count
        and step_completed(
            step,
            facts,
            spec_paused=ro.paused,
            pause_condition=ro.pause_condition(CANARY_PAUSE_STEP),
            controller_pause=ro.controller_pause,
            now=ctx.now,
        )
    ):
        assert step is not None
        index += 1
        status["canary"].pop("currentStepAnalysisRunStatus", None)
        ctx.event(
            "RolloutStepCompleted", f"Rollout step {index}/{step_count} completed ({step_description(step)})"
        )
        ctx.pause.remove.append(CANARY_PAUSE_STEP)
    status["currentStepIndex"] = index
    compute_conditions(ctx, status)
    return finish(ctx, status)
