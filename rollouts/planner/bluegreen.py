"""Blue-green (§3.7, §3.8): the decisions as small pure functions, then the pipeline that uses them.

The decisions answer one question each — how many pods the new (preview) ReplicaSet gets, whether
the update is fast-tracked, whether the promotion pause is over, which hash the active Service
should select, whether the ``scaleUpPreviewCheckPoint`` latch closes — from the previous status
and the observed Services. `plan_bluegreen` strings them together in upstream's order: create
newRS, point the preview Service at it, size the ReplicaSets, manage the pause, switch the active
Service, run pre/post-promotion analysis, write status.

The pause is only the controller's when auto-promotion is off or delayed
(``autoPromotionSeconds``); with auto-promotion delayed, clearing the condition by hand does not
end it (the next pass re-adds it) — ``promote --full`` is the way to skip, as upstream.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Final

from rollouts.planner.actions import DeleteReplicaSet, Plan
from rollouts.planner.context import PassContext
from rollouts.planner.inputs import (
    POD_HASH_LABEL,
    AnalysisRunView,
    Observed,
    ReplicaSetView,
    RolloutView,
    as_bool,
    as_int,
    as_mapping,
    as_str,
    parse_time,
)
from rollouts.planner.pause import BLUE_GREEN_PAUSE, INCONCLUSIVE_ANALYSIS
from rollouts.planner.prelude import is_scaling_event, start
from rollouts.planner.replicasets import ensure_new_rs
from rollouts.planner.restart import reconcile_restart
from rollouts.planner.runs import (
    create_run,
    needs_new_run,
    react_to_run,
    reconcile_other_runs,
    recorded_run,
    run_status,
    terminate_run,
)
from rollouts.planner.scaledown import (
    blue_green_old_rs_decisions,
    is_referenced,
    revision_history_deletions,
)
from rollouts.planner.status import (
    base_status,
    compute_conditions,
    finish,
    format_selector,
    promote,
    saturated,
)
from rollouts.planner.units import scaled_count

__all__ = [
    "completed_pause",
    "fast_tracked",
    "needs_controller_pause",
    "plan_bluegreen",
    "preview_replicas",
    "scale_up_preview_checkpoint",
]

DEFAULT_DELAY_SECONDS: Final = 30


def _strategy(ro: RolloutView) -> Mapping[str, Any]:
    return as_mapping(ro.blue_green)


def preview_replicas(ro: RolloutView, new_rs: ReplicaSetView, active_rs: ReplicaSetView | None) -> int:
    """Desired size of newRS (§3.7): ``previewReplicaCount`` until promotion is under way."""
    strategy = _strategy(ro)
    count = strategy.get("previewReplicaCount")
    if count is None:
        return ro.replicas
    if active_rs is None or active_rs.name == new_rs.name or ro.promote_full:
        return ro.replicas
    if new_rs.pod_hash != ro.current_pod_hash:
        return as_int(count, 0)  # a fresh update
    not_paused = not ro.paused and not ro.pause_conditions
    if not_paused and ro.scale_up_preview_checkpoint:
        return ro.replicas
    return as_int(count, 0)


def needs_controller_pause(ro: RolloutView) -> bool:
    """The controller pauses before the switch iff auto-promotion is off or delayed."""
    strategy = _strategy(ro)
    if strategy.get("autoPromotionEnabled") is not None and not as_bool(strategy.get("autoPromotionEnabled")):
        return True
    return as_int(strategy.get("autoPromotionSeconds"), 0) > 0


def _auto_promotion_enabled(ro: RolloutView) -> bool:
    value = _strategy(ro).get("autoPromotionEnabled")
    return value is None or as_bool(value)


def completed_pause(ro: RolloutView, *, pause_added_now: bool, now: datetime) -> bool:
    """Argo's ``CompletedBlueGreenPause``: the promotion pause is over (or never needed)."""
    if pause_added_now:
        return False
    if ro.scale_up_preview_checkpoint or not needs_controller_pause(ro):
        return True
    condition = ro.pause_condition(BLUE_GREEN_PAUSE)
    if _auto_promotion_enabled(ro):
        seconds = as_int(_strategy(ro).get("autoPromotionSeconds"), 0)
        if seconds == 0:
            return True
        started = parse_time(as_mapping(condition).get("startTime"))
        return started is not None and now > started + timedelta(seconds=seconds)
    return ro.controller_pause and condition is None


