"""Gateway API router (§5.4), configured by the upstream plugin's keys: backendRef weights,
in-progress label, header rules — tables of (routes before, intent) → patches."""

from __future__ import annotations

from typing import Any

import pytest
from traffic_world import NAMESPACE, applied, obj, ref_of, routing, without_version, world

from traffic import gatewayapi
from traffic.objects import HTTP_ROUTE, RoutingError
from traffic.routing import Intent
from traffic.writes import Patch

GW = "gateway.networking.k8s.io/v1"
PLUGIN = "argoproj-labs/gatewayAPI"
LABEL = "rollouts.argoproj.io/gatewayapi-canary"
MANAGED = [{"name": "beta"}]


def plugin(**config: Any) -> dict[str, Any]:
    return {"plugins": {PLUGIN: config}, "managedRoutes": MANAGED}


def backend(name: str, weight: int | None = None, port: int = 80) -> dict[str, Any]:
    ref: dict[str, Any] = {"group": "", "kind": "Service", "name": name, "port": port}
    if weight is not None:
        ref["weight"] = weight
    return ref


def rule(canary: int, *, path: str = "/", name: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "matches": [{"path": {"type": "PathPrefix", "value": path}}],
        "backendRefs": [backend("web-stable", 100 - canary), backend("web-canary", canary)],
        **extra,
    }
    if name:
        body["name"] = name
    return body


def http_route(*rules: dict[str, Any], name: str = "shop", namespace: str = NAMESPACE, **meta: Any) -> Any:
    return obj(
        GW,
        "HTTPRoute",
        name,
        {"parentRefs": [{"name": "gw"}], "rules": list(rules)},
        namespace=namespace,
        **meta,
    )


@pytest.mark.parametrize(("before", "weight"), [(0, 10), (10, 60), (60, 100), (100, 0)])
def test_weights_are_set_on_every_rule_and_the_in_progress_label_follows(before: int, weight: int) -> None:
    labels = {LABEL: "in-progress"} if before else {}
    route = http_route(rule(before), rule(before, path="/api"), labels=labels)
    objects = world(route)
    writes = gatewayapi.writes(routing(plugin(httpRoute="shop")), Intent(weight=weight), objects)
    assert len(writes) == 1
    assert isinstance(writes[0], Patch)
    assert writes[0].patch["metadata"]["resourceVersion"] == "7"
    result = applied(objects, writes)[ref_of(route)]
    assert result is not None
    assert result["spec"]["rules"] == [rule(weight), rule(weight, path="/api")]
    assert result["metadata"].get("labels", {}).get(LABEL) == ("in-progress" if weight else None)
    assert (
        gatewayapi.writes(routing(plugin(httpRoute="shop")), Intent(weight=weight), applied(objects, writes))
        == []
    )


def test_rules_for_other_services_are_untouched() -> None:
    other = {
        "matches": [{"path": {"type": "PathPrefix", "value": "/docs"}}],
        "backendRefs": [backend("docs")],
    }
    route = http_route(rule(0), other)
    result = applied(
        world(route), gatewayapi.writes(routing(plugin(httpRoute="shop")), Intent(weight=5), world(route))
    )
    assert result[ref_of(route)]["spec"]["rules"][1] == other  # type: ignore[index]


def test_max_traffic_weight_is_the_total() -> None:
    config = {**plugin(httpRoute="shop"), "maxTrafficWeight": 1000}
    route = http_route(rule(0))
    result = applied(world(route), gatewayapi.writes(routing(config), Intent(weight=250), world(route)))
    assert result[ref_of(route)]["spec"]["rules"][0]["backendRefs"] == [  # type: ignore[index]
        backend("web-stable", 750),
        backend("web-canary", 250),
    ]


def test_several_routes_in_another_namespace() -> None:
    config = plugin(
        httpRoutes=[{"name": "shop"}, {"name": "shop-internal"}], grpcRoute="shop-grpc", namespace="edge"
    )
    refs = gatewayapi.reads(routing(config))
    assert [(ref.kind, ref.namespace, ref.name) for ref in refs] == [
        ("HTTPRoute", "edge", "shop"),
        ("HTTPRoute", "edge", "shop-internal"),
        ("GRPCRoute", "edge", "shop-grpc"),
    ]
    grpc = obj(
        GW,
        "GRPCRoute",
        "shop-grpc",
        {"rules": [{"backendRefs": [backend("web-stable", 1), backend("web-canary", 0)]}]},
        namespace="edge",
    )
    objects = world(
        http_route(rule(0), namespace="edge"),
        http_route(rule(0), name="shop-internal", namespace="edge"),
        grpc,
    )
    writes = gatewayapi.writes(routing(config), Intent(weight=30), objects)
    assert [write.ref.name for write in writes] == ["shop", "shop-internal", "shop-grpc"]


def test_tcp_and_tls_routes_are_weighted_too() -> None:
    config = plugin(tcpRoute="db", tlsRoutes=[{"name": "tls"}])
    tcp = obj(
        GW,
        "TCPRoute",
        "db",
        {"rules": [{"backendRefs": [backend("web-stable", 1), backend("web-canary", 0)]}]},
    )
    tls = obj(
        GW,
        "TLSRoute",
        "tls",
        {"rules": [{"backendRefs": [backend("web-stable", 1), backend("web-canary", 0)]}]},
    )
    result = applied(world(tcp, tls), gatewayapi.writes(routing(config), Intent(weight=40), world(tcp, tls)))
    for body in (tcp, tls):
        assert result[ref_of(body)]["spec"]["rules"][0]["backendRefs"] == [  # type: ignore[index]
            backend("web-stable", 60),
            backend("web-canary", 40),
        ]


