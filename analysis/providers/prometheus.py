"""The Prometheus provider (reference §7.1): one PromQL query per measurement, over httpx.

Why httpx and not prometheus-api-client: the client returns only ``data.result`` (it drops the
``resultType`` that tells a scalar from a vector, and the ``warnings``), is synchronous
(``requests``), and hides the server's ``errorType``/``error`` behind its own exception. Argo's
behaviour depends on all three, and a sans-I/O flow over httpx lets the request building and
response parsing be pure functions tested against recorded responses.

Behaviour follows Argo (``metricproviders/prometheus``) and the Go client it uses
(``prometheus/client_golang``): the query is POSTed form-encoded to ``/api/v1/query`` (or
``/api/v1/query_range`` with a ``rangeQuery``), falling back to GET on 405/501; errors read as
the Go client's (``bad_data: 1:9: parse error: ...``, ``server_error: server error: 503``).
Results: a scalar is a float, a vector a list of floats (one per series, in response order), a
matrix the flat list of all samples of all series; anything else is an Error "Prometheus
metric type not supported". The measurement value is Prometheus' own spelling (``0.95``,
``NaN``, ``+Inf``, ``[0.5,1]``). **An empty result** (no series matched) is the empty list
``[]``, value ``[]``: conditions see ``result == []`` and ``len(result) == 0``; a condition
that indexes it (``result[0]``) makes the measurement Error with "metric result is nil or
empty: no data returned from the metric provider", which counts towards
``consecutiveErrorLimit``, as upstream.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from analysis.assessment import evaluate_result
from analysis.expr import ExprError, compile_expression
from analysis.expr.conditions import is_inf, is_nan
from analysis.models import Metric, OAuth2Config
from analysis.providers.base import Flow, HttpDriver, Outcome, ProviderError, SynchronousProvider, utc_now
from analysis.providers.golang import GoJSONError, format_float_f, unmarshal
from analysis.providers.oauth2 import basic_authorization, check_oauth2, token_flow
from analysis.values import DurationError, parse_go_duration

__all__ = [
    "ADDRESS_ENV",
    "DEFAULT_TIMEOUT_SECONDS",
    "RESOLVED_QUERY_KEY",
    "PrometheusProvider",
    "PrometheusSettings",
    "QueryResult",
    "parse_query_response",
    "query_flow",
    "query_request",
]

ADDRESS_ENV = "ARGO_ROLLOUTS_PROMETHEUS_ADDRESS"
"""The controller-wide default address, read by the shell and passed to the provider."""

DEFAULT_TIMEOUT_SECONDS = 30
RESOLVED_QUERY_KEY = "ResolvedPrometheusQuery"

_SAMPLE = re.compile(
    r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?|[+-]?inf(?:inity)?|nan", re.IGNORECASE
)
"""What Go's ``strconv.ParseFloat`` accepts of the decimal spellings a server may use."""


@dataclass(frozen=True)
class RangeSettings:
    start: str
    end: str
    step_seconds: float | None


@dataclass(frozen=True)
class PrometheusSettings:
    """A metric's ``provider.prometheus``, checked and with defaults applied."""

    address: str
    query: str
    timeout: float
    insecure: bool
    headers: tuple[tuple[str, str], ...]
    basic_auth: tuple[str, str] | None
    oauth2: OAuth2Config | None
    range: RangeSettings | None

    @classmethod
    def of(cls, metric: Metric, default_address: str | None) -> PrometheusSettings:
        config = metric.provider.prometheus
        if config is None:
            raise ProviderError("metric has no prometheus provider")
        address = config.address or default_address or ""
        if not address:
            raise ProviderError("prometheus address is not configured")
        parts = urlsplit(address)
        if not parts.scheme or not parts.netloc:
            raise ProviderError("prometheus address is not is url format")
        if "aps-workspaces" in address:
            raise ProviderError("Amazon Managed Prometheus (sigv4 signing) is not supported")
        timeout = DEFAULT_TIMEOUT_SECONDS if config.timeout is None else config.timeout
        if timeout < 0:
            raise ProviderError("prometheus timeout should not be negative")
        authentication = config.authentication
        basic = authentication.basic_auth if authentication else None
        credentials = None
        if basic is not None and (basic.username or basic.password):
            if not basic.username or not basic.password:
                raise ProviderError("basicAuth requires both username and password")
            credentials = (basic.username, basic.password)
        return cls(
            address=address.rstrip("/"),
            query=config.query or "",
            # Upstream turns 0 into an already-expired deadline (every query errors); here 0 is
            # read as "not set", the default.
            timeout=float(timeout or DEFAULT_TIMEOUT_SECONDS),
            insecure=bool(config.insecure),
            headers=tuple((header.key, header.value) for header in config.headers or []),
            basic_auth=credentials,
            oauth2=check_oauth2(authentication.oauth2 if authentication else None),
            range=_range_settings(metric),
        )


def _range_settings(metric: Metric) -> RangeSettings | None:
    config = metric.provider.prometheus
    window = config.range_query if config else None
    if window is None:
        return None
    step = None
    if window.step:
        try:
            step = parse_go_duration(window.step)
        except DurationError as error:
            raise ProviderError(f"invalid rangeQuery step: {error}") from None
    return RangeSettings(window.start or "now()", window.end or "now()", step)


def _evaluate_time(text: str, now: datetime, what: str) -> datetime:
    try:
        value = compile_expression(text).evaluate({"isNaN": is_nan, "isInf": is_inf}, clock=lambda: now)
    except ExprError as error:
        raise ProviderError(f"invalid rangeQuery {what} {text!r}: {error}") from None
    if not isinstance(value, datetime):
        kind = type(value).__name__
        raise ProviderError(f"invalid rangeQuery {what} {text!r}: expected time.Time, but got {kind}")
    return value


