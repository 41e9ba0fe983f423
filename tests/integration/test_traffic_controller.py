# ruff: noqa: F401, F811 - pytest fixtures imported from the harness are parameters by design
"""Traffic-routed canaries driven by the running controller, one per router, on the devcluster.

The controller runs as a subprocess (`test_controller_harness`); the routing objects are real
objects of the real CRDs (Gateway API, Istio and SMI from their Go modules; Ingress built in). At
every pause the test reads the routing object back and checks the weight Argo would have set,
next to the ReplicaSet sizes of §3.5; an abort must put all traffic back on stable while the
canary pods are still up, and only then scale them down.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.dynamic import DynamicClient
from test_controller_canary import at_counts, promote
from test_controller_harness import (
    Cluster,
    ControllerProcess,
    cluster,
    condition,
    controller,
    rollout_crds,
    rollout_manifest,
    settled,
    wait_for,
)
from test_traffic_apply import GATEWAY, ISTIO, Objects, http_route, ingress, objects, virtual_service

from rollouts.hashes import pod_template_hash
from rollouts.planner import operations

NAME = "web"
REPLICAS = 4
STEPS: list[dict[str, Any]] = [{"setWeight": 20}, {"pause": {}}, {"setWeight": 50}, {"pause": {}}]


@dataclass(frozen=True)
class RouterCase:
    """How to set up one router's objects and read the canary weight back from them."""

    name: str
    traffic_routing: dict[str, Any]
    setup: Callable[[Objects], None]
    weight: Callable[[Objects], int | None]


def _nginx_weight(objects: Objects) -> int | None:
    found = objects.get("networking.k8s.io/v1", "Ingress", f"{NAME}-shop-canary")
    return (
        None
        if found is None
        else int(found["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary-weight"])
    )


def _istio_weight(objects: Objects) -> int | None:
    found = objects.get(ISTIO, "VirtualService", "shop")
    assert found is not None
    route = next(r for r in found["spec"]["http"] if r.get("name") == "primary")
    return next(int(d["weight"]) for d in route["route"] if d["destination"]["host"] == f"{NAME}-canary")


def _gateway_weight(objects: Objects) -> int | None:
    found = objects.get(GATEWAY, "HTTPRoute", "shop")
    assert found is not None
    return next(
        int(r["weight"]) for r in found["spec"]["rules"][0]["backendRefs"] if r["name"] == f"{NAME}-canary"
    )


def _smi_weight(objects: Objects) -> int | None:
    found = objects.get("split.smi-spec.io/v1alpha4", "TrafficSplit", NAME)
    return (
        None
        if found is None
        else next(int(b["weight"]) for b in found["spec"]["backends"] if b["service"] == f"{NAME}-canary")
    )


def _primary_route() -> dict[str, Any]:
    return {
        "name": "primary",
        "route": [
            {"destination": {"host": f"{NAME}-stable", "port": {"number": 80}}, "weight": 100},
            {"destination": {"host": f"{NAME}-canary", "port": {"number": 80}}, "weight": 0},
        ],
    }


def _create_ingress(objects: Objects) -> None:
    objects.create(ingress("shop", f"{NAME}-stable"))


def _create_virtual_service(objects: Objects) -> None:
    objects.create(virtual_service(http=[_primary_route()]))


def _create_http_route(objects: Objects) -> None:
    objects.create(http_route())


def _nothing(objects: Objects) -> None:
    """SMI: the controller creates the TrafficSplit itself."""