def test_in_progress_label_can_be_renamed_or_disabled() -> None:
    route = http_route(rule(0))
    custom = plugin(httpRoute="shop", inProgressLabelKey="canary", inProgressLabelValue="yes")
    patch = without_version(gatewayapi.writes(routing(custom), Intent(weight=5), world(route))[0].patch)  # type: ignore[union-attr]
    assert patch["metadata"] == {"labels": {"canary": "yes"}}
    disabled = plugin(httpRoute="shop", disableInProgressLabel=True)
    patch = without_version(gatewayapi.writes(routing(disabled), Intent(weight=5), world(route))[0].patch)  # type: ignore[union-attr]
    assert "metadata" not in patch


def test_header_routes_add_named_rules_per_source_rule() -> None:
    route = http_route(
        rule(
            10,
            filters=[
                {
                    "type": "RequestHeaderModifier",
                    "requestHeaderModifier": {"set": [{"name": "a", "value": "b"}]},
                }
            ],
        ),
        rule(10, path="/api"),
    )
    step = {
        "name": "beta",
        "match": [
            {"headerName": "X-Beta", "headerValue": {"exact": "1"}},
            {"headerName": "X-Group", "headerValue": {"prefix": "qa"}},
        ],
    }
    objects = world(route)
    writes = gatewayapi.writes(
        routing(plugin(httpRoute="shop")), Intent(weight=10, header_route=step), objects
    )
    rules = applied(objects, writes)[ref_of(route)]["spec"]["rules"]  # type: ignore[index]
    headers = [
        {"type": "Exact", "name": "X-Beta", "value": "1"},
        {"type": "RegularExpression", "name": "X-Group", "value": "qa.*"},
    ]
    assert rules[2:] == [
        {
            "name": "beta",
            "matches": [{"path": {"type": "PathPrefix", "value": "/"}, "headers": headers}],
            "backendRefs": [backend("web-canary", 1)],
            "filters": route["spec"]["rules"][0]["filters"],
        },
        {
            "name": "beta-1",
            "matches": [{"path": {"type": "PathPrefix", "value": "/api"}, "headers": headers}],
            "backendRefs": [backend("web-canary", 1)],
        },
    ]
    again = gatewayapi.writes(
        routing(plugin(httpRoute="shop")), Intent(weight=30, header_route=step), applied(objects, writes)
    )
    later = applied(applied(objects, writes), again)[ref_of(route)]["spec"]["rules"]  # type: ignore[index]
    assert later[:2] == [rule(30, filters=route["spec"]["rules"][0]["filters"]), rule(30, path="/api")]
    assert later[2:] == rules[2:]


def test_header_routes_are_removed_by_an_empty_step_or_by_removing_managed_routes() -> None:
    managed = {
        "name": "beta",
        "matches": [{"headers": [{"type": "Exact", "name": "X", "value": "1"}]}],
        "backendRefs": [backend("web-canary")],
    }
    route = http_route(rule(10), managed, {**managed, "name": "beta-1"})
    for intent in (
        Intent(weight=10, header_route={"name": "beta"}),
        Intent(weight=10, remove_managed_routes=True),
    ):
        result = applied(
            world(route), gatewayapi.writes(routing(plugin(httpRoute="shop")), intent, world(route))
        )
        assert result[ref_of(route)]["spec"]["rules"] == [rule(10)]  # type: ignore[index]


def test_routes_without_use_header_routes_get_no_header_rules() -> None:
    config = plugin(httpRoutes=[{"name": "shop"}, {"name": "other", "useHeaderRoutes": True}])
    step = {"name": "beta", "match": [{"headerName": "X", "headerValue": {"regex": "a|b"}}]}
    objects = world(http_route(rule(0)), http_route(rule(0), name="other"))
    result = applied(
        objects, gatewayapi.writes(routing(config), Intent(weight=0, header_route=step), objects)
    )
    assert len(result[HTTP_ROUTE.ref(NAMESPACE, "shop")]["spec"]["rules"]) == 1  # type: ignore[index]
    assert result[HTTP_ROUTE.ref(NAMESPACE, "other")]["spec"]["rules"][1]["matches"][0]["headers"] == [  # type: ignore[index]
        {"type": "RegularExpression", "name": "X", "value": "a|b"}
    ]


@pytest.mark.parametrize(
    ("config", "objects", "message"),
    [
        (plugin(), [], "the configuration names no route"),
        (plugin(httpRouteSelector={"matchLabels": {"a": "b"}}), [], "httpRouteSelector is not supported"),
        (plugin(httpRoutes=[{"useHeaderRoutes": True}]), [], "every entry of httpRoutes needs a name"),
        (plugin(httpRoute="shop"), [], "HTTPRoute `shop` not found in namespace shop"),
        (
            plugin(httpRoute="shop"),
            [http_route({"backendRefs": [backend("web-stable")]})],
            "backendRef web-canary was not found in HTTPRoute `shop`",
        ),
        (
            plugin(httpRoute="shop"),
            [http_route({"backendRefs": [backend("web-canary")]})],
            "backendRef web-stable was not found",
        ),
    ],
)
def test_configuration_and_route_errors(config: dict[str, Any], objects: list[Any], message: str) -> None:
    with pytest.raises(RoutingError, match=message):
        gatewayapi.writes(routing(config), Intent(weight=1), world(*objects))


def test_a_malformed_header_match_is_an_error() -> None:
    step = {"name": "beta", "match": [{"headerName": "X", "headerValue": {}}]}
    with pytest.raises(RoutingError, match="needs headerName and exactly one of"):
        gatewayapi.writes(
            routing(plugin(httpRoute="shop")), Intent(weight=1, header_route=step), world(http_route(rule(0)))
        )
