"""Istio (``trafficRouting.istio``, §5.2): VirtualService weights and DestinationRule subsets.

Reproduces Argo's Istio reconciler, folded into one write per object per pass: where Argo sends
separate Updates for the managed routes, the pod hashes and the weights, the desired
VirtualService here is computed from the live one with all of them applied, then diffed, so a
pass that changes nothing sends nothing and a step that changes everything sends one patch.

**Weights** (``SetWeight``), for each VirtualService (``name`` or ``name.namespace``):

* HTTP routes named in ``routes`` — when omitted, the first unnamed route (or the only route that
  is not managed; more than one is an error, as in Argo's validation); the managed mirror routes
  present are re-weighted too. TLS routes matching ``tlsRoutes`` (port and the exact SNI set), TCP
  routes matching ``tcpRoutes`` (port); when omitted, the first TLS / TCP route.
* In each, destinations are classified by host (text before the first ``.``) or subset: canary →
  the canary weight, stable → ``100 - canary - extras - additional subsets`` (floored at 0),
  experiment Services → their weight (appended when missing), ``additionalSubsetNames`` → left as
  they are; any other destination with a non-zero weight is removed. In subset mode only
  destinations on the DestinationRule's host are considered.
* A chosen route must hold both the canary and the stable Service (host mode) or both subsets
  (subset mode), with Argo's error messages.

**Hashes** (``UpdateHash``, subset mode): the canary and stable subsets' labels get
``rollouts-pod-template-hash`` (removed when the hash is empty), experiment Services get a
subset of their own, ``additionalSubsetNames`` are kept, every other subset is dropped, and the
DestinationRule is annotated ``managed-by-rollouts``. The DestinationRule is written before the
VirtualServices, so traffic never reaches a subset whose labels are not set yet.

Managed routes are handled by `istio_routes`. The API version is a controller setting, as Argo's
``--istio-api-version`` (default ``v1alpha3``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from traffic import istio_routes
from traffic.objects import (
    DESTINATION_RULE,
    MANAGED_BY_ANNOTATION,
    POD_HASH_LABEL,
    VIRTUAL_SERVICE,
    ObjectRef,
    RoutingError,
    annotations_of,
    deep_copy,
    guarded,
    integer,
    items,
    mapping,
    merge_patch,
    text,
)
from traffic.routing import Destination, Intent, Routing
from traffic.services import routed_services
from traffic.writes import Event, Patch, Write

__all__ = ["DEFAULT_API_VERSION", "reads", "virtual_service_ref", "writes"]

DEFAULT_API_VERSION: Final = "v1alpha3"
UPDATED_VIRTUAL_SERVICE: Final = "Updated VirtualService"  # Argo's reason, space included


@dataclass(frozen=True)
class _Targets:
    """Who is canary and who is stable in this pass's routes."""

    stable_service: str
    canary_service: str
    subset_mode: bool = False
    stable_subset: str = ""
    canary_subset: str = ""
    additional_subsets: tuple[str, ...] = ()
    host: str = ""
    """The DestinationRule's host (subset mode), else ``""``."""


@dataclass(frozen=True)
class _Pass:
    """One pass over the Istio objects of one Rollout."""

    routing: Routing
    intent: Intent
    targets: _Targets


def _config(routing: Routing) -> Mapping[str, Any]:
    return mapping(routing.traffic_routing.get("istio"))


def _virtual_service_entries(routing: Routing) -> list[Mapping[str, Any]]:
    config = _config(routing)
    entries = [mapping(entry) for entry in items(config.get("virtualServices"))]
    if not entries and config.get("virtualService") is not None:
        entries = [mapping(config.get("virtualService"))]
    if not entries or not all(text(entry.get("name")) for entry in entries):
        raise RoutingError("istio traffic routing needs virtualService or virtualServices with a name")
    return entries


def virtual_service_ref(routing: Routing, name: str, api_version: str = DEFAULT_API_VERSION) -> ObjectRef:
    """``name`` or ``name.namespace`` (exactly one dot), by default in the Rollout's namespace."""
    parts = name.split(".")
    kind = VIRTUAL_SERVICE.at_version(api_version)
    if len(parts) == 2:
        return kind.ref(parts[1], parts[0])
    return kind.ref(routing.namespace, name)


def _destination_rule(routing: Routing) -> Mapping[str, Any] | None:
    config = _config(routing).get("destinationRule")
    return mapping(config) if config is not None else None


def _destination_rule_ref(routing: Routing, api_version: str) -> ObjectRef | None:
    config = _destination_rule(routing)
    if config is None:
        return None
    return DESTINATION_RULE.at_version(api_version).ref(routing.namespace, text(config.get("name")))