def fast_tracked(ro: RolloutView, new_rs: ReplicaSetView, active_hash: str) -> bool:
    """Skip the pause and switch at once: moving back to a ReplicaSet still inside its scale-down
    delay, ``promote --full``, an active Service not yet managed, or already pointing at newRS."""
    return (
        new_rs.has_scale_down_deadline or ro.promote_full or not active_hash or active_hash == new_rs.pod_hash
    )


def scale_up_preview_checkpoint(
    ro: RolloutView, new_rs: ReplicaSetView | None, *, pre_analysis_done: bool, pause_done: bool
) -> bool:
    """The one-way latch behind ``previewReplicaCount`` (§3.7)."""
    count = _strategy(ro).get("previewReplicaCount")
    if count is None:
        return False
    if ro.scale_up_preview_checkpoint:
        return True
    if not pre_analysis_done or not pause_done:
        return False
    return new_rs is not None and new_rs.available == as_int(count, 0)


def plan_bluegreen(rollout: Mapping[str, Any], observed: Observed, now: datetime) -> Plan:
    """Plan one reconcile pass of a blue-green Rollout against what the shell observed."""
    ctx, early = start(rollout, observed, now)
    if early is not None:
        return early
    if is_scaling_event(ctx):
        _scale_replica_sets(ctx)
        status = dict(ctx.ro.status)
        active = ctx.rs_by_hash(ctx.ro.active_selector)
        active_sets = [active] if active is not None else ctx.all_rss
        status["HPAReplicas"] = sum(rs.replicas for rs in active_sets)
        status["availableReplicas"] = sum(rs.available for rs in active_sets)
        return finish(ctx, status)
    return _pipeline(ctx)


# -- pipeline


def _services(ctx: PassContext) -> tuple[str, str]:
    strategy = _strategy(ctx.ro)
    return as_str(strategy.get("activeService")), as_str(strategy.get("previewService"))


def _live_hash(ctx: PassContext, service_name: str) -> str:
    service = ctx.observed.services.get(service_name)
    return service.selected_hash if service is not None else ""


def _halted(ctx: PassContext) -> bool:
    return ctx.ro.paused or ctx.ro.pause_condition(INCONCLUSIVE_ANALYSIS) is not None


def _pipeline(ctx: PassContext) -> Plan:
    ensure_new_rs(ctx)
    active_name, preview_name = _services(ctx)
    if preview_name and ctx.new_rs is not None and not _halted(ctx):
        ctx.switch_service_to_hash(preview_name, ctx.new_rs.pod_hash)
    changed = bool(ctx.ro.current_pod_hash) and ctx.ro.current_pod_hash != ctx.current_pod_hash
    if changed:
        return _sync_status(ctx, changed=True)
    if reconcile_restart(ctx, max_unavailable=_max_unavailable(ctx)):
        return Plan(actions=tuple(ctx.actions), notes=("evicting pods for spec.restartAt",))
    _scale_replica_sets(ctx)
    for rs in revision_history_deletions(ctx.other_rss, ctx.ro.revision_history_limit):
        ctx.actions.append(DeleteReplicaSet(rs.name))
    _reconcile_pause(ctx)
    _reconcile_active_service(ctx, active_name)
    _reconcile_analysis(ctx)
    return _sync_status(ctx)


def _max_unavailable(ctx: PassContext) -> int:
    """``blueGreen.maxUnavailable`` (default 25%, rounded down, at most ``replicas``): bounds restarts."""
    replicas = ctx.ro.replicas
    try:
        count = scaled_count(_strategy(ctx.ro).get("maxUnavailable", "25"), replicas, round_up=False)
    except (TypeError, ValueError):
        count = 0
    return min(count, replicas)


