"""Times and durations: ``now()``, ``duration()``, ``date()`` and the methods expressions may call.

Go's ``time.Duration`` is kept exact (integer nanoseconds, parsed with Go's grammar and error
texts); a ``time.Time`` is an aware ``datetime`` (microsecond precision, which is all Argo's
range-query bounds need). Only the methods users reach for in conditions exist; any other is a
clear error rather than a silent nil.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from analysis.expr.errors import ExprError
from analysis.expr.operators import compare, temporal
from analysis.expr.values import INT64_MAX, NANOSECONDS_PER_SECOND, Duration, format_value, type_name

UNITS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,
    "\u03bcs": 1_000,
    "ms": 1_000_000,
    "s": NANOSECONDS_PER_SECOND,
    "m": 60 * NANOSECONDS_PER_SECOND,
    "h": 3600 * NANOSECONDS_PER_SECOND,
}
COMPONENT = re.compile(r"([0-9]*(?:\.[0-9]*)?)([^0-9.]*)")
DATE_LAYOUTS = ("%Y-%m-%d", "%H:%M:%S", "%Y-%m-%d %H:%M:%S")


def parse_duration(text: str) -> Duration:
    """Go's ``time.ParseDuration``: ``300ms``, ``-1.5h``, ``2h45m``; units ns us µs ms s m h."""
    invalid = ExprError(f'time: invalid duration "{text}"')
    body = text[1:] if text[:1] in ("+", "-") else text
    if body == "0":
        return Duration(0)
    if not body:
        raise invalid
    total = Fraction(0)
    position = 0
    while position < len(body):
        match = COMPONENT.match(body, position)
        assert match is not None  # the pattern also matches the empty string
        number, unit = match.groups()
        if number in ("", "."):
            raise invalid
        if not unit:
            raise ExprError(f'time: missing unit in duration "{text}"')
        if unit not in UNITS:
            raise ExprError(f'time: unknown unit "{unit}" in duration "{text}"')
        total += Fraction(number if not number.endswith(".") else number[:-1]) * UNITS[unit]
        position = match.end()
    if total > INT64_MAX:
        raise invalid
    nanoseconds = int(total)
    return Duration(-nanoseconds if text.startswith("-") else nanoseconds)


def parse_date(text: str) -> datetime:
    """``date(str)`` for the layouts expr-lang tries without a format: dates, times, RFC 3339."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")) if "T" in text else _plain_date(text)
    except ValueError:
        raise ExprError(f"invalid date {text}") from None


def _plain_date(text: str) -> datetime:
    for layout in DATE_LAYOUTS:
        try:
            moment = datetime.strptime(text, layout)
        except ValueError:
            continue
        return moment.replace(tzinfo=UTC)
    raise ValueError(text)


def _seconds(value: Duration) -> float:
    return value.nanoseconds / NANOSECONDS_PER_SECOND


DURATION_METHODS: dict[str, Callable[[Duration], Any]] = {
    "Hours": lambda d: _seconds(d) / 3600,
    "Minutes": lambda d: _seconds(d) / 60,
    "Seconds": _seconds,
    "Milliseconds": lambda d: int(d.nanoseconds / 1_000_000),
    "Microseconds": lambda d: int(d.nanoseconds / 1_000),
    "Nanoseconds": lambda d: d.nanoseconds,
    "String": str,
    "Abs": lambda d: Duration(abs(d.nanoseconds)),
}

TIME_METHODS: dict[str, Callable[[datetime], Any]] = {
    "Unix": lambda t: int(t.timestamp()) if t.tzinfo else int(t.replace(tzinfo=UTC).timestamp()),
    "UnixMilli": lambda t: int(t.astimezone(UTC).timestamp() * 1000),
    "Year": lambda t: t.year,
    "Month": lambda t: t.month,
    "Day": lambda t: t.day,
    "Hour": lambda t: t.hour,
    "Minute": lambda t: t.minute,
    "Second": lambda t: t.second,
    "YearDay": lambda t: t.timetuple().tm_yday,
    "UTC": lambda t: t.astimezone(UTC),
    "String": lambda t: format_value(t, 1),
}


def call_method(value: Any, name: str, args: list[Any]) -> Any:
    """``value.Name(args)`` for the few methods of ``time.Time`` and ``time.Duration`` we support."""
    if isinstance(value, Duration) and name in DURATION_METHODS and not args:
        return DURATION_METHODS[name](value)
    if isinstance(value, datetime):
        if name in TIME_METHODS and not args:
            return TIME_METHODS[name](value)
        if name in ("Before", "After", "Equal", "Sub") and len(args) == 1 and isinstance(args[0], datetime):
            if name == "Sub":
                return temporal("-", value, args[0])
            operator = {"Before": "<", "After": ">"}.get(name)
            return compare(operator, value, args[0]) if operator else value == args[0]
        if name == "Add" and len(args) == 1 and isinstance(args[0], Duration):
            return temporal("+", value, args[0])
    raise ExprError(f"type {type_name(value)} has no method {name} taking {len(args)} argument(s)")
