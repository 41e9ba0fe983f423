"""Istio managed routes: ``setHeaderRoute``, ``setMirrorRoute``, removal and precedence (§5.2).

Reproduces the route half of Argo's Istio reconciler on a VirtualService's ``spec.http`` list:

* a header route ``{name, match: [{headers: {<header>: {exact|regex|prefix: v}}}...], route:
  [{destination: {host, subset?, port?}, weight: 100}]}`` sends matching requests to the canary
  (host: the DestinationRule's host in subset mode, else the canary Service; port copied from the
  first destination of the weighted route); it is appended;
* a mirror route ``{name, match: [{method?, uri?, headers?}...], route: <the weighted route's
  destinations>, mirror: {host, subset?, port?}, mirrorPercentage: {value}}`` keeps the normal
  split for matching requests and mirrors a percentage (default 100) to the canary; it is
  prepended;
* either step without ``match`` (or with an empty one) only removes the route of that name;
* ``RemoveManagedRoutes`` drops every route named in ``managedRoutes``;
* afterwards the routes named in ``managedRoutes`` are moved to the front in the declared order
  (their precedence), every other route keeps its place and content — routes the Rollout does
  not manage are never edited.

The functions take and return lists of plain route dicts and never edit their input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from traffic.objects import RoutingError, deep_copy, integer, items, mapping, text

__all__ = [
    "header_route",
    "mirror_route",
    "order_managed",
    "remove_named",
    "route_name",
    "set_header_route",
    "set_mirror_route",
]

STRING_MATCH_KINDS: Final = ("exact", "regex", "prefix")
DEFAULT_MIRROR_PERCENTAGE: Final = 100


def route_name(route: object) -> str:
    return text(mapping(route).get("name"))


def remove_named(routes: Sequence[Any], names: Sequence[str]) -> list[Any]:
    """``routes`` without those named in ``names``."""
    return [route for route in routes if route_name(route) not in names]


def order_managed(routes: Sequence[Any], managed: Sequence[str]) -> list[Any]:
    """Managed routes first, in ``managed`` order; the others after them, in their own order."""
    first = [route for name in managed for route in routes if route_name(route) == name]
    return first + [route for route in routes if route_name(route) not in managed]


def _string_match(value: object, where: str) -> dict[str, str]:
    """One Istio ``StringMatch`` (exactly one of exact/regex/prefix)."""
    present = {
        kind: text(mapping(value).get(kind)) for kind in STRING_MATCH_KINDS if mapping(value).get(kind)
    }
    if len(present) != 1:
        raise RoutingError(f"{where} must set exactly one of exact, regex or prefix")
    return present


def _destination(host: str, subset: str, port: int) -> dict[str, Any]:
    destination: dict[str, Any] = {"host": host}
    if port > 0:
        destination["port"] = {"number": port}
    if subset:
        destination["subset"] = subset
    return destination


def first_port(weighted: Sequence[Any]) -> int:
    """The port of the weighted route's first destination (0: none set)."""
    if not weighted:
        return 0
    return integer(mapping(mapping(mapping(weighted[0]).get("destination")).get("port")).get("number"))


def header_route(step: Mapping[str, Any], host: str, subset: str, weighted: Sequence[Any]) -> dict[str, Any]:
    """The route a ``setHeaderRoute`` step with a ``match`` adds."""
    name = text(step.get("name"))
    matches = []
    for index, entry in enumerate(items(step.get("match"))):
        header = text(mapping(entry).get("headerName"))
        if not header:
            raise RoutingError(f"setHeaderRoute {name!r}: match[{index}].headerName is required")
        value = _string_match(
            mapping(entry).get("headerValue"), f"setHeaderRoute {name!r}: match[{index}].headerValue"
        )
        matches.append({"headers": {header: value}})
    return {
        "name": name,
        "match": matches,
        "route": [{"destination": _destination(host, subset, first_port(weighted)), "weight": 100}],
    }


def mirror_route(step: Mapping[str, Any], host: str, subset: str, weighted: Sequence[Any]) -> dict[str, Any]:
    """The route a ``setMirrorRoute`` step with a ``match`` adds (weights copied from ``weighted``)."""
    name = text(step.get("name"))
    matches = []
    for index, entry in enumerate(items(step.get("match"))):
        where = f"setMirrorRoute {name!r}: match[{index}]"
        match: dict[str, Any] = {}
        if mapping(entry).get("method") is not None:
            match["method"] = _string_match(mapping(entry)["method"], f"{where}.method")
        if mapping(entry).get("path") is not None:
            match["uri"] = _string_match(mapping(entry)["path"], f"{where}.path")
        headers = mapping(mapping(entry).get("headers"))
        if headers:
            match["headers"] = {
                key: _string_match(value, f"{where}.headers.{key}") for key, value in headers.items()
            }
        matches.append(match)
    percentage = mapping(step).get("percentage")
    return {
        "name": name,
        "match": matches,
        "route": deep_copy(list(weighted)),
        "mirror": _destination(host, subset, first_port(weighted)),
        "mirrorPercentage": {
            "value": integer(percentage, DEFAULT_MIRROR_PERCENTAGE)
            if percentage is not None
            else DEFAULT_MIRROR_PERCENTAGE
        },
    }


def _wants_route(step: Mapping[str, Any]) -> bool:
    return bool(items(step.get("match")))


def set_header_route(
    routes: Sequence[Any], step: Mapping[str, Any], host: str, subset: str, weighted: Sequence[Any]
) -> list[Any]:
    """Replace the named header route (or only remove it when the step has no ``match``)."""
    result = remove_named(routes, [text(step.get("name"))])
    if _wants_route(step):
        result.append(header_route(step, host, subset, weighted))
    return result


def set_mirror_route(
    routes: Sequence[Any], step: Mapping[str, Any], host: str, subset: str, weighted: Sequence[Any]
) -> list[Any]:
    """Replace the named mirror route (or only remove it when the step has no ``match``)."""
    result = remove_named(routes, [text(step.get("name"))])
    if _wants_route(step):
        result.insert(0, mirror_route(step, host, subset, weighted))
    return result
