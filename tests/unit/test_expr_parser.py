"""Grammar: precedence and associativity as in expr-lang, syntax errors with positions, depth bounds."""

from typing import Any

import pytest

from analysis.expr import ExprError, Limits, compile_expression
from analysis.expr import nodes as n
from analysis.expr.parser import parse


def value(text: str, **env: Any) -> Any:
    return compile_expression(text).evaluate(env)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),
        ("2 ** 3 ** 2", 512.0),
        ("2 ^ 3 ^ 2", 512.0),
        ("-2 ** 2", -4.0),
        ("7 % 4 * 2", 6),
        ("1 + 2 == 3", True),
        ("1 < 2 == true", False),  # chains: 1 < 2 && 2 == true
        ("1 < 2 < 3", True),
        ("3 > 2 > 1", True),
        ("1 < 3 < 2", False),
        ("true || false && false", True),
        ("(true || false) && false", False),
        ("true or false and false", True),
        ("not true == false", True),  # (not true) == false
        ("!false && true", True),
        ("1 + 2 in [3]", True),
        ("1..3 == [1, 2, 3]", True),
        ("2 + 1..3", [3]),
        ("true ? 1 : 2", 1),
        ("false ? 1 : true ? 2 : 3", 2),
        ("1 > 2 ? 'a' : 'b'", "b"),
        ("1 + nil ?? 2", 3),
        ("nil ?? nil ?? 3", 3),
        ("'a' + 'b' contains 'ab'", True),
        ("'abc' not contains 'x'", True),
        ("2 not in [1, 3]", True),
        ("[1, 2, 3] | filter(# > 1) | map(# * 10)", [20, 30]),
        ("let x = 2; let y = x * 3; x + y", 8),
        ("if 1 > 2 { 'a' } else if 2 > 1 { 'b' } else { 'c' }", "b"),
        ("[1, 2,]", [1, 2]),
        ("{a: 1, 'b c': 2, 3: 4, ('d' + 'e'): 5}", {"a": 1, "b c": 2, "3": 4, "de": 5}),
    ],
)
def test_precedence_and_associativity(text: str, expected: Any) -> None:
    assert value(text) == expected


def test_closure_forms_parse_alike() -> None:
    braced = parse("all(x, {# > 1})")
    bare = parse("all(x, # > 1)")
    assert isinstance(braced, n.Call) and isinstance(bare, n.Call)
    assert isinstance(braced.args[1], n.Closure) and isinstance(bare.args[1], n.Closure)


def test_dot_inside_a_closure_reads_a_field_of_the_element() -> None:
    assert value("map(items, .name)", items=[{"name": "a"}, {"name": "b"}]) == ["a", "b"]
    assert value("map(items, #.name)", items=[{"name": "a"}]) == ["a"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("result[0] >= )", 'unexpected token ")" (1:14)'),
        ("(1 + 2", "unexpected end of expression (1:7)"),
        ("1 +", "unexpected end of expression (1:4)"),
        ("a b", 'unexpected token "b" (1:3)'),
        ("foo(1,,2)", 'unexpected token "," (1:7)'),
        ("[1 2]", 'unexpected token "2" (1:4)'),
        ("{a 1}", 'unexpected token "1" (1:4)'),
        (
            "{[1]: 2}",
            "a map key must be a quoted string, a number, an identifier, or an expression enclosed in "
            'parentheses (unexpected token "[") (1:2)',
        ),
        ("a.(", "expected name (1:3)"),
        ("# > 1", "cannot use pointer accessor outside closure (1:1)"),
        (
            "a ?? b + 1",
            "Operator (+) and coalesce expressions (??) cannot be mixed. Wrap either by parentheses. (1:8)",
        ),
        ("a not b", 'unexpected token "b" (1:7)'),
        ("true ? 1", "unexpected end of expression (1:9)"),
        ("all(x)", "expected at least 2 arguments (1:6)"),
        ("let = 1; 2", 'unexpected token "=" (1:5)'),
        ("x |", "unexpected end of expression (1:4)"),
        ("9223372036854775808", "integer literal is too large (1:1)"),
        ("1e400", "invalid float literal: value out of range (1:1)"),
        ("0x", "invalid hex literal: 0x (1:1)"),
        ("", "expression is empty"),
        ("   ", "expression is empty"),
        ("len(x)\n  > )", 'unexpected token ")" (2:5)'),
    ],
)
def test_syntax_errors_name_the_position(text: str, message: str) -> None:
    with pytest.raises(ExprError) as raised:
        compile_expression(text)
    assert str(raised.value) == message


def test_expression_length_is_bounded() -> None:
    with pytest.raises(ExprError, match="expression is too long"):
        compile_expression("1" + " + 1" * 5000)
    compile_expression("1 + 1", Limits(max_source_length=5))
    with pytest.raises(ExprError, match="expression is too long"):
        compile_expression("1 + 12", Limits(max_source_length=5))


@pytest.mark.parametrize(
    "text",
    [
        "(" * 4000 + "1" + ")" * 4000,
        "-" * 9000 + "1",
        "[" * 3000 + "]" * 3000,
        "a" + ".b" * 4000,
        "1" + " + 1" * 2400,
        "2" + " ** 2" * 1500,
        "f(" * 3000 + ")" * 3000,
        "all(x, " * 1000 + "true" + ")" * 1000,
    ],
)
def test_deep_nesting_is_an_expr_error_not_a_recursion_error(text: str) -> None:
    with pytest.raises(ExprError, match="nested too deeply"):
        compile_expression(text)


def test_nesting_just_under_the_limit_compiles_and_evaluates() -> None:
    depth = 40
    assert value("(" * depth + "1" + ")" * depth) == 1
    assert value("1" + " + 1" * 90) == 91


def test_integer_literals_longer_than_python_can_convert_are_too_large() -> None:
    with pytest.raises(ExprError, match="integer literal is too large"):
        compile_expression("1" * 5000)
    assert value("0" * 30 + "7") == 7
