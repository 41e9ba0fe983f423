"""§3.20 restarts: eviction budget and order, completion, and the pass that evicts writes nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from planner_world import World, canary_rollout

from rollouts.planner.actions import EvictPod, Requeue
from rollouts.planner.canary import plan_canary
from rollouts.planner.inputs import Observed, PodView, RolloutView
from rollouts.planner.restart import RESTART_CHECK_INTERVAL, pods_needed, restart_decision

RESTART_AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
NOW = RESTART_AT + timedelta(minutes=1)


def view(**status: Any) -> RolloutView:
    rollout = canary_rollout([{"setWeight": 50}], replicas=4)
    rollout["spec"]["restartAt"] = "2024-05-01T12:00:00Z"
    rollout["status"] = status
    return RolloutView(rollout)


def pod(name: str, rs: str, minutes_before: int, **extra: Any) -> PodView:
    return PodView(name, rs, RESTART_AT - timedelta(minutes=minutes_before), **extra)


def test_nothing_to_do_when_already_restarted() -> None:
    ro = view(restartedAt="2024-05-01T12:00:00Z")
    assert restart_decision(ro, [], priority=[], wanted_pods=4, max_unavailable=1, now=NOW) is None
    assert not pods_needed(ro.obj, NOW)


def test_future_restart_waits() -> None:
    decision = restart_decision(view(), [], priority=[], wanted_pods=4, max_unavailable=1, now=RESTART_AT)
    assert decision is not None
    assert (decision.evict, decision.done, decision.requeue_at) == ((), False, RESTART_AT)
    assert not pods_needed(view().obj, RESTART_AT)
    assert pods_needed(view().obj, NOW)


def test_evicts_stable_pods_first_within_the_budget() -> None:
    pods = [pod("n1", "new", 5), pod("s1", "stable", 1), pod("s2", "stable", 9), pod("o1", "old", 3)]
    # 4 available, max(4, 4) - max(1, 1) = 3 must stay: one eviction per pass
    decision = restart_decision(
        view(), pods, priority=["stable", "new", "old"], wanted_pods=4, max_unavailable=1, now=NOW
    )
    assert decision is not None
    assert decision.evict == ("s2",)
    assert decision.requeue_at == NOW + RESTART_CHECK_INTERVAL


def test_budget_counts_unavailable_and_deleting_pods() -> None:
    pods = [
        pod("a", "rs", 5, available=False),
        pod("b", "rs", 5),
        pod("c", "rs", 5),
        pod("d", "rs", 5, deleting=True),
    ]
    decision = restart_decision(view(), pods, priority=["rs"], wanted_pods=4, max_unavailable=2, now=NOW)
    assert decision is not None
    assert decision.evict == ()  # 2 available, 4 - 2 = 2 must stay


def test_done_when_every_pod_is_newer() -> None:
    pods = [PodView("a", "rs", RESTART_AT), PodView("b", "rs", NOW)]
    decision = restart_decision(view(), pods, priority=["rs"], wanted_pods=2, max_unavailable=1, now=NOW)
    assert decision is not None and decision.done


def test_unknown_pods_are_never_declared_restarted() -> None:
    decision = restart_decision(view(), None, priority=[], wanted_pods=4, max_unavailable=1, now=NOW)
    assert decision is not None and not decision.done


def test_pipeline_evicts_without_a_status_write_then_records_restarted_at() -> None:
    w = World(
        canary_rollout([{"setWeight": 50}], replicas=2), plan_canary, now=RESTART_AT - timedelta(hours=1)
    )
    w.run()
    (rs,) = w.replica_sets.values()
    w.rollout["spec"]["restartAt"] = "2024-05-01T12:00:00Z"
    w.rollout["metadata"]["generation"] += 1
    w.now = NOW
    old_pods = [PodView("p1", rs.name, RESTART_AT - timedelta(hours=1)), PodView("p2", rs.name, RESTART_AT)]
    plan = plan_canary(w.rollout, Observed(**{**w.observed().__dict__, "pods": old_pods}), NOW)
    assert plan.of_type(EvictPod) == [EvictPod("p1")]
    assert plan.status_patch is None
    assert plan.of_type(Requeue)
    fresh = [PodView("p3", rs.name, NOW), PodView("p2", rs.name, RESTART_AT)]
    plan = plan_canary(w.rollout, Observed(**{**w.observed().__dict__, "pods": fresh}), NOW)
    assert plan.status is not None
    assert plan.status["restartedAt"] == "2024-05-01T12:00:00Z"
    assert plan.status["phase"] == "Healthy"