def _abort_delay(ctx: PassContext) -> int | None:
    """``abortScaleDownDelaySeconds`` (default 30); ``None`` when 0 = never scale the preview down."""
    value = as_int(_strategy(ctx.ro).get("abortScaleDownDelaySeconds"), DEFAULT_DELAY_SECONDS)
    return None if value == 0 else value


def _scale_replica_sets(ctx: PassContext) -> None:
    ro = ctx.ro
    delay_abort = ctx.pause.aborted and ctx.stable_rs is not None and _abort_delay(ctx) is not None
    if ctx.new_rs is not None and not delay_abort:
        ctx.set_deadline(ctx.new_rs, None)
    if ctx.stable_rs is not None and (ctx.new_rs is None or ctx.stable_rs.name != ctx.new_rs.name):
        ctx.set_deadline(ctx.stable_rs, None)
    active_name, _ = _services(ctx)
    active_rs = ctx.rs_by_hash(_live_hash(ctx, active_name))
    if active_rs is not None:
        ctx.scale(active_rs, ro.replicas)
    if ctx.new_rs is not None:
        _scale_new_rs(ctx, delay_abort)
    _scale_down_others(ctx)


def _scale_new_rs(ctx: PassContext, delay_abort: bool) -> None:
    new_rs = ctx.new_rs
    assert new_rs is not None
    desired = preview_replicas(ctx.ro, new_rs, ctx.rs_by_hash(ctx.ro.active_selector))
    delay = (_abort_delay(ctx) or DEFAULT_DELAY_SECONDS) if delay_abort else None
    ctx.size_new_rs(desired, abort_delay_seconds=delay)


def _scale_down_others(ctx: PassContext) -> None:
    ro = ctx.ro
    if ro.pause_condition(INCONCLUSIVE_ANALYSIS) is not None:
        return
    strategy = _strategy(ro)
    delay = strategy.get("scaleDownDelaySeconds")
    if strategy.get("postPromotionAnalysis") is not None and delay is None:
        post = recorded_run(ctx, "postPromotionAnalysisRunStatus", "blueGreen")
        if not (ctx.new_rs is not None and ctx.new_rs.has_scale_down_deadline) and (
            post is None or post.phase != "Successful"
        ):
            return
    services = list(_services(ctx))
    referenced = [
        rs.pod_hash for rs in ctx.other_rss if is_referenced(rs, ro.status, ctx.observed.services, services)
    ]
    limit = strategy.get("scaleDownDelayRevisionLimit")
    decisions = blue_green_old_rs_decisions(
        other_rss=[rs for rs in ctx.other_rss if rs.spec_replicas > 0],
        replicas=ro.replicas,
        scale_down_delay_seconds=as_int(delay, DEFAULT_DELAY_SECONDS),
        revision_limit=None if limit is None else as_int(limit, 0),
        referenced=referenced,
        now=ctx.now,
    )
    for decision in decisions:
        ctx.apply_decision(decision)


def _ready_for_pause(ctx: PassContext) -> bool:
    new_rs = ctx.new_rs
    if new_rs is None:
        return False
    desired = preview_replicas(ctx.ro, new_rs, ctx.rs_by_hash(ctx.ro.active_selector))
    return new_rs.spec_replicas == desired and new_rs.available == desired


def _pre_analysis_done(ctx: PassContext) -> bool:
    if _strategy(ctx.ro).get("prePromotionAnalysis") is None:
        return True
    run = recorded_run(ctx, "prePromotionAnalysisRunStatus", "blueGreen")
    return run is not None and run.phase == "Successful"


