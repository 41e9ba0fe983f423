"""SMI router (§5.3): the TrafficSplit created or patched with the weights, per API version."""

from __future__ import annotations

from typing import Any

import pytest
from traffic_world import NAMESPACE, applied, obj, owner, routing, world

from traffic import smi
from traffic.objects import RoutingError
from traffic.routing import Destination, Intent
from traffic.writes import Create, Event, Patch

SMI: dict[str, Any] = {"smi": {}}


def split(
    backends: list[dict[str, Any]], *, version: str = "v1alpha4", name: str = "web", **meta: Any
) -> Any:
    return obj(
        f"split.smi-spec.io/{version}",
        "TrafficSplit",
        name,
        {"service": "web-stable", "backends": backends},
        ownerReferences=meta.pop("ownerReferences", [owner()]),
        **meta,
    )


@pytest.mark.parametrize(
    ("version", "canary", "stable"),
    [("v1alpha1", "10", "90"), ("v1alpha2", 10, 90), ("v1alpha3", 10, 90), ("v1alpha4", 10, 90)],
)
def test_a_missing_traffic_split_is_created_owned_by_the_rollout(
    version: str, canary: Any, stable: Any
) -> None:
    writes = smi.writes(routing(SMI), Intent(weight=10), world(), version)
    assert writes == [
        Create(
            smi.split_kind(version).ref(NAMESPACE, "web"),
            {
                "apiVersion": f"split.smi-spec.io/{version}",
                "kind": "TrafficSplit",
                "metadata": {"name": "web", "namespace": NAMESPACE, "ownerReferences": [owner()]},
                "spec": {
                    "service": "web-stable",
                    "backends": [
                        {"service": "web-canary", "weight": canary},
                        {"service": "web-stable", "weight": stable},
                    ],
                },
            },
            (Event("TrafficSplitCreated", "TrafficSplit `web` created"),),
        )
    ]


def test_name_and_root_service_come_from_the_config() -> None:
    config = {"smi": {"trafficSplitName": "shop-split", "rootService": "shop"}}
    writes = smi.writes(routing(config), Intent(weight=0), world(), "v1alpha4")
    assert isinstance(writes[0], Create)
    assert writes[0].ref.name == "shop-split"
    assert writes[0].body["spec"]["service"] == "shop"


@pytest.mark.parametrize(("before", "weight"), [(0, 30), (30, 100), (100, 0)])
def test_an_existing_split_gets_its_backends_patched(before: int, weight: int) -> None:
    live = split(
        [{"service": "web-canary", "weight": before}, {"service": "web-stable", "weight": 100 - before}]
    )
    objects = world(live)
    writes = smi.writes(routing(SMI), Intent(weight=weight), objects, "v1alpha4")
    assert writes == [
        Patch(
            smi.split_kind("v1alpha4").ref(NAMESPACE, "web"),
            {
                "metadata": {"resourceVersion": "7"},
                "spec": {
                    "backends": [
                        {"service": "web-canary", "weight": weight},
                        {"service": "web-stable", "weight": 100 - weight},
                    ]
                },
            },
            (Event("TrafficSplitModified", "TrafficSplit `web` modified"),),
        )
    ]
    assert smi.writes(routing(SMI), Intent(weight=weight), applied(objects, writes), "v1alpha4") == []


def test_experiment_destinations_sit_between_canary_and_stable() -> None:
    intent = Intent(
        weight=20, extra=(Destination("web-exp-a", "abc", 10), Destination("web-exp-b", "def", 5))
    )
    writes = smi.writes(routing(SMI), intent, world(), "v1alpha4")
    assert isinstance(writes[0], Create)
    assert writes[0].body["spec"]["backends"] == [
        {"service": "web-canary", "weight": 20},
        {"service": "web-exp-a", "weight": 10},
        {"service": "web-exp-b", "weight": 5},
        {"service": "web-stable", "weight": 65},
    ]


def test_a_split_the_rollout_does_not_own_is_an_error() -> None:
    live = split([], ownerReferences=[owner(uid="other")])
    with pytest.raises(RoutingError, match="Rollout does not own TrafficSplit `web`"):
        smi.writes(routing(SMI), Intent(weight=10), world(live), "v1alpha4")


def test_an_unknown_api_version_is_an_error() -> None:
    with pytest.raises(RoutingError, match="Unsupported TrafficSplit API version `v2`"):
        smi.reads(routing(SMI), "v2")


def test_matches_on_the_live_split_are_kept() -> None:
    live = split([{"service": "web-canary", "weight": 0}, {"service": "web-stable", "weight": 100}])
    live["spec"]["matches"] = [{"kind": "HTTPRouteGroup", "name": "api"}]
    writes = smi.writes(routing(SMI), Intent(weight=10), world(live), "v1alpha4")
    assert isinstance(writes[0], Patch)
    assert "matches" not in writes[0].patch["spec"]
