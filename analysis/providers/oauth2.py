"""OAuth2 client credentials for metric providers (``authentication.oauth2``), as a sans-I/O flow.

Argo uses ``golang.org/x/oauth2/clientcredentials`` with its default auto-detected auth style:
the client id and secret go in an HTTP Basic header first, and if the token endpoint refuses
that, in the form body. A token is fetched for every measurement, as upstream does (it builds a
new client per measurement), so nothing is cached between reconciles.
"""

from __future__ import annotations

import base64
from urllib.parse import quote_plus

import httpx

from analysis.models import OAuth2Config
from analysis.providers.base import Flow, ProviderError
from analysis.providers.golang import GoJSONError, unmarshal

__all__ = ["basic_authorization", "check_oauth2", "token_flow"]


def basic_authorization(username: str, password: str) -> str:
    """The ``Authorization`` header value of HTTP Basic authentication."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def check_oauth2(config: OAuth2Config | None) -> OAuth2Config | None:
    """The config when a token must be fetched (a tokenUrl is set), else None."""
    if config is None or not config.token_url:
        return None
    if not config.client_id or not config.client_secret:
        raise ProviderError("oauth2 clientId and clientSecret are required when tokenUrl is set")
    return config


def _token_request(config: OAuth2Config, *, in_header: bool) -> httpx.Request:
    form = {"grant_type": "client_credentials"}
    if config.scopes:
        form["scope"] = " ".join(config.scopes)
    headers = {"Accept": "application/json"}
    client_id, secret = config.client_id or "", config.client_secret or ""
    if in_header:
        # RFC 6749 §2.3.1: the credentials are form-encoded before Basic encoding, as Go does.
        headers["Authorization"] = basic_authorization(quote_plus(client_id), quote_plus(secret))
    else:
        form |= {"client_id": client_id, "client_secret": secret}
    return httpx.Request("POST", config.token_url or "", data=form, headers=headers)


def token_flow(config: OAuth2Config) -> Flow[str]:
    """Fetch an access token; returns the ``Authorization`` header value to use."""
    response = yield _token_request(config, in_header=True)
    if response.status_code in (400, 401):
        response = yield _token_request(config, in_header=False)
    if not 200 <= response.status_code < 300:
        body = response.text.strip()[:200]
        raise ProviderError(
            f"oauth2: cannot fetch token: {response.status_code} {response.reason_phrase}"
            + (f"\nResponse: {body}" if body else "")
        )
    try:
        data = unmarshal(response.content)
    except GoJSONError as error:
        raise ProviderError(f"oauth2: cannot parse json: {error}") from None
    token = data.get("access_token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise ProviderError("oauth2: server response missing access_token")
    token_type = data.get("token_type") if isinstance(data.get("token_type"), str) else ""
    kind = "Bearer" if not token_type or token_type.lower() == "bearer" else token_type
    return f"{kind} {token}"
