"""NGINX router (§5.1): canary Ingress derived from the stable Ingress(es), as tables of
(objects before, weight) → writes."""

from __future__ import annotations

from typing import Any

import pytest
from traffic_world import (
    NAMESPACE,
    applied,
    obj,
    owner,
    patch_version,
    ref_of,
    routing,
    without_version,
    world,
)

from traffic import nginx
from traffic.objects import INGRESS, RoutingError
from traffic.routing import Intent
from traffic.writes import Create, Event, Patch

PREFIX = "nginx.ingress.kubernetes.io"


def path(service: str, route: str = "/", port: int = 80) -> dict[str, Any]:
    return {
        "path": route,
        "pathType": "Prefix",
        "backend": {"service": {"name": service, "port": {"number": port}}},
    }


def stable_ingress(name: str = "shop", rules: list[Any] | None = None, **spec: Any) -> dict[str, Any]:
    rules = (
        rules if rules is not None else [{"host": "shop.example", "http": {"paths": [path("web-stable")]}}]
    )
    return obj("networking.k8s.io/v1", "Ingress", name, {"rules": rules, **spec})


def nginx_routing(**config: Any) -> Any:
    return routing({"nginx": {"stableIngress": "shop", **config}})


def canary_ingress(
    weight: int, *, name: str = "web-shop-canary", annotations: dict[str, str] | None = None
) -> Any:
    body = obj(
        "networking.k8s.io/v1",
        "Ingress",
        name,
        {"rules": [{"host": "shop.example", "http": {"paths": [path("web-canary")]}}]},
        annotations={
            f"{PREFIX}/canary": "true",
            f"{PREFIX}/canary-weight": str(weight),
            **(annotations or {}),
        },
        ownerReferences=[owner()],
    )
    return body


def test_a_missing_canary_ingress_is_created_from_the_stable_one() -> None:
    stable = stable_ingress(
        ingressClassName="nginx",
        tls=[{"hosts": ["shop.example"], "secretName": "shop-tls"}],
        defaultBackend={"service": {"name": "other", "port": {"number": 80}}},
    )
    stable["metadata"]["annotations"] = {"kubernetes.io/ingress.class": "nginx", "team": "shop"}
    writes = nginx.writes(nginx_routing(), Intent(weight=10), world(stable))
    assert writes == [
        Create(
            INGRESS.ref(NAMESPACE, "web-shop-canary"),
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "Ingress",
                "metadata": {
                    "name": "web-shop-canary",
                    "namespace": NAMESPACE,
                    "annotations": {
                        "kubernetes.io/ingress.class": "nginx",
                        f"{PREFIX}/canary": "true",
                        f"{PREFIX}/canary-weight": "10",
                    },
                    "ownerReferences": [owner()],
                },
                "spec": {
                    "ingressClassName": "nginx",
                    "rules": [{"host": "shop.example", "http": {"paths": [path("web-canary")]}}],
                    "tls": [{"hosts": ["shop.example"], "secretName": "shop-tls"}],
                },
            },
            (Event("CreatingCanaryIngress", "Creating canary ingress `web-shop-canary` with weight `10`"),),
        )
    ]


@pytest.mark.parametrize(("before", "weight"), [(10, 20), (20, 0), (0, 100), (100, 0)])
def test_an_existing_canary_ingress_gets_only_its_weight_patched(before: int, weight: int) -> None:
    objects = world(stable_ingress(), canary_ingress(before))
    writes = nginx.writes(nginx_routing(), Intent(weight=weight), objects)
    assert writes == [
        Patch(
            INGRESS.ref(NAMESPACE, "web-shop-canary"),
            {"metadata": {"annotations": {f"{PREFIX}/canary-weight": str(weight)}, "resourceVersion": "7"}},
            (
                Event(
                    "PatchingCanaryIngress", f"Updating Ingress `web-shop-canary` to desiredWeight '{weight}'"
                ),
            ),
        )
    ]
    assert nginx.writes(nginx_routing(), Intent(weight=weight), applied(objects, writes)) == []


def test_nothing_is_written_when_the_canary_ingress_is_already_right() -> None:
    assert nginx.writes(nginx_routing(), Intent(weight=30), world(stable_ingress(), canary_ingress(30))) == []


def test_annotations_and_labels_others_added_are_kept() -> None:
    canary = canary_ingress(
        30, annotations={"argocd.argoproj.io/tracking-id": "x", f"{PREFIX}/canary-by-header": "old"}
    )
    canary["metadata"]["labels"] = {"team": "shop"}
    objects = world(stable_ingress(), canary)
    writes = nginx.writes(nginx_routing(), Intent(weight=40), objects)
    assert [without_version(write.patch) for write in writes if isinstance(write, Patch)] == [
        {"metadata": {"annotations": {f"{PREFIX}/canary-weight": "40"}}}
    ]
    after = applied(objects, writes)[ref_of(canary)]
    assert after is not None
    assert after["metadata"]["labels"] == {"team": "shop"}
    assert after["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"] == "x"


def test_additional_annotations_are_prefixed_and_canary_annotations_win_verbatim() -> None:
    config = {
        "additionalIngressAnnotations": {
            "canary-by-header": "X-Canary",
            f"{PREFIX}/canary-by-header-value": "yes",
            "load-balance": "ewma",
        },
        "canaryIngressAnnotations": {"my.org/owner": "shop", f"{PREFIX}/load-balance": "round_robin"},
    }
    writes = nginx.writes(nginx_routing(**config), Intent(weight=5), world(stable_ingress()))
    assert isinstance(writes[0], Create)
    assert writes[0].body["metadata"]["annotations"] == {
        f"{PREFIX}/canary-by-header": "X-Canary",
        f"{PREFIX}/canary-by-header-value": "yes",
        f"{PREFIX}/load-balance": "round_robin",
        "my.org/owner": "shop",
        f"{PREFIX}/canary": "true",
        f"{PREFIX}/canary-weight": "5",
    }


