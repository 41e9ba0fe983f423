"""Gateway API, natively: the ``argoproj-labs/gatewayAPI`` plugin's configuration and behaviour (§5.4).

Manifests written for Argo's Gateway API traffic-router plugin work unchanged: the router reads
``trafficRouting.plugins["argoproj-labs/gatewayAPI"]`` with the plugin's keys — ``httpRoute`` /
``grpcRoute`` / ``tcpRoute`` / ``tlsRoute`` (one name), the lists ``httpRoutes`` / ``grpcRoutes`` /
``tcpRoutes`` / ``tlsRoutes`` (``{name, useHeaderRoutes}``), ``namespace`` (default: the Rollout's),
``disableInProgressLabel``, ``inProgressLabelKey`` (default ``rollouts.argoproj.io/gatewayapi-canary``)
and ``inProgressLabelValue`` (default ``in-progress``). The label-selector discovery keys
(``httpRouteSelector``...) are refused with a clear error: name the routes instead.

**Weights**: in every rule that is not a managed header rule, the backendRef named ``canaryService``
gets the canary weight and the one named ``stableService`` gets ``maxTrafficWeight - canary -
extras`` (Gateway API weights are relative, so any total works); a route with no backendRef for
either Service is an error. While the canary weight is above 0 the route carries the in-progress
label, at 0 it is removed (unless disabled).

**Header routes** (HTTPRoute and GRPCRoute with ``useHeaderRoutes``; a single ``httpRoute`` /
``grpcRoute`` always): for each rule that sends traffic to the canary or stable Service, a rule
named after the managed route (``<name>``, then ``<name>-1``, ``<name>-2``...) is appended: the
source rule's matches with the step's header matches added (exact → ``Exact``; prefix →
``RegularExpression`` ``<prefix>.*``; regex → ``RegularExpression``), its filters, and one
backendRef to the canary Service on the port the source rule uses. A step without ``match``
removes that route's rules; removing all managed routes drops every rule named after one.
TCP and TLS routes have no headers; mirror routes are not provided (a no-op, as for NGINX).

One merge patch per route object, guarded by its ``resourceVersion`` (the plugin's
"retry on conflict"). API version ``v1`` for all four kinds, a controller setting.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from traffic.objects import (
    GRPC_ROUTE,
    HTTP_ROUTE,
    TCP_ROUTE,
    TLS_ROUTE,
    Kind,
    ObjectRef,
    RoutingError,
    deep_copy,
    guarded,
    items,
    labels_of,
    mapping,
    merge_patch,
    text,
)
from traffic.routing import Intent, Routing
from traffic.writes import Patch, Write

__all__ = ["DEFAULT_API_VERSION", "PLUGIN_NAME", "RouteTarget", "reads", "targets", "writes"]

PLUGIN_NAME: Final = "argoproj-labs/gatewayAPI"
DEFAULT_API_VERSION: Final = "v1"
DEFAULT_LABEL_KEY: Final = "rollouts.argoproj.io/gatewayapi-canary"
DEFAULT_LABEL_VALUE: Final = "in-progress"
HEADER_KINDS: Final = ("HTTPRoute", "GRPCRoute")
DEFAULTED_WEIGHT: Final = 1
_KEYS: Final = (("http", HTTP_ROUTE), ("grpc", GRPC_ROUTE), ("tcp", TCP_ROUTE), ("tls", TLS_ROUTE))


@dataclass(frozen=True)
class RouteTarget:
    """One route object the plugin configuration names."""

    ref: ObjectRef
    use_header_routes: bool


def _config(routing: Routing) -> Mapping[str, Any]:
    return mapping(mapping(routing.traffic_routing.get("plugins")).get(PLUGIN_NAME))


def targets(routing: Routing, api_version: str = DEFAULT_API_VERSION) -> list[RouteTarget]:
    """The routes named by the plugin configuration, in the plugin's order (HTTP, GRPC, TCP, TLS)."""
    config = _config(routing)
    namespace = text(config.get("namespace")) or routing.namespace
    found: list[RouteTarget] = []
    for prefix, base in _KEYS:
        if config.get(f"{prefix}RouteSelector") is not None:
            raise RoutingError(
                f"{PLUGIN_NAME}: {prefix}RouteSelector is not supported; name the routes instead"
            )
        kind: Kind = base.at_version(api_version)
        single = text(config.get(f"{prefix}Route"))
        if single:
            found.append(RouteTarget(kind.ref(namespace, single), kind.kind in HEADER_KINDS))
        for entry in items(config.get(f"{prefix}Routes")):
            name = text(mapping(entry).get("name"))
            if not name:
                raise RoutingError(f"{PLUGIN_NAME}: every entry of {prefix}Routes needs a name")
            header = mapping(entry).get("useHeaderRoutes") is True and kind.kind in HEADER_KINDS
            found.append(RouteTarget(kind.ref(namespace, name), header))
    if not found:
        raise RoutingError(f"{PLUGIN_NAME}: the configuration names no route (httpRoute, httpRoutes, ...)")
    return found


