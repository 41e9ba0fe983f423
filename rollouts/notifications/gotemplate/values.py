"""Go's view of JSON-decoded values: how they print, compare, test as true and encode as JSON.

A Rollout reaches a template as Go's ``map[string]interface{}`` from ``encoding/json``, so every
number is a float64 and prints with ``%v`` (``5``, ``0.25``, ``1e+06``), maps print sorted
(``map[a:1 b:2]``), a missing key prints ``<no value>`` and a JSON null ``<nil>``. These rules
are what makes our output byte-identical to Argo's for the same template and object.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from rollouts.notifications.gotemplate.errors import TemplateError

__all__ = ["MISSING", "GoTime", "go_json", "go_string", "is_true", "type_name"]


class _Missing:
    """Go's invalid ``reflect.Value``: what a missing map key evaluates to."""

    def __repr__(self) -> str:
        return "<no value>"


MISSING: Final = _Missing()


def go_float(value: float) -> str:
    """``fmt.Sprint(float64)``: shortest digits, ``%e`` form when the exponent is < -4 or >= 6."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits)).rstrip("0") or "0"
    decimal_point = len(digits) + exponent
    exp = decimal_point - 1
    prefix = "-" if sign else ""
    if exp < -4 or exp >= 6:  # strconv's shortest %g switches to %e at 10^6
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if decimal_point <= 0:
        return f"{prefix}0.{'0' * -decimal_point}{text}"
    if decimal_point >= len(text):
        return prefix + text + "0" * (decimal_point - len(text))
    return f"{prefix}{text[:decimal_point]}.{text[decimal_point:]}"


def go_string(value: Any) -> str:
    """``fmt.Sprint(value)`` for the values a template can hold."""
    if value is MISSING:
        return "<no value>"
    if value is None:
        return "<nil>"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, GoTime):
        return value.String()
    if isinstance(value, Mapping):
        inner = " ".join(f"{go_string(key)}:{go_string(value[key])}" for key in sorted(value, key=str))
        return f"map[{inner}]"
    if isinstance(value, Sequence):
        return "[" + " ".join(go_string(item) for item in value) + "]"
    if callable(value):
        raise TemplateError("cannot print a function; invoke it with call")
    return str(value)


def is_true(value: Any) -> bool:
    """Go's ``truth``: zero values, empty collections, nil and missing values are false."""
    if value is MISSING or value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str | Mapping | Sequence):
        return len(value) > 0
    return True


def type_name(value: Any) -> str:
    """The Go type a JSON-decoded value has, for error messages."""
    if value is MISSING or value is None:
        return "nil"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "map[string]interface {}"
    if isinstance(value, Sequence):
        return "[]interface {}"
    if isinstance(value, GoTime):
        return "time.Time"
    return "func" if callable(value) else type(value).__name__


def _json_ready(value: Any) -> Any:
    if value is MISSING:
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, GoTime):
        return value.rfc3339()
    if isinstance(value, Mapping):
        return {str(key): _json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(item) for item in value]
    if callable(value):
        raise TemplateError("json: unsupported type: func")
    return value


JSON_HTML_ESCAPES: Final = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def go_json(value: Any, *, indent: bool = False) -> str:
    """``json.Marshal`` (sorted keys, integral floats without ``.0``, HTML characters escaped)."""
    try:
        text = json.dumps(
            _json_ready(value),
            sort_keys=True,
            ensure_ascii=False,
            allow_nan=False,
            indent=2 if indent else None,
            separators=(",", ": ") if indent else (",", ":"),
        )
    except ValueError as error:
        raise TemplateError(f"json: unsupported value: {error}") from None
    for char, escape in JSON_HTML_ESCAPES.items():
        text = text.replace(char, escape)
    return text


# Go reference-time layout elements, longest first so ``2006`` wins over ``2``.
LAYOUT: Final[list[tuple[str, Callable[[datetime], str]]]] = [
    ("January", lambda t: t.strftime("%B")),
    ("Monday", lambda t: t.strftime("%A")),
    ("Z07:00", lambda t: "Z" if t.utcoffset() == timedelta(0) else _offset(t, ":")),
    ("-07:00", lambda t: _offset(t, ":")),
    ("-0700", lambda t: _offset(t, "")),
    (".000000000", lambda t: f".{t.microsecond * 1000:09d}"),
    (".000000", lambda t: f".{t.microsecond:06d}"),
    (".000", lambda t: f".{t.microsecond // 1000:03d}"),
    (".999999999", lambda t: f".{t.microsecond:06d}".rstrip("0").rstrip(".")),
    ("2006", lambda t: f"{t.year:04d}"),
    ("Jan", lambda t: t.strftime("%b")),
    ("Mon", lambda t: t.strftime("%a")),
    ("MST", lambda t: t.tzname() or "UTC"),
    ("01", lambda t: f"{t.month:02d}"),
    ("02", lambda t: f"{t.day:02d}"),
    ("_2", lambda t: f"{t.day:2d}"),
    ("15", lambda t: f"{t.hour:02d}"),
    ("03", lambda t: f"{(t.hour % 12) or 12:02d}"),
    ("04", lambda t: f"{t.minute:02d}"),
    ("05", lambda t: f"{t.second:02d}"),
    ("06", lambda t: f"{t.year % 100:02d}"),
    ("PM", lambda t: "PM" if t.hour >= 12 else "AM"),
    ("pm", lambda t: "pm" if t.hour >= 12 else "am"),
    ("1", lambda t: str(t.month)),
    ("2", lambda t: str(t.day)),
    ("3", lambda t: str((t.hour % 12) or 12)),
    ("4", lambda t: str(t.minute)),
    ("5", lambda t: str(t.second)),
]


def _offset(moment: datetime, separator: str) -> str:
    delta = moment.utcoffset() or timedelta(0)
    minutes = int(delta.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{separator}{minutes:02d}"


class GoTime:
    """A ``time.Time`` as templates see it: printable and with Go's common methods."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def rfc3339(self) -> str:
        return self.Format("2006-01-02T15:04:05Z07:00")

    def String(self) -> str:  # noqa: N802 - Go's method name, as templates spell it
        fraction = f".{self.moment.microsecond:06d}".rstrip("0").rstrip(".")
        zone = self.moment.tzname() or "UTC"
        return self.moment.strftime("%Y-%m-%d %H:%M:%S") + f"{fraction} {_offset(self.moment, '')} {zone}"

    def Format(self, layout: str) -> str:  # noqa: N802
        out: list[str] = []
        position = 0
        while position < len(layout):
            for element, render in LAYOUT:
                if layout.startswith(element, position):
                    out.append(render(self.moment))
                    position += len(element)
                    break
            else:
                out.append(layout[position])
                position += 1
        return "".join(out)

    def Unix(self) -> int:  # noqa: N802
        return int(self.moment.timestamp())

    def UTC(self) -> GoTime:  # noqa: N802
        return GoTime(self.moment.astimezone(UTC))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GoTime) and other.moment == self.moment

    def __hash__(self) -> int:
        return hash(self.moment)


METHODS: Final = {"Format", "Unix", "UTC", "String"}
