"""Kubernetes objects as the routers see them: plain JSON dicts, addressed by `ObjectRef`.

Routers read and build raw dicts (never typed client models) for the same reason the planner
does: a routing object the user wrote by hand may hold a wrong JSON type anywhere, and that must
become a clear `RoutingError`, not a crash. The accessors here tolerate wrong types by falling
back to an empty value; the routers decide what an empty value means and say so in the error.

`merge_patch` is the RFC 7386 diff every router uses to turn (live object, desired object) into
the smallest write; `guarded` adds the ``resourceVersion`` the patch was computed from, so a
concurrent edit makes the API server answer 409 instead of silently mixing two versions.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar

__all__ = [
    "DESTINATION_RULE",
    "GRPC_ROUTE",
    "HTTP_ROUTE",
    "INGRESS",
    "MANAGED_BY_ANNOTATION",
    "POD_HASH_LABEL",
    "SERVICE",
    "TCP_ROUTE",
    "TLS_ROUTE",
    "TRAFFIC_SPLIT",
    "VIRTUAL_SERVICE",
    "Kind",
    "ObjectRef",
    "RoutingError",
    "annotations_of",
    "deep_copy",
    "guarded",
    "integer",
    "items",
    "labels_of",
    "mapping",
    "merge_patch",
    "metadata",
    "text",
]

POD_HASH_LABEL: Final = "rollouts-pod-template-hash"
MANAGED_BY_ANNOTATION: Final = "argo-rollouts.argoproj.io/managed-by-rollouts"
T = TypeVar("T")


class RoutingError(Exception):
    """A routing object cannot be brought to the desired state; the message says why, in
    Argo's words where Argo has them (it becomes a ``TrafficRoutingError`` Warning Event)."""


@dataclass(frozen=True)
class Kind:
    """A resource type: where it lives in the API and what its objects are called."""

    api_version: str
    kind: str
    plural: str

    def ref(self, namespace: str, name: str) -> ObjectRef:
        return ObjectRef(self.api_version, self.kind, self.plural, namespace, name)

    def at_version(self, version: str) -> Kind:
        """The same kind under another version of its group (Istio, SMI and Gateway API
        installations serve different ones)."""
        group = self.api_version.rpartition("/")[0]
        return Kind(f"{group}/{version}" if group else version, self.kind, self.plural)


@dataclass(frozen=True, order=True)
class ObjectRef:
    """One namespaced object of one kind."""

    api_version: str
    kind: str
    plural: str
    namespace: str
    name: str

    @property
    def collection_path(self) -> str:
        group_version = self.api_version
        root = "/api" if "/" not in group_version else "/apis"
        return f"{root}/{group_version}/namespaces/{self.namespace}/{self.plural}"

    @property
    def path(self) -> str:
        return f"{self.collection_path}/{self.name}"

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


INGRESS: Final = Kind("networking.k8s.io/v1", "Ingress", "ingresses")
SERVICE: Final = Kind("v1", "Service", "services")
VIRTUAL_SERVICE: Final = Kind("networking.istio.io/v1alpha3", "VirtualService", "virtualservices")
DESTINATION_RULE: Final = Kind("networking.istio.io/v1alpha3", "DestinationRule", "destinationrules")
TRAFFIC_SPLIT: Final = Kind("split.smi-spec.io/v1alpha1", "TrafficSplit", "trafficsplits")
HTTP_ROUTE: Final = Kind("gateway.networking.k8s.io/v1", "HTTPRoute", "httproutes")
GRPC_ROUTE: Final = Kind("gateway.networking.k8s.io/v1", "GRPCRoute", "grpcroutes")
TCP_ROUTE: Final = Kind("gateway.networking.k8s.io/v1", "TCPRoute", "tcproutes")
TLS_ROUTE: Final = Kind("gateway.networking.k8s.io/v1", "TLSRoute", "tlsroutes")


def mapping(value: object) -> Mapping[str, Any]:
    """``value`` if it is a JSON object, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def items(value: object) -> list[Any]:
    """``value`` if it is a JSON array, else an empty one."""
    return list(value) if isinstance(value, list) else []


def text(value: object) -> str:
    """``value`` if it is a string, else ``""``."""
    return value if isinstance(value, str) else ""


def integer(value: object, default: int = 0) -> int:
    """A JSON number as an int (Istio and SMI weights may arrive as floats); ``default`` otherwise."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return default


def metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(obj.get("metadata"))


def annotations_of(obj: Mapping[str, Any]) -> dict[str, str]:
    return {k: v for k, v in mapping(metadata(obj).get("annotations")).items() if isinstance(v, str)}


def labels_of(obj: Mapping[str, Any]) -> dict[str, str]:
    return {k: v for k, v in mapping(metadata(obj).get("labels")).items() if isinstance(v, str)}


def deep_copy(value: T) -> T:
    """A mutable copy of (part of) a live object, so building the desired state never edits it."""
    return copy.deepcopy(value)


def merge_patch(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The RFC 7386 merge patch turning ``old`` into ``new`` (arrays are replaced whole)."""
    patch: dict[str, Any] = {}
    for key, value in new.items():
        if key in old and old[key] == value:
            continue
        before = old.get(key)
        if isinstance(value, Mapping) and isinstance(before, Mapping):
            nested = merge_patch(before, value)
            if nested:
                patch[key] = nested
        else:
            patch[key] = copy.deepcopy(value)
    for key in old:
        if key not in new:
            patch[key] = None
    return patch


def guarded(patch: Mapping[str, Any], live: Mapping[str, Any]) -> dict[str, Any]:
    """``patch`` with the ``resourceVersion`` of ``live`` as a precondition (409 if it moved on)."""
    result = dict(patch)
    version = text(metadata(live).get("resourceVersion"))
    if version:
        result["metadata"] = {**mapping(result.get("metadata")), "resourceVersion": version}
    return result
