"""The Prometheus provider's pure parts, driven with responses recorded from Prometheus 2.42."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import parse_qs

import httpx
import pytest

from analysis.models import Metric
from analysis.providers.base import Flow, HttpDriver, Outcome, ProviderError
from analysis.providers.prometheus import (
    PrometheusProvider,
    PrometheusSettings,
    parse_query_response,
    query_flow,
    query_request,
)

NOW = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)
T = TypeVar("T")

# Bodies recorded from Debian's prometheus 2.42 scraping the test exporter.
SUCCESS_RATE = (
    '{"status":"success","data":{"resultType":"vector","result":'
    '[{"metric":{},"value":[1795413142.674,"0.9523809523809523"]}]}}'
)
SCALAR = '{"status":"success","data":{"resultType":"scalar","result":[1795413142.674,"0.5"]}}'
SERIES = (
    '{"status":"success","data":{"resultType":"vector","result":['
    '{"metric":{"__name__":"http_requests_total","code":"200","revision":"canary"},"value":[1795413142.674,"100"]},'
    '{"metric":{"__name__":"http_requests_total","code":"404","revision":"canary"},"value":[1795413142.674,"0"]},'
    '{"metric":{"__name__":"http_requests_total","code":"500","revision":"canary"},"value":[1795413142.674,"5"]}]}}'
)
EMPTY = '{"status":"success","data":{"resultType":"vector","result":[]}}'
VECTOR = (
    '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1795413142.674,%s]}]}}'
)
NAN = VECTOR % '"NaN"'
INF = VECTOR % '"+Inf"'
STRING = '{"status":"success","data":{"resultType":"string","result":[1795413142.674,"hello"]}}'
MATRIX = (
    '{"status":"success","data":{"resultType":"matrix","result":['
    '{"metric":{"code":"200"},"values":[[1795413141.674,"0"],[1795413142.674,"105"]]},'
    '{"metric":{"code":"500"},"values":[[1795413142.674,"2.5"]]}]}}'
)
BAD_QUERY = (
    '{"status":"error","errorType":"bad_data","error":'
    '"invalid parameter \\"query\\": 1:15: parse error: unclosed left parenthesis"}'
)
WARNINGS = (
    '{"status":"success","warnings":["partial response","slow"],'
    '"data":{"resultType":"scalar","result":[1795413142.674,"1"]}}'
)


def response(status: int, body: str, content_type: str = "application/json") -> httpx.Response:
    return httpx.Response(status, content=body.encode(), headers={"Content-Type": content_type})


def metric(**prometheus: Any) -> Metric:
    fields = {"address": "http://prometheus.example:9090", "query": "up", **prometheus}
    return Metric.from_dict(
        {"name": "m", "successCondition": "result[0] >= 0.95", "provider": {"prometheus": fields}}
    )


def drive(flow: Flow[T], responses: Sequence[httpx.Response]) -> tuple[T, list[httpx.Request]]:
    """Run a sans-I/O flow against recorded responses, keeping the requests it made."""
    requests = [next(flow)]
    try:
        for reply in responses:
            requests.append(flow.send(reply))
    except StopIteration as stop:
        result: T = stop.value
        return result, requests
    raise AssertionError(f"the flow wanted more than {len(responses)} responses")


def form(request: httpx.Request) -> dict[str, str]:
    body = request.content.decode() if request.method == "POST" else request.url.query.decode()
    return {key: values[0] for key, values in parse_qs(body).items()}


# --------------------------------------------------------------------------------------------
# Settings


@pytest.mark.parametrize(
    ("fields", "default", "message"),
    [
        ({"address": None}, None, "prometheus address is not configured"),
        ({"address": "prometheus:9090"}, None, "prometheus address is not is url format"),
        ({"address": None}, "not a url", "prometheus address is not is url format"),
        ({"timeout": -1}, None, "prometheus timeout should not be negative"),
        (
            {"address": "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1"},
            None,
            "Amazon Managed Prometheus (sigv4 signing) is not supported",
        ),
        (
            {"authentication": {"basicAuth": {"username": "u"}}},
            None,
            "basicAuth requires both username and password",
        ),
        (
            {"authentication": {"oauth2": {"tokenUrl": "http://idp/token", "clientId": "id"}}},
            None,
            "oauth2 clientId and clientSecret are required when tokenUrl is set",
        ),
    ],
)
def test_bad_settings_are_clear_errors(fields: dict[str, Any], default: str | None, message: str) -> None:
    with pytest.raises(ProviderError) as raised:
        PrometheusSettings.of(metric(**fields), default)
    assert str(raised.value) == message


def test_settings_defaults() -> None:
    settings = PrometheusSettings.of(metric(address=None), "http://fallback:9090/")
    assert (settings.address, settings.timeout, settings.insecure) == ("http://fallback:9090", 30.0, False)
    assert PrometheusSettings.of(metric(timeout=5, insecure=True), None).timeout == 5.0
    assert PrometheusSettings.of(metric(timeout=0), None).timeout == 30.0


# --------------------------------------------------------------------------------------------
# Requests


def test_an_instant_query_is_posted_as_a_form_at_now() -> None:
    settings = PrometheusSettings.of(
        metric(
            headers=[{"key": "X-Scope-OrgID", "value": "tenant_a"}],
            authentication={"basicAuth": {"username": "u", "password": "p"}},
        ),
        None,
    )
    request = query_request(settings, NOW)
    assert (request.method, str(request.url)) == ("POST", "http://prometheus.example:9090/api/v1/query")
    assert form(request) == {"query": "up", "time": "1795428000"}
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.headers["X-Scope-OrgID"] == "tenant_a"
    assert request.headers["Authorization"] == "Basic dTpw"
    fallback = query_request(settings, NOW, method="GET")
    assert (fallback.method, form(fallback)) == ("GET", {"query": "up", "time": "1795428000"})


def test_a_range_query_evaluates_its_bounds_at_now() -> None:
    settings = PrometheusSettings.of(
        metric(rangeQuery={"start": 'now() - duration("5m")', "end": "now()", "step": "30s"}), None
    )
    request = query_request(settings, NOW)
    assert str(request.url).endswith("/api/v1/query_range")
    assert form(request) == {"query": "up", "start": "1795427700", "end": "1795428000", "step": "30"}


@pytest.mark.parametrize(
    ("range_query", "message"),
    [
        ({"start": "now() -", "end": "now()"}, "invalid rangeQuery start 'now() -': "),
        (
            {"start": "now()", "end": "1 + 1"},
            "invalid rangeQuery end '1 + 1': expected time.Time, but got int",
        ),
        (
            {"start": "now()", "end": "now()", "step": "1 minute"},
            "invalid rangeQuery step: time: unknown unit",
        ),
    ],
)
def test_bad_range_queries_are_clear_errors(range_query: dict[str, str], message: str) -> None:
    with pytest.raises(ProviderError) as raised:
        query_request(PrometheusSettings.of(metric(rangeQuery=range_query), None), NOW)
    assert str(raised.value).startswith(message)


# --------------------------------------------------------------------------------------------
# Responses


@pytest.mark.parametrize(
    ("body", "result", "text"),
    [
        (SUCCESS_RATE, [0.9523809523809523], "[0.9523809523809523]"),
        (SCALAR, 0.5, "0.5"),
        (SERIES, [100.0, 0.0, 5.0], "[100,0,5]"),
        (EMPTY, [], "[]"),
        (INF, [math.inf], "[+Inf]"),
        (MATRIX, [0.0, 105.0, 2.5], "[0,105,2.5]"),
    ],
)
def test_results_are_converted_as_upstream(body: str, result: Any, text: str) -> None:
    parsed = parse_query_response(response(200, body))
    assert (parsed.result, parsed.text, parsed.warnings) == (result, text, ())


def test_nan_is_a_value_not_an_error() -> None:
    parsed = parse_query_response(response(200, NAN))
    assert isinstance(parsed.result, list)
    assert math.isnan(parsed.result[0])
    assert parsed.text == "[NaN]"


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (400, BAD_QUERY, 'bad_data: invalid parameter "query": 1:15: parse error: unclosed left parenthesis'),
        (200, STRING, "Prometheus metric type not supported"),
        (503, "<html>Service Unavailable</html>", "server_error: server error: 503"),
        (404, "404 page not found", "client_error: client error: 404"),
        (302, "", "bad_response: bad response code 302"),
        (200, "<html>not json</html>", "bad_response: Expecting value: line 1 column 1 (char 0)"),
        (400, '{"status":"success","data":{}}', "bad_response: inconsistent body for response code"),
        (200, '{"status":"success"}', "bad_response: the response has no data"),
        (
            200,
            '{"status":"success","data":{"resultType":"exotic","result":1}}',
            'bad_response: unexpected value type "exotic"',
        ),
        (
            200,
            '{"status":"success","data":{"resultType":"scalar","result":[1,"abc"]}}',
            'bad_response: strconv.ParseFloat: parsing "abc": invalid syntax',
        ),
        (
            200,
            '{"status":"success","data":{"resultType":"scalar","result":[1,0.5]}}',
            "bad_response: sample value must be a quoted string",
        ),
        (
            200,
            '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"histogram":[1,{}]}]}}',
            "bad_response: a series has no 'value' (native histograms are not supported)",
        ),
        (200, "[]", "bad_response: the response is not a JSON object"),
    ],
)
def test_errors_read_as_the_go_client_reports_them(status: int, body: str, message: str) -> None:
    with pytest.raises(ProviderError) as raised:
        parse_query_response(response(status, body))
    assert str(raised.value) == message


# --------------------------------------------------------------------------------------------
# Flows


def test_the_flow_queries_once_and_evaluates() -> None:
    m = metric()
    outcome, requests = drive(
        query_flow(PrometheusSettings.of(m, None), m, NOW), [response(200, SUCCESS_RATE)]
    )
    assert len(requests) == 1
    assert (outcome.value, outcome.verdict.phase, outcome.metadata) == (
        "[0.9523809523809523]",
        "Successful",
        None,
    )


def test_an_empty_result_is_an_error_measurement_not_an_index_error() -> None:
    m = metric()
    outcome, _ = drive(query_flow(PrometheusSettings.of(m, None), m, NOW), [response(200, EMPTY)])
    assert outcome.verdict.phase == "Error"
    assert outcome.verdict.error == (
        'could not evaluate successCondition "result[0] >= 0.95": '
        "metric result is nil or empty: no data returned from the metric provider"
    )


def test_warnings_go_to_the_measurement_metadata() -> None:
    m = metric()
    outcome, _ = drive(query_flow(PrometheusSettings.of(m, None), m, NOW), [response(200, WARNINGS)])
    assert outcome.metadata == {"warnings": '"partial response", "slow"'}


def test_a_server_refusing_post_is_asked_again_with_get() -> None:
    m = metric()
    outcome, requests = drive(
        query_flow(PrometheusSettings.of(m, None), m, NOW), [response(405, ""), response(200, SCALAR)]
    )
    assert [r.method for r in requests] == ["POST", "GET"]
    assert isinstance(outcome, Outcome)
    assert outcome.value == "0.5"


def test_oauth2_fetches_a_token_first_and_falls_back_to_form_credentials() -> None:
    m = metric(
        authentication={
            "oauth2": {
                "tokenUrl": "http://idp/token",
                "clientId": "app",
                "clientSecret": "s e/c",
                "scopes": ["read", "metrics"],
            }
        }
    )
    token = response(200, '{"access_token":"abc","token_type":"bearer","expires_in":3600}')
    outcome, requests = drive(
        query_flow(PrometheusSettings.of(m, None), m, NOW),
        [response(401, ""), token, response(200, SUCCESS_RATE)],
    )
    header_try, form_try, query = requests
    assert header_try.headers["Authorization"] == "Basic YXBwOnMrZSUyRmM="
    assert form(header_try) == {"grant_type": "client_credentials", "scope": "read metrics"}
    assert "Authorization" not in form_try.headers
    assert form(form_try) == {
        "grant_type": "client_credentials",
        "scope": "read metrics",
        "client_id": "app",
        "client_secret": "s e/c",
    }
    assert query.headers["Authorization"] == "Bearer abc"
    assert outcome.verdict.phase == "Successful"


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (
            response(500, "idp down"),
            "oauth2: cannot fetch token: 500 Internal Server Error\nResponse: idp down",
        ),
        (response(200, "not json"), "oauth2: cannot parse json: Expecting value: line 1 column 1 (char 0)"),
        (response(200, '{"token_type":"bearer"}'), "oauth2: server response missing access_token"),
    ],
)
def test_token_failures_are_clear_errors(reply: httpx.Response, message: str) -> None:
    m = metric(
        authentication={"oauth2": {"tokenUrl": "http://idp/token", "clientId": "a", "clientSecret": "b"}}
    )
    with pytest.raises(ProviderError) as raised:
        drive(query_flow(PrometheusSettings.of(m, None), m, NOW), [reply])
    assert str(raised.value) == message


def test_the_resolved_query_is_metric_metadata() -> None:
    provider = PrometheusProvider(HttpDriver())  # the driver opens nothing until it sends
    assert provider.metric_metadata(metric(query="sum(up)")) == {"ResolvedPrometheusQuery": "sum(up)"}
    assert provider.metric_metadata(metric(query="")) is None
