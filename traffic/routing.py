"""What the routers need from a Rollout, read once from its raw manifest.

`traffic` never imports `rollouts`, so it reads the Rollout the way the API returns it (the
camelCase dict) and keeps only the few fields routing depends on. `Intent` is the other input:
what the planner decided for this pass (the canary weight, the pod hashes, the managed route to
add or the instruction to remove them), exactly the arguments Argo passes to its router
interface (``SetWeight``, ``UpdateHash``, ``SetHeaderRoute``, ``SetMirrorRoute``,
``RemoveManagedRoutes``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from traffic.objects import RoutingError, integer, items, mapping, text

__all__ = ["DEFAULT_MAX_WEIGHT", "Destination", "Intent", "Routing"]

DEFAULT_MAX_WEIGHT: Final = 100
ROLLOUT_API_VERSION: Final = "argoproj.io/v1alpha1"


@dataclass(frozen=True)
class Destination:
    """An extra weighted destination (an experiment template's Service), §3.6."""

    service_name: str
    pod_template_hash: str
    weight: int


@dataclass(frozen=True)
class Intent:
    """The routers' instructions for one pass."""

    weight: int
    """Canary share, out of ``maxTrafficWeight`` (100 unless set)."""
    canary_hash: str = ""
    stable_hash: str = ""
    extra: tuple[Destination, ...] = ()
    """Experiment destinations; stable gets what canary and these leave."""
    header_route: Mapping[str, Any] | None = None
    """The current ``setHeaderRoute`` step's value (no ``match`` = remove that route)."""
    mirror_route: Mapping[str, Any] | None = None
    """The current ``setMirrorRoute`` step's value (no ``match`` = remove that route)."""
    remove_managed_routes: bool = False
    """Drop every route named in ``managedRoutes`` (full promotion, abort, promote-full)."""

    @property
    def extra_weight(self) -> int:
        return sum(destination.weight for destination in self.extra)


@dataclass(frozen=True)
class Routing:
    """The routing-relevant facts of one Rollout."""

    name: str
    namespace: str
    uid: str
    canary_service: str
    stable_service: str
    traffic_routing: Mapping[str, Any]
    managed_routes: tuple[str, ...] = ()
    max_traffic_weight: int | None = None
    ping_pong: tuple[str, str] | None = None
    """(pingService, pongService) when ``spec.strategy.canary.pingPong`` is set."""
    stable_ping_pong: str = ""
    """``status.canary.stablePingPong``: which of ping/pong is stable now."""

    @classmethod
    def from_rollout(cls, rollout: Mapping[str, Any]) -> Routing:
        """Read a Rollout manifest; `RoutingError` if it has no canary ``trafficRouting``."""
        meta = mapping(rollout.get("metadata"))
        canary = mapping(mapping(mapping(rollout.get("spec")).get("strategy")).get("canary"))
        routing = canary.get("trafficRouting")
        if not isinstance(routing, Mapping):
            raise RoutingError("spec.strategy.canary.trafficRouting is not set")
        ping_pong = canary.get("pingPong")
        managed = tuple(text(mapping(entry).get("name")) for entry in items(routing.get("managedRoutes")))
        max_weight = routing.get("maxTrafficWeight")
        return cls(
            name=text(meta.get("name")),
            namespace=text(meta.get("namespace")) or "default",
            uid=text(meta.get("uid")),
            canary_service=text(canary.get("canaryService")),
            stable_service=text(canary.get("stableService")),
            traffic_routing=routing,
            managed_routes=tuple(name for name in managed if name),
            max_traffic_weight=None if max_weight is None else integer(max_weight, DEFAULT_MAX_WEIGHT),
            ping_pong=(
                (text(mapping(ping_pong).get("pingService")), text(mapping(ping_pong).get("pongService")))
                if isinstance(ping_pong, Mapping)
                else None
            ),
            stable_ping_pong=text(
                mapping(mapping(mapping(rollout.get("status")).get("canary"))).get("stablePingPong")
            ),
        )

    @property
    def max_weight(self) -> int:
        return self.max_traffic_weight if self.max_traffic_weight is not None else DEFAULT_MAX_WEIGHT

    def owner_reference(self) -> dict[str, Any]:
        """The controller reference Argo puts on the objects it creates (canary Ingress, TrafficSplit)."""
        return {
            "apiVersion": ROLLOUT_API_VERSION,
            "kind": "Rollout",
            "name": self.name,
            "uid": self.uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }

    def controls(self, obj: Mapping[str, Any]) -> bool:
        """Whether ``obj``'s controller reference is this Rollout (``metav1.IsControlledBy``)."""
        for entry in items(mapping(obj.get("metadata")).get("ownerReferences")):
            reference = mapping(entry)
            if reference.get("controller") is True:
                return bool(self.uid) and text(reference.get("uid")) == self.uid
        return False
