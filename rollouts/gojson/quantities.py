"""Kubernetes ``resource.Quantity`` parsing and JSON form, as apimachinery v0.36 does it.

A quantity is re-emitted in canonical form (``"1000m"`` -> ``"1"``,
``"1.5Gi"`` -> ``"1536Mi"``), except that Go keeps the original text when its
fast parser judges it already canonical -- and that judgement has quirks
(``"+1"``, ``"01"``, ``"1.500"`` and ``"1E3"`` all come back unchanged). Both
behaviours change pod-template hashes, so this module follows
``k8s.io/apimachinery/pkg/api/resource/quantity.go`` branch for branch: the
fast int64 path with its cached text, and the arbitrary-precision path with
rounding up to nanounits and the int64 cap for binary suffixes.

Values are kept exact as ``mantissa * 10**exponent``; every quantity is a
decimal fraction (binary suffixes only multiply by integers), so no floating
point is involved anywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rollouts.gojson.literals import INT64_MAX

DECIMAL_SI = "DecimalSI"
BINARY_SI = "BinarySI"
DECIMAL_EXPONENT = "DecimalExponent"

_DIGITS = frozenset("0123456789")
_SUFFIX_CHARS = frozenset("eEinumkKMGTP")
_MAX_INT64_FACTORS = 18
_NANO = -9

_DECIMAL_SUFFIXES = {
    "n": -9,
    "u": -6,
    "m": -3,
    "": 0,
    "k": 3,
    "M": 6,
    "G": 9,
    "T": 12,
    "P": 15,
    "E": 18,
}
_BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_SUFFIX_BY_EXPONENT = {exp: suffix for suffix, exp in _DECIMAL_SUFFIXES.items()}
_BINARY_SUFFIX_BY_POWER = {exp // 10: suffix for suffix, exp in _BINARY_SUFFIXES.items()}
_GO_PARSE_INT = re.compile(r"[+-]?[0-9]+")

# Go's unicode.IsSpace, used by strings.TrimSpace before parsing.
_GO_SPACE = "".join(
    [" \t\n\v\f\r\x85\xa0\u1680", *map(chr, range(0x2000, 0x200B)), "\u2028\u2029\u202f\u205f\u3000"]
)


class QuantityError(ValueError):
    """The text is not a quantity; the message is apimachinery's."""


@dataclass(frozen=True)
class Quantity:
    """A parsed quantity: exact value, suffix family and Go's cached text."""

    mantissa: int
    exponent: int
    format: str
    cached_text: str = ""

    def is_zero(self) -> bool:
        return self.mantissa == 0

    def json_text(self) -> str:
        """What ``Quantity.MarshalJSON`` writes between the quotes."""
        return self.cached_text or _canonical_text(self)


ZERO_QUANTITY = Quantity(0, 0, "")

_FORMAT_WRONG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"


def _int32(value: int) -> int:
    """Go's conversion to int32: wrap around."""
    return ((value + (1 << 31)) % (1 << 32)) - (1 << 31)


def _go_parse_int64(text: str) -> int | None:
    """strconv.ParseInt(text, 10, 64), or None where Go returns an error."""
    if not _GO_PARSE_INT.fullmatch(text):
        return None
    value = int(text)
    return value if -(1 << 63) <= value <= INT64_MAX else None


def _split(text: str) -> tuple[bool, str, str, str, str]:
    """parseQuantityString: (positive, value, numerator, denominator, suffix)."""
    positive = True
    pos, end = 0, len(text)
    if pos < end and text[0] in "+-":
        positive = text[0] == "+"
        pos += 1
    while True:  # leading zeros
        if pos >= end:
            return positive, "0", "0", "", ""
        if text[pos] != "0":
            break
        pos += 1
    i = pos
    while i < end and text[i] in _DIGITS:
        i += 1
    if i >= end:
        return positive, text, text[pos:], "", ""
    numerator = text[pos:i] or "0"
    pos = i
    denominator = ""
    if text[pos] == ".":
        pos += 1
        i = pos
        while i < end and text[i] in _DIGITS:
            i += 1
        denominator = text[pos:i]
        if i >= end:
            return positive, text, numerator, denominator, ""
        pos = i
    value = text[:pos]
    suffix_start = pos
    while pos < end and text[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos >= end:
        return positive, value, numerator, denominator, text[suffix_start:]
    if text[pos] in "+-":
        pos += 1
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    if pos < end:
        raise QuantityError(_FORMAT_WRONG)
    return positive, value, numerator, denominator, text[suffix_start:]


def _interpret(suffix: str) -> tuple[int, int, str]:
    """quantitySuffixer.interpret: (base, exponent, format)."""
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix], DECIMAL_SI
    if suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix], BINARY_SI
    if len(suffix) > 1 and suffix[0] in "eE":
        parsed = _go_parse_int64(suffix[1:])
        if parsed is not None:
            return 10, _int32(parsed), DECIMAL_EXPONENT
    raise QuantityError("unable to parse quantity's suffix")


def _scan_decimal(value: str) -> tuple[int, int]:
    """inf.Dec.SetString: (unscaled, decimal places), digits required."""
    match = re.fullmatch(r"([+-]?)([0-9]*)(?:\.([0-9]*))?", value)
    if match is None or not (match.group(2) or match.group(3)):
        raise QuantityError("unable to parse numeric part of quantity")
    sign, whole, fraction = match.group(1), match.group(2), match.group(3) or ""
    unscaled = int(whole + fraction or "0")
    return (-unscaled if sign == "-" else unscaled), len(fraction)