def test_a_custom_prefix_and_max_traffic_weight_give_canary_weight_total() -> None:
    config = {
        "nginx": {"stableIngress": "shop", "annotationPrefix": "custom.nginx.io"},
        "maxTrafficWeight": 1000,
    }
    writes = nginx.writes(routing(config), Intent(weight=250), world(stable_ingress()))
    assert isinstance(writes[0], Create)
    assert writes[0].body["metadata"]["annotations"] == {
        "custom.nginx.io/canary": "true",
        "custom.nginx.io/canary-weight": "250",
        "custom.nginx.io/canary-weight-total": "1000",
    }


def test_without_max_traffic_weight_there_is_no_weight_total() -> None:
    writes = nginx.writes(nginx_routing(), Intent(weight=100), world(stable_ingress()))
    assert isinstance(writes[0], Create)
    assert f"{PREFIX}/canary-weight-total" not in writes[0].body["metadata"]["annotations"]


def test_multiple_stable_ingresses_each_get_their_own_canary_ingress() -> None:
    config = {"nginx": {"stableIngresses": ["shop", "shop-internal"]}}
    internal = stable_ingress(
        "shop-internal", [{"host": "shop.internal", "http": {"paths": [path("web-stable")]}}]
    )
    objects = world(stable_ingress(), internal, canary_ingress(10))
    writes = nginx.writes(routing(config), Intent(weight=10), objects)
    assert [(type(write).__name__, write.ref.name) for write in writes] == [
        ("Create", "web-shop-internal-canary")
    ]
    assert nginx.reads(routing(config)) == [
        INGRESS.ref(NAMESPACE, "shop"),
        INGRESS.ref(NAMESPACE, "web-shop-canary"),
        INGRESS.ref(NAMESPACE, "shop-internal"),
        INGRESS.ref(NAMESPACE, "web-shop-internal-canary"),
    ]


def test_only_rules_using_the_stable_service_are_copied_and_only_its_backends_renamed() -> None:
    rules = [
        {"host": "a.example", "http": {"paths": [path("web-stable", "/"), path("static", "/assets")]}},
        {"host": "b.example", "http": {"paths": [path("other")]}},
        {"host": "c.example"},
    ]
    writes = nginx.writes(nginx_routing(), Intent(weight=10), world(stable_ingress(rules=rules)))
    assert isinstance(writes[0], Create)
    assert writes[0].body["spec"]["rules"] == [
        {"host": "a.example", "http": {"paths": [path("web-canary", "/"), path("static", "/assets")]}}
    ]


def test_a_stable_ingress_without_the_stable_backend_is_an_error() -> None:
    with pytest.raises(RoutingError, match="ingress `shop` has no rules using service web-stable backend"):
        nginx.writes(
            nginx_routing(),
            Intent(weight=10),
            world(stable_ingress(rules=[{"http": {"paths": [path("x")]}}])),
        )


def test_a_missing_stable_ingress_is_an_error() -> None:
    with pytest.raises(RoutingError, match="stableIngress `shop`: ingress not found"):
        nginx.writes(nginx_routing(), Intent(weight=10), world())


def test_a_canary_ingress_controlled_by_another_object_is_an_error() -> None:
    canary = canary_ingress(10)
    canary["metadata"]["ownerReferences"] = [owner(uid="someone-else")]
    with pytest.raises(RoutingError, match="canary ingress `web-shop-canary` controlled by different object"):
        nginx.writes(nginx_routing(), Intent(weight=20), world(stable_ingress(), canary))


def test_an_edited_canary_spec_is_put_back_from_the_stable_ingress() -> None:
    canary = canary_ingress(10)
    canary["spec"]["rules"][0]["host"] = "edited.example"
    canary["spec"]["defaultBackend"] = {"service": {"name": "x", "port": {"number": 1}}}
    writes = nginx.writes(nginx_routing(), Intent(weight=10), world(stable_ingress(), canary))
    assert [without_version(write.patch) for write in writes if isinstance(write, Patch)] == [
        {
            "spec": {
                "defaultBackend": None,
                "rules": [{"host": "shop.example", "http": {"paths": [path("web-canary")]}}],
            }
        }
    ]
    assert all(patch_version(write) == "7" for write in writes if isinstance(write, Patch))


def test_long_names_are_cut_to_253_characters() -> None:
    name = nginx.canary_ingress_name("r" * 200, "i" * 100)
    assert len(name) == 253
    assert name.endswith("-canary")
    assert nginx.canary_ingress_name("web", "shop") == "web-shop-canary"


@pytest.mark.parametrize(
    "config",
    [{}, {"stableIngress": ""}, {"stableIngresses": ["shop", 7]}],
    ids=["neither", "empty", "not-a-name"],
)
def test_a_config_naming_no_stable_ingress_is_an_error(config: dict[str, Any]) -> None:
    with pytest.raises(RoutingError, match="needs stableIngress or stableIngresses"):
        nginx.reads(routing({"nginx": config}))


def test_malformed_stable_ingress_rules_are_an_error_not_a_crash() -> None:
    broken = stable_ingress(rules=[{"http": {"paths": "nope"}}, "not-a-rule", {"http": None}])
    with pytest.raises(RoutingError, match="has no rules using service web-stable"):
        nginx.writes(nginx_routing(), Intent(weight=10), world(broken))
