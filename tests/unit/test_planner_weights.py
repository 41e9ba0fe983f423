"""§3.6 traffic weight choice and its status record."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from planner_world import canary_rollout

from rollouts.planner.inputs import ReplicaSetView, RolloutView
from rollouts.planner.weights import abort_weight, desired_weight, weight_status, weight_update_message

T0 = datetime(2024, 1, 1, tzinfo=UTC)
STEPS = [{"setWeight": 10}, {"pause": {}}, {"setWeight": 40}, {"pause": {}}]
RECORDED = {"canary": {"weight": 30}, "stable": {"weight": 70}}


def view(status: dict[str, Any], *, dynamic: bool = False) -> RolloutView:
    rollout = canary_rollout(
        STEPS,
        replicas=10,
        trafficRouting={"nginx": {}},
        canaryService="canary",
        stableService="stable",
        dynamicStableScale=dynamic,
    )
    rollout["status"] = {"stableRS": "s", "currentPodHash": "c", **status}
    return RolloutView(rollout)


def rs(available: int) -> ReplicaSetView:
    return ReplicaSetView(name="x", pod_hash="x", spec_replicas=available, created_at=T0, available=available)


@pytest.mark.parametrize(
    ("status", "new_available", "aborted", "at_desired", "dynamic", "expected"),
    [
        ({"stableRS": "c"}, 10, False, True, False, 0),  # fully promoted
        ({}, 5, True, True, False, 0),  # aborted without dynamic scaling
        ({"canary": {"weights": RECORDED}}, 5, True, True, True, 30),  # stable has 6 of 10: 40 > recorded 30
        ({}, 0, False, True, False, 0),  # canary has no pods yet
        ({"promoteFull": True, "canary": {"weights": RECORDED}}, 5, False, True, False, 30),
        ({"promoteFull": True}, 5, False, True, True, 50),
        ({"currentStepIndex": 2}, 4, False, False, False, 10),  # not scaled yet: previous setWeight
        ({"currentStepIndex": 0}, 1, False, False, False, 0),
        ({"currentStepIndex": 2}, 4, False, True, False, 40),
        ({"currentStepIndex": 4}, 10, False, True, False, 100),
    ],
)
def test_desired_weight(
    *,
    status: dict[str, Any],
    new_available: int,
    aborted: bool,
    at_desired: bool,
    dynamic: bool,
    expected: int,
) -> None:
    ro = view(status, dynamic=dynamic)
    weight = desired_weight(
        ro, new_rs=rs(new_available), stable_rs=rs(6), aborted=aborted, at_desired_counts=at_desired
    )
    assert weight == expected


def test_abort_weight_follows_stable_availability() -> None:
    assert abort_weight(view({}, dynamic=True), rs(7)) == 30
    assert abort_weight(view({"canary": {"weights": {"canary": {"weight": 10}}}}, dynamic=True), rs(7)) == 10


def test_weight_status_and_event_message() -> None:
    ro = view({})
    new = weight_status(ro, 20, "c", "s")
    assert new == {
        "canary": {"weight": 20, "podTemplateHash": "c", "serviceName": "canary"},
        "stable": {"weight": 80, "podTemplateHash": "s", "serviceName": "stable"},
    }
    assert weight_update_message(None, new) == "Traffic weight updated to 20"
    assert weight_update_message(RECORDED, new) == "Traffic weight updated from 30 to 20"


def test_max_traffic_weight_is_the_total_at_the_end_and_in_the_status() -> None:
    rollout = canary_rollout(
        STEPS,
        replicas=10,
        trafficRouting={"nginx": {}, "maxTrafficWeight": 1000},
        canaryService="canary",
        stableService="stable",
    )
    rollout["status"] = {"stableRS": "s", "currentPodHash": "c", "currentStepIndex": 4}
    ro = RolloutView(rollout)
    assert desired_weight(ro, new_rs=rs(10), stable_rs=rs(6), aborted=False, at_desired_counts=True) == 1000
    assert weight_status(ro, 250, "c", "s")["stable"]["weight"] == 750
