"""The operators of the language as pure functions of values.

Each mirrors expr-lang's runtime helpers: Go's numeric promotion (int op int stays int and wraps
at 64 bits, anything with a float is float64, ``/`` is always float64 so ``1/0`` is ``+Inf``),
``%`` on integers only with Go's truncated remainder, ``**`` through Go's ``math.Pow`` rules,
strings as Go strings (``len`` and indexing count UTF-8 bytes), a missing map key reads as nil.
Errors are ``ExprError`` without a position; the evaluator adds the operator's position.

Anything that builds a value (strings, ranges, slices) charges the step budget for its size and
checks the size caps first, so no operator can allocate without bound.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from analysis.expr import regexes
from analysis.expr.errors import ExprError
from analysis.expr.limits import Limits
from analysis.expr.values import (
    INT64_MIN,
    Duration,
    equal,
    format_value,
    is_int,
    is_list,
    is_number,
    to_float,
    type_name,
    wrap_int,
)


class Budget(Protocol):
    """What operators need from the running evaluation: the limits and the step counter."""

    @property
    def limits(self) -> Limits: ...

    def charge(self, steps: int) -> None: ...


def mismatch(left: Any, operator: str, right: Any) -> ExprError:
    return ExprError(f"invalid operation: {type_name(left)} {operator} {type_name(right)}")


def checked_string(text: str, budget: Budget) -> str:
    limit = budget.limits.max_string_length
    if len(text) > limit:
        raise ExprError(f"string is too long ({len(text)} characters, at most {limit})")
    budget.charge(len(text) // 100)
    return text


def checked_size(size: int, budget: Budget) -> None:
    limit = budget.limits.max_collection_size
    if size > limit:
        raise ExprError(f"collection is too large ({size} elements, at most {limit})")
    budget.charge(size)


def unary(operator: str, operand: Any) -> Any:
    if operator in ("not", "!"):
        if isinstance(operand, bool):
            return not operand
    elif operator == "-":
        if is_int(operand):
            return wrap_int(-operand)
        if isinstance(operand, float):
            return -operand
        if isinstance(operand, Duration):
            return Duration(wrap_int(-operand.nanoseconds))
    elif operator == "+" and (is_number(operand) or isinstance(operand, Duration)):
        return operand
    raise ExprError(f"invalid operation: {operator} {type_name(operand)}")


def binary(operator: str, left: Any, right: Any, budget: Budget) -> Any:
    """Every binary operator except the short-circuiting ``and``, ``or`` and ``??``."""
    if operator == "==":
        return equal(left, right, budget.limits.max_value_depth)
    if operator == "!=":
        return not equal(left, right, budget.limits.max_value_depth)
    if operator in ("<", ">", "<=", ">="):
        return compare(operator, left, right)
    if operator in ("+", "-", "*", "/", "%", "**", "^"):
        return arithmetic(operator, left, right, budget)
    if operator == "in":
        return contains_element(right, left, budget)
    if operator in ("contains", "startsWith", "endsWith"):
        return string_test(operator, left, right, budget)
    if operator == "matches":
        if not (isinstance(left, str) and isinstance(right, str)):
            raise mismatch(left, operator, right)
        return regexes.search(right, left, budget, budget.limits.max_pattern_length)
    if operator == "..":
        return make_range(left, right, budget)
    raise ExprError(f"unknown operator {operator}")


def compare(operator: str, left: Any, right: Any) -> bool:
    if is_number(left) and is_number(right):
        if not (is_int(left) and is_int(right)):
            left, right = to_float(left), to_float(right)
    elif not (
        (isinstance(left, str) and isinstance(right, str))
        or (isinstance(left, datetime) and isinstance(right, datetime))
        or (isinstance(left, Duration) and isinstance(right, Duration))
    ):
        raise mismatch(left, operator, right)
    if operator == "<":
        return bool(left < right)
    if operator == ">":
        return bool(left > right)
    if operator == "<=":
        return bool(left <= right)
    return bool(left >= right)


def arithmetic(operator: str, left: Any, right: Any, budget: Budget) -> Any:
    if is_number(left) and is_number(right):
        return numeric(operator, left, right)
    if operator == "+" and isinstance(left, str) and isinstance(right, str):
        return checked_string(left + right, budget)
    return temporal(operator, left, right)


def numeric(operator: str, left: int | float, right: int | float) -> int | float:
    both_int = is_int(left) and is_int(right)
    if operator == "%":
        if not both_int:
            raise mismatch(left, operator, right)
        return go_remainder(int(left), int(right))
    if operator in ("**", "^"):
        return go_pow(to_float(left), to_float(right))
    if operator == "/":
        return go_divide(to_float(left), to_float(right))
    if both_int:
        exact = {"+": left + right, "-": left - right, "*": left * right}[operator]
        return wrap_int(int(exact))
    a, b = to_float(left), to_float(right)
    return {"+": a + b, "-": a - b, "*": a * b}[operator]


def go_remainder(left: int, right: int) -> int:
    """Go's ``%``: the remainder takes the sign of the dividend."""
    if right == 0:
        raise ExprError("integer divide by zero")
    remainder = abs(left) % abs(right)
    return wrap_int(-remainder if left < 0 else remainder)


def go_divide(left: float, right: float) -> float:
    """IEEE division as Go does it: no exception, ±Inf or NaN for a zero divisor."""
    if right != 0:
        return left / right
    if left == 0 or math.isnan(left):
        return math.nan
    negative = (left < 0) != (math.copysign(1.0, right) < 0)
    return -math.inf if negative else math.inf


