"""Which routing objects wake a Rollout (`rollouts.controller.wakeups.routing_keys`)."""

from __future__ import annotations

from typing import Any

from rollouts.controller.wakeups import ROUTING_KINDS, routing_keys


def rollout(traffic_routing: Any, namespace: str = "shop") -> dict[str, Any]:
    canary = {"canaryService": "web-canary", "stableService": "web-stable"}
    if traffic_routing is not None:
        canary["trafficRouting"] = traffic_routing
    return {
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {"strategy": {"canary": canary}},
    }


def test_nginx_names_its_stable_ingresses_and_the_canary_ingresses_it_owns() -> None:
    keys = routing_keys(rollout({"nginx": {"stableIngresses": ["a", "b"]}}))
    assert keys == {
        ("networking.k8s.io", "ingresses", "shop", name)
        for name in ("a", "web-a-canary", "b", "web-b-canary")
    }


def test_istio_virtual_services_in_other_namespaces_and_the_destination_rule() -> None:
    routing = {
        "istio": {
            "virtualServices": [{"name": "front"}, {"name": "edge.gateways"}],
            "destinationRule": {"name": "web", "canarySubsetName": "c", "stableSubsetName": "s"},
        }
    }
    assert routing_keys(rollout(routing)) == {
        ("networking.istio.io", "virtualservices", "shop", "front"),
        ("networking.istio.io", "virtualservices", "gateways", "edge"),
        ("networking.istio.io", "destinationrules", "shop", "web"),
    }


def test_gateway_api_routes_and_the_smi_split_match_whatever_version_is_served() -> None:
    gateway = {"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "front", "namespace": "edge"}}}
    assert routing_keys(rollout(gateway)) == {("gateway.networking.k8s.io", "httproutes", "edge", "front")}
    assert routing_keys(rollout({"smi": {"trafficSplitName": "split"}})) == {
        ("split.smi-spec.io", "trafficsplits", "shop", "split")
    }


def test_every_key_names_a_watched_kind() -> None:
    routing = {
        "istio": {"virtualService": {"name": "vs"}, "destinationRule": {"name": "dr"}},
        "nginx": {"stableIngress": "in"},
        "smi": {},
        "plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "h", "grpcRoute": "g", "tcpRoute": "t"}},
    }
    keys = routing_keys(rollout(routing))
    assert {(group, plural) for group, plural, _, _ in keys} <= set(ROUTING_KINDS)
    assert len(keys) == 8  # vs, dr, in and its canary, the split, three routes


def test_no_routing_or_a_refused_configuration_wakes_for_nothing() -> None:
    assert routing_keys(None) == set()
    assert routing_keys(rollout(None)) == set()
    assert routing_keys({"spec": "not a mapping"}) == set()
    assert routing_keys(rollout({"alb": {"ingress": "x"}})) == set()
    assert routing_keys(rollout({"istio": {"virtualService": {}}})) == set()
    assert routing_keys(rollout("not a mapping")) == set()
