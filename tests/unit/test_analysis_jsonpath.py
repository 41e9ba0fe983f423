"""Kubernetes JSONPath for the web provider, and Go's spelling of the values it finds."""

from __future__ import annotations

import math
from typing import Any

import pytest

from analysis.providers.golang import GoJSONError, format_float_f, marshal, unmarshal
from analysis.providers.jsonpath import JSONPathError, parse

DATA: dict[str, Any] = {
    "key": [{"key2": {"value": "1"}}, {"key2": {"value": "2"}}],
    "a.b": 3.0,
    "items": [
        {"name": "a", "price": 5.0, "tags": ["x"]},
        {"name": "b", "price": 15.0},
        {"name": "c", "price": 25.0, "tags": ["y", "z"]},
    ],
    "nothing": None,
    "flag": True,
}


def first(template: str, data: Any = DATA) -> Any:
    found, value = parse(template).first(data)
    assert found, template
    return value


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{$}", DATA),
        ("", None),
        ("{$.key[0].key2.value}", "1"),
        ("{.key[1].key2.value}", "2"),
        ("{.key[-1].key2.value}", "2"),
        ("{.key[*].key2.value}", "1"),
        ("{.key[1:].key2.value}", "2"),
        ("{['a.b']}", 3.0),
        ('{["a.b"]}', 3.0),
        ("{.items[?(@.price > 10)].name}", "b"),
        ("{.items[?(@.name == 'c')].price}", 25.0),
        ("{.items[?(@.tags)].name}", "a"),
        ("{..price}", 5.0),
        ("{.items[0,2].name}", "a"),
        ("{.flag}", True),
        ("{.nothing}", None),
        ("value: {.flag}", "value: "),
    ],
)
def test_finds_what_the_kubernetes_library_finds(template: str, expected: Any) -> None:
    found, value = parse(template).first(DATA)
    if template == "":
        assert (found, value) == (False, None)
    else:
        assert found
        assert value == expected


def test_find_returns_one_list_per_segment() -> None:
    assert parse("n={.items[*].name} p={.items[2].price}").find(DATA) == [
        ["n="],
        ["a", "b", "c"],
        [" p="],
        [25.0],
    ]
    assert parse("{..name}").find(DATA) == [["a", "b", "c"]]
    assert parse("{.items[::2].name}").find(DATA) == [["a", "c"]]


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{.key[0].key2.novalue}", "novalue is not found"),
        ("{.missing}", "missing is not found"),
        ("{.key[5]}", "array index out of bounds: index 5, length 2"),
        ("{.key[0][0]}", "map[string]interface {} is not array or slice"),
        ("{.flag[0]}", "bool is not array or slice"),
        ("{.items[2:1]}", "starting index 2 is greater than ending index 1"),
        ("{.items[0:3:0]}", "step must be > 0"),
        ("{.items[?(@.price > 'x')]}", "incompatible types for comparison: float64 and string"),
    ],
)
def test_path_errors_use_the_library_wording(template: str, message: str) -> None:
    with pytest.raises(JSONPathError) as raised:
        parse(template).first(DATA)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{.a", "unclosed action"),
        ("{range .items[*]}{.name}{end}", "range/end loops are not supported in a metric jsonPath"),
        ("{.a[}", "unterminated array in {.a[}"),
        ("{.a[x]}", "invalid array index x"),
        ("{.a[?(@.x ~ 1)]}", "invalid filter ?(@.x ~ 1)"),
        ("{.a[?(@.x == nope)]}", "invalid filter literal nope"),
        ("{#}", "unrecognized character in action: '#' in {#}"),
    ],
)
def test_malformed_templates_are_refused(template: str, message: str) -> None:
    with pytest.raises(JSONPathError) as raised:
        parse(template)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.95, "0.95"),
        (1.0, "1"),
        (1e6, "1000000"),
        (1e21, "1000000000000000000000"),
        (1e-7, "0.0000001"),
        (-0.0, "-0"),
        (math.nan, "NaN"),
        (math.inf, "+Inf"),
        (-math.inf, "-Inf"),
    ],
)
def test_prometheus_spelling_of_floats(value: float, text: str) -> None:
    assert format_float_f(value) == text


def test_go_json_round_trip_matches_go() -> None:
    # Expected texts produced by Go 1.26's json.Unmarshal into interface{} then json.Marshal.
    assert marshal(unmarshal(b'{"b":"<&>\\u2028 \xc3\xa9 \\u0001","a":[1,2.5,1e300,-0.0]}')) == (
        '{"a":[1,2.5,1e+300,-0],"b":"\\u003c\\u0026\\u003e\\u2028 \u00e9 \\u0001"}'
    )
    assert marshal(
        unmarshal(b'{"s":"\\b\\f\\ud800x","n":[1.5e-7,1e21,123456789012345678901234,-1e-7,0.000001]}')
    ) == ('{"n":[1.5e-7,1e+21,1.2345678901234569e+23,-1e-7,0.000001],"s":"\\b\\f\ufffdx"}')
    assert marshal("true") == '"true"'
    assert marshal(None) == "null"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"NaN", "invalid character 'N' looking for beginning of value"),
        (b"[1e400]", "cannot unmarshal number 1e400 into Go value of type float64"),
        (b'{"a":1}garbage', "Extra data"),
        (b"test: notJson", "Expecting value"),
        (b"", "Expecting value"),
        (b"[" * 100_000, "exceeded max depth"),
    ],
)
def test_what_go_refuses_to_decode(body: bytes, message: str) -> None:
    with pytest.raises(GoJSONError, match=message):
        unmarshal(body)
