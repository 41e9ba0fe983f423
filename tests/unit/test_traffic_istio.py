"""Istio router (§5.2): VirtualService weights (host and subset level), DestinationRule hashes,
managed header/mirror routes — tables of (objects before, intent) → writes, and what they leave."""

from __future__ import annotations

from typing import Any

import pytest
from traffic_world import NAMESPACE, applied, obj, ref_of, routing, without_version, world

from traffic import istio
from traffic.objects import RoutingError
from traffic.routing import Destination, Intent
from traffic.writes import Event, Patch

API = "networking.istio.io/v1alpha3"
HOST_LEVEL = {"istio": {"virtualService": {"name": "shop"}}}
MANAGED = [{"name": "mirror-api"}, {"name": "beta-users"}]


def dest(host: str, weight: int | None = None, *, subset: str = "", port: int = 0) -> dict[str, Any]:
    destination: dict[str, Any] = {"host": host}
    if subset:
        destination["subset"] = subset
    if port:
        destination["port"] = {"number": port}
    entry: dict[str, Any] = {"destination": destination}
    if weight is not None:
        entry["weight"] = weight
    return entry


def route(name: str | None, *destinations: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"route": list(destinations), **fields}
    if name is not None:
        body["name"] = name
    return body


def split(canary: int, *, name: str | None = None, port: int = 0) -> dict[str, Any]:
    return route(name, dest("web-stable", 100 - canary, port=port), dest("web-canary", canary, port=port))


def virtual_service(
    *http: dict[str, Any], name: str = "shop", namespace: str = NAMESPACE, **spec: Any
) -> Any:
    body: dict[str, Any] = {"hosts": ["shop.example"], **spec}
    if http:
        body["http"] = list(http)
    return obj(API, "VirtualService", name, body, namespace=namespace)


def destination_rule(*subsets: dict[str, Any], host: str = "web") -> Any:
    return obj(API, "DestinationRule", "web", {"host": host, "subsets": list(subsets)})


def subset(name: str, **labels: str) -> dict[str, Any]:
    return {"name": name, "labels": {"app": "web", **labels}}


def only_patch(writes: list[Any]) -> dict[str, Any]:
    assert len(writes) == 1
    assert isinstance(writes[0], Patch)
    return without_version(writes[0].patch)


def after(objects: dict[Any, Any], writes: list[Any], body: Any) -> Any:
    return applied(objects, writes)[ref_of(body)]


# -- host-level weights


@pytest.mark.parametrize(("before", "weight"), [(0, 10), (10, 50), (50, 100), (100, 0)])
def test_host_level_weights_are_set_on_the_only_route(before: int, weight: int) -> None:
    vs = virtual_service(split(before))
    objects = world(vs)
    writes = istio.writes(routing(HOST_LEVEL), Intent(weight=weight), objects)
    assert writes == [
        Patch(
            ref_of(vs),
            {"metadata": {"resourceVersion": "7"}, "spec": {"http": [split(weight)]}},
            (Event("Updated VirtualService", f"VirtualService `shop` set to desiredWeight '{weight}'"),),
        )
    ]
    assert istio.writes(routing(HOST_LEVEL), Intent(weight=weight), applied(objects, writes)) == []


def test_fully_qualified_hosts_are_matched_by_their_first_label() -> None:
    vs = virtual_service(
        route(
            None, dest("web-stable.shop.svc.cluster.local", 100), dest("web-canary.shop.svc.cluster.local", 0)
        )
    )
    patch = only_patch(istio.writes(routing(HOST_LEVEL), Intent(weight=25), world(vs)))
    assert patch["spec"]["http"][0]["route"] == [
        dest("web-stable.shop.svc.cluster.local", 75),
        dest("web-canary.shop.svc.cluster.local", 25),
    ]


