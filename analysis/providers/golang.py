"""How Argo's Go code spells provider values, so ``measurement.value`` reads the same as upstream's.

Users and dashboards compare these strings (``0.95``, ``NaN``, ``[1,2]``), so the few Go
routines involved are reproduced exactly (checked against Go 1.26):

* ``strconv.FormatFloat(f, 'f', -1, 64)`` — Prometheus' ``SampleValue.String``: shortest
  digits, never an exponent; ``NaN``, ``+Inf``, ``-Inf``;
* ``encoding/json``: decoding into ``interface{}`` (every number a float64; ``NaN`` tokens,
  numbers beyond float64 and trailing data rejected) and ``json.Marshal`` of the result (keys
  sorted, no spaces, ``<`` ``>`` ``&`` U+2028 U+2029 escaped, floats in ``'f'`` form between
  1e-6 and 1e21 and ``'e'`` form outside).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

__all__ = ["GoJSONError", "format_float_f", "marshal", "unmarshal"]

_STRING_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


class GoJSONError(ValueError):
    """Text that Go's ``json.Unmarshal`` would reject."""


def _digits(value: float) -> tuple[str, int]:
    """The shortest decimal digits of a finite non-zero float and the exponent of the first."""
    _, digits, exponent = Decimal(repr(abs(value))).normalize().as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    return text, len(text) + exponent - 1


def format_float_f(value: float) -> str:
    """Go's ``strconv.FormatFloat(value, 'f', -1, 64)``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return sign + "0"
    digits, exponent = _digits(value)
    if exponent < 0:
        return f"{sign}0.{'0' * (-exponent - 1)}{digits}"
    whole = digits[: exponent + 1].ljust(exponent + 1, "0")
    fraction = digits[exponent + 1 :]
    return f"{sign}{whole}.{fraction}" if fraction else sign + whole


def _format_float_json(value: float) -> str:
    """Go's ``encoding/json`` float64 encoder."""
    magnitude = abs(value)
    if magnitude == 0 or 1e-6 <= magnitude < 1e21:
        return format_float_f(value)
    digits, exponent = _digits(value)
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    sign = "-" if value < 0 else ""
    # Go prints at least two exponent digits, then json trims "e-07" to "e-7".
    power = f"{abs(exponent):02d}" if exponent >= 0 else str(-exponent)
    return f"{sign}{mantissa}e{'+' if exponent >= 0 else '-'}{power}"


def _encode_string(text: str) -> str:
    out = ['"']
    for char in text:
        escaped = _STRING_ESCAPES.get(char)
        if escaped is not None:
            out.append(escaped)
        elif ord(char) < 0x20:
            out.append(f"\\u{ord(char):04x}")
        elif 0xD800 <= ord(char) <= 0xDFFF:
            out.append("\ufffd")  # a lone surrogate decodes to U+FFFD in Go
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def marshal(value: Any) -> str:
    """Go's ``json.Marshal`` of a value as ``json.Unmarshal`` into ``interface{}`` produces it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _format_float_json(float(value))
    if isinstance(value, str):
        return _encode_string(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(marshal(item) for item in value) + "]"
    if isinstance(value, Mapping):
        items = (f"{_encode_string(str(key))}:{marshal(value[key])}" for key in sorted(value, key=str))
        return "{" + ",".join(items) + "}"
    raise TypeError(f"cannot marshal {type(value).__name__}")


def _reject_constant(token: str) -> float:
    raise GoJSONError(f"invalid character '{token[0]}' looking for beginning of value")


def _go_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise GoJSONError(f"cannot unmarshal number {text} into Go value of type float64")
    return number


def unmarshal(data: bytes) -> Any:
    """Go's ``json.Unmarshal`` into ``interface{}``: objects, lists, float64, strings, bools, nil."""
    try:
        text = data.decode("utf-8", errors="replace")
        return json.loads(text, parse_int=_go_float, parse_float=_go_float, parse_constant=_reject_constant)
    except GoJSONError:
        raise
    except RecursionError:
        raise GoJSONError("exceeded max depth") from None
    except ValueError as error:  # json.JSONDecodeError
        raise GoJSONError(str(error)) from None
