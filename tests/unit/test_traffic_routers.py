"""Reading the Rollout (`routing`) and choosing its routers (`routers`), malformed input included."""

from __future__ import annotations

from typing import Any

import pytest
from traffic_world import NAMESPACE, UID, owner, rollout, routing

from traffic.objects import RoutingError
from traffic.routers import TrafficSettings, configured
from traffic.routing import Destination, Intent, Routing

ALL = {
    "istio": {"virtualService": {"name": "shop"}},
    "nginx": {"stableIngress": "shop"},
    "smi": {},
    "plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "shop"}},
}


def test_routers_come_in_argos_order() -> None:
    assert [router.name for router in configured(routing(ALL))] == ["Istio", "Nginx", "SMI", "GatewayAPI"]


def test_versions_come_from_the_settings() -> None:
    settings = TrafficSettings(
        istio_api_version="v1", smi_api_version="v1alpha4", gateway_api_version="v1beta1"
    )
    reads = [
        ref.api_version for router in configured(routing(ALL), settings) for ref in router.reads(routing(ALL))
    ]
    assert reads == [
        "networking.istio.io/v1",
        "networking.k8s.io/v1",
        "networking.k8s.io/v1",
        "split.smi-spec.io/v1alpha4",
        "gateway.networking.k8s.io/v1beta1",
    ]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"alb": {"ingress": "x", "servicePort": 80}}, "trafficRouting.alb is not supported"),
        ({"plugins": {"acme/router": {}}}, "plugin 'acme/router' is not supported"),
        ({"managedRoutes": [{"name": "x"}]}, "configures no router"),
    ],
)
def test_routers_we_do_not_have_are_refused(config: dict[str, Any], message: str) -> None:
    with pytest.raises(RoutingError, match=message):
        configured(routing(config))


def test_the_rollout_is_read_into_routing_facts() -> None:
    facts = routing(
        {"nginx": {}, "managedRoutes": [{"name": "a"}, {"name": ""}, "junk"], "maxTrafficWeight": 1000}
    )
    assert (facts.name, facts.namespace, facts.uid) == ("web", NAMESPACE, UID)
    assert (facts.canary_service, facts.stable_service) == ("web-canary", "web-stable")
    assert facts.managed_routes == ("a",)
    assert facts.max_weight == 1000
    assert facts.owner_reference() == owner()
    assert routing({"nginx": {}}).max_weight == 100


@pytest.mark.parametrize(
    "manifest",
    [
        {},
        {"spec": "x"},
        {"spec": {"strategy": {"canary": {"trafficRouting": "nginx"}}}},
        rollout({"nginx": {}}) | {"spec": {}},
    ],
)
def test_a_rollout_without_traffic_routing_is_an_error(manifest: dict[str, Any]) -> None:
    with pytest.raises(RoutingError, match="trafficRouting is not set"):
        Routing.from_rollout(manifest)


@pytest.mark.parametrize(
    ("references", "controlled"),
    [
        ([owner()], True),
        ([owner(uid="other")], False),
        ([{**owner(), "controller": False}], False),
        ([], False),
        ("junk", False),
    ],
)
def test_controls_is_metav1_is_controlled_by(references: Any, controlled: bool) -> None:
    assert routing({"nginx": {}}).controls({"metadata": {"ownerReferences": references}}) is controlled


def test_extra_weight_sums_the_destinations() -> None:
    intent = Intent(weight=10, extra=(Destination("a", "x", 5), Destination("b", "y", 7)))
    assert intent.extra_weight == 12
