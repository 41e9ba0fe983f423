"""JSON strings and numbers written exactly as Go's ``encoding/json`` writes them.

Two places need Go's spelling rather than Python's: the bytes we hash, and the
text a Go decoder would have seen. Python values reach us after a round trip
through the API server, which stores custom resources as untyped JSON and
re-encodes them with Go (integers as int64, everything else as float64), so
``go_number_text`` reproduces the literal the server sent for a Python number.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1

# Go escapes these for HTML safety, plus every control character; \b \f \n \r \t
# keep their short forms, the rest become \u00XX with lowercase hex.
_ESCAPES: dict[int, str] = {
    ord('"'): '\\"',
    ord("\\"): "\\\\",
    ord("\b"): "\\b",
    ord("\f"): "\\f",
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    ord("\t"): "\\t",
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}
for _code in range(0x20):
    _ESCAPES.setdefault(_code, f"\\u{_code:04x}")

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def go_decoded_string(value: str) -> str:
    """The string Go holds after decoding ``value``: lone surrogates become U+FFFD.

    Python's JSON decoder keeps an unpaired ``\\udXXX`` escape as a lone
    surrogate; Go's replaces it with the replacement character.
    """
    return _LONE_SURROGATE.sub("\ufffd", value)


def go_string_literal(value: str) -> str:
    """``value`` as a quoted JSON string, escaped the way Go escapes it."""
    return '"' + go_decoded_string(value).translate(_ESCAPES) + '"'


def go_float_text(value: float) -> str:
    """A float64 as Go's encoder writes it (shortest digits, ES6-style cutoffs).

    Plain decimal notation unless the magnitude is below 1e-6 or at least
    1e21; exponents carry an explicit sign and no leading zero.
    """
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"JSON has no literal for {value!r}")
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    # repr() yields the shortest digit string that round-trips, as Go does.
    sign_bit, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    exponent += len(digit_tuple) - len(digits)
    point = len(digits) + exponent  # value = 0.<digits> * 10**point
    sign = "-" if sign_bit else ""
    magnitude = abs(value)
    if magnitude < 1e-6 or magnitude >= 1e21:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        power = point - 1
        return f"{sign}{mantissa}e{'+' if power >= 0 else '-'}{abs(power)}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def go_number_text(value: int | float) -> str:
    """The JSON literal the API server sends for a number it stored.

    Integers that fit int64 stay integers; anything else went through float64.
    """
    if isinstance(value, int) and INT64_MIN <= value <= INT64_MAX:
        return str(value)
    try:
        return go_float_text(float(value))
    except OverflowError:
        raise ValueError(f"number {value} is out of float64 range") from None
