"""§3.13 old ReplicaSet scale-down: budgets, delays, revision limits, history cleanup."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rollouts.planner.inputs import ReplicaSetView, ServiceView, format_time
from rollouts.planner.scaledown import (
    OldReplicaSetDecision,
    blue_green_old_rs_decisions,
    canary_old_rs_decisions,
    is_referenced,
    revision_history_deletions,
    unhealthy_cleanup,
)

NOW = datetime(2024, 1, 1, 12, tzinfo=UTC)


def rs(
    name: str,
    spec: int,
    available: int | None = None,
    *,
    revision: int = 1,
    deadline: datetime | None = None,
    age: int = 0,
    status_replicas: int | None = None,
) -> ReplicaSetView:
    annotations = {"rollout.argoproj.io/revision": str(revision)}
    if deadline is not None:
        annotations["scale-down-deadline"] = format_time(deadline)
    return ReplicaSetView(
        name=name,
        pod_hash=name,
        spec_replicas=spec,
        created_at=NOW - timedelta(minutes=age),
        replicas=spec if status_replicas is None else status_replicas,
        available=spec if available is None else available,
        annotations=annotations,
    )


def canary_decisions(others: list[ReplicaSetView], **kwargs: object) -> list[OldReplicaSetDecision]:
    arguments: dict[str, object] = {
        "other_rss": others,
        "available_total": 12,
        "replicas": 10,
        "max_unavailable": 2,
        "traffic_routed": False,
        "fully_promoted": False,
        "dynamic_stable_scale": False,
        "scale_down_delay_seconds": 30,
        "revision_limit": None,
        "referenced": [],
        "now": NOW,
    }
    arguments.update(kwargs)
    return canary_old_rs_decisions(**arguments)  # type: ignore[arg-type]


def test_unhealthy_pods_are_dropped_first() -> None:
    decisions = unhealthy_cleanup([rs("a", 3, 1), rs("b", 2, 2), rs("c", 0, 0)])
    assert decisions == [OldReplicaSetDecision(rs("a", 3, 1), 1)]


def test_basic_canary_drains_within_the_availability_budget() -> None:
    # 12 available, 10 - 2 = 8 must stay: 4 pods may go, newest revision first
    decisions = canary_decisions([rs("old", 3, revision=1), rs("mid", 3, revision=2)])
    assert [(d.rs.name, d.replicas) for d in decisions] == [("mid", 0), ("old", 2)]


def test_basic_canary_without_budget_does_nothing() -> None:
    assert canary_decisions([rs("old", 3)], available_total=8) == []


def test_traffic_routed_previous_stable_waits_out_its_delay() -> None:
    (decision,) = canary_decisions([rs("old", 3)], traffic_routed=True, fully_promoted=True)
    assert decision.replicas == 3
    assert decision.deadline == format_time(NOW + timedelta(seconds=30))
    assert decision.requeue_at == NOW + timedelta(seconds=30)


def test_traffic_routed_deadline_passed_scales_to_zero() -> None:
    (decision,) = canary_decisions(
        [rs("old", 3, deadline=NOW - timedelta(seconds=1))], traffic_routed=True, fully_promoted=True
    )
    assert (decision.replicas, decision.deadline) == (0, None)


def test_traffic_routed_deadline_pending_keeps_pods_and_requeues() -> None:
    until = NOW + timedelta(seconds=10)
    (decision,) = canary_decisions([rs("old", 3, deadline=until)], traffic_routed=True, fully_promoted=False)
    assert (decision.replicas, decision.requeue_at) == (3, until)


def test_traffic_routed_intermediate_goes_straight_to_zero() -> None:
    (decision,) = canary_decisions([rs("v2", 3)], traffic_routed=True, fully_promoted=False)
    assert decision.replicas == 0


def test_traffic_routed_dynamic_scaling_skips_the_delay() -> None:
    (decision,) = canary_decisions(
        [rs("old", 3)], traffic_routed=True, fully_promoted=True, dynamic_stable_scale=True
    )
    assert decision.replicas == 0


def test_revision_limit_scales_the_rest_down_immediately() -> None:
    pending = NOW + timedelta(seconds=20)
    decisions = canary_decisions(
        [rs("r3", 3, revision=3, deadline=pending), rs("r2", 3, revision=2, deadline=pending)],
        traffic_routed=True,
        fully_promoted=True,
        revision_limit=1,
        available_total=16,
    )
    assert [(d.rs.name, d.replicas) for d in decisions] == [("r3", 3), ("r2", 0)]


def test_referenced_replica_sets_are_skipped_with_traffic_routing() -> None:
    assert canary_decisions([rs("old", 3)], traffic_routed=True, referenced=["old"]) == []


def test_zero_delay_scales_down_at_once() -> None:
    (decision,) = canary_decisions(
        [rs("old", 3)], traffic_routed=True, fully_promoted=True, scale_down_delay_seconds=0
    )
    assert decision.replicas == 0


def test_blue_green_annotates_then_scales_down() -> None:
    (first,) = blue_green_old_rs_decisions(
        other_rss=[rs("old", 3)],
        replicas=3,
        scale_down_delay_seconds=30,
        revision_limit=None,
        referenced=[],
        now=NOW,
    )
    assert (first.replicas, first.deadline) == (3, format_time(NOW + timedelta(seconds=30)))
    (later,) = blue_green_old_rs_decisions(
        other_rss=[rs("old", 3, deadline=NOW - timedelta(seconds=1))],
        replicas=3,
        scale_down_delay_seconds=30,
        revision_limit=None,
        referenced=[],
        now=NOW,
    )
    assert later.replicas == 0


def test_blue_green_skips_referenced_and_limits_waiting_sets() -> None:
    decisions = blue_green_old_rs_decisions(
        other_rss=[rs("r1", 3, revision=1), rs("r2", 3, revision=2), rs("r3", 3, revision=3)],
        replicas=3,
        scale_down_delay_seconds=30,
        revision_limit=1,
        referenced=["r3"],
        now=NOW,
    )
    assert [(d.rs.name, d.replicas, d.deadline is not None) for d in decisions] == [
        ("r2", 3, True),
        ("r1", 0, False),
    ]


def test_is_referenced() -> None:
    status = {
        "stableRS": "s",
        "currentPodHash": "c",
        "blueGreen": {"activeSelector": "a", "previewSelector": "p"},
        "canary": {"weights": {"canary": {"podTemplateHash": "w"}, "stable": {"podTemplateHash": "x"}}},
    }
    services = {"svc": ServiceView("svc", {"rollouts-pod-template-hash": "live"})}
    for name in ("s", "c", "a", "p", "w", "x", "live"):
        assert is_referenced(rs(name, 1), status, services, ["svc"])
    assert not is_referenced(rs("other", 1), status, services, ["svc", ""])


def test_revision_history_deletes_oldest_scaled_down_beyond_limit() -> None:
    others = [
        rs("oldest", 0, age=50),
        rs("busy", 1, age=40),
        rs("terminating", 0, age=30, status_replicas=1),
        rs("newer", 0, age=20),
        rs("newest", 0, age=10),
    ]
    assert [r.name for r in revision_history_deletions(others, 2)] == ["oldest"]
    assert revision_history_deletions(others, 10) == []
