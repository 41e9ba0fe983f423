"""Property tests: whatever the text and whatever JSON-like result, only ``ExprError`` escapes,
and every evaluation terminates (the step budget bounds it; no wall-clock assertion)."""

import contextlib
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.expr import ExprError, Limits, compile_expression, evaluate_condition

SMALL = Limits(max_steps=20_000, max_collection_size=2_000, max_string_length=5_000)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=25,
)

TOKENS = [
    "result",
    "result[0]",
    "result.a",
    "result?.b",
    "#",
    ".x",
    "#index",
    "nil",
    "true",
    "false",
    "0",
    "1",
    "-1",
    "2.5",
    "1e3",
    "0x1F",
    "'a'",
    '"b"',
    "`c`",
    "NaN",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "?",
    "??",
    "?.",
    "+",
    "-",
    "*",
    "/",
    "%",
    "**",
    "^",
    "==",
    "!=",
    "<",
    ">",
    "<=",
    ">=",
    "&&",
    "||",
    "!",
    "and",
    "or",
    "not",
    "in",
    "not in",
    "contains",
    "startsWith",
    "endsWith",
    "matches",
    "..",
    "|",
    ";",
    "let x =",
    "x",
    "if",
    "else",
    "len(",
    "all(",
    "any(",
    "none(",
    "one(",
    "filter(",
    "map(",
    "count(",
    "sum(",
    "mean(",
    "median(",
    "max(",
    "min(",
    "abs(",
    "int(",
    "float(",
    "string(",
    "now()",
    "duration(",
    "'1h'",
    "asInt(",
    "asFloat(",
    "isNaN(",
    "isInf(",
    "isNil(",
    "default(",
    "reduce(",
    "#acc",
    "sort(",
    "split(",
    "join(",
    "repeat(",
    "toJSON(",
    "fromJSON(",
    "'[1,2]'",
    "'^a+$'",
    "'(a|b)*c'",
    "upper(",
    "trim(",
    "first(",
    "last(",
    "keys(",
    "values(",
    "[1, 2, 3]",
    "{a: 1}",
    "1..10",
    "[:",
    ":]",
    "[-1]",
]

token_soup = st.lists(st.sampled_from(TOKENS), min_size=1, max_size=25).map(" ".join)


def only_expr_errors(text: str, result: Any) -> None:
    try:
        outcome = evaluate_condition(text, result, limits=SMALL)
    except ExprError as error:
        assert str(error)
    else:
        assert isinstance(outcome, bool)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=60), result=json_values)
def test_arbitrary_text_raises_only_expr_error(text: str, result: Any) -> None:
    only_expr_errors(text, result)


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(text=token_soup, result=json_values)
def test_token_soup_raises_only_expr_error(text: str, result: Any) -> None:
    only_expr_errors(text, result)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(text=token_soup, result=json_values)
def test_any_value_not_only_bools_evaluates_or_raises_expr_error(text: str, result: Any) -> None:
    try:
        program = compile_expression(text, SMALL)
    except ExprError:
        return
    env = {"result": result, "x": result}
    with contextlib.suppress(ExprError):
        program.evaluate(env)


@settings(max_examples=200)
@given(text=st.text(alphabet="()[]{}!-+#.?:,'\"`\\/*", min_size=1, max_size=400))
def test_punctuation_storms_raise_only_expr_error(text: str) -> None:
    only_expr_errors(text, [1.0])


@settings(max_examples=200)
@given(
    pattern=st.text(alphabet="ab()[]{}*+?|^$\\.-:,0123456789PpdwsQE", max_size=30),
    subject=st.text("ab\n", max_size=40),
)
def test_arbitrary_regex_patterns_raise_only_expr_error(pattern: str, subject: str) -> None:
    with contextlib.suppress(ExprError):
        compile_expression("s matches p", SMALL).evaluate({"s": subject, "p": pattern})


@given(result=st.floats(allow_nan=True, allow_infinity=True))
def test_scalar_conditions_agree_with_python_semantics(result: float) -> None:
    assert evaluate_condition("isNaN(result) || result >= 0.95", result) is (
        math.isnan(result) or result >= 0.95
    )
    assert evaluate_condition("result < 0.5 || result >= 0.5", result) is (not math.isnan(result))


@given(result=st.lists(st.floats(allow_nan=False), max_size=10))
def test_vector_conditions_agree_with_python_semantics(result: list[float]) -> None:
    assert evaluate_condition("len(result) == 0 || result[0] >= 0.95", result) is (
        not result or result[0] >= 0.95
    )
    assert evaluate_condition("all(result, # < 1000)", result) is all(v < 1000 for v in result)
    assert evaluate_condition("any(result, {# < 0})", result) is any(v < 0 for v in result)
    assert evaluate_condition("count(result, # > 1) == len(filter(result, # > 1))", result) is True


# Well-formed expressions, so the evaluator (not only the parser) meets arbitrary combinations.
ATOMS = [
    "result",
    "nil",
    "true",
    "false",
    "0",
    "1",
    "-3",
    "0.5",
    "1e300",
    "'a'",
    "'1.5'",
    "[]",
    "[1, 'x']",
    "{k: 1}",
    "(0..3)",
    "now()",
    "duration('1m')",
    "#",
    "#index",
    ".k",
]
BINARY = [
    "+",
    "-",
    "*",
    "/",
    "%",
    "**",
    "==",
    "!=",
    "<",
    ">=",
    "&&",
    "||",
    "in",
    "contains",
    "matches",
    "..",
    "??",
    "startsWith",
]
CALLS = [
    "len",
    "abs",
    "int",
    "float",
    "string",
    "sum",
    "mean",
    "median",
    "max",
    "min",
    "first",
    "last",
    "upper",
    "sort",
    "reverse",
    "uniq",
    "flatten",
    "toJSON",
    "keys",
    "values",
    "type",
    "asInt",
    "asFloat",
    "isNaN",
    "isInf",
    "isNil",
    "ceil",
    "round",
    "fromJSON",
    "toBase64",
    "duration",
    "trim",
    "count",
]
CLOSURES = ["all", "any", "none", "one", "filter", "map", "find", "findIndex", "count", "sum", "sortBy"]


def combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, st.sampled_from(BINARY), children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["-", "!", "not "]), children).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(CALLS), children).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(CLOSURES), children, children).map(lambda t: f"{t[0]}({t[1]}, {{{t[2]}}})"),
        st.tuples(children, children, children).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
        st.tuples(children, children).map(lambda t: f"{t[0]}[{t[1]}]"),
        st.tuples(children, children).map(lambda t: f"{t[0]}[{t[1]}:]"),
        st.tuples(children, st.sampled_from(["k", "a", "b"])).map(lambda t: f"({t[0]})?.{t[1]}"),
        st.tuples(children, children).map(lambda t: f"(let v = {t[0]}; [v, {t[1]}])"),
        st.tuples(children, children).map(lambda t: f"reduce({t[0]}, #acc, {t[1]})"),
    )


well_formed = st.recursive(st.sampled_from(ATOMS), combine, max_leaves=12)


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(text=well_formed, result=json_values)
def test_well_formed_expressions_raise_only_expr_error(text: str, result: Any) -> None:
    try:
        program = compile_expression(text, SMALL)
    except ExprError:
        return  # e.g. "#" outside a closure
    with contextlib.suppress(ExprError):
        program.evaluate({"result": result, "asInt": int, "isNil": lambda _: result is None})
