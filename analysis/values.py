"""How Argo Rollouts reads numbers out of IntOrString fields and Go duration strings.

Reference §0.3 and §0.4. Every rule here is Go library behaviour that Argo
inherits rather than chooses, so each function ports the Go routine it is
named after and keeps its quirks:

* maxSurge/maxUnavailable use apimachinery's deprecated
  ``GetValueFromIntOrPercent``: *any* string is a percentage, with every
  ``%`` removed before ``strconv.Atoi`` (Argo's defaults are the bare
  strings ``"25"``). Surge rounds up, unavailable down; the both-zero rule
  is separate because only the canary strategy applies it.
* ``pause.duration`` is ``RolloutPause.DurationSeconds``: an int is seconds,
  a string is tried as a base-10 int32 and then as a Go duration, truncated
  to whole seconds; -1 marks it invalid.
* Metric counts and limits are ``IntOrString.IntValue``, read after argument
  substitution: ``Atoi`` of the string, 0 when it is not a number.
* Durations follow ``time.ParseDuration`` exactly (signs, fractions, chained
  units, bare ``0``, overflow errors). ``parse_go_duration`` returns float
  seconds, as Go's ``Duration.Seconds()`` does; ``parse_go_duration_ns``
  gives the exact integer nanoseconds when precision matters.

This module lives in ``analysis`` because analysis and rollouts both need it
and ``analysis`` must not import ``rollouts``. It is pure.
"""

from __future__ import annotations

import math
import re

IntOrString = int | str

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1
INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
NANOSECONDS_PER_SECOND = 1_000_000_000

_BASE10_INT = re.compile(r"[+-]?[0-9]+")
_UINT64_MASK = (1 << 64) - 1
_DURATION_UNITS: dict[bytes, int] = {
    b"ns": 1,
    b"us": 1_000,
    "µs".encode(): 1_000,  # U+00B5 micro sign
    "μs".encode(): 1_000,  # U+03BC Greek mu
    b"ms": 1_000_000,
    b"s": NANOSECONDS_PER_SECOND,
    b"m": 60 * NANOSECONDS_PER_SECOND,
    b"h": 3600 * NANOSECONDS_PER_SECOND,
}


class IntOrStringError(ValueError):
    """An IntOrString value Argo cannot turn into a number."""


class DurationError(ValueError):
    """A string that ``time.ParseDuration`` rejects; the message is Go's."""


def _int32(value: int) -> int:
    """Go's int32 conversion of an integer: wrap around."""
    return ((value - INT32_MIN) % (1 << 32)) + INT32_MIN