def test_named_routes_are_weighted_and_unmanaged_routes_left_untouched() -> None:
    admin = route("admin", dest("admin", 100), timeout="5s")
    config = {"istio": {"virtualService": {"name": "shop", "routes": ["primary", "secondary"]}}}
    vs = virtual_service(admin, split(0, name="primary"), split(0, name="secondary", port=8080))
    objects = world(vs)
    writes = istio.writes(routing(config), Intent(weight=40), objects)
    result = after(objects, writes, vs)
    assert result["spec"]["http"] == [
        admin,
        split(40, name="primary"),
        split(40, name="secondary", port=8080),
    ]


def test_omitting_routes_with_several_unmanaged_routes_is_an_error() -> None:
    vs = virtual_service(split(0, name="a"), split(0, name="b"))
    with pytest.raises(
        RoutingError, match=r"it must have exactly one route when omitting .*virtualService.routes"
    ):
        istio.writes(routing(HOST_LEVEL), Intent(weight=10), world(vs))


def test_omitting_routes_takes_the_one_unmanaged_route_even_if_named() -> None:
    config = {**HOST_LEVEL, "managedRoutes": MANAGED}
    vs = virtual_service(route("beta-users", dest("web-canary", 100)), split(0, name="primary"))
    result = after(world(vs), istio.writes(routing(config), Intent(weight=30), world(vs)), vs)
    assert result["spec"]["http"][1] == split(30, name="primary")
    assert result["spec"]["http"][0] == route("beta-users", dest("web-canary", 100))


def test_a_named_route_that_is_missing_is_an_error() -> None:
    config = {"istio": {"virtualService": {"name": "shop", "routes": ["primary"]}}}
    with pytest.raises(
        RoutingError, match=r"HTTP Route 'primary' is not found in the defined Virtual Service\."
    ):
        istio.writes(routing(config), Intent(weight=10), world(virtual_service(split(0, name="other"))))


@pytest.mark.parametrize(
    ("destinations", "message"),
    [
        ([dest("web-stable", 100)], "Canary Service 'web-canary' not found in route"),
        ([dest("web-canary", 100)], "Stable Service 'web-stable' not found in route"),
    ],
)
def test_a_route_without_both_services_is_an_error(destinations: list[Any], message: str) -> None:
    with pytest.raises(RoutingError, match=message):
        istio.writes(
            routing(HOST_LEVEL), Intent(weight=10), world(virtual_service(route(None, *destinations)))
        )


def test_foreign_destinations_with_weight_are_removed_and_zero_weight_ones_kept() -> None:
    vs = virtual_service(
        route(None, dest("web-stable", 80), dest("web-canary", 10), dest("legacy", 10), dest("spare", 0))
    )
    patch = only_patch(istio.writes(routing(HOST_LEVEL), Intent(weight=30), world(vs)))
    assert patch["spec"]["http"][0]["route"] == [
        dest("web-stable", 70),
        dest("web-canary", 30),
        dest("spare", 0),
    ]


def test_experiment_destinations_are_weighted_or_appended_sorted() -> None:
    vs = virtual_service(route(None, dest("web-stable", 100), dest("web-canary", 0), dest("exp-b", 0)))
    intent = Intent(weight=10, extra=(Destination("exp-c", "h3", 5), Destination("exp-b", "h2", 5)))
    patch = only_patch(istio.writes(routing(HOST_LEVEL), intent, world(vs)))
    assert patch["spec"]["http"][0]["route"] == [
        dest("web-stable", 80),
        dest("web-canary", 10),
        dest("exp-b", 5),
        dest("exp-c", 5),
    ]


def test_a_virtual_service_in_another_namespace_and_several_virtual_services() -> None:
    config = {"istio": {"virtualServices": [{"name": "shop"}, {"name": "edge.gateways"}]}}
    local, edge = virtual_service(split(0)), virtual_service(split(0), name="edge", namespace="gateways")
    assert istio.reads(routing(config)) == [ref_of(local), ref_of(edge)]
    writes = istio.writes(routing(config), Intent(weight=20), world(local, edge))
    assert [(write.ref.namespace, write.ref.name) for write in writes] == [
        (NAMESPACE, "shop"),
        ("gateways", "edge"),
    ]


