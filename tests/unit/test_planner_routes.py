"""Managed header/mirror route instructions (§3.6) and how they ride on `SetTrafficWeight`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from planner_world import World, canary_rollout

from rollouts.planner import SetTrafficWeight, plan_canary
from rollouts.planner.inputs import ReplicaSetView, RolloutView, ServiceView
from rollouts.planner.routes import RouteInstructions, route_instructions

T0 = datetime(2024, 1, 1, tzinfo=UTC)
HEADER = {"name": "beta", "match": [{"headerName": "X-Beta", "headerValue": {"exact": "1"}}]}
MIRROR = {"name": "mirror", "match": [{"path": {"prefix": "/api"}}], "percentage": 20}
STEPS: list[dict[str, Any]] = [
    {"setHeaderRoute": HEADER},
    {"setWeight": 20},
    {"setMirrorRoute": MIRROR},
    {"pause": {}},
    {"setHeaderRoute": {"name": "beta"}},
    {"pause": {}},
]
ROUTING = {
    "istio": {"virtualService": {"name": "shop"}},
    "managedRoutes": [{"name": "beta"}, {"name": "mirror"}],
}


def view(status: dict[str, Any]) -> RolloutView:
    rollout = canary_rollout(
        STEPS, trafficRouting=ROUTING, canaryService="web-canary", stableService="web-stable"
    )
    rollout["status"] = {"stableRS": "s", "currentPodHash": "c", **status}
    return RolloutView(rollout)


def canary_rs(available: int) -> ReplicaSetView:
    return ReplicaSetView(
        name="web-c", pod_hash="c", spec_replicas=available, created_at=T0, available=available
    )


@pytest.mark.parametrize(
    ("status", "aborted", "available", "revision", "expected"),
    [
        ({"currentStepIndex": 0}, False, 0, 2, RouteInstructions(header_route=HEADER)),
        ({"currentStepIndex": 2}, False, 3, 2, RouteInstructions(mirror_route=MIRROR)),
        ({"currentStepIndex": 4}, False, 3, 2, RouteInstructions(header_route={"name": "beta"})),
        ({"currentStepIndex": 1}, False, 3, 2, RouteInstructions()),
        ({"currentStepIndex": 0}, False, 0, 1, RouteInstructions()),  # the first revision runs no steps
        ({"currentStepIndex": 0}, True, 3, 2, RouteInstructions(remove_managed_routes=True)),
        (
            {"stableRS": "c", "currentStepIndex": 6},
            False,
            3,
            2,
            RouteInstructions(remove_managed_routes=True),
        ),
        (
            {"currentStepIndex": 3, "promoteFull": True},
            False,
            3,
            2,
            RouteInstructions(remove_managed_routes=True),
        ),
        ({"currentStepIndex": 3, "promoteFull": True}, False, 0, 2, RouteInstructions()),
    ],
    ids=[
        "header",
        "mirror",
        "header-removal-step",
        "weight-step",
        "first-revision",
        "aborted",
        "promoted",
        "promote-full",
        "promote-full-without-canary-pods",
    ],
)
def test_route_instructions(
    status: dict[str, Any], aborted: bool, available: int, revision: int, expected: RouteInstructions
) -> None:
    assert (
        route_instructions(view(status), aborted=aborted, new_rs=canary_rs(available), revision=revision)
        == expected
    )


def test_the_header_step_rides_on_the_traffic_action_and_completes_in_the_same_pass() -> None:
    rollout = canary_rollout(
        STEPS, replicas=4, trafficRouting=ROUTING, canaryService="web-canary", stableService="web-stable"
    )
    w = World(rollout, plan_canary)
    w.services = {name: ServiceView(name, {"app": "web"}) for name in ("web-canary", "web-stable")}
    w.run()
    w.update_template("nginx:1.28")
    w.run()
    actions = [
        a for plan in w.plans for a in plan.of_type(SetTrafficWeight) if a.header_route or a.mirror_route
    ]
    assert [(a.header_route, a.mirror_route) for a in actions][:1] == [(HEADER, None)]
    assert (None, MIRROR) in [(a.header_route, a.mirror_route) for a in actions]
    assert w.status["currentStepIndex"] == 3  # paused after the mirror step
