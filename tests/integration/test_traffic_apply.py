# ruff: noqa: F401, F811 - pytest fixtures imported from the harness are parameters by design
"""The traffic routers and their apply step against the real CRDs on the devcluster.

Each test creates the routing objects (Ingress, VirtualService/DestinationRule, HTTPRoute,
TrafficSplit — the Gateway API, Istio and SMI CRDs come from their Go modules) and a real Rollout
(its uid owns what the routers create, so the garbage collector keeps it), then calls
`traffic.reconcile` step by step with the official client and reads every object back: the
weights must be what Argo would have written, the API server's schemas must accept every write,
and a pass that changes nothing must send nothing. The helpers here are shared with
``test_traffic_controller`` (the same scenarios driven by the running controller).
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from test_controller_harness import rollout_crds

from traffic import Intent, Request, RoutingError, TrafficSettings, kubernetes_sender, reconcile
from traffic.objects import ObjectRef
from traffic.routing import Routing

GATEWAY = "gateway.networking.k8s.io/v1"
ISTIO = "networking.istio.io/v1alpha3"
MANAGED = [{"name": "beta-users"}, {"name": "mirror-api"}]
HASH = "rollouts-pod-template-hash"


class Objects:
    """Create and read routing objects by (apiVersion, kind) with the official raw client."""

    PLURALS = {
        "Ingress": "ingresses",
        "VirtualService": "virtualservices",
        "DestinationRule": "destinationrules",
        "HTTPRoute": "httproutes",
        "GRPCRoute": "grpcroutes",
        "TrafficSplit": "trafficsplits",
        "Service": "services",
    }

    def __init__(self, api_client: Any, namespace: str) -> None:
        self.namespace = namespace
        self.send = kubernetes_sender(api_client)
        self.custom = client.CustomObjectsApi(api_client)

    def ref(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> ObjectRef:
        return ObjectRef(api_version, kind, self.PLURALS[kind], namespace or self.namespace, name)

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        ref = self.ref(
            body["apiVersion"], body["kind"], body["metadata"]["name"], body["metadata"].get("namespace")
        )
        created: dict[str, Any] = asyncio.run(self.send(Request.to("POST", ref, body)))
        return created

    def get(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> dict[str, Any] | None:
        ref = self.ref(api_version, kind, name, namespace)
        try:
            found: dict[str, Any] = asyncio.run(self.send(Request.to("GET", ref)))
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return found

    def merge(self, api_version: str, kind: str, name: str, patch: dict[str, Any]) -> None:
        ref = self.ref(api_version, kind, name)
        asyncio.run(self.send(Request.to("PATCH", ref, patch, "application/merge-patch+json")))

    def rollout(self, traffic_routing: dict[str, Any], name: str = "web", **canary: Any) -> dict[str, Any]:
        """A real Rollout (no controller runs here: it exists to own what the routers create)."""
        body = {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Rollout",
            "metadata": {"name": name},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
                },
                "strategy": {
                    "canary": {
                        "canaryService": f"{name}-canary",
                        "stableService": f"{name}-stable",
                        "trafficRouting": traffic_routing,
                        "steps": [{"setWeight": 10}, {"pause": {}}],
                        **canary,
                    }
                },
            },
        }
        created: dict[str, Any] = self.custom.create_namespaced_custom_object(
            "argoproj.io", "v1alpha1", self.namespace, "rollouts", body
        )
        return created


class CountingSend:
    """Wraps a ``send`` to count writes and to run a hook before a chosen write (a real edit by
    someone else, which makes the API server answer 409 to the router's guarded patch)."""

    def __init__(self, send: Any) -> None:
        self._send = send
        self.writes: list[Request] = []
        self.before_write: Callable[[Request], None] | None = None

    async def __call__(self, request: Request) -> Any:
        if request.is_write:
            if self.before_write is not None:
                hook, self.before_write = self.before_write, None
                await asyncio.to_thread(hook, request)
            self.writes.append(request)
        return await self._send(request)


def run(send: Any, rollout: dict[str, Any], intent: Intent, settings: TrafficSettings | None = None) -> Any:
    return asyncio.run(reconcile(send, rollout, intent, settings))


@pytest.fixture
def objects(api_client: Any, namespace: str, rollout_crds: list[str]) -> Objects:
    return Objects(api_client, namespace)


def ingress(name: str, service: str, host: str = "shop.example") -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "annotations": {"kubernetes.io/ingress.class": "nginx"}},
        "spec": {
            "rules": [
                {
                    "host": host,
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": service, "port": {"number": 80}}},
                            }
                        ]
                    },
                }
            ]
        },
    }