def test_the_api_version_is_a_setting() -> None:
    refs = istio.reads(routing(HOST_LEVEL), "v1beta1")
    assert [ref.api_version for ref in refs] == ["networking.istio.io/v1beta1"]


@pytest.mark.parametrize(
    ("objects", "message"),
    [
        ([], "VirtualService `shop` not found"),
        ([virtual_service(hosts=["x"])], "VirtualService `shop` has no http, tls or tcp routes"),
    ],
)
def test_missing_or_empty_virtual_services_are_errors(objects: list[Any], message: str) -> None:
    with pytest.raises(RoutingError, match=message):
        istio.writes(routing(HOST_LEVEL), Intent(weight=10), world(*objects))


# -- TLS and TCP routes


def tls_route(port: int, *hosts: str, canary: int = 0) -> dict[str, Any]:
    return {
        "match": [{"port": port, "sniHosts": list(hosts)}],
        "route": [dest("web-stable", 100 - canary), dest("web-canary", canary)],
    }


def tcp_route(port: int, canary: int = 0) -> dict[str, Any]:
    return {
        "match": [{"port": port}],
        "route": [dest("web-stable", 100 - canary), dest("web-canary", canary)],
    }


def test_tls_routes_are_chosen_by_port_and_exact_sni_set() -> None:
    config = {
        "istio": {"virtualService": {"name": "shop", "tlsRoutes": [{"port": 443, "sniHosts": ["b", "a"]}]}}
    }
    vs = virtual_service(tls=[tls_route(443, "a"), tls_route(443, "a", "b"), tls_route(8443, "a", "b")])
    result = after(world(vs), istio.writes(routing(config), Intent(weight=60), world(vs)), vs)
    assert result["spec"]["tls"] == [
        tls_route(443, "a"),
        tls_route(443, "a", "b", canary=60),
        tls_route(8443, "a", "b"),
    ]


def test_tcp_routes_are_chosen_by_port_and_the_first_is_used_when_omitted() -> None:
    config = {"istio": {"virtualService": {"name": "shop", "tcpRoutes": [{"port": 5432}]}}}
    vs = virtual_service(tcp=[tcp_route(3306), tcp_route(5432)])
    result = after(world(vs), istio.writes(routing(config), Intent(weight=5), world(vs)), vs)
    assert result["spec"]["tcp"] == [tcp_route(3306), tcp_route(5432, canary=5)]
    single = virtual_service(tcp=[tcp_route(3306)])
    result = after(world(single), istio.writes(routing(HOST_LEVEL), Intent(weight=5), world(single)), single)
    assert result["spec"]["tcp"] == [tcp_route(3306, canary=5)]


@pytest.mark.parametrize(
    ("config", "spec", "message"),
    [
        ({}, {"tls": [tls_route(443, "a"), tls_route(443, "b")]}, r"spec.tls\[\] should be set"),
        (
            {"tlsRoutes": [{"port": 443, "sniHosts": ["z"]}]},
            {"tls": [tls_route(443, "a")]},
            "No matching TLS routes",
        ),
        ({}, {"tcp": [tcp_route(1), tcp_route(2)]}, r"spec.tcp\[\] should be set"),
        ({"tcpRoutes": [{"port": 9}]}, {"tcp": [tcp_route(1)]}, "No matching TCP routes"),
    ],
)
def test_tls_and_tcp_route_selection_errors(
    config: dict[str, Any], spec: dict[str, Any], message: str
) -> None:
    vs = virtual_service(**spec)
    with pytest.raises(RoutingError, match=message):
        istio.writes(
            routing({"istio": {"virtualService": {"name": "shop", **config}}}), Intent(weight=1), world(vs)
        )


# -- subset level with a DestinationRule

SUBSET_LEVEL = {
    "istio": {
        "virtualService": {"name": "shop"},
        "destinationRule": {
            "name": "web",
            "canarySubsetName": "canary",
            "stableSubsetName": "stable",
            "additionalSubsetNames": ["shadow"],
        },
    }
}


