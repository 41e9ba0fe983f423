"""Services a Rollout steers: selectors pinned to a pod-template hash, and ping-pong roles (§3.8).

Reproduces Argo's ``switchServiceSelector`` and the Service cleanup worker: a Service is pointed
at a ReplicaSet by a strategic-merge patch of ``spec.selector["rollouts-pod-template-hash"]``,
and the first switch also records ``argo-rollouts.argoproj.io/managed-by-rollouts: <rollout>``.
When the Rollout is deleted or stops naming the Service, the hash key and the annotation are
removed again — only by the Rollout that manages it, so a Service handed over to another Rollout
is left alone.

With ``pingPong`` the routers steer the ping and pong Services instead of canary and stable;
which one is stable right now is ``status.canary.stablePingPong`` (``ping`` after the first
promotion, flipped on each one), as Argo's ``GetStableAndCanaryServices`` decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from traffic.objects import (
    MANAGED_BY_ANNOTATION,
    POD_HASH_LABEL,
    SERVICE,
    annotations_of,
    mapping,
    metadata,
    text,
)
from traffic.routing import Routing
from traffic.writes import STRATEGIC_MERGE_PATCH, Event, Patch

__all__ = ["release", "routed_services", "selected_hash", "switch"]

PING = "ping"


def routed_services(routing: Routing) -> tuple[str, str]:
    """``(stable, canary)`` Service names the routers weight: ping/pong roles when ping-pong is on."""
    if routing.ping_pong is None:
        return routing.stable_service, routing.canary_service
    ping, pong = routing.ping_pong
    if routing.stable_ping_pong == PING:
        return ping, pong
    return pong, ping


def selected_hash(service: Mapping[str, Any]) -> str:
    return text(mapping(mapping(service.get("spec")).get("selector")).get(POD_HASH_LABEL))


def switch(service: Mapping[str, Any], pod_hash: str, rollout_name: str) -> Patch | None:
    """Point ``service`` at ``pod_hash`` (``None`` if it already selects it)."""
    previous = selected_hash(service)
    if previous == pod_hash:
        return None
    body: dict[str, Any] = {"spec": {"selector": {POD_HASH_LABEL: pod_hash}}}
    if annotations_of(service).get(MANAGED_BY_ANNOTATION) != rollout_name:
        body["metadata"] = {"annotations": {MANAGED_BY_ANNOTATION: rollout_name}}
    name = text(metadata(service).get("name"))
    return Patch(
        SERVICE.ref(text(metadata(service).get("namespace")), name),
        body,
        (
            Event(
                "SwitchService", f"Switched selector for service '{name}' from '{previous}' to '{pod_hash}'"
            ),
        ),
        STRATEGIC_MERGE_PATCH,
    )


def release(service: Mapping[str, Any], rollout_name: str) -> Patch | None:
    """Give ``service`` back: drop the hash selector and the managed-by annotation, if this
    Rollout manages it (``None`` otherwise, or when there is nothing to remove)."""
    if annotations_of(service).get(MANAGED_BY_ANNOTATION) != rollout_name:
        return None
    body = {
        "metadata": {"annotations": {MANAGED_BY_ANNOTATION: None}},
        "spec": {"selector": {POD_HASH_LABEL: None}} if selected_hash(service) else {},
    }
    if not body["spec"]:
        del body["spec"]
    return Patch(
        SERVICE.ref(text(metadata(service).get("namespace")), text(metadata(service).get("name"))), body
    )
