# ruff: noqa: F401, F811 - pytest fixtures imported from the harness are parameters by design
"""Ping-pong with Istio host-level routing, driven by the controller on the devcluster (§1.3, §3.8).

The VirtualService routes to the ping and pong Services; the Rollout names no canary or stable
Service. Each update points the Service in the canary role at the new pods, weights it step by
step, and the promotion flips ``status.canary.stablePingPong`` so that the same Service now
carries all the traffic as stable — the selectors of a Service serving traffic never change.
"""

from __future__ import annotations

from typing import Any

from test_controller_canary import at_counts, promote
from test_controller_harness import (
    Cluster,
    ControllerProcess,
    cluster,
    controller,
    rollout_crds,
    rollout_manifest,
    settled,
    wait_for,
)
from test_traffic_apply import ISTIO, Objects, objects, virtual_service
from test_traffic_controller import NAME, REPLICAS, STEPS, hash_of

PING, PONG = f"{NAME}-ping", f"{NAME}-pong"
HASH = "rollouts-pod-template-hash"


def ping_pong_rollout() -> dict[str, Any]:
    strategy = {
        "canary": {
            "pingPong": {"pingService": PING, "pongService": PONG},
            "trafficRouting": {"istio": {"virtualService": {"name": "shop", "routes": ["primary"]}}},
            "steps": STEPS,
            "scaleDownDelaySeconds": 2,
        }
    }
    return rollout_manifest(NAME, strategy, replicas=REPLICAS)


def primary_route() -> dict[str, Any]:
    return {
        "name": "primary",
        "route": [
            {"destination": {"host": PING, "port": {"number": 80}}, "weight": 100},
            {"destination": {"host": PONG, "port": {"number": 80}}, "weight": 0},
        ],
    }


def weights(objects: Objects) -> dict[str, int]:
    found = objects.get(ISTIO, "VirtualService", "shop")
    assert found is not None
    route = next(r for r in found["spec"]["http"] if r.get("name") == "primary")
    return {d["destination"]["host"]: int(d.get("weight", 0)) for d in route["route"]}


def selected(cluster: Cluster) -> tuple[str | None, str | None]:
    return cluster.service_selector(PING).get(HASH), cluster.service_selector(PONG).get(HASH)


def test_ping_and_pong_swap_roles_at_each_promotion(
    controller: ControllerProcess, cluster: Cluster, objects: Objects
) -> None:
    cluster.create_service(PING, NAME)
    cluster.create_service(PONG, NAME)
    objects.create(virtual_service(http=[primary_route()]))
    cluster.create_rollout(ping_pong_rollout())
    first, second = hash_of("nginx:1.27"), hash_of("nginx:1.28")

    status = wait_for(settled(cluster, NAME, "Healthy", stableRS=first), "the initial deploy")
    assert status["canary"]["stablePingPong"] == "ping"
    wait_for(lambda: weights(objects) == {PING: 100, PONG: 0}, "all traffic on ping")
    assert selected(cluster) == (first, None)

    cluster.set_image(NAME, "nginx:1.28")
    for index, weight in ((1, 20), (3, 50)):
        wait_for(settled(cluster, NAME, "Paused", currentStepIndex=index), f"the pause at step {index}")
        wait_for(lambda w=weight: weights(objects) == {PING: 100 - w, PONG: w}, f"{weight}% on pong")
        assert selected(cluster) == (first, second)
        assert cluster.status(NAME)["canary"]["stablePingPong"] == "ping"
        promote(cluster)

    status = wait_for(settled(cluster, NAME, "Healthy", stableRS=second), "the promotion")
    assert status["canary"]["stablePingPong"] == "pong"
    wait_for(lambda: weights(objects) == {PING: 0, PONG: 100}, "all traffic on pong, now stable")
    wait_for(
        lambda: at_counts(cluster, {f"{NAME}-{second}": (REPLICAS, REPLICAS), f"{NAME}-{first}": (0, 0)}),
        "the old stable scaled down",
    )
    assert selected(cluster) == (first, second)
    assert [event.message for event in cluster.events("TrafficRoutingError")] == []

    cluster.set_image(NAME, "nginx:1.29")
    third = hash_of("nginx:1.29")
    wait_for(settled(cluster, NAME, "Paused", currentStepIndex=1), "the first pause of the next update")
    wait_for(lambda: weights(objects) == {PING: 20, PONG: 80}, "the canary share on ping this time")
    assert selected(cluster) == (third, second)