def reads(routing: Routing, api_version: str = DEFAULT_API_VERSION) -> list[ObjectRef]:
    return [target.ref for target in targets(routing, api_version)]


def _managed_rule(rule: object, names: Sequence[str]) -> bool:
    """Whether a rule is one this router added for a managed route (``<name>`` or ``<name>-<n>``)."""
    name = text(mapping(rule).get("name"))
    return any(name == managed or re.fullmatch(re.escape(managed) + r"-\d+", name) for managed in names)


def _route_names(routing: Routing, intent: Intent) -> list[str]:
    names = list(routing.managed_routes)
    if intent.header_route is not None:
        names.append(text(intent.header_route.get("name")))
    return names


def _weighted_rules(rules: list[Any], target: RouteTarget, routing: Routing, intent: Intent) -> list[Any]:
    """``rules`` with the canary and stable backendRefs weighted (managed header rules left alone)."""
    stable_weight = routing.max_weight - intent.weight - intent.extra_weight
    extra = {destination.service_name: destination.weight for destination in intent.extra}
    seen = set()
    result = []
    for rule in rules:
        if _managed_rule(rule, _route_names(routing, intent)) or not isinstance(rule, Mapping):
            result.append(rule)
            continue
        updated = deep_copy(dict(rule))
        refs = []
        for backend in items(updated.get("backendRefs")):
            ref = dict(mapping(backend))
            name = text(ref.get("name"))
            if name == routing.canary_service:
                ref["weight"] = intent.weight
            elif name == routing.stable_service:
                ref["weight"] = stable_weight
            elif name in extra:
                ref["weight"] = extra[name]
            seen.add(name)
            refs.append(ref)
        if "backendRefs" in updated:
            updated["backendRefs"] = refs
        result.append(updated)
    for service in (routing.canary_service, routing.stable_service):
        if service not in seen:
            raise RoutingError(f"backendRef {service} was not found in {target.ref.kind} `{target.ref.name}`")
    return result


def _header_matches(step: Mapping[str, Any]) -> list[dict[str, str]]:
    matches = []
    name = text(step.get("name"))
    for index, entry in enumerate(items(step.get("match"))):
        header = text(mapping(entry).get("headerName"))
        value = mapping(mapping(entry).get("headerValue"))
        kinds = [kind for kind in ("exact", "prefix", "regex") if text(value.get(kind))]
        if not header or len(kinds) != 1:
            raise RoutingError(
                f"setHeaderRoute {name!r}: match[{index}] needs headerName and exactly one of "
                "exact, prefix, regex"
            )
        kind = kinds[0]
        if kind == "exact":
            matches.append({"type": "Exact", "name": header, "value": text(value["exact"])})
        elif kind == "prefix":
            matches.append(
                {"type": "RegularExpression", "name": header, "value": text(value["prefix"]) + ".*"}
            )
        else:
            matches.append({"type": "RegularExpression", "name": header, "value": text(value["regex"])})
    return matches


