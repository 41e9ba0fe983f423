"""``metav1.Time`` in JSON: RFC 3339 in, whole seconds in UTC out, ``null`` for the zero time.

Go parses with ``time.Parse(time.RFC3339, ...)``, whose fast path this module
reproduces exactly. When that fast path fails Go retries with its general
layout parser, which also accepts a few sloppy spellings (a one-digit hour, a
comma before the fraction, zone hours above 23); those are rejected here with
a clear error instead of being guessed at. Such timestamps do not occur in
objects written by Kubernetes clients.

Instants are kept as seconds since the Unix epoch plus nanoseconds, computed
with proleptic Gregorian arithmetic so years 0 and 10000 (reachable through a
zone offset) behave as in Go.
"""

from __future__ import annotations

from dataclasses import dataclass


class TimeFormatError(ValueError):
    """The text is not an RFC 3339 timestamp Go would accept."""


@dataclass(frozen=True)
class GoTime:
    """An instant: seconds since 1970-01-01T00:00:00Z and nanoseconds."""

    unix_seconds: int
    nanoseconds: int = 0

    def is_zero(self) -> bool:
        """Go's Time.IsZero: January 1, year 1, 00:00:00 UTC exactly."""
        return self.unix_seconds == ZERO_UNIX_SECONDS and self.nanoseconds == 0


def _days_from_civil(year: int, month: int, day: int) -> int:
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def _civil_from_days(days: int) -> tuple[int, int, int]:
    days += 719468
    era = days // 146097
    day_of_era = days - era * 146097
    year_of_era = (day_of_era - day_of_era // 1460 + day_of_era // 36524 - day_of_era // 146096) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    month_index = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * month_index + 2) // 5 + 1
    month = month_index + (3 if month_index < 10 else -9)
    return year_of_era + era * 400 + (month <= 2), month, day


ZERO_UNIX_SECONDS = _days_from_civil(1, 1, 1) * 86400
ZERO_TIME = GoTime(ZERO_UNIX_SECONDS)


def _days_in(month: int, year: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def parse_rfc3339(text: str) -> GoTime:
    """time.Parse(time.RFC3339, text) along Go's fast path."""
    raw = text.encode("utf-8")
    invalid = TimeFormatError(f"{text!r} is not an RFC 3339 timestamp (2006-01-02T15:04:05Z07:00)")

    def number(chunk: bytes, low: int, high: int) -> int:
        if not chunk.isdigit():
            raise invalid
        value = int(chunk)
        if not low <= value <= high:
            raise invalid
        return value

    if len(raw) < len("2006-01-02T15:04:05"):
        raise invalid
    if raw[4:5] != b"-" or raw[7:8] != b"-" or raw[10:11] != b"T" or raw[13:14] != b":":
        raise invalid
    if raw[16:17] != b":":
        raise invalid
    year = number(raw[0:4], 0, 9999)
    month = number(raw[5:7], 1, 12)
    day = number(raw[8:10], 1, _days_in(month, year))
    hour = number(raw[11:13], 0, 23)
    minute = number(raw[14:16], 0, 59)
    second = number(raw[17:19], 0, 59)
    rest = raw[19:]

    nanoseconds = 0
    if len(rest) >= 2 and rest[0:1] == b"." and rest[1:2].isdigit():
        count = 1
        while count < len(rest) and rest[count : count + 1].isdigit():
            count += 1
        digits = rest[1:count][:9]  # Go reads at most nine digits
        nanoseconds = int(digits) * 10 ** (9 - len(digits))
        rest = rest[count:]

    offset = 0
    if rest != b"Z":
        if len(rest) != len(b"-07:00") or rest[0:1] not in (b"+", b"-") or rest[3:4] != b":":
            raise invalid
        offset = (number(rest[1:3], 0, 23) * 60 + number(rest[4:6], 0, 59)) * 60
        if rest[0:1] == b"-":
            offset = -offset

    seconds = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    return GoTime(seconds - offset, nanoseconds)


def format_rfc3339(instant: GoTime) -> str:
    """t.UTC().Format(time.RFC3339): whole seconds, always ``Z``."""
    days, seconds = divmod(instant.unix_seconds, 86400)
    year, month, day = _civil_from_days(days)
    hour, remainder = divmod(seconds, 3600)
    minute, second = divmod(remainder, 60)
    year_text = f"-{-year:04d}" if year < 0 else f"{year:04d}"
    return f"{year_text}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z"
