"""Operators and runtime semantics as in expr-lang, and runtime errors with positions."""

import math
from datetime import UTC, datetime
from typing import Any

import pytest

from analysis.expr import Duration, ExprError, Limits, compile_expression


def value(text: str, **env: Any) -> Any:
    return compile_expression(text).evaluate(env)


def error(text: str, **env: Any) -> str:
    with pytest.raises(ExprError) as raised:
        value(text, **env)
    return str(raised.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7 + 2", 9),
        ("7 - 9", -2),
        ("7 * 3", 21),
        ("7 / 2", 3.5),
        ("6 / 3", 2.0),
        ("7 % 3", 1),
        ("-7 % 3", -1),  # Go: the remainder has the sign of the dividend
        ("7 % -3", 1),
        ("2 ** 10", 1024.0),
        ("2 ^ -1", 0.5),
        ("1 + 0.5", 1.5),
        ("0.1 + 0.2 > 0.3", True),
        ("'ab' + 'cd'", "abcd"),
        ("-(3)", -3),
        ("+3", 3),
        ("--3", 3),
        ("9223372036854775807 + 1", -9223372036854775808),  # int64 wraps as in Go
        ("-9223372036854775807 - 2", 9223372036854775807),
        ("1e308 * 10", math.inf),
    ],
)
def test_arithmetic(text: str, expected: Any) -> None:
    result = value(text)
    assert result == expected
    assert type(result) is type(expected)


def test_division_by_zero_follows_go_floats_and_modulo_by_zero_fails() -> None:
    assert value("1 / 0") == math.inf
    assert value("-1 / 0") == -math.inf
    assert math.isnan(value("0 / 0"))
    assert error("5 % 0") == "integer divide by zero (1:3)"
    assert value("0 ** -1") == math.inf
    assert math.isnan(value("(-8) ** 0.5"))
    assert value("10 ** 400") == math.inf


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 == 1.0", True),
        ("1 != 1.5", True),
        ("'1' == 1", False),
        ("nil == nil", True),
        ("nil == 0", False),
        ("true == 1", False),
        ("[1, 2] == [1.0, 2]", True),
        ("[1, 2] == [1, 2, 3]", False),
        ("{a: 1} == {a: 1.0}", True),
        ("{a: 1} == {b: 1}", False),
        ("1 < 1.5", True),
        ("2 >= 2.0", True),
        ("'abc' < 'abd'", True),
        ("'b' > 'a'", True),
        ("x == x", False),  # NaN
        ("x < 1 || x >= 1", False),
    ],
)
def test_comparison(text: str, expected: bool) -> None:
    assert value(text, x=math.nan) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2 in [1, 2]", True),
        ("2.0 in [1, 2]", True),
        ("'a' in ['b']", False),
        ("'a' in {a: nil}", True),
        ("'z' in {a: 1}", False),
        ("1 in nil", False),
        ("[1] in [[1], [2]]", True),
        ("'ell' contains 'l'", True),
        ("'hello' startsWith 'he'", True),
        ("'hello' endsWith 'lo'", True),
        ("'hello' not startsWith 'lo'", True),
        ("'abc' matches 'b+'", True),
        ("'abc' not matches '^b'", True),
    ],
)
def test_membership_and_string_operators(text: str, expected: bool) -> None:
    assert value(text) is expected


def test_logic_short_circuits() -> None:
    # The right side would fail if evaluated.
    assert value("false && result[5] > 1", result=[]) is False
    assert value("true || result[5] > 1", result=[]) is True
    assert value("false and undefined_name", result=[]) is False
    assert value("nil ?? 'fallback'") == "fallback"
    assert value("'set' ?? result[9]", result=[]) == "set"
    assert value("true ? 1 : result[9]", result=[]) == 1