def _canary_backend(rule: Mapping[str, Any], routing: Routing) -> dict[str, Any] | None:
    """The backendRef a header rule sends to: the canary Service on the source rule's port."""
    refs = [mapping(ref) for ref in items(rule.get("backendRefs"))]
    chosen = next((r for r in refs if text(r.get("name")) == routing.canary_service), None) or next(
        (r for r in refs if text(r.get("name")) == routing.stable_service), None
    )
    if chosen is None:
        return None
    backend: dict[str, Any] = {"group": "", "kind": "Service", "name": routing.canary_service}
    if chosen.get("port") is not None:
        backend["port"] = chosen["port"]
    backend["weight"] = DEFAULTED_WEIGHT  # as the API server stores it, so a re-run finds no change
    return backend


def _header_rules(rules: Sequence[Any], step: Mapping[str, Any], routing: Routing) -> list[Any]:
    """The rules a ``setHeaderRoute`` step with a ``match`` adds (one per source rule)."""
    name = text(step.get("name"))
    headers = _header_matches(step)
    added: list[Any] = []
    for rule in rules:
        backend = _canary_backend(mapping(rule), routing)
        if backend is None:
            continue
        source_matches = [mapping(match) for match in items(mapping(rule).get("matches"))] or [{}]
        matches = [
            {**deep_copy(dict(match)), "headers": [*deep_copy(items(match.get("headers"))), *headers]}
            for match in source_matches
        ]
        header_rule: dict[str, Any] = {
            "name": name if not added else f"{name}-{len(added)}",
            "matches": matches,
            "backendRefs": [backend],
        }
        if items(mapping(rule).get("filters")):
            header_rule["filters"] = deep_copy(items(mapping(rule).get("filters")))
        added.append(header_rule)
    return added


def _routed_rules(rules: list[Any], target: RouteTarget, routing: Routing, intent: Intent) -> list[Any]:
    """``rules`` after removing managed rules and adding/removing this step's header rules."""
    if intent.remove_managed_routes:
        rules = [rule for rule in rules if not _managed_rule(rule, routing.managed_routes)]
    step = intent.header_route
    if step is None or not target.use_header_routes:
        return rules
    name = text(step.get("name"))
    sources = [rule for rule in rules if not _managed_rule(rule, [*routing.managed_routes, name])]
    kept = [rule for rule in rules if not _managed_rule(rule, [name])]
    if not items(step.get("match")):
        return kept
    return kept + _header_rules(sources, step, routing)


def _labels(live: Mapping[str, Any], routing: Routing, weight: int) -> dict[str, str]:
    config = _config(routing)
    result = labels_of(live)
    if config.get("disableInProgressLabel") is True:
        return result
    key = text(config.get("inProgressLabelKey")) or DEFAULT_LABEL_KEY
    if weight > 0:
        result[key] = text(config.get("inProgressLabelValue")) or DEFAULT_LABEL_VALUE
    else:
        result.pop(key, None)
    return result


def writes(
    routing: Routing,
    intent: Intent,
    objects: Mapping[ObjectRef, Mapping[str, Any] | None],
    api_version: str = DEFAULT_API_VERSION,
) -> list[Write]:
    """One guarded merge patch per route whose rules or in-progress label differ."""
    result: list[Write] = []
    for target in targets(routing, api_version):
        live = objects.get(target.ref)
        if live is None:
            raise RoutingError(
                f"{target.ref.kind} `{target.ref.name}` not found in namespace {target.ref.namespace}"
            )
        rules = items(mapping(live.get("spec")).get("rules"))
        desired_rules = _weighted_rules(
            _routed_rules(rules, target, routing, intent), target, routing, intent
        )
        patch = merge_patch(
            {"metadata": {"labels": labels_of(live)}, "spec": {"rules": rules}},
            {"metadata": {"labels": _labels(live, routing, intent.weight)}, "spec": {"rules": desired_rules}},
        )
        if patch:
            result.append(Patch(target.ref, guarded(patch, live)))
    return result
