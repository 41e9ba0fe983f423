"""Ping-pong Services in the canary pipeline (§1.3 ``pingPong``, §3.1 canary step 6, §3.8)."""

from __future__ import annotations

from typing import Any

from planner_world import World, apply_merge_patch, canary_rollout

from rollouts.planner import operations
from rollouts.planner.actions import SetServiceSelector
from rollouts.planner.canary import plan_canary
from rollouts.planner.inputs import ServiceView

STEPS: list[dict[str, Any]] = [{"setWeight": 20}, {"pause": {}}]
PING_PONG = {"pingService": "web-ping", "pongService": "web-pong"}
ISTIO = {"istio": {"virtualService": {"name": "web", "routes": ["primary"]}}}


def world(**canary: Any) -> World:
    w = World(
        canary_rollout(STEPS, replicas=4, pingPong=PING_PONG, trafficRouting=ISTIO, **canary), plan_canary
    )
    for name in PING_PONG.values():
        w.services[name] = ServiceView(name, {"app": "web"})
    return w


def selected(w: World) -> tuple[str, str]:
    return w.services["web-ping"].selected_hash, w.services["web-pong"].selected_hash


def switches(w: World) -> list[tuple[str, str]]:
    return [(a.service, a.pod_hash) for plan in w.plans for a in plan.of_type(SetServiceSelector)]


def promote_to(w: World, image: str) -> str:
    """Update the template, run to the pause, resume and run to the promotion; the new hash."""
    w.update_template(image)
    w.run()
    assert w.status["currentStepIndex"] == 1, "at the pause step"
    apply_merge_patch(w.rollout, operations.promote(w.rollout).status or {})
    w.run()
    assert w.status["stableRS"] == w.status["currentPodHash"]
    return str(w.status["currentPodHash"])


def test_the_initial_deploy_takes_ping_and_makes_it_stable() -> None:
    w = world()
    w.run()
    first = w.status["stableRS"]
    assert selected(w) == (first, "")
    assert w.status["canary"]["stablePingPong"] == "ping"
    assert all(a.managed_by == "web" for plan in w.plans for a in plan.of_type(SetServiceSelector))


def test_each_promotion_hands_the_canary_role_to_the_other_service() -> None:
    w = world()
    w.run()
    first = w.status["stableRS"]
    second = promote_to(w, "nginx:1.28")
    assert selected(w) == (first, second)
    assert w.status["canary"]["stablePingPong"] == "pong"
    third = promote_to(w, "nginx:1.29")
    assert selected(w) == (third, second)
    assert w.status["canary"]["stablePingPong"] == "ping"
    assert switches(w) == [("web-ping", first), ("web-pong", second), ("web-ping", third)]


def test_the_canary_role_is_switched_before_any_canary_pod_is_available() -> None:
    w = world()
    w.run()
    w.auto_ready = False
    w.update_template("nginx:1.28")
    w.run(passes=5)
    canary_hash = w.status["currentPodHash"]
    assert w.by_hash(canary_hash).available == 0
    assert w.services["web-pong"].selected_hash == canary_hash


def test_a_paused_canary_switches_nothing_again() -> None:
    w = world()
    w.run()
    w.update_template("nginx:1.28")
    w.run()
    before = len(switches(w))
    w.run()
    assert len(switches(w)) == before
    assert w.status["canary"]["stablePingPong"] == "ping"


def test_without_ping_pong_nothing_is_recorded() -> None:
    w = World(canary_rollout(STEPS, replicas=4, trafficRouting=ISTIO), plan_canary)
    w.run()
    assert "stablePingPong" not in w.status.get("canary", {})
    assert switches(w) == []
