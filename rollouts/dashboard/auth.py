"""Who may call the API: a secret token checked in constant time, and no cross-site actions.

The token is random per start and printed in the URL the user opens; the first page load trades
it for an ``HttpOnly``, ``SameSite=Strict`` cookie so it leaves the address bar. API calls carry
it as that cookie, an ``Authorization: Bearer`` header or an ``X-Rollouts-Token`` header.
Actions (``PUT``) must also send ``Content-Type: application/json`` (a cross-site form cannot,
and a cross-site script would need a CORS preflight we never grant) and, when the browser sends
an ``Origin``, one that names this very host. Those action checks hold even with auth disabled.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie

__all__ = [
    "COOKIE_NAME",
    "TOKEN_HEADER",
    "Verdict",
    "check_request",
    "new_token",
    "session_cookie",
    "token_matches",
]

COOKIE_NAME = "rollouts_dashboard_token"
TOKEN_HEADER = "x-rollouts-token"


@dataclass(frozen=True)
class Verdict:
    """``status`` 0 lets the request through; otherwise the HTTP status and the reason."""

    status: int = 0
    message: str = ""

    @property
    def allowed(self) -> bool:
        return self.status == 0


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_matches(expected: str, offered: str | None) -> bool:
    if offered is None:
        return False
    return hmac.compare_digest(expected.encode(), offered.encode())


def session_cookie(token: str) -> str:
    return f"{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict"


def _offered_tokens(headers: Mapping[str, str]) -> list[str]:
    offered = []
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        offered.append(authorization[len("bearer ") :].strip())
    if TOKEN_HEADER in headers:
        offered.append(headers[TOKEN_HEADER])
    try:
        morsel = SimpleCookie(headers.get("cookie", "")).get(COOKIE_NAME)
    except CookieError:
        morsel = None
    if morsel is not None:
        offered.append(morsel.value)
    return offered


def _same_origin(headers: Mapping[str, str]) -> bool:
    origin = headers.get("origin")
    if origin is None:
        return True  # not a browser's cross-origin request (curl, the plugin's own tests)
    host = headers.get("host", "")
    return bool(host) and origin in (f"http://{host}", f"https://{host}")


def check_request(token: str | None, method: str, headers: Mapping[str, str]) -> Verdict:
    """Decide on an API request; ``headers`` have lower-case names; ``token`` None: no auth."""
    if method == "PUT":
        if not _same_origin(headers):
            return Verdict(403, f"cross-site request refused (Origin {headers.get('origin')!r})")
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return Verdict(415, "actions need Content-Type: application/json")
    if token is None:
        return Verdict()
    offered = _offered_tokens(headers)
    if not offered:
        return Verdict(401, "missing token: open the URL printed by `kubectl rollouts dashboard`")
    # compare every offered token so timing does not tell which header carried a wrong one
    results = [token_matches(token, candidate) for candidate in offered]
    if not any(results):
        return Verdict(401, "invalid token: open the URL printed by `kubectl rollouts dashboard`")
    return Verdict()
