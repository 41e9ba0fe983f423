"""From an HTTP method and path to what is asked, or a 4xx with a message saying what is wrong.

The API paths follow Argo's dashboard (reference §11) where it has one — ``/api/v1/rollouts/
{namespace}/info``, ``.../{name}/info``, ``PUT .../{name}/promote`` — so a script written against
Argo's REST API keeps working; ``/api/v1/rollouts/info`` lists every namespace the dashboard
was started for. The live streams are Argo's too: ``.../info/watch`` answers server-sent events
(one whole view per change) instead of one JSON document. ``/api/v1/session``, ``login`` and
``logout`` are ours: the page signs in with a Kubernetes token there when ``--auth kubernetes``
is on. Pure: no I/O, every branch unit-tested.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = ["ACTIONS", "ASSETS", "Route", "RouteError", "parse_action_body", "parse_login_body", "route"]

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
    """``kind``: asset, version, session, login, logout, list, detail or action; the other fields
    as the kind needs; ``stream``: a list or detail asked as server-sent events."""

    kind: str
    namespace: str = ""
    name: str = ""
    action: str = ""
    revision: int = 0
    asset: str = ""
    stream: bool = False


def _name(text: str, what: str) -> str:
    name = unquote(text)
    if not _NAME.match(name):
        raise RouteError(400, f"invalid {what} {name!r}: expected a Kubernetes name (lower-case, digits, -)")
    return name


def _api(method: str, parts: list[str]) -> Route:
    if parts == ["version"]:
        return _only(method, "GET", Route("version"))
    if parts == ["session"]:
        return _only(method, "GET", Route("session"))
    if parts in (["login"], ["logout"]):
        return _only(method, "POST", Route(parts[0]))
    if not parts or parts[0] != "rollouts":
        raise RouteError(404, f"no such API path: /api/v1/{'/'.join(parts)}")
    rest = parts[1:]
    if rest[-2:] == ["info", "watch"]:
        found = _api("GET", ["rollouts", *rest[:-1]])  # the view the stream is of
        return _only(method, "GET", dataclasses.replace(found, stream=True))
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


def parse_login_body(raw: bytes) -> str:
    """The token of a sign-in: ``{"token": "..."}``, a non-empty string without whitespace."""
    body = parse_action_body(raw)
    token = body.get("token")
    if not isinstance(token, str) or not token.strip():
        raise RouteError(400, 'the body must be {"token": "<a Kubernetes bearer token>"}')
    token = token.strip()
    if any(character.isspace() or not character.isprintable() for character in token) or len(token) > 16384:
        raise RouteError(400, "the token must be one line of printable characters (at most 16 KiB)")
    return token