def _unix(moment: datetime) -> str:
    return format_float_f(moment.timestamp())


def query_request(
    settings: PrometheusSettings, now: datetime, *, authorization: str | None = None, method: str = "POST"
) -> httpx.Request:
    """The query request: instant at ``now``, or a range query with its bounds evaluated at ``now``."""
    params: dict[str, str] = {"query": settings.query}
    if settings.range is None:
        endpoint = "/api/v1/query"
        params["time"] = _unix(now)
    else:
        endpoint = "/api/v1/query_range"
        params["start"] = _unix(_evaluate_time(settings.range.start, now, "start"))
        params["end"] = _unix(_evaluate_time(settings.range.end, now, "end"))
        if settings.range.step_seconds is not None:
            params["step"] = format_float_f(settings.range.step_seconds)
    headers = httpx.Headers()
    for key, value in settings.headers:
        headers[key] = value  # Header.Set semantics: the last value of a name wins
    if settings.basic_auth is not None:
        headers["Authorization"] = basic_authorization(*settings.basic_auth)
    if authorization is not None:
        headers["Authorization"] = authorization
    url = settings.address + endpoint
    if method == "POST":
        return httpx.Request("POST", url, data=params, headers=headers)
    return httpx.Request("GET", url, params=params, headers=headers)


@dataclass(frozen=True)
class QueryResult:
    """A parsed query: the value conditions see, its text, and Prometheus' warnings."""

    result: float | list[float]
    text: str
    warnings: tuple[str, ...] = ()


def _client_error(response: httpx.Response) -> ProviderError:
    code = response.status_code
    if code >= 500:
        return ProviderError(f"server_error: server error: {code}")
    if code >= 400:
        return ProviderError(f"client_error: client error: {code}")
    return ProviderError(f"bad_response: bad response code {code}")


def _sample(value: Any) -> float:
    pair = value if isinstance(value, list) and len(value) == 2 else None
    if pair is None:
        raise ProviderError("bad_response: a sample must be a [timestamp, value] pair")
    text = pair[1]
    if not isinstance(text, str):
        raise ProviderError("bad_response: sample value must be a quoted string")
    if not _SAMPLE.fullmatch(text):
        raise ProviderError(f'bad_response: strconv.ParseFloat: parsing "{text}": invalid syntax')
    return float(text)


def _series(data: Any, key: str) -> list[dict[str, Any]]:
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ProviderError("bad_response: result must be a list of series")
    for item in data:
        if key not in item:
            raise ProviderError(
                f"bad_response: a series has no {key!r} (native histograms are not supported)"
            )
    return data


def _format(values: Sequence[float]) -> str:
    return "[" + ",".join(format_float_f(value) for value in values) + "]"


def parse_query_response(response: httpx.Response) -> QueryResult:
    """Decode a query response as the Go client and Argo do; raises :class:`ProviderError`."""
    code = response.status_code
    if code // 100 != 2 and code not in (400, 422):
        raise _client_error(response)
    try:
        body = unmarshal(response.content)
    except GoJSONError as error:
        raise ProviderError(f"bad_response: {error}") from None
    if not isinstance(body, dict):
        raise ProviderError("bad_response: the response is not a JSON object")
    status = body.get("status")
    if status == "error":
        raise ProviderError(f"{body.get('errorType', '')}: {body.get('error', '')}")
    if code in (400, 422):
        raise ProviderError("bad_response: inconsistent body for response code")
    warnings = tuple(str(warning) for warning in body.get("warnings") or [])
    data = body.get("data")
    if not isinstance(data, dict):
        raise ProviderError("bad_response: the response has no data")
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar":
        value = _sample(result)
        return QueryResult(value, format_float_f(value), warnings)
    if kind == "vector":
        values = [_sample(series["value"]) for series in _series(result, "value")]
        return QueryResult(values, _format(values), warnings)
    if kind == "matrix":
        values = [_sample(pair) for series in _series(result, "values") for pair in series["values"] or []]
        return QueryResult(values, _format(values), warnings)
    if kind == "string":
        raise ProviderError("Prometheus metric type not supported")
    raise ProviderError(f'bad_response: unexpected value type "{kind}"')


def query_flow(
    settings: PrometheusSettings, metric: Metric, now: datetime, *, clock: Callable[[], datetime] = utc_now
) -> Flow[Outcome]:
    """Fetch a token if configured, query (falling back to GET), parse and evaluate."""
    authorization = None
    if settings.oauth2 is not None:
        authorization = yield from token_flow(settings.oauth2)
    response = yield query_request(settings, now, authorization=authorization)
    if response.status_code in (405, 501):
        response = yield query_request(settings, now, authorization=authorization, method="GET")
    parsed = parse_query_response(response)
    metadata = (
        {"warnings": ", ".join(f'"{warning}"' for warning in parsed.warnings)} if parsed.warnings else None
    )
    return Outcome(parsed.text, evaluate_result(metric, parsed.result, clock=clock), metadata)


class PrometheusProvider(SynchronousProvider):
    """Measures ``provider.prometheus`` metrics."""

    type = "Prometheus"

    def __init__(
        self,
        driver: HttpDriver,
        *,
        default_address: str | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(driver, clock=clock)
        self.default_address = default_address

    def metric_metadata(self, metric: Metric) -> dict[str, str] | None:
        query = metric.provider.prometheus.query if metric.provider.prometheus else None
        return {RESOLVED_QUERY_KEY: query} if query else None

    def _flow(self, metric: Metric, now: datetime) -> tuple[Flow[Outcome], bool, float]:
        settings = PrometheusSettings.of(metric, self.default_address)
        return query_flow(settings, metric, now, clock=self.clock), settings.insecure, settings.timeout