CASES = [
    RouterCase("nginx", {"nginx": {"stableIngress": "shop"}}, _create_ingress, _nginx_weight),
    RouterCase(
        "istio",
        {"istio": {"virtualService": {"name": "shop", "routes": ["primary"]}}},
        _create_virtual_service,
        _istio_weight,
    ),
    RouterCase(
        "gatewayapi",
        {"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "shop"}}},
        _create_http_route,
        _gateway_weight,
    ),
    RouterCase("smi", {"smi": {}}, _nothing, _smi_weight),
]


def hash_of(image: str) -> str:
    template = rollout_manifest(NAME, {})["spec"]["template"]
    template["spec"]["containers"][0]["image"] = image
    return pod_template_hash(template, None)


def routed_rollout(traffic_routing: dict[str, Any], steps: list[dict[str, Any]] = STEPS) -> dict[str, Any]:
    strategy = {
        "canary": {
            "canaryService": f"{NAME}-canary",
            "stableService": f"{NAME}-stable",
            "trafficRouting": traffic_routing,
            "steps": steps,
            "scaleDownDelaySeconds": 2,
            "abortScaleDownDelaySeconds": 2,
        }
    }
    return rollout_manifest(NAME, strategy, replicas=REPLICAS)


def start(cluster: Cluster, objects: Objects, case: RouterCase, steps: list[dict[str, Any]] = STEPS) -> None:
    cluster.create_service(f"{NAME}-canary", NAME)
    cluster.create_service(f"{NAME}-stable", NAME)
    case.setup(objects)
    cluster.create_rollout(routed_rollout(case.traffic_routing, steps))


def at_weight(objects: Objects, case: RouterCase, weight: int) -> Callable[[], bool]:
    return lambda: case.weight(objects) == weight


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_a_routed_canary_moves_the_weight_at_every_step_and_abort_returns_it_first(
    controller: ControllerProcess, cluster: Cluster, objects: Objects, case: RouterCase
) -> None:
    start(cluster, objects, case)
    stable_hash, canary_hash, third_hash = hash_of("nginx:1.27"), hash_of("nginx:1.28"), hash_of("nginx:1.29")
    stable_rs, canary_rs, third_rs = (f"{NAME}-{h}" for h in (stable_hash, canary_hash, third_hash))
    wait_for(settled(cluster, NAME, "Healthy", stableRS=stable_hash), "the initial deploy")
    wait_for(at_weight(objects, case, 0), "weight 0 after the initial deploy")

    cluster.set_image(NAME, "nginx:1.28")
    for index, weight, canary_pods in ((1, 20, 1), (3, 50, 2)):
        status = wait_for(
            settled(cluster, NAME, "Paused", currentStepIndex=index), f"the pause at step {index}"
        )
        wait_for(at_weight(objects, case, weight), f"weight {weight} on the {case.name} object")
        wait_for(
            lambda c=canary_pods: at_counts(cluster, {canary_rs: (c, c), stable_rs: (REPLICAS, REPLICAS)}),
            f"{canary_pods} canary pods beside a whole stable at step {index}",
        )
        weights = cluster.status(NAME)["canary"]["weights"]
        assert (weights["canary"]["weight"], weights["stable"]["weight"]) == (weight, 100 - weight)
        assert weights["canary"]["podTemplateHash"] == canary_hash
        assert status["stableRS"] == stable_hash
        promote(cluster)

    wait_for(settled(cluster, NAME, "Healthy", stableRS=canary_hash), "the promotion")
    wait_for(at_weight(objects, case, 0), "weight 0 after the promotion")
    wait_for(lambda: at_counts(cluster, {canary_rs: (4, 4), stable_rs: (0, 0)}), "the old stable scaled down")
    assert cluster.service_selector(f"{NAME}-canary")["rollouts-pod-template-hash"] == canary_hash
    assert cluster.service_selector(f"{NAME}-stable")["rollouts-pod-template-hash"] == canary_hash
    assert [e.type for e in cluster.events("TrafficRoutingError")] == []

    cluster.set_image(NAME, "nginx:1.29")
    wait_for(settled(cluster, NAME, "Paused", currentStepIndex=1), "the first pause of the next update")
    wait_for(at_weight(objects, case, 20), "weight 20 for the next update")
    cluster.patch_status(NAME, operations.abort(cluster.rollout(NAME)).status)
    samples: list[tuple[int | None, int]] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        samples.append((case.weight(objects), cluster.counts().get(third_rs, (0, 0))[0]))
        if samples[-1][1] == 0:
            break
        time.sleep(0.1)
    assert samples[-1] == (0, 0), samples
    assert (0, 1) in samples, f"traffic must leave the canary before its pods do: {samples}"
    assert all(weight == 0 for weight, replicas in samples if replicas == 0)
    status = wait_for(settled(cluster, NAME, "Degraded", abort=True), "the aborted rollout")
    assert condition(status, "Progressing")["reason"] == "RolloutAborted"
    assert status["canary"]["weights"]["canary"]["weight"] == 0


# -- managed routes

HEADER = {"name": "beta", "match": [{"headerName": "X-Beta", "headerValue": {"exact": "yes"}}]}
MIRROR = {"name": "mirror", "match": [{"path": {"prefix": "/api"}}], "percentage": 50}
MANAGED = [{"name": "beta"}, {"name": "mirror"}]


def _route_names(objects: Objects) -> list[str]:
    found = objects.get(ISTIO, "VirtualService", "shop")
    assert found is not None
    return [route.get("name", "") for route in found["spec"]["http"]]


def test_istio_header_and_mirror_routes_are_added_and_removed_by_the_steps(
    controller: ControllerProcess, cluster: Cluster, objects: Objects
) -> None:
    steps: list[dict[str, Any]] = [
        {"setWeight": 20},
        {"setHeaderRoute": HEADER},
        {"setMirrorRoute": MIRROR},
        {"pause": {}},
        {"setHeaderRoute": {"name": "beta"}},
        {"pause": {}},
        {"setWeight": 50},
        {"pause": {}},
    ]
    case = RouterCase(
        "istio",
        {"istio": {"virtualService": {"name": "shop", "routes": ["primary"]}}, "managedRoutes": MANAGED},
        _create_virtual_service,
        _istio_weight,
    )
    start(cluster, objects, case, steps)
    wait_for(settled(cluster, NAME, "Healthy", stableRS=hash_of("nginx:1.27")), "the initial deploy")
    assert _route_names(objects) == ["primary"]  # the first revision runs no route steps
    cluster.set_image(NAME, "nginx:1.28")

    wait_for(settled(cluster, NAME, "Paused", currentStepIndex=3), "the pause after the route steps")
    wait_for(lambda: _route_names(objects) == ["beta", "mirror", "primary"], "header and mirror routes")
    found = objects.get(ISTIO, "VirtualService", "shop")
    assert found is not None
    beta, mirror, primary = found["spec"]["http"]
    assert beta["match"] == [{"headers": {"X-Beta": {"exact": "yes"}}}]
    assert beta["route"] == [
        {"destination": {"host": f"{NAME}-canary", "port": {"number": 80}}, "weight": 100}
    ]
    assert mirror["mirror"] == {"host": f"{NAME}-canary", "port": {"number": 80}}
    assert mirror["mirrorPercentage"] == {"value": 50}
    assert mirror["route"] == primary["route"]
    assert _istio_weight(objects) == 20

    promote(cluster)
    wait_for(settled(cluster, NAME, "Paused", currentStepIndex=5), "the pause after the header removal")
    wait_for(lambda: _route_names(objects) == ["mirror", "primary"], "the header route removed")

    promote(cluster)
    wait_for(settled(cluster, NAME, "Paused", currentStepIndex=7), "the pause at 50%")
    wait_for(at_weight(objects, case, 50), "weight 50")
    found = objects.get(ISTIO, "VirtualService", "shop")
    assert found is not None
    assert found["spec"]["http"][0]["route"] == found["spec"]["http"][1]["route"]  # the mirror follows

    promote(cluster)
    wait_for(settled(cluster, NAME, "Healthy", stableRS=hash_of("nginx:1.28")), "the promotion")
    wait_for(lambda: _route_names(objects) == ["primary"], "every managed route removed")
    wait_for(at_weight(objects, case, 0), "weight 0 after the promotion")


def test_gateway_api_header_rules_are_removed_on_abort(
    controller: ControllerProcess, cluster: Cluster, objects: Objects
) -> None:
    steps: list[dict[str, Any]] = [{"setWeight": 20}, {"setHeaderRoute": HEADER}, {"pause": {}}]
    case = RouterCase(
        "gatewayapi",
        {"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "shop"}}, "managedRoutes": MANAGED},
        _create_http_route,
        _gateway_weight,
    )
    start(cluster, objects, case, steps)
    wait_for(settled(cluster, NAME, "Healthy", stableRS=hash_of("nginx:1.27")), "the initial deploy")
    cluster.set_image(NAME, "nginx:1.28")
    wait_for(settled(cluster, NAME, "Paused", currentStepIndex=2), "the pause after the header step")

    def rule_names() -> list[str | None]:
        found = objects.get(GATEWAY, "HTTPRoute", "shop")
        assert found is not None
        return [rule.get("name") for rule in found["spec"]["rules"]]

    wait_for(lambda: rule_names() == [None, "beta"], "the header rule")
    assert _gateway_weight(objects) == 20
    cluster.patch_status(NAME, operations.abort(cluster.rollout(NAME)).status)
    wait_for(lambda: rule_names() == [None], "the header rule removed by the abort")
    wait_for(at_weight(objects, case, 0), "weight 0 after the abort")
    found = objects.get(GATEWAY, "HTTPRoute", "shop")
    assert found is not None
    assert "rollouts.argoproj.io/gatewayapi-canary" not in found["metadata"].get("labels", {})


# -- the examples, driven for real

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE_PAUSES = {  # example -> (first pause index, canary weight there)
    "canary-nginx": (1, 10),
    "canary-istio": (1, 0),
    "canary-istio-subset": (1, 25),
    "canary-gatewayapi": (2, 10),
    "canary-smi": (1, 10),
}


@pytest.mark.parametrize("example", sorted(EXAMPLE_PAUSES))
def test_each_router_example_reaches_its_first_pause(
    controller: ControllerProcess, cluster: Cluster, api_client: Any, example: str
) -> None:
    dynamic: Any = DynamicClient(api_client)  # type: ignore[no-untyped-call]
    for document in yaml.safe_load_all((EXAMPLES / f"{example}.yaml").read_text(encoding="utf-8")):
        resource = dynamic.resources.get(api_version=document["apiVersion"], kind=document["kind"])
        resource.create(body=document, namespace=cluster.namespace)
    wait_for(settled(cluster, example, "Healthy"), f"the initial deploy of {example}")
    cluster.set_image(example, "nginx:1.28")
    index, weight = EXAMPLE_PAUSES[example]
    status = wait_for(
        settled(cluster, example, "Paused", currentStepIndex=index), f"the first pause of {example}"
    )
    assert status["canary"]["weights"]["canary"]["weight"] == weight
    assert cluster.events("TrafficRoutingError") == []


def test_dynamic_stable_scale_shrinks_stable_behind_the_weight_and_abort_walks_back(
    controller: ControllerProcess, cluster: Cluster, objects: Objects
) -> None:
    case = CASES[0]
    cluster.create_service(f"{NAME}-canary", NAME)
    cluster.create_service(f"{NAME}-stable", NAME)
    case.setup(objects)
    manifest = routed_rollout(case.traffic_routing, [{"setWeight": 50}, {"pause": {}}])
    canary_spec = manifest["spec"]["strategy"]["canary"]
    del canary_spec["scaleDownDelaySeconds"], canary_spec["abortScaleDownDelaySeconds"]
    canary_spec["dynamicStableScale"] = True
    cluster.create_rollout(manifest)
    stable_rs, canary_rs = f"{NAME}-{hash_of('nginx:1.27')}", f"{NAME}-{hash_of('nginx:1.28')}"
    wait_for(settled(cluster, NAME, "Healthy"), "the initial deploy")
    cluster.set_image(NAME, "nginx:1.28")
    wait_for(settled(cluster, NAME, "Paused", currentStepIndex=1), "the pause at 50%")
    wait_for(at_weight(objects, case, 50), "weight 50")
    wait_for(lambda: at_counts(cluster, {canary_rs: (2, 2), stable_rs: (2, 2)}), "stable shrunk to its share")

    cluster.patch_status(NAME, operations.abort(cluster.rollout(NAME)).status)
    samples: list[tuple[int, int]] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        weight = case.weight(objects)
        assert weight is not None
        samples.append((weight, cluster.counts()[stable_rs][1]))
        if samples[-1] == (0, REPLICAS):
            break
        time.sleep(0.1)
    assert samples[-1] == (0, REPLICAS), samples
    # traffic is only handed back to stable as fast as stable pods become available
    assert all(100 - weight <= 100 * available // REPLICAS for weight, available in samples), samples
    wait_for(lambda: at_counts(cluster, {canary_rs: (0, 0), stable_rs: (4, 4)}), "the canary scaled down")