def _reconcile_pause(ctx: PassContext) -> None:
    ro = ctx.ro
    new_rs = ctx.new_rs
    if ro.aborted or new_rs is None or not _ready_for_pause(ctx) or _halted(ctx):
        return
    active_name, _ = _services(ctx)
    active_hash = _live_hash(ctx, active_name)
    if (
        fast_tracked(ro, new_rs, active_hash)
        or active_hash == new_rs.pod_hash
        or ro.scale_up_preview_checkpoint
        or not needs_controller_pause(ro)
    ):
        ctx.pause.remove.append(BLUE_GREEN_PAUSE)
        return
    if not _pre_analysis_done(ctx):
        return
    condition = ro.pause_condition(BLUE_GREEN_PAUSE)
    if condition is not None:
        if completed_pause(ro, pause_added_now=bool(ctx.pause.add), now=ctx.now):
            ctx.pause.remove.append(BLUE_GREEN_PAUSE)
        else:
            seconds = as_int(_strategy(ro).get("autoPromotionSeconds"), 0)
            started = parse_time(condition.get("startTime"))
            if seconds > 0 and started is not None:
                ctx.requeue(started + timedelta(seconds=seconds), "auto-promotion delay")
    elif not ro.controller_pause:
        ctx.pause.add.append(BLUE_GREEN_PAUSE)


def _reconcile_active_service(ctx: PassContext, active_name: str) -> None:
    """Switch the active Service once newRS is saturated and the gates allow (§3.7)."""
    ro, new_rs = ctx.ro, ctx.new_rs
    if new_rs is None or _halted(ctx) or not _ready_for_pause(ctx) or not saturated(ro, new_rs):
        return
    active_hash = _live_hash(ctx, active_name)
    target = active_hash
    if fast_tracked(ro, new_rs, active_hash):
        target = new_rs.pod_hash
    if completed_pause(ro, pause_added_now=bool(ctx.pause.add), now=ctx.now) and _pre_analysis_done(ctx):
        target = new_rs.pod_hash
    if ro.aborted:
        target = ro.stable_rs
    ctx.switch_service_to_hash(active_name, target)


def _reconcile_analysis(ctx: PassContext) -> None:
    """Pre-promotion analysis gates the switch; post-promotion analysis gates marking stable."""
    ro = ctx.ro
    strategy = _strategy(ro)
    blue_green = ctx.status["blueGreen"]
    pre = recorded_run(ctx, "prePromotionAnalysisRunStatus", "blueGreen")
    post = recorded_run(ctx, "postPromotionAnalysisRunStatus", "blueGreen")
    new_rs = ctx.new_rs
    if (
        ctx.pause.aborted
        or ro.is_fully_promoted
        or ro.promote_full
        or ctx.stable_rs is None
        or new_rs is None
    ):
        terminate_run(ctx, pre)
        terminate_run(ctx, post)
        if not ctx.pause.aborted:
            reconcile_other_runs(ctx, (), prune=not ro.promote_full)
            return
        reconcile_other_runs(ctx, (pre, post), prune=False)
        blue_green["prePromotionAnalysisRunStatus"] = run_status(pre)
        blue_green["postPromotionAnalysisRunStatus"] = run_status(post)
        return
    previous = as_mapping(ro.status.get("blueGreen"))
    active_name, _ = _services(ctx)
    switched = _live_hash(ctx, active_name) == new_rs.pod_hash
    base = f"{ro.name}-{new_rs.pod_hash}-{ctx.revision}"
    if strategy.get("prePromotionAnalysis") is not None and not switched:
        ready = _ready_for_pause(ctx)
        pre = _promotion_run(ctx, pre, "PrePromotion", f"{base}-pre", "prePromotionAnalysis", start=ready)
        if ready:
            react_to_run(ctx, pre, "PrePromotion", as_mapping(previous.get("prePromotionAnalysisRunStatus")))
    if strategy.get("postPromotionAnalysis") is not None and switched and saturated(ro, new_rs):
        post = _promotion_run(ctx, post, "PostPromotion", f"{base}-post", "postPromotionAnalysis", start=True)
        react_to_run(ctx, post, "PostPromotion", as_mapping(previous.get("postPromotionAnalysisRunStatus")))
    reconcile_other_runs(ctx, (pre, post), prune=True)
    blue_green["prePromotionAnalysisRunStatus"] = run_status(pre)
    blue_green["postPromotionAnalysisRunStatus"] = run_status(post)