def go_pow(base: float, exponent: float) -> float:
    """Go's ``math.Pow``, which never raises: overflow is ±Inf, 0 to a negative power +Inf."""
    try:
        return math.pow(base, exponent)
    except OverflowError:
        odd_integer = exponent.is_integer() and int(exponent) % 2 == 1
        return -math.inf if base < 0 and odd_integer else math.inf
    except ValueError:
        if base == 0:
            odd_integer = exponent.is_integer() and int(exponent) % 2 == 1
            return -math.inf if math.copysign(1.0, base) < 0 and odd_integer else math.inf
        return math.nan


def temporal(operator: str, left: Any, right: Any) -> Any:
    """Arithmetic on times and durations, as Go's time package allows it."""
    if isinstance(left, Duration) and isinstance(right, Duration) and operator in ("+", "-", "*"):
        a, b = left.nanoseconds, right.nanoseconds
        return Duration(wrap_int({"+": a + b, "-": a - b, "*": a * b}[operator]))
    if operator == "*" and isinstance(left, Duration) and is_number(right):
        return scale(left, right)
    if operator == "*" and is_number(left) and isinstance(right, Duration):
        return scale(right, left)
    if isinstance(left, datetime) and isinstance(right, Duration) and operator in ("+", "-"):
        return shift(left, right.nanoseconds if operator == "+" else -right.nanoseconds)
    if isinstance(left, Duration) and isinstance(right, datetime) and operator == "+":
        return shift(right, left.nanoseconds)
    if isinstance(left, datetime) and isinstance(right, datetime) and operator == "-":
        if (left.tzinfo is None) != (right.tzinfo is None):
            raise ExprError("cannot subtract a time without a time zone from one with a time zone")
        delta = left - right
        microseconds = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        return Duration(wrap_int(microseconds * 1_000))
    raise mismatch(left, operator, right)


def scale(duration: Duration, factor: int | float) -> Duration | float:
    if is_int(factor):
        return Duration(wrap_int(duration.nanoseconds * int(factor)))
    return float(duration.nanoseconds) * float(factor)


def shift(moment: datetime, nanoseconds: int) -> datetime:
    try:
        return moment + timedelta(microseconds=nanoseconds // 1_000)
    except OverflowError:
        raise ExprError("time out of range") from None


def contains_element(container: Any, needle: Any, budget: Budget) -> bool:
    """``needle in container``: an element of a list, a key of a map; nil contains nothing."""
    if container is None:
        return False
    if is_list(container):
        budget.charge(len(container))
        depth = budget.limits.max_value_depth
        return any(equal(item, needle, depth) for item in container)
    if isinstance(container, Mapping):
        if not isinstance(needle, str):
            raise ExprError(f"cannot use {type_name(needle)} as index to {type_name(container)}")
        return needle in container
    raise ExprError(f'operator "in" not defined on {type_name(container)}')


def string_test(operator: str, left: Any, right: Any, budget: Budget) -> bool:
    if not (isinstance(left, str) and isinstance(right, str)):
        raise mismatch(left, operator, right)
    budget.charge(len(left) // 100)
    if operator == "contains":
        return right in left
    if operator == "startsWith":
        return left.startswith(right)
    return left.endswith(right)


def make_range(first: Any, last: Any, budget: Budget) -> list[int]:
    if not (is_int(first) and is_int(last)):
        raise mismatch(first, "..", last)
    first, last = wrap_int(first), wrap_int(last)
    size = last - first + 1
    if size <= 0:
        return []
    if size > budget.limits.max_collection_size:
        raise ExprError(
            f"range {first}..{last} exceeds the maximum size of {budget.limits.max_collection_size}"
        )
    checked_size(size, budget)
    return list(range(first, last + 1))


def to_index(value: Any, container: Any) -> int:
    """An index as Go's ``runtime.ToInt`` makes it: floats truncate, NaN and ±Inf become MinInt64."""
    if is_int(value):
        return wrap_int(int(value))
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and abs(value) < 2**63 else INT64_MIN
    raise ExprError(f"cannot use {type_name(value)} as index to {type_name(container)}")


def fetch(obj: Any, key: Any, budget: Budget) -> Any:
    """``obj[key]`` and ``obj.key``."""
    if isinstance(obj, Mapping):
        if not isinstance(key, str):
            raise ExprError(f"cannot use {type_name(key)} as index to {type_name(obj)}")
        return obj.get(key)
    if is_list(obj) or isinstance(obj, str):
        sequence: Any = obj.encode("utf-8", "surrogatepass") if isinstance(obj, str) else obj
        index = to_index(key, obj)
        length = len(sequence)
        position = index + length if index < 0 else index
        if not 0 <= position < length:
            raise ExprError(f"index out of range: {position} (array length is {length})")
        return sequence[position]
    shown = format_value(key, budget.limits.max_value_depth)
    raise ExprError(f"cannot fetch {shown} from {type_name(obj)}")


def slice_of(obj: Any, start: Any, stop: Any, budget: Budget) -> Any:
    """``obj[start:stop]`` with Go's clamping of out-of-range bounds (never an error)."""
    if not (is_list(obj) or isinstance(obj, str)):
        raise ExprError(f"cannot slice {type_name(obj)}")
    sequence: Any = obj.encode("utf-8", "surrogatepass") if isinstance(obj, str) else obj
    length = len(sequence)
    first = 0 if start is None else to_index(start, obj)
    last = length if stop is None else to_index(stop, obj)
    first = max(first + length if first < 0 else first, 0)
    last = min(max(last + length if last < 0 else last, 0), length)
    first = min(first, last)
    budget.charge(last - first)
    part = sequence[first:last]
    if isinstance(obj, str):
        return part.decode("utf-8", "replace")
    return list(part)
