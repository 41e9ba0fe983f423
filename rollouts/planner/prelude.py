"""What every pass does before a strategy runs (§3.1 steps 1-5), in upstream's order.

1. a Rollout being deleted is left alone;
2. a missing ``spec.replicas`` is written back as 1 (HPA needs the field) and the pass ends;
3. an invalid spec becomes an ``InvalidSpec`` condition, re-checked in 20 s;
4. the Progressing/Paused conditions are brought in line with the pause state (a status-only
   pass that asks for an immediate re-plan);
5. a changed ``spec.replicas`` (a ReplicaSet's ``desired-replicas`` annotation disagrees) is a
   scaling event: resize without advancing anything.

`start` returns the pass context plus the finished plan when one of these ends the pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rollouts.planner.actions import PatchRollout, Plan, Requeue
from rollouts.planner.context import PassContext
from rollouts.planner.inputs import Observed
from rollouts.planner.status import invalid_spec_plan, paused_condition_prepass
from rollouts.planner.validation import first_error

__all__ = ["is_scaling_event", "start"]


def start(rollout: Mapping[str, Any], observed: Observed, now: datetime) -> tuple[PassContext, Plan | None]:
    ctx = PassContext.start(rollout, observed, now)
    ro = ctx.ro
    if ro.deleting:
        return ctx, Plan(notes=("rollout is being deleted",))
    if not ro.replicas_set:
        return ctx, Plan(actions=(PatchRollout({"spec": {"replicas": 1}}),))
    error = first_error(ro, observed)
    if error is not None:
        return ctx, invalid_spec_plan(ctx, error)
    prepass = paused_condition_prepass(ctx)
    if prepass is not None:
        return ctx, Plan(
            actions=(*prepass.actions, Requeue(now, "pause conditions updated")),
            status=prepass.status,
            status_patch=prepass.status_patch,
        )
    return ctx, None


def is_scaling_event(ctx: PassContext) -> bool:
    """An active ReplicaSet recorded a different ``spec.replicas`` than the Rollout has now."""
    return any(
        rs.desired_replicas_annotation is not None and rs.desired_replicas_annotation != ctx.ro.replicas
        for rs in ctx.all_rss
        if rs.spec_replicas > 0
    )
