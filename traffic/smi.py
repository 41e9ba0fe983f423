"""SMI (``trafficRouting.smi``, §5.3): a TrafficSplit owned by the Rollout carries the weights.

Reproduces Argo's SMI reconciler. The TrafficSplit is named ``trafficSplitName`` (default: the
Rollout's name), lives in the Rollout's namespace and is controlled by the Rollout; one that
another object controls is an error ("Rollout does not own TrafficSplit"). Its spec is
``service: rootService`` (default ``stableService``) and the backends in Argo's order: canary with
the canary weight, each experiment destination with its weight, stable with the rest.

The API version is a controller setting, as Argo's ``--traffic-split-api-version`` (Argo knows
v1alpha1-v1alpha3; SMI's current CRD serves only v1alpha4, which has v1alpha3's shape); left
unset, `apply` asks the cluster which version it serves. v1alpha1
weights are resource quantities, which Go's client sends as strings; later versions use integers.
A missing TrafficSplit is created, an existing one patched only when its spec differs. SMI has
no pod hashes, header or mirror routes: those instructions do nothing here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from traffic.objects import (
    TRAFFIC_SPLIT,
    Kind,
    ObjectRef,
    RoutingError,
    guarded,
    mapping,
    merge_patch,
    text,
)
from traffic.routing import Intent, Routing
from traffic.writes import Create, Event, Patch, Write

__all__ = ["SUPPORTED_VERSIONS", "desired_spec", "reads", "split_kind", "traffic_split_name", "writes"]

SUPPORTED_VERSIONS: Final = ("v1alpha1", "v1alpha2", "v1alpha3", "v1alpha4")
ARGO_DEFAULT_VERSION: Final = "v1alpha1"
QUANTITY_WEIGHTS: Final = "v1alpha1"


def split_kind(api_version: str) -> Kind:
    """The TrafficSplit kind at ``api_version`` (``v1alpha1``...); an error for other versions."""
    if api_version not in SUPPORTED_VERSIONS:
        raise RoutingError(f"Unsupported TrafficSplit API version `{api_version}`")
    return TRAFFIC_SPLIT.at_version(api_version)


def traffic_split_name(routing: Routing) -> str:
    return text(mapping(routing.traffic_routing.get("smi")).get("trafficSplitName")) or routing.name


def reads(routing: Routing, api_version: str) -> list[ObjectRef]:
    return [split_kind(api_version).ref(routing.namespace, traffic_split_name(routing))]


def _weight(value: int, api_version: str) -> int | str:
    return str(value) if api_version == QUANTITY_WEIGHTS else value


def desired_spec(routing: Routing, intent: Intent, api_version: str) -> dict[str, Any]:
    root = text(mapping(routing.traffic_routing.get("smi")).get("rootService")) or routing.stable_service
    backends = [{"service": routing.canary_service, "weight": _weight(intent.weight, api_version)}]
    for destination in intent.extra:
        backends.append(
            {"service": destination.service_name, "weight": _weight(destination.weight, api_version)}
        )
    stable_weight = 100 - intent.weight - intent.extra_weight
    backends.append({"service": routing.stable_service, "weight": _weight(stable_weight, api_version)})
    return {"service": root, "backends": backends}


def writes(
    routing: Routing, intent: Intent, objects: Mapping[ObjectRef, Mapping[str, Any] | None], api_version: str
) -> list[Write]:
    """Create the TrafficSplit, or patch its spec to ``intent``'s weights."""
    ref = reads(routing, api_version)[0]
    spec = desired_spec(routing, intent, api_version)
    live = objects.get(ref)
    if live is None:
        body = {
            "apiVersion": ref.api_version,
            "kind": ref.kind,
            "metadata": {
                "name": ref.name,
                "namespace": ref.namespace,
                "ownerReferences": [routing.owner_reference()],
            },
            "spec": spec,
        }
        return [Create(ref, body, (Event("TrafficSplitCreated", f"TrafficSplit `{ref.name}` created"),))]
    if not routing.controls(live):
        raise RoutingError(f"Rollout does not own TrafficSplit `{ref.name}`")
    patch = merge_patch({"spec": mapping(live.get("spec"))}, {"spec": {**mapping(live.get("spec")), **spec}})
    if not patch:
        return []
    event = Event("TrafficSplitModified", f"TrafficSplit `{ref.name}` modified")
    return [Patch(ref, guarded(patch, live), (event,))]