def parse_quantity(text: str) -> Quantity:
    """resource.ParseQuantity, including the cached-text quirk."""
    if not text:
        raise QuantityError(_FORMAT_WRONG)
    if text == "0":
        return Quantity(0, 0, DECIMAL_SI, "0")
    # Go scans bytes; one Latin-1 character per UTF-8 byte keeps indexes equal.
    text = text.encode("utf-8").decode("latin-1")
    positive, value, numerator, denominator, suffix = _split(text)
    base, exponent, fmt = _interpret(suffix)

    scale = 0
    multiplier = 1
    if fmt == BINARY_SI:
        if exponent >= 0 and not denominator:
            multiplier = 1 << exponent
            precision = 15 - len(numerator) - exponent * 3 // 10 - 1
        else:
            precision = -1
    else:
        scale = exponent
        precision = _MAX_INT64_FACTORS - (len(numerator) + len(denominator))

    if precision >= 0:
        scale = _int32(scale - len(denominator))
        if scale >= _NANO:
            shifted = numerator + denominator
            parsed = _go_parse_int64(shifted)
            if parsed is None:
                raise QuantityError("unable to parse numeric part of quantity")
            result = parsed * multiplier
            if result <= INT64_MAX:
                if not positive:
                    result = -result
                if fmt == BINARY_SI:
                    canonical = exponent % 10 == 0 and parsed & 0x07 != 0
                else:
                    canonical = scale % 3 == 0 and not shifted.endswith("000") and shifted[0] != "0"
                return Quantity(result, scale, fmt, text if canonical else "")

    return _parse_arbitrary_precision(value, base, exponent, fmt)


def _parse_arbitrary_precision(value: str, base: int, exponent: int, fmt: str) -> Quantity:
    """The inf.Dec branch: exact value, rounded up to 1n, binary capped at int64."""
    mantissa, places = _scan_decimal(value)
    power = -places
    if base == 10:
        power += exponent
    else:
        mantissa <<= exponent
    negative = mantissa < 0
    mantissa = abs(mantissa)
    if mantissa and power < _NANO:
        places_to_drop = _NANO - power
        # Round up (away from zero); anything below one nanounit becomes 1n.
        tiny = places_to_drop > len(str(mantissa))
        mantissa = 1 if tiny else -(-mantissa // 10**places_to_drop)
        power = _NANO
    if fmt == BINARY_SI:
        if _compare(mantissa, power, INT64_MAX) > 0:
            mantissa, power = INT64_MAX, 0
        if mantissa and _compare(mantissa, power, 1) < 0:
            fmt = DECIMAL_SI
    return Quantity(-mantissa if negative else mantissa, power, fmt)


def _compare(mantissa: int, power: int, integer: int) -> int:
    """Sign of ``mantissa * 10**power - integer`` without huge powers of ten."""
    left, right = mantissa, integer
    if power >= 0:
        left *= 10**power
    else:
        right *= 10**-power
    return (left > right) - (left < right)


def _integer_value(quantity: Quantity) -> tuple[int, bool]:
    """The value rounded up (away from zero) to an integer, and whether that was exact."""
    if quantity.exponent >= 0:
        return quantity.mantissa * 10**quantity.exponent, True
    divisor = 10**-quantity.exponent
    magnitude, remainder = divmod(abs(quantity.mantissa), divisor)
    if remainder:
        magnitude += 1
    return (-magnitude if quantity.mantissa < 0 else magnitude), remainder == 0


def _canonical_text(quantity: Quantity) -> str:
    """Quantity.CanonicalizeBytes: largest exact suffix of the quantity's family."""
    if quantity.is_zero():
        return "0"
    fmt = quantity.format
    if fmt == BINARY_SI:
        # Binary suffixes only for exact integers of at least 1Ki in magnitude.
        integer, exact = _integer_value(quantity)
        if exact and _compare(abs(quantity.mantissa), quantity.exponent, 1024) >= 0:
            power = 0
            while integer % 1024 == 0:
                integer //= 1024
                power += 1
            return f"{integer}{_BINARY_SUFFIX_BY_POWER.get(power, '')}"
        fmt = DECIMAL_SI
    elif fmt not in (DECIMAL_SI, DECIMAL_EXPONENT):
        fmt = DECIMAL_EXPONENT

    mantissa, exponent = quantity.mantissa, quantity.exponent
    while mantissa % 10 == 0:
        mantissa //= 10
        exponent += 1
    shift = exponent % 3
    mantissa *= 10**shift
    exponent -= shift
    if fmt == DECIMAL_SI:
        # An exponent past "E" or below "n" has no suffix; Go then prints none.
        return f"{mantissa}{_DECIMAL_SUFFIX_BY_EXPONENT.get(exponent, '')}"
    return f"{mantissa}e{exponent}" if exponent else str(mantissa)


def parse_json_quantity(raw: str) -> Quantity:
    """Quantity.UnmarshalJSON on the raw text between the quotes (or a bare number)."""
    return parse_quantity(raw.strip(_GO_SPACE))
