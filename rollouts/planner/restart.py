"""Restarts (§3.20): which pods to evict for ``spec.restartAt``, and when the restart is done.

A restart never creates a ReplicaSet: pods created before ``restartAt`` are evicted (the Eviction
API honours PodDisruptionBudgets) a few at a time — as many as keep ``max(replicas, pods
wanted) - max(maxUnavailable, 1)`` pods available — stable ReplicaSet first, then newRS, then
the others. When no old pod is left, ``status.restartedAt`` takes the value of ``restartAt``.

Pods are only needed while a restart is pending, so the shell lists them only when
`pods_needed` says so; `Observed.pods` is ``None`` otherwise, and a pending restart with no pod
list is left for the next pass rather than declared done.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from rollouts.planner.actions import EvictPod
from rollouts.planner.context import PassContext
from rollouts.planner.inputs import PodView, RolloutView, parse_time

__all__ = [
    "RESTART_CHECK_INTERVAL",
    "RestartDecision",
    "pods_needed",
    "reconcile_restart",
    "restart_decision",
]

RESTART_CHECK_INTERVAL: Final = timedelta(seconds=30)


@dataclass(frozen=True)
class RestartDecision:
    """Evict ``evict`` now; ``done`` means every pod is newer than ``restartAt``."""

    evict: Sequence[str] = ()
    done: bool = False
    requeue_at: datetime | None = None


def _pending(ro: RolloutView) -> datetime | None:
    restart_at = parse_time(ro.restart_at)
    if restart_at is None or restart_at == parse_time(ro.status.get("restartedAt")):
        return None
    return restart_at


def pods_needed(rollout: Mapping[str, Any], now: datetime) -> bool:
    """Whether the shell must list the Rollout's pods for this pass (a restart is due)."""
    restart_at = _pending(RolloutView(rollout))
    return restart_at is not None and now > restart_at


def restart_decision(
    ro: RolloutView,
    pods: Sequence[PodView] | None,
    *,
    priority: Sequence[str],
    wanted_pods: int,
    max_unavailable: int,
    now: datetime,
) -> RestartDecision | None:
    """What the restart asks for this pass; ``None`` when there is no restart to work on.

    ``priority`` orders ReplicaSet names (stable, new, then the rest oldest first);
    ``wanted_pods`` is the sum of the ReplicaSets' ``spec.replicas``.
    """
    restart_at = _pending(ro)
    if restart_at is None:
        return None
    if now <= restart_at:
        return RestartDecision(requeue_at=restart_at)
    if pods is None:
        return RestartDecision(requeue_at=now + RESTART_CHECK_INTERVAL)
    order = {name: position for position, name in enumerate(priority)}
    ordered = sorted(pods, key=lambda pod: (order.get(pod.replica_set, len(order)), pod.created_at, pod.name))
    old = [pod for pod in ordered if pod.created_at < restart_at]
    if not old:
        return RestartDecision(done=True)
    available = sum(1 for pod in pods if pod.available and not pod.deleting)
    budget = available - (max(ro.replicas, wanted_pods) - max(max_unavailable, 1))
    evict = [pod.name for pod in old if not pod.deleting][: max(budget, 0)]
    return RestartDecision(evict=tuple(evict), requeue_at=now + RESTART_CHECK_INTERVAL)


def reconcile_restart(ctx: PassContext, *, max_unavailable: int) -> bool:
    """Plan this pass's part of a restart; ``True`` when pods are being evicted (the pass stops)."""
    stable, new = ctx.stable_rs, ctx.new_rs
    first = [rs.name for rs in (stable, new) if rs is not None]
    rest = [rs.name for rs in sorted(ctx.all_rss, key=lambda rs: rs.created_at) if rs.name not in first]
    decision = restart_decision(
        ctx.ro,
        ctx.observed.pods,
        priority=[*dict.fromkeys(first), *rest],
        wanted_pods=sum(rs.spec_replicas for rs in ctx.all_rss),
        max_unavailable=max_unavailable,
        now=ctx.now,
    )
    if decision is None:
        return False
    if decision.requeue_at is not None:
        ctx.requeue(decision.requeue_at, "restart")
    if decision.done:
        ctx.status["restartedAt"] = ctx.ro.restart_at
    ctx.actions.extend(EvictPod(name) for name in decision.evict)
    return bool(decision.evict)