def reads(routing: Routing, api_version: str = DEFAULT_API_VERSION) -> list[ObjectRef]:
    refs = [
        virtual_service_ref(routing, text(e.get("name")), api_version)
        for e in _virtual_service_entries(routing)
    ]
    rule = _destination_rule_ref(routing, api_version)
    return refs + ([rule] if rule is not None else [])


# -- weights


def _short_host(destination: Mapping[str, Any]) -> str:
    """The host up to the first dot (``svc.ns.svc.cluster.local`` → ``svc``), as Argo's ``getHost``."""
    host = text(mapping(destination.get("destination")).get("host"))
    return host.split(".", 1)[0]


def _reweighted(
    destinations: Sequence[Any], weight: int, extra: Sequence[Destination], targets: _Targets
) -> list[Any]:
    """One route's destinations with the canary/stable/experiment weights set (see module doc)."""
    pending = {destination.service_name: destination for destination in extra}
    additional = [
        d
        for d in destinations
        if text(mapping(mapping(d).get("destination")).get("subset")) in targets.additional_subsets
    ]
    stable_weight = max(
        100
        - weight
        - sum(d.weight for d in extra)
        - sum(integer(mapping(d).get("weight")) for d in additional),
        0,
    )
    result = []
    for entry in destinations:
        destination = deep_copy(dict(mapping(entry)))
        target = mapping(destination.get("destination"))
        host, subset = _short_host(destination), text(target.get("subset"))
        if targets.host and text(target.get("host")) != targets.host:
            result.append(destination)
        elif (targets.canary_service and host == targets.canary_service) or (
            subset and subset == targets.canary_subset
        ):
            result.append({**destination, "weight": weight})
        elif (targets.stable_service and host == targets.stable_service) or (
            subset and subset == targets.stable_subset
        ):
            result.append({**destination, "weight": stable_weight})
        elif host in pending:
            result.append({**destination, "weight": pending.pop(host).weight})
        elif (subset and subset in targets.additional_subsets) or integer(destination.get("weight")) == 0:
            result.append(destination)
    for name in sorted(pending):
        result.append({"destination": {"host": name}, "weight": pending[name].weight})
    return result


def _check_destinations(destinations: Sequence[Any], targets: _Targets) -> None:
    """Argo's ``validateVirtualServiceRouteDestinations``: both sides must be in the route."""
    hosts = {_short_host(mapping(d)) for d in destinations}
    subsets = {text(mapping(mapping(d).get("destination")).get("subset")) for d in destinations}
    if targets.subset_mode:
        if targets.canary_subset not in subsets:
            raise RoutingError(f"Canary DestinationRule subset '{targets.canary_subset}' not found in route")
        if targets.stable_subset not in subsets:
            raise RoutingError(f"Stable DestinationRule subset '{targets.stable_subset}' not found in route")
        return
    if targets.canary_service not in hosts:
        raise RoutingError(f"Canary Service '{targets.canary_service}' not found in route")
    if targets.stable_service not in hosts:
        raise RoutingError(f"Stable Service '{targets.stable_service}' not found in route")


def _http_indexes(entry: Mapping[str, Any], routes: Sequence[Any], managed: Sequence[str]) -> list[int]:
    """Which HTTP routes carry the weights (see module doc)."""
    names = [text(name) for name in items(entry.get("routes"))]
    if not names:
        unmanaged = [i for i, route in enumerate(routes) if istio_routes.route_name(route) not in managed]
        if len(unmanaged) > 1:
            raise RoutingError(
                "spec.http[] should be set in VirtualService and it must have exactly one route when "
                "omitting spec.strategy.canary.trafficRouting.istio.virtualService.routes"
            )
        unnamed = [i for i in unmanaged if not istio_routes.route_name(routes[i])]
        indexes = unnamed[:1] or unmanaged
    else:
        indexes = []
        for name in names:
            found = [i for i, route in enumerate(routes) if istio_routes.route_name(route) == name]
            if not found:
                raise RoutingError(f"HTTP Route '{name}' is not found in the defined Virtual Service.")
            indexes.append(found[0])
    mirrors = [
        i
        for i, route in enumerate(routes)
        if istio_routes.route_name(route) in managed
        and mapping(route).get("mirror") is not None
        and i not in indexes
    ]
    return indexes + mirrors


def _route_ports(route: Mapping[str, Any]) -> set[int]:
    return {integer(mapping(match).get("port")) for match in items(route.get("match"))} or {0}


