"""Every built-in function: results as in expr-lang, argument errors, bounded outputs."""

import math
from datetime import UTC, datetime
from typing import Any

import pytest

from analysis.expr import Duration, ExprError, Limits, compile_expression

USERS = [{"name": "ann", "age": 31}, {"name": "bob", "age": 25}, {"name": "cy", "age": 40}]


def value(text: str) -> Any:
    return compile_expression(text).evaluate({"users": USERS, "nan": math.nan})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("len([1, 2, 3])", 3),
        ("len({a: 1, b: 2})", 2),
        ("len('hello')", 5),
        ("all([1, 2], # > 0)", True),
        ("all([], # > 0)", True),
        ("any([1, 2], # > 1)", True),
        ("any([], # > 0)", False),
        ("none([1, 2], # > 2)", True),
        ("one([1, 2, 3], # > 2)", True),
        ("one([1, 2, 3], # > 1)", False),
        ("filter(0..9, # % 2 == 0)", [0, 2, 4, 6, 8]),
        ("map(users, .name)", ["ann", "bob", "cy"]),
        ("count(users, .age > 30)", 2),
        ("count([true, false, true])", 2),
        ("find(users, .age < 30).name", "bob"),
        ("find([1, 2], # > 5)", None),
        ("findIndex([1, 2, 3, 4], # > 2)", 2),
        ("findLast([1, 2, 3, 4], # > 2)", 4),
        ("findLastIndex([1, 2, 3, 4], # > 2)", 3),
        ("findIndex([1], # > 5)", -1),
        ("reduce(1..4, #acc * #)", 24),
        ("sortBy(users, .age) | map(.name)", ["bob", "ann", "cy"]),
        ("sortBy(users, .name, 'desc') | map(.name)", ["cy", "bob", "ann"]),
        ("sum([1, 2, 3])", 6),
        ("sum([1, 2.5])", 3.5),
        ("sum(users, .age)", 96),
        ("sum([])", 0),
        ("mean([1, 2, 3, 4])", 2.5),
        ("mean([])", 0.0),
        ("median([3, 1, 2])", 2.0),
        ("median([4, 1, 3, 2])", 2.5),
        ("max(5, 7)", 7),
        ("max([1, 9.5, 3])", 9.5),
        ("min([4, 2], 3)", 2),
        ("max([])", None),
        ("abs(-5)", 5),
        ("abs(-2.5)", 2.5),
        ("ceil(1.2)", 2.0),
        ("floor(-1.2)", -2.0),
        ("round(2.5)", 3.0),
        ("round(-2.5)", -3.0),
        ("round(0.49999999999999994)", 0.0),
        ("ceil(3)", 3.0),
        ("int('123')", 123),
        ("int(-3.9)", -3),
        ("int(7)", 7),
        ("float('1.5e3')", 1500.0),
        ("float(2)", 2.0),
        ("string(123)", "123"),
        ("string(0.1)", "0.1"),
        ("string(1e21)", "1e+21"),
        ("string(100.0)", "100"),
        ("string(123456.0)", "123456"),
        ("string(1000000.0)", "1e+06"),
        ("string(123456789.0)", "1.23456789e+08"),
        ("string(nil)", "<nil>"),
        ("string(true)", "true"),
        ("string([1, 'a', [2.5]])", "[1 a [2.5]]"),
        ("string({b: 2, a: 1})", "map[a:1 b:2]"),
        ("type(1)", "int"),
        ("type(1.5)", "float"),
        ("type('s')", "string"),
        ("type(nil)", "nil"),
        ("type([])", "array"),
        ("type({})", "map"),
        ("type(duration('1s'))", "time.Duration"),
        ("trim('  hi  ')", "hi"),
        ("trim('__hi__', '_')", "hi"),
        ("trimPrefix('HelloWorld', 'Hello')", "World"),
        ("trimSuffix('HelloWorld', 'World')", "Hello"),
        ("upper('hello')", "HELLO"),
        ("lower('HELLO')", "hello"),
        ("split('a,b,c', ',')", ["a", "b", "c"]),
        ("split('a,b,c', ',', 2)", ["a", "b,c"]),
        ("split('abc', '')", ["a", "b", "c"]),
        ("splitAfter('a,b,c', ',')", ["a,", "b,", "c"]),
        ("replace('Hello World', 'World', 'Universe')", "Hello Universe"),
        ("repeat('Hi', 3)", "HiHiHi"),
        ("join(['a', 'b'], ',')", "a,b"),
        ("join(['a', 'b'])", "ab"),
        ("indexOf('apple pie', 'pie')", 6),
        ("indexOf('héllo', 'l')", 3),
        ("lastIndexOf('apple pie apple', 'apple')", 10),
        ("indexOf('abc', 'z')", -1),
        ("hasPrefix('HelloWorld', 'Hello')", True),
        ("hasSuffix('HelloWorld', 'World')", True),
        ("first([1, 2])", 1),
        ("first([])", None),
        ("last([1, 2])", 2),
        ("get([1, 2], 5)", None),
        ("get({a: 1}, 'a')", 1),
        ("take([1, 2, 3, 4], 2)", [1, 2]),
        ("take([1], 5)", [1]),
        ("keys({a: 1, b: 2})", ["a", "b"]),
        ("values({a: 1, b: 2})", [1, 2]),
        ("toPairs({a: 1})", [["a", 1]]),
        ("fromPairs([['a', 1]])", {"a": 1}),
        ("sort([3, 1, 2])", [1, 2, 3]),
        ("sort(['b', 'a'], 'desc')", ["b", "a"]),
        ("reverse([1, 2, 3])", [3, 2, 1]),
        ("uniq([1, 2, 1, 1.0, 3])", [1, 2, 3]),
        ("concat([1], [2, 3])", [1, 2, 3]),
        ("flatten([1, [2, [3]]])", [1, 2, 3]),
        ("toJSON({b: [1, 'x'], a: nil})", '{\n  "a": null,\n  "b": [\n    1,\n    "x"\n  ]\n}'),
        ("fromJSON('{\"a\": [1, 2.5, true, null]}')", {"a": [1.0, 2.5, True, None]}),
        ("toBase64('Hello World')", "SGVsbG8gV29ybGQ="),
        ("fromBase64('SGVsbG8gV29ybGQ=')", "Hello World"),
        ("duration('1h30m')", Duration(5_400_000_000_000)),
        ("duration('-1.5s')", Duration(-1_500_000_000)),
        ("duration('300ms') == duration('0.3s')", True),
        ("duration('1us') == duration('1µs')", True),
        ("date('2023-08-14')", datetime(2023, 8, 14, tzinfo=UTC)),
        ("date('2023-08-14T10:00:00Z')", datetime(2023, 8, 14, 10, tzinfo=UTC)),
        ("bitand(0b1010, 0b1100)", 0b1000),
        ("bitor(0b1010, 0b1100)", 0b1110),
        ("bitxor(0b1010, 0b1100)", 0b110),
        ("bitnand(0b1010, 0b1100)", 0b10),
        ("bitnot(0b1010)", -0b1011),
        ("bitshl(0b101101, 2)", 0b10110100),
        ("bitshr(0b101101, 2)", 0b1011),
        ("bitushr(-0b101, 2)", 4611686018427387902),
    ],
)
def test_builtin_results(text: str, expected: Any) -> None:
    assert value(text) == expected