def _promotion_run(
    ctx: PassContext, run: AnalysisRunView | None, kind: str, name: str, field: str, *, start: bool
) -> AnalysisRunView | None:
    """Argo's ``reconcilePre/PostPromotionAnalysisRun``: the recorded run; a first one once
    ``start`` allows; or a new one at once when the user retried an abort or promoted past an
    inconclusive run (`needs_new_run`), else the old verdict would abort or pause again."""
    if run is None:
        return create_run(ctx, kind, name, as_mapping(_strategy(ctx.ro)[field]), None) if start else None
    if ctx.ro.pause_condition(INCONCLUSIVE_ANALYSIS) is None and needs_new_run(ctx, run):
        return create_run(ctx, kind, name, as_mapping(_strategy(ctx.ro)[field]), None)
    return run


def _should_full_promote(ctx: PassContext, status: Mapping[str, Any]) -> str:
    ro = ctx.ro
    blue_green = as_mapping(status.get("blueGreen"))
    active = as_str(blue_green.get("activeSelector"))
    if ctx.stable_rs is None or not active:
        return "Initial deploy"
    if active != status["currentPodHash"]:
        return ""
    if ro.promote_full:
        return "Full promotion requested"
    if ctx.rollback_within_window():
        return "Rollback within window"
    if ctx.pause.aborted:
        return ""
    if _strategy(ro).get("postPromotionAnalysis") is not None:
        if ctx.new_rs is not None and ctx.new_rs.has_scale_down_deadline:
            return f"Rollback to '{ctx.new_rs.name}' within scaleDownDelay"
        post = as_mapping(blue_green.get("postPromotionAnalysisRunStatus"))
        if as_str(post.get("status")) != "Successful":
            return ""
    return "Completed blue-green update"


def _sync_status(ctx: PassContext, *, changed: bool = False) -> Plan:
    ro = ctx.ro
    status = base_status(ctx)
    status["blueGreen"] = {k: v for k, v in ctx.status["blueGreen"].items() if v is not None}
    status["canary"] = {}
    status["stableRS"] = ro.stable_rs
    if changed:
        ctx.pause.clear = True
        ctx.pause.remove_abort = True
        status["restartedAt"] = ro.restart_at or None
        status["promoteFull"] = False
        status["blueGreen"].pop("prePromotionAnalysisRunStatus", None)
        status["blueGreen"].pop("postPromotionAnalysisRunStatus", None)
    if ro.promote_full or ctx.rollback_within_window():
        ctx.pause.clear = True
        ctx.pause.remove_abort = True
    active_name, preview_name = _services(ctx)
    status["blueGreen"]["previewSelector"] = ctx.service_hash(preview_name)
    status["blueGreen"]["activeSelector"] = ctx.service_hash(active_name)
    reason = _should_full_promote(ctx, status)
    if reason:
        promote(ctx, status, reason)
        status["blueGreen"].pop("scaleUpPreviewCheckPoint", None)
    elif not changed:
        status["blueGreen"]["scaleUpPreviewCheckPoint"] = scale_up_preview_checkpoint(
            ro,
            ctx.new_rs,
            pre_analysis_done=_pre_analysis_done(ctx),
            pause_done=completed_pause(ro, pause_added_now=bool(ctx.pause.add), now=ctx.now),
        )
    active_rs = ctx.rs_by_hash(as_str(status["blueGreen"].get("activeSelector")))
    if active_rs is not None:
        status["HPAReplicas"] = active_rs.replicas
        selector = dict(as_mapping(ro.spec.get("selector")))
        selector["matchLabels"] = {
            **as_mapping(selector.get("matchLabels")),
            POD_HASH_LABEL: active_rs.pod_hash,
        }
        status["selector"] = format_selector(selector)
        status["availableReplicas"] = active_rs.available
        status["readyReplicas"] = active_rs.ready
    else:
        status["HPAReplicas"] = sum(rs.replicas for rs in ctx.all_rss)
        status["selector"] = format_selector(as_mapping(ro.spec.get("selector")))
        status["availableReplicas"] = sum(rs.available for rs in ctx.all_rss)
    compute_conditions(ctx, status)
    return finish(ctx, status)
