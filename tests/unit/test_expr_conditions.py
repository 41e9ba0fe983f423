"""Argo's conditions: the documented examples (§6.6) with realistic provider results, Argo's helper
functions, and the rule that a condition must yield a bool."""

import math
from typing import Any

import pytest

from analysis.expr import ExprError, argo_environment, evaluate_condition

# What providers hand to conditions: Prometheus scalar -> float, vector -> list of floats (one per
# series, possibly empty), web -> decoded JSON, Graphite/InfluxDB-style -> list of series dicts.
PROMETHEUS_SCALAR_GOOD = 0.97
PROMETHEUS_VECTOR_GOOD = [0.99, 0.96]
PROMETHEUS_VECTOR_BAD = [0.80]
PROMETHEUS_EMPTY: list[float] = []
WEB_STATUS = {"ok": True, "successPercent": 0.93, "successRate": 0.99, "average.duration": 0.4}
SERIES = [{"Values": [0.001, 0.002, 0.0, 0.005, 0.009]}]
APDEX = {"service_apdex": {"values": {"values": [{"value": "9950"}, {"value": "9901"}]}}}

DOCUMENTED = [
    ("result[0] >= 0.95", PROMETHEUS_VECTOR_GOOD, True),
    ("result[0] >= 0.95", PROMETHEUS_VECTOR_BAD, False),
    ("result[0] <= 0.01", [0.002], True),
    ("len(result) == 0 || result[0] >= 0.95", PROMETHEUS_EMPTY, True),
    ("len(result) == 0 || result[0] >= 0.95", PROMETHEUS_VECTOR_BAD, False),
    ("len(result) > 0 && result[0] >= 0.95", PROMETHEUS_EMPTY, False),
    ("len(result) > 0 && result[0] >= 0.95", PROMETHEUS_VECTOR_GOOD, True),
    ("isNaN(result) || result >= 0.95", math.nan, True),
    ("isNaN(result) || result >= 0.95", PROMETHEUS_SCALAR_GOOD, True),
    ("isNaN(result) || result >= 0.95", 0.5, False),
    ("isInf(result)", math.inf, True),
    ("isInf(result)", -math.inf, True),
    ("isInf(result)", 1e308, False),
    ("all(result, # < 1000)", [120.0, 999.9], True),
    ("all(result, # < 1000)", [120.0, 1000.0], False),
    ("all(result, {# <= 0.01})", [0.01, 0.0], True),
    ("result == true", True, True),
    ("result == true", "true", False),
    ("result == 'true'", "true", True),
    ('result == "I am OK"', "I am OK", True),
    ("result.ok && result.successPercent >= 0.90", WEB_STATUS, True),
    ("result.ok && result.successPercent >= 0.95", WEB_STATUS, False),
    ("result.successRate >= 0.95", WEB_STATUS, True),
    ("result['average.duration'] < 1", WEB_STATUS, True),
    ("default(result, 0) < 0.05", None, True),
    ("default(result, 0) < 0.05", 0.2, False),
    ("len(result[0].Values) >= 5 and all(result[0].Values, {# <= 0.01})", SERIES, True),
    ("all(result.service_apdex.values.values, {asFloat(.value) >= 9900})", APDEX, True),
    ("asInt(result) > 0", "3", True),
    ("asInt(result) > 0", 2.9, True),
    ("isNil(result)", None, True),
    ("isNil(result)", [], False),
    ("not isNil(result) and result > 0.5", 0.7, True),
]


@pytest.mark.parametrize(("condition", "result", "expected"), DOCUMENTED)
def test_documented_conditions(condition: str, result: Any, expected: bool) -> None:
    assert evaluate_condition(condition, result) is expected


@pytest.mark.parametrize(
    ("condition", "result", "message"),
    [
        # The incumbent crashes here; we report a clean error (Argo's measurement phase: Error).
        ("result[0] >= 0.95", PROMETHEUS_EMPTY, "index out of range: 0 (array length is 0) (1:7)"),
        ("results[0] >= 90", [91.0], "unknown name results (1:1)"),
        ("result", 0.5, "expected bool, but got float64"),
        ("result", [True], "expected bool, but got []interface {}"),
        ("result", None, "expected bool, but got <nil>"),
        ("result.successRate", WEB_STATUS, "expected bool, but got float64"),
        ("result >= ", 1.0, "unexpected end of expression (1:11)"),
        ("result.ok &&& true", WEB_STATUS, 'unrecognized character: "&" (1:13)'),
        ("result > 0.5", "0.7", "invalid operation: string > float64 (1:8)"),
        ("result.a.b > 1", {"a": None}, "cannot fetch b from <nil> (1:10)"),
        ("asInt(result) > 0", "3.5", 'strconv.ParseInt: parsing "3.5": invalid syntax (1:1)'),
        (
            "asInt(result) > 0",
            "99999999999999999999",
            'strconv.ParseInt: parsing "99999999999999999999": value out of range (1:1)',
        ),
        ("asInt(result) > 0", [1], "asInt() not supported on []interface {} [1] (1:1)"),
        ("asFloat(result) > 0", "fast", 'strconv.ParseFloat: parsing "fast": invalid syntax (1:1)'),
        ("isNaN(result)", [0.5], "cannot use []interface {} as argument (type float64) to call isNaN (1:1)"),
        ("isInf(result)", "inf", "cannot use string as argument (type float64) to call isInf (1:1)"),
        ("isNil()", None, "not enough arguments in call to isNil (expected 1, got 0) (1:1)"),
        ("default(result) > 1", None, "not enough arguments in call to default (expected 2, got 1) (1:1)"),
    ],
)
def test_condition_errors(condition: str, result: Any, message: str) -> None:
    with pytest.raises(ExprError) as raised:
        evaluate_condition(condition, result)
    assert str(raised.value) == message


def test_helper_functions_convert_like_argos_go_code() -> None:
    env = argo_environment(None)
    assert env["asInt"]("-42") == -42
    assert env["asInt"](7.9) == 7
    assert env["asFloat"]("2.5e2") == 250.0
    assert env["asFloat"](3) == 3.0
    assert math.isinf(env["asFloat"]("-Inf"))
    assert env["isNaN"](math.nan) is True
    assert env["isNaN"](1) is False
    assert env["isNil"]("ignored") is True
    assert env["default"]("ignored", 5) == 5
    assert argo_environment([1.0])["default"](None, 5) == [1.0]


def test_non_string_condition_is_an_expr_error() -> None:
    with pytest.raises(ExprError, match="expression must be a string"):
        evaluate_condition(None, 1.0)  # type: ignore[arg-type]


def test_repeated_conditions_are_compiled_once() -> None:
    from analysis.expr.conditions import _compiled

    condition = "result >= 0.123456789"
    before = _compiled.cache_info().misses
    for sample in (0.1, 0.2, 0.3):
        evaluate_condition(condition, sample)
    assert _compiled.cache_info().misses == before + 1