def _check_int_or_string(value: object, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise IntOrStringError(f"{what} must be an integer or a string, not {type(value).__name__}")
    if isinstance(value, int) and not INT32_MIN <= value <= INT32_MAX:
        raise IntOrStringError(f"{what} {value} does not fit an int32")


def go_parse_int(text: str, bits: int = 64) -> int | None:
    """``strconv.ParseInt(text, 10, bits)``, or None where Go returns an error."""
    if not _BASE10_INT.fullmatch(text):
        return None
    value = int(text)
    limit = 1 << (bits - 1)
    return value if -limit <= value < limit else None


def go_atoi(text: str) -> tuple[int, bool]:
    """``strconv.Atoi`` on 64-bit Go: (value, ok).

    Not a number gives (0, False); out of range gives the clamped int64 bound
    and False, exactly as Go returns them.
    """
    if not _BASE10_INT.fullmatch(text):
        return 0, False
    value = int(text)
    if value > INT64_MAX:
        return INT64_MAX, False
    if value < INT64_MIN:
        return INT64_MIN, False
    return value, True


def scaled_value(value: IntOrString, total: int, round_up: bool) -> int:
    """``intstr.GetValueFromIntOrPercent``: an int as is, any string as a percent of ``total``."""
    _check_int_or_string(value, "value")
    if isinstance(value, int):
        return value
    percent, ok = go_atoi(value.replace("%", ""))
    if not ok:
        raise IntOrStringError(f"invalid value {value!r}: not a percentage")
    scaled = float(percent) * float(total) / 100
    return math.ceil(scaled) if round_up else math.floor(scaled)


def max_surge_count(max_surge: IntOrString, replicas: int) -> int:
    """maxSurge as a pod count: percentages round up."""
    return _int32(scaled_value(max_surge, replicas, round_up=True))


def max_unavailable_count(max_unavailable: IntOrString, replicas: int) -> int:
    """maxUnavailable as a pod count: percentages round down."""
    return _int32(scaled_value(max_unavailable, replicas, round_up=False))


def resolve_fenceposts(surge: int, unavailable: int) -> tuple[int, int]:
    """The canary rule: when both resolve to 0, one pod may be unavailable."""
    if surge == 0 and unavailable == 0:
        return 0, 1
    return surge, unavailable


def pause_duration_seconds(duration: IntOrString | None) -> int:
    """``RolloutPause.DurationSeconds``: seconds to wait, 0 without a duration, -1 if invalid.

    An int is taken as seconds. A string is first read as a base-10 int32
    (``"30"``), otherwise as a Go duration truncated toward zero to whole
    seconds (``"1m30s"`` -> 90, ``"1.9s"`` -> 1). Anything unparsable, and a
    duration beyond int32 seconds (Go's conversion is undefined there), is -1;
    Argo reports both as an invalid spec.
    """
    if duration is None:
        return 0
    _check_int_or_string(duration, "pause duration")
    if isinstance(duration, int):
        return duration
    as_int = go_parse_int(duration, bits=32)
    if as_int is not None:
        return as_int
    try:
        seconds = int(parse_go_duration(duration))
    except DurationError:
        return -1
    return seconds if INT32_MIN <= seconds <= INT32_MAX else -1


def int_or_string_value(value: IntOrString | None) -> int:
    """``IntOrString.IntValue``: metric count and limits after ``{{args}}`` substitution.

    A string that is not a base-10 integer reads as 0 (an unresolved
    ``"{{args.count}}"`` included); None, an absent field, is 0 too.
    """
    if value is None:
        return 0
    _check_int_or_string(value, "value")
    if isinstance(value, int):
        return value
    number, _ = go_atoi(value)
    return number


def _leading_int(text: bytes) -> tuple[int, bytes] | None:
    """time.leadingInt: the leading digits as a uint64 (at most 2**63), or None on overflow."""
    value = 0
    i = 0
    while i < len(text) and 0x30 <= text[i] <= 0x39:
        if value > (1 << 63) // 10:
            return None
        value = value * 10 + text[i] - 0x30
        if value > 1 << 63:
            return None
        i += 1
    return value, text[i:]


def _leading_fraction(text: bytes) -> tuple[int, float, bytes]:
    """time.leadingFraction: digits after the point; precision stops growing on overflow."""
    value = 0
    scale = 1.0
    overflow = False
    i = 0
    while i < len(text) and 0x30 <= text[i] <= 0x39:
        digit = text[i] - 0x30
        i += 1
        if overflow:
            continue
        if value > INT64_MAX // 10 or value * 10 + digit > 1 << 63:
            overflow = True
            continue
        value = value * 10 + digit
        scale *= 10
    return value, scale, text[i:]


def parse_go_duration_ns(text: str) -> int:
    """``time.ParseDuration`` as exact integer nanoseconds."""
    original = text
    rest = text.encode("utf-8")
    negative = False
    if rest[:1] in (b"-", b"+"):
        negative = rest[:1] == b"-"
        rest = rest[1:]
    if rest == b"0":
        return 0
    invalid = DurationError(f'time: invalid duration "{original}"')
    if not rest:
        raise invalid
    total = 0
    while rest:
        if not (rest[0] == 0x2E or 0x30 <= rest[0] <= 0x39):
            raise invalid
        length = len(rest)
        leading = _leading_int(rest)
        if leading is None:
            raise invalid
        whole, rest = leading
        has_whole = length != len(rest)
        fraction, scale, has_fraction = 0, 1.0, False
        if rest[:1] == b".":
            rest = rest[1:]
            length = len(rest)
            fraction, scale, rest = _leading_fraction(rest)
            has_fraction = length != len(rest)
        if not has_whole and not has_fraction:
            raise invalid
        unit_end = 0
        while unit_end < len(rest) and not (rest[unit_end] == 0x2E or 0x30 <= rest[unit_end] <= 0x39):
            unit_end += 1
        if unit_end == 0:
            raise DurationError(f'time: missing unit in duration "{original}"')
        unit_text, rest = rest[:unit_end], rest[unit_end:]
        unit = _DURATION_UNITS.get(unit_text)
        if unit is None:
            name = unit_text.decode("utf-8", errors="replace")
            raise DurationError(f'time: unknown unit "{name}" in duration "{original}"')
        if whole > (1 << 63) // unit:
            raise invalid
        value = whole * unit
        if fraction > 0:
            # Go adds the fraction in float64: nanosecond-exact up to hours.
            value += int(float(fraction) * (float(unit) / scale))
            if value > 1 << 63:
                raise invalid
        total = (total + value) & _UINT64_MASK  # uint64 arithmetic, as in Go
        if total > 1 << 63:
            raise invalid
    if negative:
        return -total
    if total > INT64_MAX:
        raise invalid
    return total


def parse_go_duration(text: str) -> float:
    """``time.ParseDuration(text).Seconds()``: the duration in float seconds."""
    nanoseconds = parse_go_duration_ns(text)
    whole = abs(nanoseconds) // NANOSECONDS_PER_SECOND
    if nanoseconds < 0:
        whole = -whole
    return float(whole) + float(nanoseconds - whole * NANOSECONDS_PER_SECOND) / 1e9


def _fraction(value: int, digits: int) -> tuple[str, int]:
    """time.fmtFrac: ``.ddd`` of value/10**digits without trailing zeros, and the integer part."""
    integer, remainder = divmod(value, 10**digits)
    text = f"{remainder:0{digits}d}".rstrip("0") if digits else ""
    return ("." + text if text else ""), integer


def format_go_duration(nanoseconds: int) -> str:
    """``time.Duration.String``: ``"1h2m3.5s"``, ``"1.5ms"``, ``"0s"``."""
    if not INT64_MIN <= nanoseconds <= INT64_MAX:
        raise DurationError(f"{nanoseconds}ns does not fit a Go Duration")
    sign = "-" if nanoseconds < 0 else ""
    magnitude = abs(nanoseconds)
    if magnitude == 0:
        return "0s"
    if magnitude < NANOSECONDS_PER_SECOND:
        if magnitude < 1_000:
            digits, unit = 0, "ns"
        elif magnitude < 1_000_000:
            digits, unit = 3, "µs"
        else:
            digits, unit = 6, "ms"
        fraction, integer = _fraction(magnitude, digits)
        return f"{sign}{integer}{fraction}{unit}"
    fraction, seconds = _fraction(magnitude, 9)
    minutes, seconds = divmod(seconds, 60)
    text = f"{seconds}{fraction}s"
    if minutes:
        hours, minutes = divmod(minutes, 60)
        text = f"{minutes}m{text}"
        if hours:
            text = f"{hours}h{text}"
    return sign + text
