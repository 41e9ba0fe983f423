"""Who may call the API, and from where: credentials, cross-site rules, the bind-address rule.

Three modes. ``token`` (the default, loopback only): a random token printed in the URL the user
opens; the first page load trades it for a cookie, and the server acts with the kubeconfig,
like ``kubectl``. ``kubernetes`` (required off loopback): every request carries the user's own
Kubernetes bearer token, checked by the API server (TokenReview, SubjectAccessReview — see
`access`), and actions are sent with that token. ``none`` (``--insecure-no-auth``, loopback
only): no credential at all.

Credentials come as ``Authorization: Bearer``, ``X-Rollouts-Token`` or the ``HttpOnly``,
``SameSite=Strict`` cookie the page's login sets. Requests that change something (``PUT``,
``POST``) must send ``Content-Type: application/json`` (a cross-site form cannot, and a
cross-site script would need a CORS preflight we never grant) and, when the browser sends an
``Origin``, one naming this very host. When the credential rode in on the cookie (or there is
none), they must also carry ``X-CSRF-Token``: an HMAC of the credential under a per-start
secret, which only a page of this origin can read (``GET /api/v1/session``). A header-borne
credential needs no such token: a browser never attaches one by itself. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie

__all__ = [
    "AUTH_KUBERNETES",
    "AUTH_MODES",
    "AUTH_NONE",
    "AUTH_TOKEN",
    "COOKIE_NAME",
    "CSRF_HEADER",
    "TOKEN_HEADER",
    "Credential",
    "Verdict",
    "bind_refusal",
    "check_csrf",
    "check_token",
    "check_write",
    "cleared_cookie",
    "csrf_token",
    "is_loopback",
    "new_token",
    "offered_credentials",
    "session_cookie",
    "token_matches",
]

AUTH_TOKEN = "token"
AUTH_KUBERNETES = "kubernetes"
AUTH_NONE = "none"
AUTH_MODES = (AUTH_TOKEN, AUTH_KUBERNETES, AUTH_NONE)

COOKIE_NAME = "rollouts_dashboard_token"
TOKEN_HEADER = "x-rollouts-token"
CSRF_HEADER = "x-csrf-token"
WRITE_METHODS = ("PUT", "POST", "DELETE", "PATCH")


@dataclass(frozen=True)
class Verdict:
    """``status`` 0 lets the request through; otherwise the HTTP status and the reason."""

    status: int = 0
    message: str = ""

    @property
    def allowed(self) -> bool:
        return self.status == 0


@dataclass(frozen=True)
class Credential:
    """A token the request offered, and whether the browser attached it (the cookie)."""

    value: str
    from_cookie: bool = False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_matches(expected: str, offered: str | None) -> bool:
    if offered is None:
        return False
    return hmac.compare_digest(expected.encode(), offered.encode())


def session_cookie(value: str) -> str:
    return f"{COOKIE_NAME}={value}; Path=/; HttpOnly; SameSite=Strict"


def cleared_cookie() -> str:
    return f"{COOKIE_NAME}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"


def offered_credentials(headers: Mapping[str, str]) -> list[Credential]:
    """Every credential offered, headers first (``headers`` have lower-case names)."""
    offered = []
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        offered.append(Credential(authorization[len("bearer ") :].strip()))
    if TOKEN_HEADER in headers:
        offered.append(Credential(headers[TOKEN_HEADER].strip()))
    try:
        morsel = SimpleCookie(headers.get("cookie", "")).get(COOKIE_NAME)
    except CookieError:
        morsel = None
    if morsel is not None and morsel.value:
        offered.append(Credential(morsel.value, from_cookie=True))
    return offered


def check_token(token: str, headers: Mapping[str, str]) -> tuple[Verdict, Credential | None]:
    """``token`` mode: the request must offer the dashboard's own token."""
    offered = offered_credentials(headers)
    if not offered:
        return Verdict(401, "missing token: open the URL printed by `kubectl rollouts dashboard`"), None
    # compare every offered token so timing does not tell which header carried a wrong one
    matches = [candidate for candidate in offered if token_matches(token, candidate.value)]
    if not matches:
        return Verdict(401, "invalid token: open the URL printed by `kubectl rollouts dashboard`"), None
    return Verdict(), matches[0]


def _same_origin(headers: Mapping[str, str]) -> bool:
    origin = headers.get("origin")
    if origin is None:
        return True  # not a browser's cross-origin request (curl, scripts)
    host = headers.get("host", "")
    return bool(host) and origin in (f"http://{host}", f"https://{host}")


def check_write(method: str, headers: Mapping[str, str]) -> Verdict:
    """A request that changes something: same origin, JSON content (no credential needed yet)."""
    if method not in WRITE_METHODS:
        return Verdict()
    if not _same_origin(headers):
        return Verdict(403, f"cross-site request refused (Origin {headers.get('origin')!r})")
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return Verdict(415, "actions need Content-Type: application/json")
    return Verdict()


def csrf_token(secret: str, credential: str) -> str:
    """The anti-CSRF token of a session: bound to its credential, unguessable without ``secret``."""
    return hmac.new(secret.encode(), b"csrf\0" + credential.encode(), hashlib.sha256).hexdigest()


def check_csrf(
    secret: str, method: str, credential: Credential | None, headers: Mapping[str, str]
) -> Verdict:
    """A write authenticated by the cookie (or by nothing) must echo the session's CSRF token."""
    if method not in WRITE_METHODS or (credential is not None and not credential.from_cookie):
        return Verdict()
    expected = csrf_token(secret, credential.value if credential is not None else "")
    if not token_matches(expected, headers.get(CSRF_HEADER)):
        return Verdict(403, "missing or wrong X-CSRF-Token: reload the page")
    return Verdict()


def is_loopback(address: str) -> bool:
    """``localhost``, 127.0.0.0/8 and ::1: addresses no other machine can reach."""
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def bind_refusal(address: str, mode: str) -> str | None:
    """Why the dashboard must not listen on ``address`` in ``mode``; None when it may."""
    if mode not in AUTH_MODES:
        return f"unknown auth mode {mode!r}: use one of {', '.join(AUTH_MODES)}"
    if mode == AUTH_KUBERNETES or is_loopback(address):
        return None
    if mode == AUTH_NONE:
        return (
            f"refusing to listen on {address} without auth: "
            "--insecure-no-auth is only allowed on a loopback address"
        )
    return (
        f"refusing to listen on {address} with the kubeconfig's rights: off loopback the dashboard "
        "needs --auth kubernetes (each user's bearer token, checked with TokenReview and "
        "SubjectAccessReview)"
    )