def _tls_indexes(entry: Mapping[str, Any], routes: Sequence[Any]) -> list[int]:
    wanted = [mapping(item) for item in items(entry.get("tlsRoutes"))]
    if not wanted:
        if len(routes) > 1:
            raise RoutingError(
                "spec.tls[] should be set in VirtualService and it must have exactly one route when omitting "
                "spec.strategy.canary.trafficRouting.istio.virtualService.tlsRoutes"
            )
        return [0]
    indexes = []
    for selector in wanted:
        sni = {text(host) for host in items(selector.get("sniHosts"))}
        found = [
            i
            for i, route in enumerate(routes)
            if _route_ports(mapping(route)) == {integer(selector.get("port"))}
            and {
                text(h) for m in items(mapping(route).get("match")) for h in items(mapping(m).get("sniHosts"))
            }
            == sni
        ]
        if not found:
            raise RoutingError("No matching TLS routes found in the defined Virtual Service.")
        indexes += found
    return indexes


def _tcp_indexes(entry: Mapping[str, Any], routes: Sequence[Any]) -> list[int]:
    wanted = [mapping(item) for item in items(entry.get("tcpRoutes"))]
    if not wanted:
        if len(routes) > 1:
            raise RoutingError(
                "spec.tcp[] should be set in VirtualService and it must have exactly one route when omitting "
                "spec.strategy.canary.trafficRouting.istio.virtualService.tcpRoutes"
            )
        return [0]
    indexes = []
    for selector in wanted:
        found = [
            i
            for i, route in enumerate(routes)
            if _route_ports(mapping(route)) == {integer(selector.get("port"))}
        ]
        if not found:
            raise RoutingError("No matching TCP routes found in the defined Virtual Service.")
        indexes += found
    return indexes


def _weigh(routes: list[Any], indexes: Sequence[int], work: _Pass) -> list[Any]:
    result = list(routes)
    for index in dict.fromkeys(indexes):
        route = dict(mapping(result[index]))
        destinations = items(route.get("route"))
        _check_destinations(destinations, work.targets)
        route["route"] = _reweighted(destinations, work.intent.weight, work.intent.extra, work.targets)
        result[index] = route
    return result


# -- one VirtualService


def _weighted_route(entry: Mapping[str, Any], routes: Sequence[Any], routing: Routing) -> list[Any]:
    """The destinations of the first route that carries the weights (for header/mirror routes)."""
    indexes = _http_indexes(entry, routes, routing.managed_routes)
    return items(mapping(routes[indexes[0]]).get("route")) if indexes else []


def _managed_routes(
    entry: Mapping[str, Any], live_routes: list[Any], work: _Pass
) -> tuple[list[Any], list[str]]:
    """``spec.http`` after the route instructions, and what changed (Argo's event wording)."""
    routing, intent, targets = work.routing, work.intent, work.targets
    changes: list[str] = []
    routes = list(live_routes)
    if intent.remove_managed_routes and routing.managed_routes:
        kept = istio_routes.remove_named(routes, routing.managed_routes)
        if len(kept) != len(routes):
            changes.append("removed all managed routes.")
        routes = kept
    canary_host = targets.host or targets.canary_service
    for step, kind, apply in (
        (intent.header_route, "headerRoute", istio_routes.set_header_route),
        (intent.mirror_route, "mirrorRoute", istio_routes.set_mirror_route),
    ):
        if step is None:
            continue
        name = text(step.get("name"))
        weighted = _weighted_route(entry, istio_routes.remove_named(routes, [name]), routing)
        updated = apply(routes, step, canary_host, targets.canary_subset, weighted)
        if updated != routes:
            changes.append(f"set {kind} '{name}'")
        routes = updated
    return routes, changes


def _desired_spec(
    entry: Mapping[str, Any], live: Mapping[str, Any], work: _Pass
) -> tuple[dict[str, Any], list[str]]:
    """The desired VirtualService spec and the event messages describing the difference."""
    spec = dict(mapping(live.get("spec")))
    if not any(isinstance(spec.get(key), list) and spec[key] for key in ("http", "tls", "tcp")):
        raise RoutingError(f"VirtualService `{text(entry.get('name'))}` has no http, tls or tcp routes")
    changes: list[str] = []
    weighed = False
    http = spec.get("http")
    managed = work.routing.managed_routes
    if isinstance(http, list) and http:
        routes, changes = _managed_routes(entry, http, work)
        weighted = _weigh(routes, _http_indexes(entry, routes, managed), work)
        weighed = weighted != routes
        spec["http"] = istio_routes.order_managed(weighted, managed)
    elif work.intent.header_route is not None or work.intent.mirror_route is not None:
        raise RoutingError("spec.http not found")
    for key, select in (("tls", _tls_indexes), ("tcp", _tcp_indexes)):
        plain = spec.get(key)
        if isinstance(plain, list) and plain:
            spec[key] = _weigh(plain, select(entry, plain), work)
            weighed = weighed or spec[key] != plain
    if weighed:
        changes.insert(0, f"set to desiredWeight '{work.intent.weight}'")
    return spec, changes


