"""Property tests: whatever a server, a template or a user sends, only our own errors come out."""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.assessment import evaluate_result
from analysis.composition import CompositionError, resolve_metric
from analysis.models import Argument, Metric
from analysis.providers.base import ProviderError
from analysis.providers.golang import GoJSONError, marshal, unmarshal
from analysis.providers.jsonpath import JSONPathError, parse
from analysis.providers.prometheus import parse_query_response
from analysis.providers.web import WebSettings, parse_web_response

json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)
bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries(
        {"status": st.sampled_from(["success", "error", "weird"]), "data": json_values}
    ).map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries(
        {
            "status": st.just("success"),
            "data": st.fixed_dictionaries(
                {
                    "resultType": st.sampled_from(["scalar", "vector", "matrix", "string"]),
                    "result": json_values,
                }
            ),
        }
    ).map(lambda value: json.dumps(value).encode()),
)
statuses = st.sampled_from([200, 204, 302, 400, 401, 404, 422, 500, 503])


@settings(max_examples=300, deadline=None)
@given(statuses, bodies)
def test_prometheus_responses_give_a_result_or_a_provider_error(status: int, body: bytes) -> None:
    try:
        parsed = parse_query_response(httpx.Response(status, content=body))
    except ProviderError as error:
        assert str(error)
    else:
        assert isinstance(parsed.text, str)


@settings(max_examples=300, deadline=None)
@given(statuses, bodies, st.sampled_from(["{$}", "{.data}", "{.a[0].b}", "{..x}", "{.data[*]}", "x{.y}"]))
def test_web_responses_give_an_outcome_or_a_provider_error(status: int, body: bytes, path: str) -> None:
    m = Metric.from_dict(
        {
            "name": "m",
            "successCondition": "result.a > 1",
            "provider": {"web": {"url": "http://x", "jsonPath": path}},
        }
    )
    try:
        outcome = parse_web_response(httpx.Response(status, content=body), WebSettings.of(m).json_path, m)
    except ProviderError as error:
        assert str(error)
    else:
        assert outcome.verdict.phase in ("Successful", "Failed", "Inconclusive", "Error")


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40))
def test_any_json_path_text_parses_or_is_refused_clearly(text: str) -> None:
    try:
        path = parse(text)
    except JSONPathError as error:
        assert str(error)
        return
    try:
        path.find({"a": [{"b": 1}], "data": {"x": [1, 2]}})
    except JSONPathError as error:
        assert str(error)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_go_json_round_trips_what_go_decodes(value: Any) -> None:
    text = marshal(unmarshal(json.dumps(value).encode()))
    assert unmarshal(text.encode()) == unmarshal(json.dumps(value).encode())


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=100))
def test_go_json_decoding_refuses_only_with_its_error(body: bytes) -> None:
    try:
        unmarshal(body)
    except GoJSONError as error:
        assert str(error)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30), st.text(max_size=30))
def test_any_condition_and_value_give_a_verdict(condition: str, value: str) -> None:
    m = Metric.from_dict({"name": "m", "successCondition": condition or "true", "provider": {}})
    verdict = evaluate_result(m, value)
    assert verdict.phase in ("Successful", "Failed", "Inconclusive", "Error")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), st.text(max_size=20))
def test_templating_any_text_substitutes_or_refuses_clearly(condition: str, value: str) -> None:
    m = Metric.from_dict({"name": "m", "successCondition": condition, "provider": {}})
    try:
        resolved = resolve_metric(m, [Argument(name="x", value=value)])
    except CompositionError as error:
        assert str(error)
    else:
        expected = condition.replace("{{args.x}}", value) if "{{" in condition else condition
        if condition.count("{{") == condition.count("{{args.x}}"):
            assert resolved.success_condition == expected