def test_members_indexes_and_slices() -> None:
    result = {"a": {"b": [10, 20, 30]}, "average.duration": 0.5, "none": None}
    assert value("result.a.b[0]", result=result) == 10
    assert value("result['a']['b'][-1]", result=result) == 30
    assert value("result['average.duration']", result=result) == 0.5
    assert value("result.missing", result=result) is None
    assert value("result.none?.deeper.still", result=result) is None
    assert value("result?.a?.b[1]", result=result) == 20
    assert value("result.a.b[1.9]", result=result) == 20  # Go truncates float indexes
    assert value("result.a.b[1:]", result=result) == [20, 30]
    assert value("result.a.b[:-1]", result=result) == [10, 20]
    assert value("result.a.b[-100:100]", result=result) == [10, 20, 30]
    assert value("result.a.b[2:1]", result=result) == []
    assert value("'hello'[1:3]") == "el"
    assert value("'abc'[0]") == 97  # a Go string indexes bytes
    assert value("len('é')") == 2
    assert value("$env.result.a.b[0]", result=result) == 10


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("result[0]", "index out of range: 0 (array length is 0) (1:7)"),
        ("result[-1]", "index out of range: -1 (array length is 0) (1:7)"),
        ("[1, 2][5]", "index out of range: 5 (array length is 2) (1:7)"),
        ("[1, 2][-3]", "index out of range: -1 (array length is 2) (1:7)"),
        ("[1]['a']", "cannot use string as index to []interface {} (1:4)"),
        ("{a: 1}[0]", "cannot use int as index to map[string]interface {} (1:7)"),
        ("(nil).field", "cannot fetch field from <nil> (1:7)"),
        ("(1).field", "cannot fetch field from int (1:5)"),
        ("(nil)[1:2]", "cannot slice <nil> (1:6)"),
        ("1 + 'a'", "invalid operation: int + string (1:3)"),
        ("'a' - 'b'", "invalid operation: string - string (1:5)"),
        ("1.5 % 2", "invalid operation: float64 % int (1:5)"),
        ("[1] < [2]", "invalid operation: []interface {} < []interface {} (1:5)"),
        ("nil > 1", "invalid operation: <nil> > int (1:5)"),
        ("-'a'", "invalid operation: - string (1:1)"),
        ("!1", "invalid operation: ! int (1:1)"),
        ("1 && true", "invalid operation: non-bool value (type int) used with && (1:3)"),
        ("false || 'x' == 1 || 1", "invalid operation: non-bool value (type int) used with || (1:19)"),
        ("1 ? 2 : 3", "non-bool expression (type int) used as condition (1:3)"),
        ("1 in 'abc'", 'operator "in" not defined on string (1:3)'),
        ("1 in {a: 1}", "cannot use int as index to map[string]interface {} (1:3)"),
        ("1 contains 'a'", "invalid operation: int contains string (1:3)"),
        ("1.5..3", "invalid operation: float64 .. int (1:4)"),
        ("undefined > 1", "unknown name undefined (1:1)"),
        ("nofunc(1)", "unknown func nofunc (1:1)"),
        ("result(1)", "result is not a function (type []interface {}) (1:1)"),
        ("all(1, # > 0)", "cannot iterate over int in all (1:1)"),
        ("all([1], #)", "predicate of all should return boolean (got int) (1:1)"),
        ("{(1): 2}", "map key must be a string, got int (1:1)"),
        ("now().Nope()", "type time.Time has no method Nope taking 0 argument(s) (1:7)"),
        ("map([1], #unknown)", "unknown pointer #unknown (1:10)"),
    ],
)
def test_runtime_errors_name_the_failing_node(text: str, message: str) -> None:
    assert error(text, result=[]) == message


def test_functions_from_the_environment_are_called() -> None:
    assert value("double(21)", double=lambda x: x * 2) == 42

    def broken(_: Any) -> Any:
        raise KeyError("boom")

    assert error("broken(1)", broken=broken) == "broken: 'boom' (1:1)"


def test_closure_variables() -> None:
    assert value("map([10, 20], #index)") == [0, 1]
    assert value("map([[1, 2], [3]], sum(#))") == [3, 3]
    assert value("map([[1, 2], [3]], map(#, # * 10))") == [[10, 20], [30]]
    assert value("reduce([1, 2, 3], #acc + #)") == 6
    assert value("reduce([1, 2, 3], #acc + #, 10)") == 16


def test_let_scopes_shadow_the_environment() -> None:
    assert value("let result = 5; result * 2", result=[1]) == 10
    assert value("(let x = 1; x) + (let x = 2; x)") == 3


def test_times_and_durations() -> None:
    fixed = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    program = compile_expression("now() - duration('1h30m')")
    assert program.evaluate({}, clock=lambda: fixed) == datetime(2024, 5, 1, 10, 30, tzinfo=UTC)
    assert compile_expression("now() - start").evaluate({"start": fixed}, clock=lambda: fixed) == Duration(0)
    assert value("duration('1h') > duration('59m')") is True
    assert value("duration('1h') + duration('30m') == duration('90m')") is True
    assert value("duration('1.5s') * 2") == Duration(3_000_000_000)
    assert value("duration('90s').Minutes()") == 1.5
    assert value("duration('1h').Seconds()") == 3600.0
    assert value("string(duration('1h2m'))") == "1h2m0s"
    moment = compile_expression("now().Year() == 2024 && now().Add(duration('24h')).Day() == 2")
    assert moment.evaluate({}, clock=lambda: datetime(2024, 5, 1, tzinfo=UTC)) is True


def test_step_budget_stops_runaway_work() -> None:
    small = Limits(max_steps=1_000)
    with pytest.raises(ExprError, match="budget of 1000 steps"):
        compile_expression("map(1..5000, # * 2)", small).evaluate({})
    with pytest.raises(ExprError, match="budget of 1000 steps"):
        compile_expression("all(x, all(x, all(x, true)))", small).evaluate({"x": list(range(20))})
    assert compile_expression("sum(1..100)", small).evaluate({}) == 5050


def test_default_budget_stops_nested_loops_over_large_ranges() -> None:
    with pytest.raises(ExprError, match="budget"):
        value("all(1..100000, {all(1..100000, true)})")


def test_built_values_are_bounded() -> None:
    with pytest.raises(ExprError, match="maximum size of 100000"):
        value("0..100000")
    with pytest.raises(ExprError, match="string is too long"):
        value("reduce(1..20, #acc + #acc, 'xy')")
    with pytest.raises(ExprError, match="collection is too large"):
        compile_expression("[1, 2, 3]", Limits(max_collection_size=2)).evaluate({})


def test_deeply_nested_results_are_walked_within_bounds() -> None:
    nested: Any = 1
    for _ in range(5000):
        nested = [nested]
    with pytest.raises(ExprError, match="nested too deeply"):
        value("result == result", result=nested)
    with pytest.raises(ExprError, match="nested too deeply"):
        value("string(result)", result=nested)
    assert value("len(result)", result=nested) == 1


def test_a_program_is_reusable() -> None:
    program = compile_expression("result * 2")
    assert [program.evaluate({"result": n}) for n in (1, 2.5)] == [2, 5.0]
