"""Actions and plans: the merge patch that makes status writes minimal, and the action patches."""

from __future__ import annotations

from datetime import UTC, datetime

from rollouts.planner.actions import (
    EmitEvent,
    Plan,
    Requeue,
    ScaleReplicaSet,
    SetServiceSelector,
    merge_patch,
)


def test_merge_patch_is_minimal() -> None:
    old = {"a": 1, "b": {"c": 2, "d": 3}, "e": [1, 2], "gone": True}
    new = {"a": 1, "b": {"c": 2, "d": 4}, "e": [1], "added": "x"}
    assert merge_patch(old, new) == {"b": {"d": 4}, "e": [1], "added": "x", "gone": None}
    assert merge_patch(new, new) == {}


def test_merge_patch_replaces_a_mapping_with_a_scalar_and_back() -> None:
    assert merge_patch({"a": {"b": 1}}, {"a": 2}) == {"a": 2}
    assert merge_patch({"a": 2}, {"a": {"b": 1}}) == {"a": {"b": 1}}


def test_action_patches() -> None:
    scale = ScaleReplicaSet(
        "web-abc", 3, 1, {"rollout.argoproj.io/desired-replicas": "5", "scale-down-deadline": None}
    )
    assert scale.patch == {
        "metadata": {
            "annotations": {"rollout.argoproj.io/desired-replicas": "5", "scale-down-deadline": None}
        },
        "spec": {"replicas": 3},
    }
    assert SetServiceSelector("svc", "abc").patch == {
        "spec": {"selector": {"rollouts-pod-template-hash": "abc"}}
    }
    assert SetServiceSelector("svc", "abc", "web").patch["metadata"] == {
        "annotations": {"argo-rollouts.argoproj.io/managed-by-rollouts": "web"}
    }


def test_plan_of_type() -> None:
    event = EmitEvent("X", "y")
    requeue = Requeue(datetime(2024, 1, 1, tzinfo=UTC), "why")
    plan = Plan(actions=(event, requeue))
    assert plan.of_type(EmitEvent) == [event]
    assert plan.of_type(Requeue) == [requeue]