def test_int_of_nan_is_min_int64_as_go_on_amd64() -> None:
    assert value("int(nan)") == -(2**63)
    assert math.isnan(value("float('NaN')"))
    assert value("float('+Inf')") == math.inf


def test_now_uses_the_injected_clock() -> None:
    fixed = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert compile_expression("now()").evaluate({}, clock=lambda: fixed) == fixed
    assert (
        compile_expression("string(now())").evaluate({}, clock=lambda: fixed)
        == "2030-01-02 03:04:05 +0000 UTC"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("len(1)", "invalid argument for len (type int)"),
        ("len()", "invalid number of arguments for len (expected 1, got 0)"),
        ("abs('x')", "invalid argument for abs (type string)"),
        ("int('abc')", "invalid operation: int(abc)"),
        ("int(' 1')", "invalid operation: int( 1)"),
        ("int(true)", "invalid argument for int (type bool)"),
        ("float('1_0')", "invalid operation: float(1_0)"),
        ("float('1e400')", "invalid operation: float(1e400)"),
        ("float(nil)", "invalid argument for float (type <nil>)"),
        ("sum(['a'])", "invalid argument for sum (type string)"),
        ("mean(['a'])", "invalid argument for mean (type string)"),
        ("max()", "not enough arguments to call max"),
        ("max([1, 'a'])", "invalid argument for max (type string)"),
        ("count([1])", "invalid argument for count (type int)"),
        ("upper(1)", "invalid argument for upper (type int)"),
        ("repeat('x', -1)", "invalid argument for repeat (expected positive integer, got -1)"),
        ("repeat('x', 1000000)", "string is too long"),
        ("replace(repeat('x', 1000), 'x', repeat('y', 1000))", "string is too long"),
        ("join([1])", "invalid argument for join (type int)"),
        ("sort([1, 'a'])", "invalid argument for sort (type string)"),
        ("sort([1], 'up')", 'unknown order up, use "asc" or "desc"'),
        ("keys([1])", "invalid argument for keys (type []interface {})"),
        ("fromPairs([[1, 2]])", "invalid argument for fromPairs (type []interface {})"),
        ("fromJSON('{')", "invalid JSON"),
        ("fromJSON('NaN')", "invalid character 'N' looking for beginning of value"),
        ("toJSON(nan)", "json: unsupported value: NaN or Inf"),
        ("fromBase64('***')", "illegal base64 data"),
        ("reduce([], #acc + #)", "reduce of empty array with no initial value"),
        ("duration('abc')", 'time: invalid duration "abc"'),
        ("duration('5')", 'time: missing unit in duration "5"'),
        ("duration('5y')", 'time: unknown unit "y" in duration "5y"'),
        ("duration('')", 'time: invalid duration ""'),
        ("duration('9999999999h')", 'time: invalid duration "9999999999h"'),
        ("date('yesterday')", "invalid date yesterday"),
        ("bitshl(1, -1)", "negative shift amount"),
        ("now(1)", "invalid number of arguments for now (expected 0, got 1)"),
    ],
)
def test_builtin_errors(text: str, message: str) -> None:
    with pytest.raises(ExprError) as raised:
        value(text)
    assert message in str(raised.value)
    assert str(raised.value).endswith("(1:1)")


def test_split_output_is_bounded() -> None:
    program = compile_expression("split(repeat('a', 11), '')", Limits(max_collection_size=10))
    with pytest.raises(ExprError, match="collection is too large"):
        program.evaluate({})


def test_huge_numbers_stay_within_go_ranges_and_python_limits() -> None:
    # Python refuses int() of text longer than 4300 digits; these must still be ExprErrors or values.
    with pytest.raises(ExprError, match="invalid operation: int"):
        value("int(repeat('1', 5000))")
    assert value("int('-0009')") == -9
    assert value("int('+5')") == 5
    huge = compile_expression("string(r)").evaluate({"r": 10**6000})
    assert huge == "+Inf"
