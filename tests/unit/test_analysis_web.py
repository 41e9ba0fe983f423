"""The web provider's pure parts: settings, the request, and the reading of responses.

The response table follows upstream's own test cases (``webmetric_test.go``).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from analysis.models import Metric
from analysis.providers.base import ProviderError
from analysis.providers.web import WebSettings, parse_web_response, web_flow, web_request

BODY = '{"a": 1, "b": true, "c": [1, 2, 3, 4], "d": null}'


def metric(success: str | None = None, failure: str | None = None, **web: Any) -> Metric:
    return Metric.from_dict(
        {
            "name": "m",
            "successCondition": success,
            "failureCondition": failure,
            "provider": {"web": {"url": "http://service.example/metrics", **web}},
        }
    )


def read(m: Metric, status: int, body: str) -> tuple[str, str]:
    outcome = parse_web_response(
        httpx.Response(status, content=body.encode()), WebSettings.of(m).json_path, m
    )
    return outcome.value, outcome.verdict.phase


@pytest.mark.parametrize(
    ("m", "body", "value", "phase"),
    [
        (
            metric("result.a > 0 && result.b && all(result.c, {# < 5}) && result.d == nil"),
            BODY,
            '{"a":1,"b":true,"c":[1,2,3,4],"d":null}',
            "Successful",
        ),
        (
            metric("result.a >= 2", "result.a <= 0"),
            BODY,
            '{"a":1,"b":true,"c":[1,2,3,4],"d":null}',
            "Inconclusive",
        ),
        (
            metric("asInt(result) > 0", "asInt(result) <= 0", jsonPath="{$.k[0].v}"),
            '{"k": [{"v": "1"}]}',
            '"1"',
            "Successful",
        ),
        (
            metric("asFloat(result) > 1.1", "asFloat(result) < 1.3", jsonPath="{$.k[0].v}"),
            '{"k": [{"v": "1.2"}]}',
            '"1.2"',
            "Failed",
        ),
        (
            metric("result > 0", "result <= 0", jsonPath="{$.k[0].v}"),
            '{"k": [{"v": -1.1}]}',
            "-1.1",
            "Failed",
        ),
        (metric('result == "true"', jsonPath="{$.k[0].v}"), '{"k": [{"v": "true"}]}', '"true"', "Successful"),
        (
            metric("result == true", "result == false", jsonPath="{$.k[0].v}"),
            '{"k": [{"v": false}]}',
            "false",
            "Failed",
        ),
        (
            metric("any(result, {# > 5})", jsonPath="{$.key}"),
            '{"key": [1, 2, 3, 4, 5, 6]}',
            "[1,2,3,4,5,6]",
            "Successful",
        ),
        (
            metric('result.num > 1.1 && result.bool && result.mapfield.foo == "bar"', jsonPath="{$.key}"),
            '{"key":{"num":1.2, "bool":true, "mapfield":{"foo":"bar"}}}',
            '{"bool":true,"mapfield":{"foo":"bar"},"num":1.2}',
            "Successful",
        ),
        (metric("true"), "{}", "{}", "Successful"),
        # Not JSON: Successful with the raw body, conditions not evaluated (upstream's behaviour).
        (metric("true", "true", jsonPath="{$.k[0].v}"), "", "", "Successful"),
        (metric("false", jsonPath="{$.key}"), "test: notJson", "test: notJson", "Successful"),
        (metric("false"), '{"ratio": NaN}', '{"ratio": NaN}', "Successful"),
    ],
)
def test_responses_are_read_as_upstream(m: Metric, body: str, value: str, phase: str) -> None:
    assert read(m, 200, body) == (value, phase)


@pytest.mark.parametrize(
    ("m", "status", "body", "message"),
    [
        (
            metric("true", "true", jsonPath="{$.k[0].v}"),
            300,
            '{"key": []}',
            "received non 2xx response code: 300",
        ),
        (metric(), 400, "", "received non 2xx response code: 400"),
        (metric(), 503, "<html>down</html>", "received non 2xx response code: 503"),
        (
            metric("true", jsonPath="{$.k[0].novalue}"),
            200,
            '{"k": [{"v": "true"}]}',
            "Could not find JSONPath in body: novalue is not found",
        ),
        (
            metric("true", jsonPath="{.items[3]}"),
            200,
            '{"items": [1]}',
            "Could not find JSONPath in body: array index out of bounds: index 3, length 1",
        ),
        (
            metric("true", jsonPath="{.items[*]}"),
            200,
            '{"items": []}',
            "result of web metric produced no value",
        ),
    ],
)
def test_error_responses(m: Metric, status: int, body: str, message: str) -> None:
    with pytest.raises(ProviderError) as raised:
        read(m, status, body)
    assert str(raised.value) == message


def test_conditions_that_fail_to_evaluate_make_an_error_verdict() -> None:
    value, phase = read(metric("result.a.b > 1"), 200, '{"a": 1}')
    assert (value, phase) == ('{"a":1}', "Error")
    outcome = parse_web_response(
        httpx.Response(200, content=b'{"a": []}'),
        WebSettings.of(metric("result.a[0] > 1")).json_path,
        metric("result.a[0] > 1"),
    )
    assert outcome.verdict.error is not None
    assert "runtime error" in outcome.verdict.error or "index out of range" in outcome.verdict.error


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"method": "POST", "body": "x", "jsonBody": {"a": 1}},
            "use either Body or JSONBody; both cannot exists for WebMetric payload",
        ),
        ({"body": "x"}, "Body/JSONBody can only be used with POST or PUT WebMetric Method types"),
        ({"jsonBody": {"a": 1}}, "Body/JSONBody can only be used with POST or PUT WebMetric Method types"),
        ({"jsonPath": "{.a"}, "invalid jsonPath '{.a': unclosed action"),
        (
            {"authentication": {"oauth2": {"tokenUrl": "http://idp/token"}}},
            "oauth2 clientId and clientSecret are required when tokenUrl is set",
        ),
    ],
)
def test_bad_settings_are_clear_errors(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ProviderError) as raised:
        WebSettings.of(metric(**fields))
    assert str(raised.value) == message


def test_the_request() -> None:
    settings = WebSettings.of(
        metric(
            method="POST",
            headers=[
                {"key": "X-Token", "value": "a"},
                {"key": "x-token", "value": "b"},
                {"key": "Content-Type", "value": "text/plain"},
            ],
            jsonBody={"query": "rate", "window": ["5m"]},
            timeoutSeconds=3,
        )
    )
    request = web_request(settings)
    assert (request.method, str(request.url), settings.timeout) == (
        "POST",
        "http://service.example/metrics",
        3.0,
    )
    assert request.headers.get_list("X-Token") == ["b"]
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {"query": "rate", "window": ["5m"]}
    plain = web_request(WebSettings.of(metric(method="PUT", body="raw text")))
    assert (plain.method, plain.content) == ("PUT", b"raw text")
    default = WebSettings.of(metric())
    assert (default.method, default.timeout, web_request(default).content) == ("GET", 10.0, b"")


def test_a_url_that_cannot_be_parsed_is_a_clear_error() -> None:
    with pytest.raises(ProviderError) as raised:
        web_request(WebSettings.of(metric(url="http://[::1")))
    assert str(raised.value).startswith('parse "http://[::1": ')


def test_the_flow_sends_one_request() -> None:
    m = metric("result.ok", jsonPath="{.status}")
    flow = web_flow(WebSettings.of(m), m)
    request = next(flow)
    assert request.method == "GET"
    with pytest.raises(StopIteration) as done:
        flow.send(httpx.Response(200, json={"status": {"ok": True}}))
    assert (done.value.value.value, done.value.value.verdict.phase) == ('{"ok":true}', "Successful")
