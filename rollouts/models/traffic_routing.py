"""``spec.strategy.canary.trafficRouting``: one settings class per traffic router.

Only the shape is modelled here. Which routers need which services, the xor rules
(``stableIngress`` / ``stableIngresses``, ``virtualService`` / ``virtualServices``) and where
``maxTrafficWeight`` is allowed are validation rules of the controller (reference §1.5, §3.21).
Router plugin configurations are opaque objects passed to the plugin as they are.
"""

from __future__ import annotations

from typing import Annotated

from analysis.models import NULLABLE, Int64, KubeModel, OpaqueObject

__all__ = [
    "ALBTrafficRouting",
    "AmbassadorTrafficRouting",
    "ApisixRoute",
    "ApisixTrafficRouting",
    "AppMeshTrafficRouting",
    "AppMeshVirtualNodeGroup",
    "AppMeshVirtualNodeReference",
    "AppMeshVirtualService",
    "IstioDestinationRule",
    "IstioTrafficRouting",
    "IstioVirtualService",
    "ManagedRoute",
    "NginxTrafficRouting",
    "RolloutTrafficRouting",
    "SMITrafficRouting",
    "StickinessConfig",
    "TCPRoute",
    "TLSRoute",
    "TraefikTrafficRouting",
]


class NginxTrafficRouting(KubeModel):
    """NGINX Ingress: a canary Ingress copied from the stable one carries the canary weight."""

    annotation_prefix: str | None = None
    """Annotation prefix of the ingress controller. Default nginx.ingress.kubernetes.io."""
    stable_ingress: str | None = None
    """The stable Ingress; not with stableIngresses."""
    stable_ingresses: list[str] | None = None
    """Several stable Ingresses; not with stableIngress."""
    additional_ingress_annotations: dict[str, str] | None = None
    """Annotations added to the canary Ingress, prefixed with annotationPrefix."""
    canary_ingress_annotations: dict[str, str] | None = None
    """Annotations added to the canary Ingress verbatim."""


class TLSRoute(KubeModel):
    """Selects a TLS route of a VirtualService by port and SNI hosts."""

    port: Int64 | None = None
    """Route port."""
    sni_hosts: list[str] | None = None
    """The route's SNI hosts (the exact set)."""


class TCPRoute(KubeModel):
    """Selects a TCP route of a VirtualService by port."""

    port: Int64 | None = None
    """Route port."""


class IstioVirtualService(KubeModel):
    """A VirtualService whose route weights the controller sets."""

    name: str
    """Name, or name.namespace for another namespace."""
    routes: list[str] | None = None
    """HTTP routes to edit. Default the only HTTP route."""
    tls_routes: list[TLSRoute] | None = None
    """TLS routes to edit."""
    tcp_routes: list[TCPRoute] | None = None
    """TCP routes to edit."""


class IstioDestinationRule(KubeModel):
    """A DestinationRule whose subsets the controller points at the canary and stable hashes."""

    name: str
    """DestinationRule name."""
    canary_subset_name: str
    """Subset labelled with the canary hash."""
    stable_subset_name: str
    """Subset labelled with the stable hash."""
    additional_subset_names: list[str] | None = None
    """Subsets the controller leaves alone."""


class IstioTrafficRouting(KubeModel):
    """Istio: VirtualService weights, optionally with DestinationRule subsets."""

    virtual_service: IstioVirtualService | None = None
    """One VirtualService; not with virtualServices."""
    virtual_services: list[IstioVirtualService] | None = None
    """Several VirtualServices; not with virtualService."""
    destination_rule: IstioDestinationRule | None = None
    """Subset-level routing."""


class StickinessConfig(KubeModel):
    """Target group stickiness of the ALB forward action."""

    enabled: bool
    """Enable stickiness."""
    duration_seconds: Int64
    """Stickiness duration, 1-604800 seconds."""


