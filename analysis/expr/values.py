"""The value model: Python values standing in for Go's, with Go's names, equality and printing.

Expressions see what Argo's Go code would see after decoding a provider result: ``None`` is nil,
``bool``, ``int`` (Go's int64, arithmetic wraps), ``float`` (float64), ``str``, ``list``
(``[]interface {}``), ``dict`` with string keys (``map[string]interface {}``), an aware
``datetime`` (``time.Time``) and ``Duration`` (``time.Duration``, whole nanoseconds). Python's
``bool`` is an ``int``; every check here tests for ``bool`` first.

Errors raised here carry no position; the evaluator adds the position of the node being evaluated.
Walking a nested value (equality, printing, flattening) is bounded by ``Limits.max_value_depth`` so
a deeply nested provider result cannot exhaust Python's stack.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from analysis.expr.errors import ExprError

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
NANOSECONDS_PER_SECOND = 1_000_000_000


@dataclass(frozen=True, order=True)
class Duration:
    """A Go ``time.Duration``: a signed count of nanoseconds."""

    nanoseconds: int

    def __str__(self) -> str:
        return format_duration(self.nanoseconds)


_GO_TYPE_NAMES: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "bool"),
    (int, "int"),
    (float, "float64"),
    (str, "string"),
    ((list, tuple), "[]interface {}"),
    (Mapping, "map[string]interface {}"),
    (datetime, "time.Time"),
    (Duration, "time.Duration"),
)


def wrap_int(value: int) -> int:
    """Go's int64 two's-complement wrap-around."""
    return ((value - INT64_MIN) % 2**64) + INT64_MIN


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_list(value: Any) -> bool:
    return isinstance(value, list | tuple)


def type_name(value: Any) -> str:
    """The name Go's ``%T`` prints for the equivalent Go value."""
    if value is None:
        return "<nil>"
    for kind, name in _GO_TYPE_NAMES:  # bool before int: Python's bool is an int
        if isinstance(value, kind):
            return name
    return "func" if callable(value) else type(value).__name__


def kind_name(value: Any) -> str:
    """The short kind expr-lang's ``type()`` built-in returns."""
    simple = {"<nil>": "nil", "float64": "float", "[]interface {}": "array", "map[string]interface {}": "map"}
    name = type_name(value)
    return simple.get(name, name)


def to_float(value: int | float) -> float:
    """An int as float64; ints beyond float range become infinities as in Go."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def equal(left: Any, right: Any, max_depth: int) -> bool:
    """expr-lang's ``==``: numbers compare across int and float, other mismatched types are unequal."""
    pending = [(left, right, 0)]
    while pending:
        a, b, depth = pending.pop()
        if depth > max_depth:
            raise ExprError(f"value is nested too deeply to compare (more than {max_depth} levels)")
        if is_number(a) and is_number(b):
            same = a == b if is_int(a) and is_int(b) else to_float(a) == to_float(b)
            if not same:
                return False
        elif is_list(a) and is_list(b):
            if len(a) != len(b):
                return False
            pending.extend((x, y, depth + 1) for x, y in zip(a, b, strict=True))
        elif isinstance(a, Mapping) and isinstance(b, Mapping):
            if len(a) != len(b) or any(key not in b for key in a):
                return False
            pending.extend((a[key], b[key], depth + 1) for key in a)
        elif type_name(a) != type_name(b) or a != b:
            return False
    return True


def format_value(value: Any, max_depth: int, depth: int = 0) -> str:
    """Go's ``%v`` of the equivalent Go value (what ``string()`` returns)."""
    if depth > max_depth:
        raise ExprError(f"value is nested too deeply to print (more than {max_depth} levels)")
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        # Go has no integers beyond 64 bits (a decoder yields float64); printing them as floats also
        # avoids Python's refusal to print integers of more than 4300 digits.
        return str(value) if value.bit_length() <= 64 else format_float(to_float(value))
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, str):
        return value
    if is_list(value):
        return "[" + " ".join(format_value(item, max_depth, depth + 1) for item in value) + "]"
    if isinstance(value, Mapping):
        items = (f"{key}:{format_value(value[key], max_depth, depth + 1)}" for key in sorted(value, key=str))
        return "map[" + " ".join(items) + "]"
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, Duration):
        return str(value)
    return type_name(value)


def format_float(value: float) -> str:
    """Go's ``%v`` of a float64: shortest digits, exponent form below 1e-4 and from 1e6 (``%g``)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    point = len(text) + exponent  # the decimal exponent x of 0.<digits> * 10**x
    prefix = "-" if sign else ""
    if point - 1 < -4 or point - 1 >= 6:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        power = point - 1
        return f"{prefix}{mantissa}e{'-' if power < 0 else '+'}{abs(power):02d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{text}"
    if point >= len(text):
        return f"{prefix}{text}{'0' * (point - len(text))}"
    return f"{prefix}{text[:point]}.{text[point:]}"


def format_time(value: datetime) -> str:
    """Go's default ``time.Time`` layout, e.g. ``2024-05-01 10:00:00.5 +0000 UTC``."""
    fraction = f".{value.microsecond:06d}".rstrip("0").rstrip(".")
    offset = value.strftime("%z") or "+0000"
    zone = value.tzname() or "UTC"
    return value.strftime("%Y-%m-%d %H:%M:%S") + f"{fraction} {offset} {zone}"


def format_duration(nanoseconds: int) -> str:
    """Go's ``Duration.String``: ``1h2m3.5s``, ``1.5ms``, ``0s``."""
    if nanoseconds == 0:
        return "0s"
    sign = "-" if nanoseconds < 0 else ""
    remaining = abs(nanoseconds)
    if remaining < NANOSECONDS_PER_SECOND:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if remaining >= size:
                return sign + _decimal(remaining, size) + unit
    hours, remaining = divmod(remaining, 3600 * NANOSECONDS_PER_SECOND)
    minutes, remaining = divmod(remaining, 60 * NANOSECONDS_PER_SECOND)
    text = _decimal(remaining, NANOSECONDS_PER_SECOND) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{text}"
    if minutes:
        return f"{sign}{minutes}m{text}"
    return sign + text


def _decimal(count: int, unit: int) -> str:
    whole, fraction = divmod(count, unit)
    if not fraction:
        return str(whole)
    width = len(str(unit)) - 1
    return f"{whole}." + f"{fraction:0{width}d}".rstrip("0")


def sequence_items(value: Any) -> Sequence[Any]:
    if not is_list(value):
        raise ExprError(f"cannot iterate over {type_name(value)}")
    result: Sequence[Any] = value
    return result


def check_value_depth(value: Any, max_depth: int) -> None:
    """Reject values nested deeper than ``max_depth`` before a recursive library walks them."""
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if depth > max_depth:
            raise ExprError(f"value is nested too deeply (more than {max_depth} levels)")
        if is_list(item):
            pending.extend((inner, depth + 1) for inner in item)
        elif isinstance(item, Mapping):
            pending.extend((inner, depth + 1) for inner in item.values())
