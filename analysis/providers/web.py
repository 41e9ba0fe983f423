"""The web provider (reference §7.2): one HTTP request per measurement, the JSON answer its value.

Behaviour follows Argo's ``metricproviders/webmetric``:

* ``method`` GET (default), POST or PUT; ``body`` or ``jsonBody`` (not both, and only with POST
  or PUT; ``jsonBody`` sets ``Content-Type: application/json``); ``headers`` set in order;
  ``timeoutSeconds`` (default 10) bounds the whole exchange; ``insecure`` skips TLS checks;
  ``authentication.oauth2`` adds a client-credentials Bearer token.
* A non-2xx status is an Error "received non 2xx response code: N".
* A JSON body is decoded as Go does (numbers are floats); the first value ``jsonPath``
  (Kubernetes JSONPath, default ``{$}``) finds is ``result``, and the measurement value is its
  Go JSON encoding (a string value appears quoted). A path that finds nothing is an Error
  ("Could not find JSONPath in body: x is not found").
* **A body that is not JSON** (an empty one included) is Successful with the raw body as the
  value, without evaluating the conditions. This is upstream's behaviour (its tests assert
  it) and is kept so that existing templates behave the same; note that it means an HTML
  page served with 200 passes a web metric.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx

from analysis.assessment import Verdict, evaluate_result
from analysis.models import AnalysisPhase, Metric, OAuth2Config
from analysis.providers.base import Flow, Outcome, ProviderError, SynchronousProvider, utc_now
from analysis.providers.golang import GoJSONError, marshal, unmarshal
from analysis.providers.jsonpath import JSONPath, JSONPathError, parse
from analysis.providers.oauth2 import check_oauth2, token_flow

__all__ = [
    "DEFAULT_JSON_PATH",
    "DEFAULT_TIMEOUT_SECONDS",
    "WebProvider",
    "WebSettings",
    "parse_web_response",
    "web_flow",
    "web_request",
]

DEFAULT_TIMEOUT_SECONDS = 10
DEFAULT_JSON_PATH = "{$}"


@dataclass(frozen=True)
class WebSettings:
    """A metric's ``provider.web``, checked and with defaults applied."""

    url: str
    method: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    json_body: bool
    timeout: float
    json_path: JSONPath
    insecure: bool
    oauth2: OAuth2Config | None

    @classmethod
    def of(cls, metric: Metric) -> WebSettings:
        config = metric.provider.web
        if config is None:
            raise ProviderError("metric has no web provider")
        method = config.method or "GET"
        if config.body and config.json_body is not None:
            raise ProviderError("use either Body or JSONBody; both cannot exists for WebMetric payload")
        if (config.body or config.json_body is not None) and method == "GET":
            raise ProviderError("Body/JSONBody can only be used with POST or PUT WebMetric Method types")
        body = None
        if config.body:
            body = config.body.encode()
        elif config.json_body is not None:
            body = json.dumps(config.json_body, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            path = parse(config.json_path or DEFAULT_JSON_PATH)
        except JSONPathError as error:
            raise ProviderError(f"invalid jsonPath {config.json_path!r}: {error}") from None
        timeout = config.timeout_seconds if config.timeout_seconds and config.timeout_seconds > 0 else None
        return cls(
            url=config.url,
            method=method,
            headers=tuple((header.key, header.value) for header in config.headers or []),
            body=body,
            json_body=config.json_body is not None,
            timeout=float(timeout or DEFAULT_TIMEOUT_SECONDS),
            json_path=path,
            insecure=bool(config.insecure),
            oauth2=check_oauth2(config.authentication.oauth2 if config.authentication else None),
        )


def web_request(settings: WebSettings, *, authorization: str | None = None) -> httpx.Request:
    headers = httpx.Headers()
    for key, value in settings.headers:
        headers[key] = value  # replaces any earlier value, case-insensitively, as Header.Set does
    if settings.json_body:
        headers["Content-Type"] = "application/json"
    if authorization is not None:
        headers["Authorization"] = authorization
    try:
        return httpx.Request(settings.method, settings.url, headers=headers, content=settings.body)
    except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError) as error:
        raise ProviderError(f'parse "{settings.url}": {error}') from None


def parse_web_response(
    response: httpx.Response, path: JSONPath, metric: Metric, *, clock: Callable[[], datetime] = utc_now
) -> Outcome:
    """The value and verdict of a response; raises :class:`ProviderError` for Error outcomes."""
    if not 200 <= response.status_code < 300:
        raise ProviderError(f"received non 2xx response code: {response.status_code}")
    try:
        data = unmarshal(response.content)
    except GoJSONError:
        return Outcome(response.text, Verdict(AnalysisPhase.SUCCESSFUL))
    try:
        found, value = path.first(data)
    except JSONPathError as error:
        raise ProviderError(f"Could not find JSONPath in body: {error}") from None
    if not found:
        raise ProviderError("result of web metric produced no value")
    return Outcome(marshal(value), evaluate_result(metric, value, clock=clock))


def web_flow(
    settings: WebSettings, metric: Metric, *, clock: Callable[[], datetime] = utc_now
) -> Flow[Outcome]:
    authorization = None
    if settings.oauth2 is not None:
        authorization = yield from token_flow(settings.oauth2)
    response = yield web_request(settings, authorization=authorization)
    return parse_web_response(response, settings.json_path, metric, clock=clock)


class WebProvider(SynchronousProvider):
    """Measures ``provider.web`` metrics."""

    type = "Web"

    def _flow(self, metric: Metric, now: datetime) -> tuple[Flow[Outcome], bool, float]:
        settings = WebSettings.of(metric)
        return web_flow(settings, metric, clock=self.clock), settings.insecure, settings.timeout
