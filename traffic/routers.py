"""Which routers a Rollout configures, and one uniform face for all of them.

Argo builds one reconciler per configured router and calls each in turn (§1.5: several may be
set at once). `configured` does the same with pure values: each `Router` names the objects it
must read and turns (what was read, the pass's `Intent`) into writes. Versions that differ
between installations (Istio's, SMI's, Gateway API's) come from `TrafficSettings`, the controller
flags Argo has for them. Routers Argo supports but this controller does not (ALB, Ambassador,
App Mesh, Traefik, APISIX, plugins other than Gateway API) are refused with a clear error rather
than silently skipped: a Rollout that trusts them to move traffic must not be promoted blind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

from traffic import gatewayapi, istio, nginx, smi
from traffic.objects import ObjectRef, RoutingError, mapping
from traffic.routing import Intent, Routing
from traffic.writes import Write

__all__ = ["Objects", "Router", "TrafficSettings", "configured"]

Objects = Mapping[ObjectRef, Mapping[str, Any] | None]
UNSUPPORTED: Final = ("alb", "ambassador", "appMesh", "traefik", "apisix")


@dataclass(frozen=True)
class TrafficSettings:
    """API versions of the routing objects (Argo's ``--istio-api-version``,
    ``--traffic-split-api-version``; the Gateway API plugin's version)."""

    istio_api_version: str = istio.DEFAULT_API_VERSION
    """VirtualService and DestinationRule version (Argo's default: v1alpha3)."""
    smi_api_version: str | None = None
    """TrafficSplit version (Argo's ``--traffic-split-api-version``, default v1alpha1). ``None``:
    the version the cluster serves, found by discovery — SMI's current CRD serves only v1alpha4."""
    gateway_api_version: str = gatewayapi.DEFAULT_API_VERSION
    """HTTPRoute/GRPCRoute/TCPRoute/TLSRoute version."""


@dataclass(frozen=True)
class Router:
    """One configured router: what to read, and the writes for an intent given what was read."""

    name: str
    reads: Callable[[Routing], list[ObjectRef]]
    writes: Callable[[Routing, Intent, Objects], list[Write]]


DEFAULT_SETTINGS: Final = TrafficSettings()


def configured(routing: Routing, settings: TrafficSettings = DEFAULT_SETTINGS) -> list[Router]:
    """The routers ``routing`` configures, in Argo's order (Istio, NGINX, SMI, plugins)."""
    config = routing.traffic_routing
    for key in UNSUPPORTED:
        if config.get(key) is not None:
            raise RoutingError(f"trafficRouting.{key} is not supported by this controller")
    routers: list[Router] = []
    if config.get("istio") is not None:
        version = settings.istio_api_version
        routers.append(
            Router(
                "Istio", partial(istio.reads, api_version=version), partial(istio.writes, api_version=version)
            )
        )
    if config.get("nginx") is not None:
        routers.append(Router("Nginx", nginx.reads, nginx.writes))
    if config.get("smi") is not None:
        split_version = settings.smi_api_version or smi.ARGO_DEFAULT_VERSION
        routers.append(
            Router(
                "SMI",
                partial(smi.reads, api_version=split_version),
                partial(smi.writes, api_version=split_version),
            )
        )
    for plugin in mapping(config.get("plugins")):
        if plugin != gatewayapi.PLUGIN_NAME:
            raise RoutingError(f"traffic router plugin {plugin!r} is not supported by this controller")
        version = settings.gateway_api_version
        routers.append(
            Router(
                "GatewayAPI",
                partial(gatewayapi.reads, api_version=version),
                partial(gatewayapi.writes, api_version=version),
            )
        )
    if not routers:
        raise RoutingError("spec.strategy.canary.trafficRouting configures no router")
    return routers
