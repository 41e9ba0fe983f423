"""The status write shared by both strategies (§3.1 "Status write", §3.15 conditions, §2.1 counts).

A pass ends here whatever path it took: `base_status` fills the counts every status carries,
`compute_conditions` applies the ordered condition rules, and `finish` folds the pause/abort
intent in, stamps ``observedGeneration`` and the phase, drops the fields Go would omit, and
turns the result into a `Plan` with the minimal merge patch (or none). The paused-condition
pre-pass (§3.1 step 4) and the invalid-spec write live here too: they are status-only passes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Final

from rollouts.planner.actions import Action, EmitEvent, Plan, Requeue, merge_patch
from rollouts.planner.conditions import (
    AVAILABLE,
    COMPLETED,
    HEALTHY,
    INVALID_SPEC,
    PAUSED,
    PROGRESSING,
    REPLICA_FAILURE,
    Reason,
    find_condition,
    new_condition,
    remove_condition,
    set_condition,
)
from rollouts.planner.context import PassContext
from rollouts.planner.duration import RolloutFacts, track_duration
from rollouts.planner.inputs import ReplicaSetView, RolloutView, as_list, as_mapping, as_str
from rollouts.planner.phase import (
    progress_check_at,
    rollout_completed,
    rollout_healthy,
    rollout_phase,
    rollout_progressing,
    timed_out,
)
from rollouts.planner.steps import current_step, step_kind
from rollouts.planner.workload import workload_scale

__all__ = [
    "base_status",
    "compute_conditions",
    "create_error_plan",
    "finish",
    "format_selector",
    "invalid_spec_plan",
    "normalized_status",
    "paused_condition_prepass",
    "promote",
]

INVALID_SPEC_RETRY: Final = timedelta(seconds=20)
# Fields Go always serializes (struct values / non-nil pointers); every other falsy field is omitted.
_ALWAYS_KEPT = frozenset({"canary", "blueGreen", "currentStepIndex", "collisionCount"})


def base_status(ctx: PassContext, *, valid: bool = True) -> dict[str, Any]:
    """Counts and carried-over fields every status write starts from (Argo's ``calculateBaseStatus``)."""
    status = dict(ctx.status)
    conditions = [dict(c) for c in ctx.conditions]
    if valid:
        conditions = remove_condition(conditions, INVALID_SPEC)
    status.update(
        {
            "currentPodHash": ctx.current_pod_hash,
            "replicas": sum(rs.replicas for rs in ctx.all_rss),
            "updatedReplicas": ctx.new_rs.replicas if ctx.new_rs is not None else 0,
            "readyReplicas": sum(rs.ready for rs in ctx.all_rss),
            "collisionCount": ctx.ro.status.get("collisionCount"),
            "conditions": [dict(c) for c in conditions],
            "promoteFull": ctx.ro.promote_full,
        }
    )
    return status


def _is_indefinite_step(ro: RolloutView) -> bool:
    step, _ = current_step(ro.steps, ro.current_step_index)
    return step is not None and step_kind(step) in ("experiment", "analysis", "pause")


def compute_conditions(ctx: PassContext, status: dict[str, Any]) -> None:
    """Set Healthy, Progressing, Available, ReplicaFailure and Completed on ``status`` (§3.15)."""
    ro, now = ctx.ro, ctx.now
    conditions: list[dict[str, Any]] = status["conditions"]
    paused = bool(ro.pause_conditions) or ro.paused
    aborted = ctx.pause.aborted

    became_unhealthy = False
    if not paused and rollout_healthy(ro, status):
        condition = new_condition(HEALTHY, "True", Reason.HEALTHY, Reason.HEALTHY_MESSAGE, now)
        conditions, _ = set_condition(conditions, condition)
    elif find_condition(ro.conditions, HEALTHY) is not None:
        condition = new_condition(HEALTHY, "False", Reason.HEALTHY, Reason.NOT_HEALTHY_MESSAGE, now)
        conditions, became_unhealthy = set_condition(conditions, condition)

    if aborted:
        message = Reason.ABORTED_MESSAGE.format(revision=ctx.revision)
        detail = ctx.pause.abort_message or _deadline_abort_detail(ro)
        if detail:
            message = f"{message}: {detail}"
        condition = new_condition(PROGRESSING, "False", Reason.ABORTED, message, now)
        conditions, changed = set_condition(conditions, condition)
        if changed:
            ctx.event(Reason.ABORTED, message, warning=True)
    else:
        conditions = _progress_condition(ctx, status, conditions, became_unhealthy)

    conditions = _availability_condition(ctx, status, conditions)
    failure = _replica_failure(ctx)
    if failure is not None:
        conditions, _ = set_condition(conditions, failure)
    else:
        conditions = remove_condition(conditions, REPLICA_FAILURE)

    completed = rollout_completed(status)
    condition = new_condition(COMPLETED, str(completed), Reason.COMPLETED, Reason.COMPLETED, now)
    conditions, changed = set_condition(conditions, condition)
    if changed and not completed:
        # newRS is created in the pass that sees the update, so its revision is the one started
        revision = ctx.new_rs.revision if ctx.new_rs is not None and ctx.new_rs.revision else ctx.revision + 1
        pod_hash = status["currentPodHash"]
        ctx.event(
            Reason.NOT_COMPLETED, f"Rollout not completed, started update to revision {revision} ({pod_hash})"
        )
    status["conditions"] = conditions


def _deadline_abort_detail(ro: RolloutView) -> str:
    """The timed-out message a ``progressDeadlineAbort`` abort carries into ``RolloutAborted``.

    The deadline abort is decided in the pass that writes ``ProgressDeadlineExceeded``, so the
    ``RolloutAborted`` condition is only written on the next pass, when this pass's abort message
    is gone. Upstream then writes the bare "Rollout aborted update to revision N"; we keep the
    timed-out message as the detail instead (taken from the condition being replaced), so the
    status message and ``rollout_abort_info`` still say why after any number of passes.
    """
    previous = find_condition(ro.conditions, PROGRESSING)
    if previous is None or previous.get("reason") != Reason.TIMED_OUT or not ro.progress_deadline_abort:
        return ""
    return as_str(previous.get("message"))


def _progress_condition(
    ctx: PassContext, status: dict[str, Any], conditions: list[dict[str, Any]], became_unhealthy: bool
) -> list[dict[str, Any]]:
    ro, now = ctx.ro, ctx.now
    rs_name = ctx.new_rs.name if ctx.new_rs is not None else ""
    previous = find_condition(ro.conditions, PROGRESSING)
    if rollout_healthy(ro, status):
        message = Reason.RS_COMPLETED_MESSAGE.format(rs=rs_name)
        condition = new_condition(PROGRESSING, "True", Reason.NEW_RS_AVAILABLE, message, now)
        return set_condition(conditions, condition)[0]
    if rollout_progressing(ro, status) or became_unhealthy:
        if ctx.new_rs is not None:
            message = Reason.RS_PROGRESSING_MESSAGE.format(rs=rs_name)
        else:
            message = Reason.ROLLOUT_PROGRESSING_MESSAGE.format(name=ro.name)
        reason = Reason.RS_UPDATED
        if became_unhealthy and status.get("stableRS") == status.get("currentPodHash"):
            reason, message = Reason.RS_NOT_AVAILABLE, Reason.NOT_AVAILABLE_MESSAGE
        condition = new_condition(PROGRESSING, "True", reason, message, now)
        if previous is not None and previous.get("status") == "True":
            condition["lastTransitionTime"] = previous.get(
                "lastTransitionTime", condition["lastTransitionTime"]
            )
        # remove-then-set: unlike other conditions, progress refreshes lastUpdateTime on every pass
        return set_condition(remove_condition(conditions, PROGRESSING), condition)[0]
    if _deadline_applies(ctx) and timed_out(conditions, ro.progress_deadline_seconds, now):
        if ctx.new_rs is not None:
            message = Reason.RS_TIMED_OUT_MESSAGE.format(rs=rs_name)
        else:
            message = Reason.ROLLOUT_TIMED_OUT_MESSAGE.format(name=ro.name)
        condition = new_condition(PROGRESSING, "False", Reason.TIMED_OUT, message, now)
        conditions, changed = set_condition(conditions, condition)
        if (
            ro.progress_deadline_abort
            and not rollout_completed(status)
            and (changed or not ctx.pause.aborted)
        ):
            ctx.pause.abort(message)
            ctx.event(Reason.ABORTED, message, warning=True)
    return conditions


def _deadline_applies(ctx: PassContext) -> bool:
    """§3.14: not on pause/analysis/experiment steps, not while Paused, not while old RSs wait out a
    scale-down delay."""
    if _is_indefinite_step(ctx.ro):
        return False
    paused_condition = find_condition(ctx.ro.conditions, PAUSED)
    if paused_condition is not None and paused_condition.get("status") == "True":
        return False
    return not any(rs.has_scale_down_deadline and rs.spec_replicas > 0 for rs in ctx.other_rss)


def _availability_condition(
    ctx: PassContext, status: Mapping[str, Any], conditions: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    ro = ctx.ro
    if ro.blue_green is not None:
        active = ctx.rs_by_hash(as_str(as_mapping(status.get("blueGreen")).get("activeSelector")))
        available = active is not None and saturated(ro, active)
    else:
        available = sum(rs.available for rs in ctx.all_rss) >= ro.replicas
    message = Reason.AVAILABLE_MESSAGE if available else Reason.NOT_AVAILABLE_MESSAGE
    condition = new_condition(AVAILABLE, str(available), Reason.AVAILABLE, message, ctx.now)
    return set_condition(conditions, condition)[0]


def saturated(ro: RolloutView, rs: ReplicaSetView) -> bool:
    """All of ``spec.replicas`` belong to ``rs`` and are available (Argo's ``IsSaturated``)."""
    return (
        rs.spec_replicas == ro.replicas
        and rs.desired_replicas_annotation == ro.replicas
        and rs.available == ro.replicas
    )


def _replica_failure(ctx: PassContext) -> dict[str, Any] | None:
    """A ``ReplicaFailure`` copied from newRS first, else from any ReplicaSet."""
    candidates = [ctx.new_rs] if ctx.new_rs is not None else []
    candidates += ctx.all_rss
    for rs in candidates:
        if rs is not None and rs.replica_failure is not None:
            failure = rs.replica_failure
            stamp = failure.get("lastTransitionTime")
            return {
                "type": REPLICA_FAILURE,
                "status": as_str(failure.get("status")),
                "lastUpdateTime": stamp,
                "lastTransitionTime": stamp,
                "reason": as_str(failure.get("reason")),
                "message": as_str(failure.get("message")),
            }
    return None


def normalized_status(status: Mapping[str, Any]) -> dict[str, Any]:
    """Drop what Go's ``omitempty`` would drop, recursively inside ``canary``/``blueGreen``."""
    result: dict[str, Any] = {}
    for key, value in status.items():
        if key in ("canary", "blueGreen"):
            result[key] = {k: v for k, v in as_mapping(value).items() if v not in (None, "", False, [], {})}
        elif key in _ALWAYS_KEPT:
            if value is not None:
                result[key] = value
        elif value not in (None, "", False, 0, [], {}):
            result[key] = value
    return result


def typed_status_patch(observed: Mapping[str, Any], status: Mapping[str, Any]) -> dict[str, Any]:
    """The status patch as Argo's typed view sees both sides: zero values are absent, so one
    stored by someone else (a user's ``abort: false`` after retry) stays, and none is written
    (no ``message: ""``)."""
    return merge_patch(normalized_status(observed), normalized_status(status))


def finish(ctx: PassContext, status: dict[str, Any]) -> Plan:
    """Fold pause/abort intent into ``status``, stamp generation and phase, and build the `Plan`."""
    ro = ctx.ro
    ctx.pause.apply(ro, status, ctx.now)
    status["workloadObservedGeneration"] = _workload_generation(ro)
    status["observedGeneration"] = str(ro.generation)
    status["phase"], status["message"] = rollout_phase(ro, status)
    _stamp_duration(ctx, status)
    new_status = normalized_status(status)
    scale_workload = workload_scale(ro, new_status, revision=ctx.revision)
    if scale_workload is not None:
        ctx.actions.append(scale_workload)
    patch = typed_status_patch(ro.status, new_status)
    if patch:
        _pause_events(ctx, new_status)
    else:
        _requeue_if_stuck(ctx, new_status)
    return Plan(actions=tuple(ctx.actions), status=new_status, status_patch=patch or None)


def _stamp_duration(ctx: PassContext, status: dict[str, Any]) -> None:
    """Carry ``status.duration`` forward to what this pass decided (§3.23)."""
    new_rs = ctx.new_rs
    facts = RolloutFacts(
        new_rs=new_rs,
        previous_stable_rs=ctx.stable_rs,
        steps_skipped=ctx.rollback_within_window() or (new_rs is not None and new_rs.has_scale_down_deadline),
    )
    duration = track_duration(ctx.ro, status, facts, ctx.now)
    if duration:
        status["duration"] = duration
    else:
        status.pop("duration", None)


def _workload_generation(ro: RolloutView) -> str:
    """With ``workloadRef``, mirror the workload generation annotation; otherwise empty (§3.16)."""
    if ro.spec.get("workloadRef") is None:
        return ""
    generation = ro.annotations.get("rollout.argoproj.io/workload-generation", "")
    return generation if generation.isdigit() else as_str(ro.status.get("workloadObservedGeneration"))


def _pause_events(ctx: PassContext, new_status: Mapping[str, Any]) -> None:
    before = bool(ctx.ro.pause_conditions)
    after = as_list(new_status.get("pauseConditions"))
    if before == bool(after):
        return
    if after:
        ctx.event(Reason.PAUSED, f"{Reason.PAUSED_MESSAGE} ({as_str(after[0].get('reason'))})")
    elif not new_status.get("abortedAt"):
        ctx.event(Reason.RESUMED, Reason.RESUMED_MESSAGE)


def _requeue_if_stuck(ctx: PassContext, new_status: Mapping[str, Any]) -> None:
    """With nothing to write and the rollout mid-update, come back when the deadline would pass."""
    ro = ctx.ro
    previous = find_condition(ro.conditions, PROGRESSING)
    if previous is None or previous.get("reason") == Reason.TIMED_OUT:
        return
    if rollout_healthy(ro, new_status) or ro.pause_conditions or ro.paused or ro.aborted:
        return
    if _is_indefinite_step(ro):
        return
    at = progress_check_at(ro.conditions, ro.progress_deadline_seconds)
    if at is not None:
        ctx.actions.append(Requeue(max(at, ctx.now), "progress deadline check"))


def paused_condition_prepass(ctx: PassContext) -> Plan | None:
    """§3.1 step 4: bring Progressing/Paused in line with the pause state, as a status-only pass.

    Returns ``None`` when nothing needs changing (the pipeline then runs) — and only runs at all
    once the current generation was observed.
    """
    ro, now = ctx.ro, ctx.now
    if not ro.observed_generation_matches:
        return None
    progressing = find_condition(ro.conditions, PROGRESSING)
    progress_paused = progressing is not None and progressing.get("reason") == Reason.PAUSED
    aborted_condition = progressing is not None and progressing.get("reason") == Reason.ABORTED
    is_paused = bool(ro.pause_conditions) or ro.paused
    updates: list[dict[str, Any]] = []
    # A completed rollout keeps its Progressing condition when paused or resumed (Argo v1.10.1:
    # otherwise the pipeline's NewReplicaSetAvailable and this would flip it every pass).
    if is_paused != progress_paused and not aborted_condition and not rollout_completed(ro.status):
        if is_paused:
            updates.append(new_condition(PROGRESSING, "Unknown", Reason.PAUSED, Reason.PAUSED_MESSAGE, now))
        else:
            updates.append(new_condition(PROGRESSING, "Unknown", Reason.RESUMED, Reason.RESUMED_MESSAGE, now))
    if not ro.aborted and aborted_condition:
        updates.append(new_condition(PROGRESSING, "Unknown", Reason.RETRY, Reason.RETRY_MESSAGE, now))
    paused_condition = find_condition(ro.conditions, PAUSED)
    paused_true = paused_condition is not None and paused_condition.get("status") == "True"
    if is_paused != paused_true and not aborted_condition:
        updates.append(new_condition(PAUSED, str(is_paused), Reason.PAUSED, Reason.PAUSED_MESSAGE, now))
    if not updates:
        return None
    status = dict(ro.status)
    conditions = [dict(c) for c in ro.conditions]
    for update in updates:
        conditions, _ = set_condition(conditions, update)
    status["conditions"] = conditions
    status["observedGeneration"] = str(ro.generation)
    status["phase"], status["message"] = rollout_phase(ro, status)
    _stamp_duration(ctx, status)
    patch = typed_status_patch(ro.status, status)
    return Plan(actions=(), status=status, status_patch=patch or None)


def invalid_spec_plan(ctx: PassContext, error: str) -> Plan:
    """Record ``InvalidSpec`` (phase Degraded) and look again in 20 s; nothing else happens (§3.1 2.4)."""
    ro, now = ctx.ro, ctx.now
    message = Reason.INVALID_SPEC_MESSAGE.format(name=ro.name, error=error)
    previous = find_condition(ro.conditions, INVALID_SPEC)
    conditions = [dict(c) for c in ro.conditions]
    if previous is None or previous.get("message") != message:
        conditions = remove_condition(conditions, INVALID_SPEC)
        conditions, _ = set_condition(
            conditions, new_condition(INVALID_SPEC, "True", Reason.INVALID_SPEC, message, now)
        )
    status = dict(ro.status)
    status["conditions"] = conditions
    status["observedGeneration"] = str(ro.generation)
    status["phase"], status["message"] = rollout_phase(ro, status)
    patch = typed_status_patch(ro.status, status)
    actions: list[Action] = []
    if patch:
        actions.append(EmitEvent(Reason.INVALID_SPEC, message, warning=True))
    actions.append(Requeue(now + INVALID_SPEC_RETRY, "invalid spec"))
    return Plan(actions=tuple(actions), status=status, status_patch=patch or None)


def format_selector(selector: Mapping[str, Any]) -> str:
    """``metav1.FormatLabelSelector``: ``app=x,tier in (a,b)`` (labels sorted, as Go prints them)."""
    parts = [f"{key}={value}" for key, value in sorted(as_mapping(selector.get("matchLabels")).items())]
    for entry in as_list(selector.get("matchExpressions")):
        expression = as_mapping(entry)
        key, operator = as_str(expression.get("key")), expression.get("operator")
        values = ",".join(sorted(str(v) for v in as_list(expression.get("values"))))
        if operator == "In":
            parts.append(f"{key} in ({values})")
        elif operator == "NotIn":
            parts.append(f"{key} notin ({values})")
        elif operator == "Exists":
            parts.append(key)
        elif operator == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts) if parts else "<none>"


def promote(ctx: PassContext, status: dict[str, Any], reason: str) -> None:
    """Mark newRS stable (Argo's ``promoteStable``): clear pauses/abort/promoteFull, finish the
    steps, flip ping-pong, and announce ``RolloutCompleted`` when stable actually changed."""
    ro = ctx.ro
    ctx.pause.clear = True
    ctx.pause.remove_abort = True
    status["promoteFull"] = False
    status["blueGreen"].pop("scaleUpPreviewCheckPoint", None)
    if ro.canary is not None:
        step_count = len(ro.steps)
        status["currentStepIndex"] = step_count if step_count > 0 else None
    if status.get("stableRS") == status["currentPodHash"]:
        return
    if ro.canary is not None and ro.canary.get("pingPong") is not None:
        status["canary"]["stablePingPong"] = (
            "pong" if status["canary"].get("stablePingPong") == "ping" else "ping"
        )
    status["stableRS"] = status["currentPodHash"]
    ctx.event(
        Reason.COMPLETED,
        f"Rollout completed update to revision {ctx.revision} ({status['currentPodHash']}): {reason}",
    )


def create_error_plan(rollout: Mapping[str, Any], replica_set: str, error: str, now: datetime) -> Plan:
    """What the shell writes when creating newRS failed (other than AlreadyExists), §3.2:
    a Warning ``ReplicaSetCreateError`` Event and Progressing=False with the same message."""
    ro = RolloutView(rollout)
    message = Reason.RS_CREATE_ERROR_MESSAGE.format(rs=replica_set, error=error)
    conditions, _ = set_condition(
        [dict(c) for c in ro.conditions],
        new_condition(PROGRESSING, "False", Reason.RS_CREATE_ERROR, message, now),
    )
    status = {**ro.status, "conditions": conditions, "observedGeneration": str(ro.generation)}
    status["phase"], status["message"] = rollout_phase(ro, status)
    patch = typed_status_patch(ro.status, status)
    return Plan(
        actions=(EmitEvent(Reason.RS_CREATE_ERROR, message, warning=True),),
        status=status,
        status_patch=patch or None,
    )
