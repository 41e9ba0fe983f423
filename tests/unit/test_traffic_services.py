"""Service selectors pinned to a pod-template hash, their release, and ping-pong roles (§3.8)."""

from __future__ import annotations

from typing import Any

import pytest
from traffic_world import NAMESPACE, obj, routing

from traffic import services
from traffic.objects import SERVICE
from traffic.writes import MERGE_PATCH, STRATEGIC_MERGE_PATCH, Event, Patch

HASH = "rollouts-pod-template-hash"
MANAGED = "argo-rollouts.argoproj.io/managed-by-rollouts"


def service(selector: dict[str, str], **annotations: str) -> dict[str, Any]:
    body = obj("v1", "Service", "web-canary", {"selector": selector})
    if annotations:
        body["metadata"]["annotations"] = {key.replace("_", "-"): value for key, value in annotations.items()}
    return body


def managed(selector: dict[str, str], by: str = "web") -> dict[str, Any]:
    body = service(selector)
    body["metadata"]["annotations"] = {MANAGED: by}
    return body


def test_the_first_switch_pins_the_hash_and_records_the_manager() -> None:
    assert services.switch(service({"app": "web"}), "abc", "web") == Patch(
        SERVICE.ref(NAMESPACE, "web-canary"),
        {"spec": {"selector": {HASH: "abc"}}, "metadata": {"annotations": {MANAGED: "web"}}},
        (Event("SwitchService", "Switched selector for service 'web-canary' from '' to 'abc'"),),
        STRATEGIC_MERGE_PATCH,
    )


def test_a_later_switch_only_moves_the_hash() -> None:
    patch = services.switch(managed({"app": "web", HASH: "abc"}), "def", "web")
    assert patch is not None
    assert patch.patch == {"spec": {"selector": {HASH: "def"}}}
    assert patch.events[0].message == "Switched selector for service 'web-canary' from 'abc' to 'def'"


def test_no_switch_when_the_hash_is_already_selected() -> None:
    assert services.switch(managed({"app": "web", HASH: "abc"}), "abc", "web") is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            managed({"app": "web", HASH: "abc"}),
            {"metadata": {"annotations": {MANAGED: None}}, "spec": {"selector": {HASH: None}}},
        ),
        (managed({"app": "web"}), {"metadata": {"annotations": {MANAGED: None}}}),
        (managed({"app": "web", HASH: "abc"}, by="other"), None),
        (service({"app": "web", HASH: "abc"}), None),
    ],
    ids=["managed", "managed-without-hash", "another-rollout", "unmanaged"],
)
def test_release_gives_the_service_back_only_from_its_manager(body: dict[str, Any], expected: Any) -> None:
    released = services.release(body, "web")
    if expected is None:
        assert released is None
    else:
        assert released == Patch(SERVICE.ref(NAMESPACE, "web-canary"), expected, (), MERGE_PATCH)


@pytest.mark.parametrize(
    ("stable_ping_pong", "expected"),
    [("ping", ("ping-svc", "pong-svc")), ("pong", ("pong-svc", "ping-svc")), ("", ("pong-svc", "ping-svc"))],
)
def test_ping_pong_roles_follow_the_status(stable_ping_pong: str, expected: tuple[str, str]) -> None:
    ping_pong = routing(
        {"istio": {}},
        status={"canary": {"stablePingPong": stable_ping_pong}},
        pingPong={"pingService": "ping-svc", "pongService": "pong-svc"},
    )
    assert services.routed_services(ping_pong) == expected


def test_without_ping_pong_the_canary_and_stable_services_are_routed() -> None:
    assert services.routed_services(routing({"istio": {}})) == ("web-stable", "web-canary")
