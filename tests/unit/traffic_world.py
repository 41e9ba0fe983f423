"""Builders for the routing-object tables of the ``test_traffic_*`` unit tests.

Plain dicts shaped as the API server returns them (``apiVersion``, ``metadata`` with a
``resourceVersion``), so a table row reads as (object before, intent) → writes. `applied` plays
a router's writes onto the objects the way the API server would (merge patches, creates), so a
test can also check that a second pass over the result writes nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from traffic.objects import ObjectRef
from traffic.routing import Routing
from traffic.writes import Create, Patch, Write

NAMESPACE = "shop"
UID = "0f9d5a7e-1111-2222-3333-444455556666"
PLURALS = {
    "Ingress": "ingresses",
    "VirtualService": "virtualservices",
    "DestinationRule": "destinationrules",
    "TrafficSplit": "trafficsplits",
    "HTTPRoute": "httproutes",
    "GRPCRoute": "grpcroutes",
    "TCPRoute": "tcproutes",
    "TLSRoute": "tlsroutes",
    "Service": "services",
}


def rollout(
    traffic_routing: Mapping[str, Any],
    *,
    name: str = "web",
    canary_service: str = "web-canary",
    stable_service: str = "web-stable",
    status: Mapping[str, Any] | None = None,
    **canary: Any,
) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": name, "namespace": NAMESPACE, "uid": UID},
        "spec": {
            "strategy": {
                "canary": {
                    "canaryService": canary_service,
                    "stableService": stable_service,
                    "trafficRouting": dict(traffic_routing),
                    **canary,
                }
            }
        },
        "status": dict(status or {}),
    }


def routing(traffic_routing: Mapping[str, Any], **fields: Any) -> Routing:
    return Routing.from_rollout(rollout(traffic_routing, **fields))


def owner(uid: str = UID, name: str = "web") -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "name": name,
        "uid": uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def obj(
    api_version: str,
    kind: str,
    name: str,
    spec: Mapping[str, Any],
    *,
    namespace: str = NAMESPACE,
    version: str = "7",
    **metadata: Any,
) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "resourceVersion": version, **metadata},
        "spec": copy.deepcopy(dict(spec)),
    }


def ref_of(body: Mapping[str, Any]) -> ObjectRef:
    meta = body["metadata"]
    return ObjectRef(body["apiVersion"], body["kind"], PLURALS[body["kind"]], meta["namespace"], meta["name"])


def world(*bodies: Mapping[str, Any]) -> dict[ObjectRef, Mapping[str, Any] | None]:
    return {ref_of(body): body for body in bodies}


def _merge(target: dict[str, Any], patch: Mapping[str, Any]) -> None:
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def applied(
    objects: Mapping[ObjectRef, Mapping[str, Any] | None], writes: Sequence[Write]
) -> dict[ObjectRef, Mapping[str, Any] | None]:
    """``objects`` after ``writes`` (a create gets resourceVersion "1"; a patch bumps it)."""
    result = {ref: copy.deepcopy(body) for ref, body in objects.items()}
    for write in writes:
        if isinstance(write, Create):
            created = copy.deepcopy(dict(write.body))
            created["metadata"]["resourceVersion"] = "1"
            result[write.ref] = created
        elif isinstance(write, Patch):
            live = result[write.ref]
            assert live is not None, f"patch of absent {write.ref}"
            patched = copy.deepcopy(dict(live))
            version = patch_version(write)
            assert version in ("", live["metadata"]["resourceVersion"]), "stale resourceVersion"
            _merge(patched, write.patch)
            patched["metadata"]["resourceVersion"] = str(int(live["metadata"]["resourceVersion"]) + 1)
            result[write.ref] = patched
    return result


def patch_version(write: Patch) -> str:
    return str(write.patch.get("metadata", {}).get("resourceVersion", ""))


def without_version(patch: Mapping[str, Any]) -> dict[str, Any]:
    """A merge patch without its resourceVersion precondition (what it changes)."""
    result = copy.deepcopy(dict(patch))
    metadata = result.get("metadata", {})
    metadata.pop("resourceVersion", None)
    if not metadata:
        result.pop("metadata", None)
    return result
