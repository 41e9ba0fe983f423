"""From an HTTP method and path to what is asked, or a 4xx with a message saying what is wrong.

The API paths follow Argo's dashboard (reference §11) where it has one — ``/api/v1/rollouts/
{namespace}/info``, ``.../{name}/info``, ``PUT .../{name}/promote`` — so a script written against
Argo's REST API keeps working; ``/api/v1/rollouts/info`` lists every namespace the dashboard
was started for. Pure: no I/O, every branch unit-tested.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = ["ACTIONS", "ASSETS", "Route", "RouteError", "parse_action_body", "route"]

# the page and the files it loads; nothing else is served from disk
ASSETS: dict[str, tuple[str, str]] = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}

ACTIONS = ("promote", "abort", "retry", "pause", "resume", "restart", "undo")

# a DNS-1123 subdomain, as Kubernetes names namespaces and Rollouts
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


class RouteError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Route:
    """``kind``: asset, version, list, detail or action; the other fields as the kind needs."""

    kind: str
    namespace: str = ""
    name: str = ""
    action: str = ""
    revision: int = 0
    asset: str = ""


def _name(text: str, what: str) -> str:
    name = unquote(text)
    if not _NAME.match(name):
        raise RouteError(400, f"invalid {what} {name!r}: expected a Kubernetes name (lower-case, digits, -)")
    return name


def _api(method: str, parts: list[str]) -> Route:
    if parts == ["version"]:
        return _only(method, "GET", Route("version"))
    if not parts or parts[0] != "rollouts":
        raise RouteError(404, f"no such API path: /api/v1/{'/'.join(parts)}")
    rest = parts[1:]
    if rest == ["info"]:
        return _only(method, "GET", Route("list"))
    if len(rest) == 2 and rest[1] == "info":
        return _only(method, "GET", Route("list", namespace=_name(rest[0], "namespace")))
    if len(rest) == 3 and rest[2] == "info":
        detail = Route("detail", namespace=_name(rest[0], "namespace"), name=_name(rest[1], "rollout name"))
        return _only(method, "GET", detail)
    if len(rest) in (3, 4) and rest[2] in ACTIONS:
        namespace, name, action = _name(rest[0], "namespace"), _name(rest[1], "rollout name"), rest[2]
        revision = 0
        if action == "undo" and len(rest) == 4:
            if not rest[3].isdigit():
                raise RouteError(400, f"invalid revision {rest[3]!r}: expected a non-negative number")
            revision = int(rest[3])
        elif len(rest) == 4:
            raise RouteError(404, f"no such API path: /api/v1/{'/'.join(parts)}")
        return _only(method, "PUT", Route("action", namespace, name, action, revision))
    if len(rest) == 3:
        raise RouteError(404, f"unknown action {rest[2]!r}; known: {', '.join(ACTIONS)}")
    raise RouteError(404, f"no such API path: /api/v1/{'/'.join(parts)}")


def _only(method: str, allowed: str, found: Route) -> Route:
    if method != allowed:
        raise RouteError(405, f"method {method} not allowed here; use {allowed}")
    return found


def route(method: str, target: str) -> Route:
    """Parse a request line's method and target (path plus optional query)."""
    path = urlsplit(target).path
    if path in ASSETS:
        return _only(method, "GET", Route("asset", asset=path))
    parts = [part for part in path.split("/") if part]
    if parts[:2] == ["api", "v1"]:
        return _api(method, parts[2:])
    raise RouteError(404, f"not found: {path}")


def parse_action_body(raw: bytes) -> dict[str, Any]:
    """An action's JSON body: empty or an object; ``full`` (promote) must be a boolean."""
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RouteError(400, f"malformed JSON body: {error}") from None
    if not isinstance(body, dict):
        raise RouteError(400, f"the body must be a JSON object, not {type(body).__name__}")
    if "full" in body and not isinstance(body["full"], bool):
        raise RouteError(400, f'"full" must be true or false, not {body["full"]!r}')
    return body
