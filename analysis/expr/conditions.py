"""Argo Rollouts' use of expressions: the environment of a metric condition and its bool rule.

Argo evaluates ``successCondition``/``failureCondition`` with ``result`` (the provider's value) and
six helper functions; a condition that yields anything but a bool is an error ("expected bool, but
got float64"). The helpers behave as Argo's Go code does: ``asInt``/``asFloat`` parse strings with
Go's ``strconv`` rules and error texts, ``isNil`` and ``default`` look at ``result`` itself and
ignore their first argument.

Compiled conditions are cached by text: a controller evaluates the same few conditions for every
measurement of every run.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from analysis.expr.builtins import convert_number
from analysis.expr.errors import ExprError
from analysis.expr.limits import DEFAULT_LIMITS, Limits
from analysis.expr.program import Program, compile_expression, utc_now
from analysis.expr.values import format_value, is_number, to_float, type_name


def _arity(name: str, args: tuple[Any, ...], expected: int) -> None:
    if len(args) != expected:
        problem = "not enough" if len(args) < expected else "too many"
        raise ExprError(f"{problem} arguments in call to {name} (expected {expected}, got {len(args)})")


def _argo_conversion(name: str, to_int: bool, parser: str) -> Callable[..., int | float]:
    def convert(*args: Any) -> int | float:
        _arity(name, args, 1)
        return convert_number(
            args[0],
            to_int,
            lambda text, reason: ExprError(f'strconv.{parser}: parsing "{text}": {reason}'),
            lambda value: ExprError(f"{name}() not supported on {type_name(value)} {format_value(value, 4)}"),
        )

    return convert


as_int = _argo_conversion("asInt", to_int=True, parser="ParseInt")
"""Argo's ``asInt``: numbers truncate to int64, strings parse in base 10."""

as_float = _argo_conversion("asFloat", to_int=False, parser="ParseFloat")
"""Argo's ``asFloat``: numbers convert, strings parse with Go's ``strconv.ParseFloat``."""


def _float_argument(name: str, args: tuple[Any, ...]) -> float:
    _arity(name, args, 1)
    if not is_number(args[0]):
        raise ExprError(f"cannot use {type_name(args[0])} as argument (type float64) to call {name}")
    return to_float(args[0])


def is_nan(*args: Any) -> bool:
    return math.isnan(_float_argument("isNaN", args))


def is_inf(*args: Any) -> bool:
    return math.isinf(_float_argument("isInf", args))


def argo_environment(result: Any) -> dict[str, Any]:
    """What Argo's ``EvalCondition`` puts in scope for one measurement."""

    def is_nil(*args: Any) -> bool:
        _arity("isNil", args, 1)
        return result is None

    def default(*args: Any) -> Any:
        _arity("default", args, 2)
        return args[1] if result is None else result

    return {
        "result": result,
        "asInt": as_int,
        "asFloat": as_float,
        "isNaN": is_nan,
        "isInf": is_inf,
        "isNil": is_nil,
        "default": default,
    }


@functools.lru_cache(maxsize=1024)
def _compiled(text: str, limits: Limits) -> Program:
    return compile_expression(text, limits)


def evaluate_condition(
    text: str,
    result: Any,
    *,
    limits: Limits = DEFAULT_LIMITS,
    clock: Callable[[], datetime] = utc_now,
) -> bool:
    """Evaluate a success or failure condition against a measurement's ``result``."""
    if not isinstance(text, str):
        raise ExprError(f"expression must be a string, got {type(text).__name__}")
    value = _compiled(text, limits).evaluate(argo_environment(result), clock=clock)
    if not isinstance(value, bool):
        raise ExprError(f"expected bool, but got {type_name(value)}")
    return value