def subset_split(canary: int, shadow: int | None = None) -> dict[str, Any]:
    destinations = [
        dest("web", 100 - canary - (shadow or 0), subset="stable"),
        dest("web", canary, subset="canary"),
    ]
    if shadow is not None:
        destinations.append(dest("web", shadow, subset="shadow"))
    return route(None, *destinations)


def test_subset_level_writes_the_destination_rule_first_then_the_weights() -> None:
    rule = destination_rule(
        subset("stable", **{"rollouts-pod-template-hash": "old"}),
        {"name": "canary", "labels": {"app": "web"}, "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}},
        subset("shadow"),
        subset("leftover"),
    )
    vs = virtual_service(subset_split(0))
    objects = world(vs, rule)
    intent = Intent(weight=20, canary_hash="c4n4ry", stable_hash="st4b1e")
    writes = istio.writes(routing(SUBSET_LEVEL), intent, objects)
    assert [write.ref.kind for write in writes] == ["DestinationRule", "VirtualService"]
    assert writes[0].events == (
        Event(
            "UpdatedDestinationRule", "DestinationRule web subset updated (canary: c4n4ry, stable: st4b1e)"
        ),
    )
    result = applied(objects, writes)
    assert result[ref_of(rule)]["spec"]["subsets"] == [  # type: ignore[index]
        subset("stable", **{"rollouts-pod-template-hash": "st4b1e"}),
        {
            "name": "canary",
            "labels": {"app": "web", "rollouts-pod-template-hash": "c4n4ry"},
            "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}},
        },
        subset("shadow"),
    ]
    assert result[ref_of(rule)]["metadata"]["annotations"] == {  # type: ignore[index]
        "argo-rollouts.argoproj.io/managed-by-rollouts": "web"
    }
    assert result[ref_of(vs)]["spec"]["http"] == [subset_split(20)]  # type: ignore[index]
    assert istio.writes(routing(SUBSET_LEVEL), intent, result) == []


def test_an_empty_hash_removes_the_subset_label() -> None:
    rule = destination_rule(subset("stable", **{"rollouts-pod-template-hash": "s"}), subset("canary"))
    writes = istio.writes(
        routing(SUBSET_LEVEL), Intent(weight=0, stable_hash=""), world(virtual_service(subset_split(0)), rule)
    )
    assert isinstance(writes[0], Patch)
    assert without_version(writes[0].patch)["spec"]["subsets"][0] == subset("stable")


def test_additional_subsets_keep_their_weight_and_reduce_the_stable_share() -> None:
    rule = destination_rule(subset("stable"), subset("canary"), subset("shadow"))
    vs = virtual_service(subset_split(0, shadow=10))
    result = after(
        world(vs, rule), istio.writes(routing(SUBSET_LEVEL), Intent(weight=30), world(vs, rule)), vs
    )
    assert result["spec"]["http"] == [subset_split(30, shadow=10)]


def test_subset_mode_leaves_destinations_on_other_hosts_alone() -> None:
    rule = destination_rule(subset("stable"), subset("canary"))
    vs = virtual_service(route(None, *subset_split(0)["route"], dest("elsewhere", 5)))
    result = after(
        world(vs, rule), istio.writes(routing(SUBSET_LEVEL), Intent(weight=30), world(vs, rule)), vs
    )
    assert result["spec"]["http"][0]["route"][2] == dest("elsewhere", 5)


@pytest.mark.parametrize(
    ("subsets", "route_", "message"),
    [
        (
            [subset("stable"), subset("canary")],
            route(None, dest("web", 100, subset="stable")),
            "Canary DestinationRule subset 'canary' not found in route",
        ),
        (
            [subset("stable"), subset("canary")],
            route(None, dest("web", 100, subset="canary")),
            "Stable DestinationRule subset 'stable' not found in route",
        ),
        ([subset("stable")], subset_split(0), "DestinationRule `web` has no subset 'canary'"),
    ],
)
def test_subset_level_errors(subsets: list[Any], route_: dict[str, Any], message: str) -> None:
    with pytest.raises(RoutingError, match=message):
        istio.writes(
            routing(SUBSET_LEVEL),
            Intent(weight=1),
            world(virtual_service(route_), destination_rule(*subsets)),
        )


def test_a_missing_destination_rule_is_an_error() -> None:
    with pytest.raises(RoutingError, match="DestinationRule `web` not found"):
        istio.writes(routing(SUBSET_LEVEL), Intent(weight=1), world(virtual_service(subset_split(0))))


# -- managed routes

WITH_ROUTES = {"istio": {"virtualService": {"name": "shop", "routes": ["primary"]}}, "managedRoutes": MANAGED}
USER_ROUTE = route("admin", dest("admin", 100), match=[{"uri": {"prefix": "/admin"}}])


def header_step(**value: str) -> dict[str, Any]:
    return {"name": "beta-users", "match": [{"headerName": "X-Beta", "headerValue": value}]}


@pytest.mark.parametrize("kind", ["exact", "regex", "prefix"])
def test_a_header_route_is_added_before_user_routes(kind: str) -> None:
    vs = virtual_service(USER_ROUTE, split(10, name="primary", port=8080))
    objects = world(vs)
    intent = Intent(weight=10, header_route=header_step(**{kind: "yes"}))
    writes = istio.writes(routing(WITH_ROUTES), intent, objects)
    assert writes[0].events == (
        Event("Updated VirtualService", "VirtualService `shop` set headerRoute 'beta-users'"),
    )
    result = after(objects, writes, vs)
    assert result["spec"]["http"] == [
        {
            "name": "beta-users",
            "match": [{"headers": {"X-Beta": {kind: "yes"}}}],
            "route": [dest("web-canary", 100, port=8080)],
        },
        USER_ROUTE,
        split(10, name="primary", port=8080),
    ]
    assert istio.writes(routing(WITH_ROUTES), intent, applied(objects, writes)) == []


def test_a_header_route_in_subset_mode_targets_the_canary_subset_on_the_rule_host() -> None:
    config = {**SUBSET_LEVEL, "managedRoutes": MANAGED}
    rule = destination_rule(subset("stable"), subset("canary"), host="web.shop.svc.cluster.local")
    vs = virtual_service(
        route(
            None,
            dest("web.shop.svc.cluster.local", 100, subset="stable"),
            dest("web.shop.svc.cluster.local", 0, subset="canary"),
        )
    )
    result = after(
        world(vs, rule),
        istio.writes(routing(config), Intent(weight=0, header_route=header_step(exact="1")), world(vs, rule)),
        vs,
    )
    assert result["spec"]["http"][0]["route"] == [dest("web.shop.svc.cluster.local", 100, subset="canary")]


def test_a_header_step_without_match_removes_only_its_route() -> None:
    existing = route("beta-users", dest("web-canary", 100), match=[{"headers": {"X-Beta": {"exact": "yes"}}}])
    vs = virtual_service(existing, USER_ROUTE, split(10, name="primary"))
    intent = Intent(weight=10, header_route={"name": "beta-users"})
    result = after(world(vs), istio.writes(routing(WITH_ROUTES), intent, world(vs)), vs)
    assert result["spec"]["http"] == [USER_ROUTE, split(10, name="primary")]


def test_a_mirror_route_copies_the_split_and_is_reweighted_later() -> None:
    vs = virtual_service(USER_ROUTE, split(20, name="primary"))
    step = {
        "name": "mirror-api",
        "match": [
            {"method": {"exact": "GET"}, "path": {"prefix": "/api"}, "headers": {"x-debug": {"regex": ".+"}}}
        ],
        "percentage": 35,
    }
    objects = world(vs)
    writes = istio.writes(routing(WITH_ROUTES), Intent(weight=20, mirror_route=step), objects)
    result = applied(objects, writes)
    assert result[ref_of(vs)]["spec"]["http"] == [  # type: ignore[index]
        {
            "name": "mirror-api",
            "match": [
                {
                    "method": {"exact": "GET"},
                    "uri": {"prefix": "/api"},
                    "headers": {"x-debug": {"regex": ".+"}},
                }
            ],
            "route": split(20)["route"],
            "mirror": {"host": "web-canary"},
            "mirrorPercentage": {"value": 35},
        },
        USER_ROUTE,
        split(20, name="primary"),
    ]
    later = istio.writes(routing(WITH_ROUTES), Intent(weight=50), result)
    http = applied(result, later)[ref_of(vs)]["spec"]["http"]  # type: ignore[index]
    assert http[0]["route"] == split(50)["route"]
    assert http[0]["mirrorPercentage"] == {"value": 35}
    assert http[2] == split(50, name="primary")


def test_mirror_percentage_defaults_to_100() -> None:
    vs = virtual_service(split(0, name="primary"))
    step = {"name": "mirror-api", "match": [{"path": {"exact": "/x"}}]}
    result = after(
        world(vs), istio.writes(routing(WITH_ROUTES), Intent(weight=0, mirror_route=step), world(vs)), vs
    )
    assert result["spec"]["http"][0]["mirrorPercentage"] == {"value": 100}


def test_managed_routes_follow_the_declared_order_and_removal_keeps_user_routes() -> None:
    mirror = route(
        "mirror-api", *split(10)["route"], mirror={"host": "web-canary"}, match=[{"uri": {"exact": "/"}}]
    )
    header = route("beta-users", dest("web-canary", 100), match=[{"headers": {"X-Beta": {"exact": "1"}}}])
    vs = virtual_service(USER_ROUTE, header, split(10, name="primary"), mirror)
    objects = world(vs)
    writes = istio.writes(routing(WITH_ROUTES), Intent(weight=10), objects)
    assert after(objects, writes, vs)["spec"]["http"] == [
        mirror,
        header,
        USER_ROUTE,
        split(10, name="primary"),
    ]
    removal = istio.writes(routing(WITH_ROUTES), Intent(weight=0, remove_managed_routes=True), objects)
    assert removal[0].events == (
        Event("Updated VirtualService", "VirtualService `shop` set to desiredWeight '0'"),
        Event("Updated VirtualService", "VirtualService `shop` removed all managed routes."),
    )
    assert after(objects, removal, vs)["spec"]["http"] == [USER_ROUTE, split(0, name="primary")]


@pytest.mark.parametrize(
    ("intent", "message"),
    [
        (
            Intent(weight=1, header_route=header_step(exact="a", prefix="b")),
            "exactly one of exact, regex or prefix",
        ),
        (
            Intent(weight=1, header_route={"name": "beta-users", "match": [{"headerValue": {"exact": "a"}}]}),
            "headerName is required",
        ),
        (
            Intent(weight=1, mirror_route={"name": "mirror-api", "match": [{"path": {}}]}),
            r"match\[0\].path must set exactly one",
        ),
    ],
)
def test_malformed_route_steps_are_errors(intent: Intent, message: str) -> None:
    with pytest.raises(RoutingError, match=message):
        istio.writes(routing(WITH_ROUTES), intent, world(virtual_service(split(0, name="primary"))))


def test_a_route_step_on_a_virtual_service_without_http_is_an_error() -> None:
    vs = virtual_service(tcp=[tcp_route(1)])
    with pytest.raises(RoutingError, match=r"spec\.http not found"):
        istio.writes(routing(WITH_ROUTES), Intent(weight=1, header_route=header_step(exact="a")), world(vs))


def test_ping_pong_services_take_the_canary_and_stable_roles() -> None:
    status = {"canary": {"stablePingPong": "ping"}}
    ping_pong = routing(
        HOST_LEVEL,
        canary_service="",
        stable_service="",
        status=status,
        pingPong={"pingService": "ping", "pongService": "pong"},
    )
    vs = virtual_service(route(None, dest("ping", 100), dest("pong", 0)))
    patch = only_patch(istio.writes(ping_pong, Intent(weight=30), world(vs)))
    assert patch["spec"]["http"][0]["route"] == [dest("ping", 70), dest("pong", 30)]