def _virtual_service_write(
    entry: Mapping[str, Any], live: Mapping[str, Any], ref: ObjectRef, work: _Pass
) -> Patch | None:
    spec, changes = _desired_spec(entry, live, work)
    patch = merge_patch({"spec": mapping(live.get("spec"))}, {"spec": spec})
    if not patch:
        return None
    events = tuple(
        Event(UPDATED_VIRTUAL_SERVICE, f"VirtualService `{ref.name}` {change}") for change in changes
    )
    return Patch(ref, guarded(patch, live), events)


# -- DestinationRule


def _destination_rule_write(live: Mapping[str, Any], ref: ObjectRef, work: _Pass) -> Patch | None:
    intent, targets = work.intent, work.targets
    hashes = {targets.canary_subset: intent.canary_hash, targets.stable_subset: intent.stable_hash}
    hashes.update({d.service_name: d.pod_template_hash for d in intent.extra})
    subsets, seen = [], set()
    for entry in items(mapping(live.get("spec")).get("subsets")):
        subset = deep_copy(dict(mapping(entry)))
        name = text(subset.get("name"))
        if name in hashes:
            labels = dict(mapping(subset.get("labels")))
            labels.pop(POD_HASH_LABEL, None)
            if hashes[name]:
                labels[POD_HASH_LABEL] = hashes[name]
            subset["labels"] = labels
        elif name not in targets.additional_subsets:
            continue  # Argo drops subsets it does not know
        subsets.append(subset)
        seen.add(name)
    for side in (targets.canary_subset, targets.stable_subset):
        if side not in seen:
            raise RoutingError(f"DestinationRule `{ref.name}` has no subset '{side}'")
    for destination in intent.extra:
        if destination.service_name not in seen:
            subsets.append(
                {"name": destination.service_name, "labels": {POD_HASH_LABEL: destination.pod_template_hash}}
            )
    old = {
        "metadata": {"annotations": annotations_of(live)},
        "spec": {"subsets": items(mapping(live.get("spec")).get("subsets"))},
    }
    new = {
        "metadata": {"annotations": {**annotations_of(live), MANAGED_BY_ANNOTATION: work.routing.name}},
        "spec": {"subsets": subsets},
    }
    patch = merge_patch(old, new)
    if not patch:
        return None
    message = (
        f"DestinationRule {ref.name} subset updated ({targets.canary_subset}: {intent.canary_hash}, "
        f"{targets.stable_subset}: {intent.stable_hash})"
    )
    return Patch(ref, guarded(patch, live), (Event("UpdatedDestinationRule", message),))


def _targets(routing: Routing, rule: Mapping[str, Any] | None) -> _Targets:
    stable, canary = routed_services(routing)
    config = _destination_rule(routing)
    if config is None:
        return _Targets(stable, canary)
    return _Targets(
        stable_service=stable,
        canary_service=canary,
        subset_mode=True,
        stable_subset=text(config.get("stableSubsetName")),
        canary_subset=text(config.get("canarySubsetName")),
        additional_subsets=tuple(text(name) for name in items(config.get("additionalSubsetNames"))),
        host=text(mapping(mapping(rule).get("spec")).get("host")),
    )


def writes(
    routing: Routing,
    intent: Intent,
    objects: Mapping[ObjectRef, Mapping[str, Any] | None],
    api_version: str = DEFAULT_API_VERSION,
) -> list[Write]:
    """The DestinationRule patch (subset mode) then one patch per VirtualService that differs."""
    result: list[Write] = []
    rule_ref = _destination_rule_ref(routing, api_version)
    rule = objects.get(rule_ref) if rule_ref is not None else None
    if rule_ref is not None and rule is None:
        raise RoutingError(f"DestinationRule `{rule_ref.name}` not found")
    work = _Pass(routing, intent, _targets(routing, rule))
    if rule_ref is not None and rule is not None:
        update = _destination_rule_write(rule, rule_ref, work)
        if update is not None:
            result.append(update)
    for entry in _virtual_service_entries(routing):
        ref = virtual_service_ref(routing, text(entry.get("name")), api_version)
        live = objects.get(ref)
        if live is None:
            raise RoutingError(f"VirtualService `{ref.name}` not found")
        update = _virtual_service_write(entry, live, ref, work)
        if update is not None:
            result.append(update)
    return result