def virtual_service(name: str = "shop", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": ISTIO,
        "kind": "VirtualService",
        "metadata": {"name": name},
        "spec": {"hosts": ["shop"], **spec},
    }


def http_route(name: str = "shop") -> dict[str, Any]:
    return {
        "apiVersion": GATEWAY,
        "kind": "HTTPRoute",
        "metadata": {"name": name},
        "spec": {
            "parentRefs": [{"name": "gateway"}],
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                    "backendRefs": [
                        {"name": "web-stable", "port": 80, "weight": 100},
                        {"name": "web-canary", "port": 80, "weight": 0},
                    ],
                }
            ],
        },
    }


def weights_of(destinations: list[dict[str, Any]]) -> dict[str, int]:
    return {
        d["destination"].get("subset") or d["destination"]["host"]: d.get("weight", 0) for d in destinations
    }


# -- NGINX


def test_nginx_canary_ingresses_follow_every_step(objects: Objects) -> None:
    objects.create(ingress("shop", "web-stable"))
    objects.create(ingress("shop-internal", "web-stable", host="shop.internal"))
    rollout = objects.rollout(
        {"nginx": {"stableIngresses": ["shop", "shop-internal"]}, "maxTrafficWeight": 200}
    )
    send = CountingSend(objects.send)
    for weight, expected_writes in ((0, 2), (20, 2), (20, 0), (100, 2), (200, 2), (0, 2)):
        before = len(send.writes)
        outcome = run(send, rollout, Intent(weight=weight))
        assert len(send.writes) - before == expected_writes == outcome.writes
        for stable in ("shop", "shop-internal"):
            canary = objects.get("networking.k8s.io/v1", "Ingress", f"web-{stable}-canary")
            assert canary is not None
            annotations = canary["metadata"]["annotations"]
            assert annotations["nginx.ingress.kubernetes.io/canary"] == "true"
            assert annotations["nginx.ingress.kubernetes.io/canary-weight"] == str(weight)
            assert annotations["nginx.ingress.kubernetes.io/canary-weight-total"] == "200"
            assert annotations["kubernetes.io/ingress.class"] == "nginx"
            assert (
                canary["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] == "web-canary"
            )
            assert canary["metadata"]["ownerReferences"][0]["uid"] == rollout["metadata"]["uid"]
    assert [write.method for write in send.writes[:2]] == ["POST", "POST"]
    assert {write.method for write in send.writes[2:]} == {"PATCH"}


def test_nginx_refuses_a_canary_ingress_it_does_not_own(objects: Objects) -> None:
    objects.create(ingress("shop", "web-stable"))
    objects.create(ingress("web-shop-canary", "web-canary"))
    rollout = objects.rollout({"nginx": {"stableIngress": "shop"}})
    with pytest.raises(RoutingError, match="canary ingress `web-shop-canary` controlled by different object"):
        run(objects.send, rollout, Intent(weight=10))


def test_a_concurrent_edit_is_reread_and_recomputed(objects: Objects) -> None:
    objects.create(ingress("shop", "web-stable"))
    rollout = objects.rollout({"nginx": {"stableIngress": "shop"}})
    run(objects.send, rollout, Intent(weight=0))
    send = CountingSend(objects.send)
    edit = {"metadata": {"annotations": {"someone.example/else": "was-here"}}}
    send.before_write = lambda _: objects.merge("networking.k8s.io/v1", "Ingress", "web-shop-canary", edit)
    outcome = run(send, rollout, Intent(weight=30))
    assert len(send.writes) == 2  # the first patch got 409 and was recomputed from a fresh read
    assert outcome.writes == 1
    canary = objects.get("networking.k8s.io/v1", "Ingress", "web-shop-canary")
    assert canary is not None
    assert canary["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary-weight"] == "30"
    assert canary["metadata"]["annotations"]["someone.example/else"] == "was-here"


# -- Istio


def test_istio_host_level_weights_and_managed_routes(objects: Objects) -> None:
    user_route = {
        "name": "admin",
        "match": [{"uri": {"prefix": "/admin"}}],
        "route": [{"destination": {"host": "admin"}}],
    }
    primary = {
        "name": "primary",
        "route": [
            {"destination": {"host": "web-stable", "port": {"number": 80}}, "weight": 100},
            {"destination": {"host": "web-canary", "port": {"number": 80}}, "weight": 0},
        ],
    }
    objects.create(virtual_service(http=[user_route, primary]))
    config = {"istio": {"virtualService": {"name": "shop", "routes": ["primary"]}}, "managedRoutes": MANAGED}
    rollout = objects.rollout(config)
    header = {"name": "beta-users", "match": [{"headerName": "X-Beta", "headerValue": {"exact": "yes"}}]}
    mirror = {
        "name": "mirror-api",
        "match": [{"method": {"exact": "GET"}, "path": {"prefix": "/api"}}],
        "percentage": 25,
    }

    def http() -> list[dict[str, Any]]:
        found = objects.get(ISTIO, "VirtualService", "shop")
        assert found is not None
        routes: list[dict[str, Any]] = found["spec"]["http"]
        return routes

    run(objects.send, rollout, Intent(weight=10, header_route=header))
    routes = http()
    assert [route.get("name") for route in routes] == ["beta-users", "admin", "primary"]
    assert routes[0]["match"] == [{"headers": {"X-Beta": {"exact": "yes"}}}]
    assert weights_of(routes[0]["route"]) == {"web-canary": 100}
    assert routes[0]["route"][0]["destination"]["port"] == {"number": 80}
    assert weights_of(routes[2]["route"]) == {"web-stable": 90, "web-canary": 10}
    assert routes[1] == user_route

    run(objects.send, rollout, Intent(weight=40, mirror_route=mirror))
    routes = http()
    assert [route.get("name") for route in routes] == ["beta-users", "mirror-api", "admin", "primary"]
    assert routes[1]["mirror"] == {"host": "web-canary", "port": {"number": 80}}
    assert routes[1]["mirrorPercentage"] == {"value": 25}
    assert (
        weights_of(routes[1]["route"])
        == weights_of(routes[3]["route"])
        == {"web-stable": 60, "web-canary": 40}
    )

    send = CountingSend(objects.send)
    run(send, rollout, Intent(weight=40))
    assert send.writes == []

    run(objects.send, rollout, Intent(weight=0, remove_managed_routes=True))
    routes = http()
    assert [route.get("name") for route in routes] == ["admin", "primary"]
    assert routes[0] == user_route
    assert weights_of(routes[1]["route"]) == {"web-stable": 100, "web-canary": 0}


def test_istio_subset_level_with_a_destination_rule(objects: Objects) -> None:
    objects.create(
        {
            "apiVersion": ISTIO,
            "kind": "DestinationRule",
            "metadata": {"name": "web"},
            "spec": {
                "host": "web",
                "subsets": [
                    {"name": "stable", "labels": {"app": "web"}},
                    {
                        "name": "canary",
                        "labels": {"app": "web"},
                        "trafficPolicy": {"loadBalancer": {"simple": "ROUND_ROBIN"}},
                    },
                ],
            },
        }
    )
    objects.create(
        virtual_service(
            http=[
                {
                    "route": [
                        {"destination": {"host": "web", "subset": "stable"}, "weight": 100},
                        {"destination": {"host": "web", "subset": "canary"}, "weight": 0},
                    ]
                }
            ],
            tcp=[
                {
                    "match": [{"port": 5432}],
                    "route": [
                        {"destination": {"host": "web", "subset": "stable"}, "weight": 100},
                        {"destination": {"host": "web", "subset": "canary"}, "weight": 0},
                    ],
                }
            ],
        )
    )
    config = {
        "istio": {
            "virtualService": {"name": "shop", "tcpRoutes": [{"port": 5432}]},
            "destinationRule": {"name": "web", "canarySubsetName": "canary", "stableSubsetName": "stable"},
        }
    }
    rollout = objects.rollout(config)
    send = CountingSend(objects.send)
    run(
        send,
        rollout,
        Intent(weight=30, canary_hash="c4n4ry", stable_hash="st4b1e"),
        TrafficSettings(istio_api_version="v1"),
    )
    assert [write.resource for write in send.writes] == ["destinationrules", "virtualservices"]
    rule = objects.get(ISTIO, "DestinationRule", "web")
    assert rule is not None
    assert [subset["labels"].get(HASH) for subset in rule["spec"]["subsets"]] == ["st4b1e", "c4n4ry"]
    assert rule["spec"]["subsets"][1]["trafficPolicy"] == {"loadBalancer": {"simple": "ROUND_ROBIN"}}
    assert rule["metadata"]["annotations"]["argo-rollouts.argoproj.io/managed-by-rollouts"] == "web"
    service = objects.get(ISTIO, "VirtualService", "shop")
    assert service is not None
    for key in ("http", "tcp"):
        assert weights_of(service["spec"][key][0]["route"]) == {"stable": 70, "canary": 30}


def test_istio_reports_a_missing_virtual_service(objects: Objects) -> None:
    rollout = objects.rollout({"istio": {"virtualService": {"name": "nowhere"}}})
    with pytest.raises(RoutingError, match="VirtualService `nowhere` not found"):
        run(objects.send, rollout, Intent(weight=10))


# -- Gateway API


def test_gateway_api_weights_label_and_header_rules(objects: Objects) -> None:
    objects.create(http_route())
    config = {"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "shop"}}, "managedRoutes": MANAGED}
    rollout = objects.rollout(config)
    header = {"name": "beta-users", "match": [{"headerName": "X-Beta", "headerValue": {"prefix": "y"}}]}

    def route() -> dict[str, Any]:
        found = objects.get(GATEWAY, "HTTPRoute", "shop")
        assert found is not None
        return found

    run(objects.send, rollout, Intent(weight=20, header_route=header))
    found = route()
    assert found["metadata"]["labels"] == {"rollouts.argoproj.io/gatewayapi-canary": "in-progress"}
    rules = found["spec"]["rules"]
    assert [(ref["name"], ref["weight"]) for ref in rules[0]["backendRefs"]] == [
        ("web-stable", 80),
        ("web-canary", 20),
    ]
    assert rules[1]["name"] == "beta-users"
    assert rules[1]["matches"][0]["headers"] == [
        {"type": "RegularExpression", "name": "X-Beta", "value": "y.*"}
    ]
    assert [ref["name"] for ref in rules[1]["backendRefs"]] == ["web-canary"]

    send = CountingSend(objects.send)
    run(send, rollout, Intent(weight=20, header_route=header))
    assert send.writes == []  # the server's defaults on the new rule do not look like a change

    run(objects.send, rollout, Intent(weight=0, remove_managed_routes=True))
    found = route()
    assert (
        "labels" not in found["metadata"]
        or "rollouts.argoproj.io/gatewayapi-canary" not in found["metadata"]["labels"]
    )
    assert [rule.get("name") for rule in found["spec"]["rules"]] == [None]
    assert [ref["weight"] for ref in found["spec"]["rules"][0]["backendRefs"]] == [100, 0]


# -- SMI


def test_smi_traffic_split_is_created_at_the_served_version_then_patched(objects: Objects) -> None:
    rollout = objects.rollout({"smi": {"trafficSplitName": "web-split"}})
    send = CountingSend(objects.send)
    run(send, rollout, Intent(weight=10))
    assert [write.method for write in send.writes] == ["POST"]
    run(send, rollout, Intent(weight=60))
    run(send, rollout, Intent(weight=60))
    assert [write.method for write in send.writes] == ["POST", "PATCH"]
    split = objects.get("split.smi-spec.io/v1alpha4", "TrafficSplit", "web-split")
    assert split is not None
    assert split["spec"] == {
        "service": "web-stable",
        "backends": [{"service": "web-canary", "weight": 60}, {"service": "web-stable", "weight": 40}],
    }
    assert split["metadata"]["ownerReferences"][0]["uid"] == rollout["metadata"]["uid"]


def test_an_smi_version_the_cluster_does_not_serve_is_a_clear_error(objects: Objects) -> None:
    rollout = objects.rollout({"smi": {}})
    with pytest.raises(RoutingError, match="error creating TrafficSplit"):
        run(objects.send, rollout, Intent(weight=10), TrafficSettings(smi_api_version="v1alpha1"))