class ALBTrafficRouting(KubeModel):
    """AWS Load Balancer Controller: weights in the Ingress action annotation."""

    ingress: str | None = None
    """The Ingress; not with ingresses."""
    ingresses: list[str] | None = None
    """Several Ingresses; not with ingress."""
    service_port: int
    """Service port the action forwards to."""
    root_service: str | None = None
    """Service the action is attached to. Default stableService."""
    annotation_prefix: str | None = None
    """Annotation prefix. Default alb.ingress.kubernetes.io."""
    stickiness_config: StickinessConfig | None = None
    """Target group stickiness."""


class SMITrafficRouting(KubeModel):
    """SMI TrafficSplit."""

    root_service: str | None = None
    """Service clients address. Default stableService."""
    traffic_split_name: str | None = None
    """TrafficSplit name. Default the Rollout name."""


class AmbassadorTrafficRouting(KubeModel):
    """Ambassador: a weighted canary Mapping per base Mapping."""

    mappings: list[str]
    """Base Mapping names."""


class AppMeshVirtualService(KubeModel):
    """The App Mesh VirtualService (and its router) to edit."""

    name: str
    """VirtualService name."""
    routes: list[str] | None = None
    """Routes to edit. Default the only route."""


class AppMeshVirtualNodeReference(KubeModel):
    """A reference to an App Mesh VirtualNode."""

    name: str
    """VirtualNode name."""


class AppMeshVirtualNodeGroup(KubeModel):
    """The canary and stable VirtualNodes whose pod selectors get the hashes."""

    canary_virtual_node_ref: Annotated[AppMeshVirtualNodeReference | None, NULLABLE]
    """Canary VirtualNode."""
    stable_virtual_node_ref: Annotated[AppMeshVirtualNodeReference | None, NULLABLE]
    """Stable VirtualNode."""


class AppMeshTrafficRouting(KubeModel):
    """AWS App Mesh."""

    virtual_service: AppMeshVirtualService | None = None
    """VirtualService and router to edit."""
    virtual_node_group: AppMeshVirtualNodeGroup | None = None
    """Canary and stable VirtualNodes."""


class TraefikTrafficRouting(KubeModel):
    """Traefik weighted TraefikService."""

    weighted_traefik_service_name: str
    """TraefikService name."""


class ApisixRoute(KubeModel):
    """An ApisixRoute to edit."""

    name: str
    """ApisixRoute name."""
    rules: list[str] | None = None
    """HTTP rules to edit."""


class ApisixTrafficRouting(KubeModel):
    """Apache APISIX."""

    route: ApisixRoute | None = None
    """The route to edit."""


class ManagedRoute(KubeModel):
    """A route the controller may create and delete (header and mirror routes)."""

    name: str
    """Route name; the list order is the route precedence."""


class RolloutTrafficRouting(KubeModel):
    """Traffic routers for a canary; several may be set and each is reconciled in turn."""

    istio: IstioTrafficRouting | None = None
    """Istio."""
    nginx: NginxTrafficRouting | None = None
    """NGINX Ingress."""
    alb: ALBTrafficRouting | None = None
    """AWS ALB."""
    smi: SMITrafficRouting | None = None
    """SMI TrafficSplit."""
    ambassador: AmbassadorTrafficRouting | None = None
    """Ambassador."""
    app_mesh: AppMeshTrafficRouting | None = None
    """AWS App Mesh."""
    traefik: TraefikTrafficRouting | None = None
    """Traefik."""
    managed_routes: list[ManagedRoute] | None = None
    """Routes the controller manages, in precedence order."""
    apisix: ApisixTrafficRouting | None = None
    """Apache APISIX."""
    plugins: OpaqueObject | None = None
    """Router plugin name → its configuration (e.g. argoproj-labs/gatewayAPI)."""
    max_traffic_weight: int | None = None
    """Total weight the canary weight is out of (nginx and plugins only). Default 100."""
