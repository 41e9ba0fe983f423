"""Cron expressions as Argo CronWorkflows (and Kubernetes CronJobs) read them: robfig/cron's
"standard" parser, reproduced rule for rule, with its error texts.

Argo parses each schedule with ``cron.ParseStandard("CRON_TZ=<timezone> <expression>")`` and
reports ``cron schedule <that text> is malformed: <robfig's error>``; :func:`parse_schedule`
returns the same message. Accepted: five fields (minute, hour, day of month, month, day of week)
with ``*``/``?``, lists, ranges, steps (``N/step`` means ``N-max/step``), month and weekday names
in any case, and the descriptors ``@yearly``/``@annually``, ``@monthly``, ``@weekly``,
``@daily``/``@midnight``, ``@hourly`` and ``@every <Go duration>``. Day of week is 0-6 (7 is an
error in robfig, unlike Vixie cron).

Day of month and day of week combine as in Vixie cron: when either field starts with a bare
``*`` the two must both match (in practice: only the other one counts), otherwise either
matching is enough (``0 0 13 * 5``: every 13th and every Friday).

:meth:`SpecSchedule.next_after` walks fields exactly as robfig's ``SpecSchedule.Next``: months and
days move on the wall clock, hours, minutes and seconds move in absolute time. So DST behaves as
in Argo: a tick inside a spring-forward gap is skipped that day, a tick inside a fall-back overlap
runs twice. A wall time that does not exist (only midnight, in zones whose DST switches at
midnight) resolves with the offset before the gap, where Go's ``time.Date`` may differ.
``@every`` ignores the timezone and counts from the previous tick rounded down to the second.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from analysis.values import DurationError, parse_go_duration_ns

__all__ = [
    "CronScheduleError",
    "EverySchedule",
    "Schedule",
    "SpecSchedule",
    "load_zone",
    "parse_expression",
    "parse_schedule",
]

STAR_BIT: Final = 1 << 63
"""robfig's marker that a field was written ``*`` (or ``?``): it switches the day rule to AND."""
YEARS_AHEAD: Final = 5
"""robfig gives up (zero time) when no tick exists within five years."""


class CronScheduleError(ValueError):
    """A schedule robfig would refuse; the message is Argo's ``cron schedule ... is malformed``."""


@dataclass(frozen=True)
class _Bounds:
    low: int
    high: int
    names: dict[str, int] | None = None


_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
MINUTES: Final = _Bounds(0, 59)
HOURS: Final = _Bounds(0, 23)
DAYS_OF_MONTH: Final = _Bounds(1, 31)
MONTHS: Final = _Bounds(1, 12, {name: index + 1 for index, name in enumerate(_MONTH_NAMES)})
DAYS_OF_WEEK: Final = _Bounds(0, 6, {name: index for index, name in enumerate(_DAY_NAMES)})

_GO_INT: Final = re.compile(r"[+-]?[0-9]+")


def _bits(low: int, high: int, step: int = 1) -> int:
    return sum(1 << value for value in range(low, high + 1, step))


def _all(bounds: _Bounds) -> int:
    return _bits(bounds.low, bounds.high) | STAR_BIT


def _go_atoi(text: str) -> int:
    """``strconv.Atoi`` as robfig calls it, with robfig's wording around Go's error."""
    if not _GO_INT.fullmatch(text):
        raise ValueError(f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": invalid syntax')
    number = int(text)
    if not -(2**63) <= number < 2**63:
        raise ValueError(
            f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": value out of range'
        )
    if number < 0:
        raise ValueError(f"negative number ({number}) not allowed: {text}")
    return number


def _int_or_name(text: str, names: dict[str, int] | None) -> int:
    if names is not None and text.lower() in names:
        return names[text.lower()]
    return _go_atoi(text)


def _range_bits(expression: str, bounds: _Bounds) -> int:
    """One comma-separated part of a field: ``*``, ``N``, ``N-M``, each optionally ``/step``."""
    range_and_step = expression.split("/")
    low_and_high = range_and_step[0].split("-")
    extra = 0
    if low_and_high[0] in ("*", "?"):
        start, end, extra = bounds.low, bounds.high, STAR_BIT
    else:
        start = _int_or_name(low_and_high[0], bounds.names)
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = _int_or_name(low_and_high[1], bounds.names)
        else:
            raise ValueError(f"too many hyphens: {expression}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _go_atoi(range_and_step[1])
        if len(low_and_high) == 1:
            end = bounds.high
        if step > 1:
            extra = 0
    else:
        raise ValueError(f"too many slashes: {expression}")
    if start < bounds.low:
        raise ValueError(f"beginning of range ({start}) below minimum ({bounds.low}): {expression}")
    if end > bounds.high:
        raise ValueError(f"end of range ({end}) above maximum ({bounds.high}): {expression}")
    if start > end:
        raise ValueError(f"beginning of range ({start}) beyond end of range ({end}): {expression}")
    if step == 0:
        raise ValueError(f"step of range should be a positive number: {expression}")
    return _bits(start, end, step) | extra


def _field_bits(field: str, bounds: _Bounds) -> int:
    bits = 0
    for part in filter(None, field.split(",")):  # Go's FieldsFunc: empty parts vanish
        bits |= _range_bits(part, bounds)
    return bits


def _go_fields(fields: list[str]) -> str:
    """A Go ``[]string`` printed with ``%s``."""
    return "[" + " ".join(fields) + "]"


@dataclass(frozen=True)
class SpecSchedule:
    """A five-field schedule (seconds are always 0) in a timezone."""

    minute: int
    hour: int
    day_of_month: int
    month: int
    day_of_week: int
    zone: ZoneInfo

    def _day_matches(self, local: datetime) -> bool:
        in_month = bool(1 << local.day & self.day_of_month)
        in_week = bool(1 << (local.isoweekday() % 7) & self.day_of_week)
        if self.day_of_month & STAR_BIT or self.day_of_week & STAR_BIT:
            return in_month and in_week
        return in_month or in_week

    def _wall(self, year: int, month: int, day: int, hour: int = 0) -> datetime:
        """Go's ``time.Date`` with month/day overflow normalised, as an instant."""
        year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
        first = datetime(year, month, 1, tzinfo=self.zone)
        local = first + timedelta(days=day - 1, hours=hour)  # wall-clock arithmetic (same tzinfo)
        return local.astimezone(UTC)

    def next_after(self, after: datetime) -> datetime | None:
        """The first tick strictly after ``after`` (UTC), or None when none comes within five years."""
        walk = _Walk(after.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1), self.zone)
        year_limit = walk.local.year + YEARS_AHEAD
        while walk.local.year <= year_limit:
            # each step moves one field forward; a field that wraps round starts the walk over
            if self._month_wrapped(walk) or self._day_wrapped(walk) or self._hour_wrapped(walk):
                continue
            if self._minute_wrapped(walk):
                continue
            if walk.instant.second == 0:  # five-field schedules tick at second 0
                return walk.instant
            walk.truncate(walk.instant.replace(second=0))
            walk.move(walk.instant + timedelta(minutes=1))
        return None

    def _month_wrapped(self, walk: _Walk) -> bool:
        while not 1 << walk.local.month & self.month:
            walk.truncate(self._wall(walk.local.year, walk.local.month, 1))
            walk.move(self._wall(walk.local.year, walk.local.month + 1, walk.local.day, walk.local.hour))
            if walk.local.month == 1:
                return True
        return False

    def _day_wrapped(self, walk: _Walk) -> bool:
        while not self._day_matches(walk.local):
            walk.truncate(self._wall(walk.local.year, walk.local.month, walk.local.day))
            walk.move(self._wall(walk.local.year, walk.local.month, walk.local.day + 1, walk.local.hour))
            hour = walk.local.hour
            if hour != 0:  # DST moved midnight: back onto the day's start, as robfig does
                walk.move(walk.instant + timedelta(hours=24 - hour if hour > 12 else -hour))
            if walk.local.day == 1:
                return True
        return False

    def _hour_wrapped(self, walk: _Walk) -> bool:
        while not 1 << walk.local.hour & self.hour:
            walk.truncate(walk.local.replace(minute=0, second=0).astimezone(UTC))
            walk.move(walk.instant + timedelta(hours=1))  # absolute time, across DST as robfig
            if walk.local.hour == 0:
                return True
        return False

    def _minute_wrapped(self, walk: _Walk) -> bool:
        while not 1 << walk.local.minute & self.minute:
            walk.truncate(walk.instant.replace(second=0))
            walk.move(walk.instant + timedelta(minutes=1))
            if walk.local.minute == 0:
                return True
        return False


class _Walk:
    """robfig's cursor: an instant, its wall time in the zone, and whether a field has moved yet
    (the first move of any field truncates the smaller fields, later moves do not)."""

    def __init__(self, instant: datetime, zone: ZoneInfo) -> None:
        self.zone = zone
        self.added = False
        self.instant = instant
        self.local = instant.astimezone(zone)

    def move(self, instant: datetime) -> None:
        self.instant = instant
        self.local = instant.astimezone(self.zone)

    def truncate(self, instant: datetime) -> None:
        if not self.added:
            self.added = True
            self.move(instant)


@dataclass(frozen=True)
class EverySchedule:
    """``@every <duration>``: whole seconds (at least one) after the previous tick."""

    seconds: int

    def next_after(self, after: datetime) -> datetime | None:
        return after.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=self.seconds)


Schedule = SpecSchedule | EverySchedule


def load_zone(name: str) -> ZoneInfo:
    """An IANA zone; Go's ``unknown time zone <name>`` when there is none."""
    if name in ("", "UTC"):
        return ZoneInfo("UTC")
    try:
        if name.startswith("/") or ".." in name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise ValueError(f"unknown time zone {name}") from error


def _descriptor(text: str, zone: ZoneInfo) -> Schedule:
    minute, hour = 1 << MINUTES.low, 1 << HOURS.low
    first_day, january = 1 << DAYS_OF_MONTH.low, 1 << MONTHS.low
    every_day, every_month, every_weekday = _all(DAYS_OF_MONTH), _all(MONTHS), _all(DAYS_OF_WEEK)
    fixed = {
        "@yearly": (minute, hour, first_day, january, every_weekday),
        "@annually": (minute, hour, first_day, january, every_weekday),
        "@monthly": (minute, hour, first_day, every_month, every_weekday),
        "@weekly": (minute, hour, every_day, every_month, 1 << DAYS_OF_WEEK.low),
        "@daily": (minute, hour, every_day, every_month, every_weekday),
        "@midnight": (minute, hour, every_day, every_month, every_weekday),
        "@hourly": (minute, _all(HOURS), every_day, every_month, every_weekday),
    }
    if text in fixed:
        return SpecSchedule(*fixed[text], zone=zone)
    every = "@every "
    if text.startswith(every):
        try:
            nanoseconds = parse_go_duration_ns(text[len(every) :])
        except DurationError as error:
            raise ValueError(f"failed to parse duration {text}: {error}") from error
        return EverySchedule(max(nanoseconds // 1_000_000_000, 1))
    raise ValueError(f"unrecognized descriptor: {text}")


def parse_expression(text: str, default_zone: ZoneInfo | None = None) -> Schedule:
    """robfig's ``ParseStandard``: raises ValueError with robfig's own message."""
    if not text:
        raise ValueError("empty spec string")
    zone = default_zone or ZoneInfo("UTC")
    if text.startswith(("TZ=", "CRON_TZ=")):
        space = text.find(" ")
        name = text[text.index("=") + 1 : space if space >= 0 else len(text)]
        try:
            zone = load_zone(name)
        except ValueError as error:
            raise ValueError(f"provided bad location {name}: {error}") from error
        text = text[space:].strip() if space >= 0 else ""
    if text.startswith("@"):
        return _descriptor(text, zone)
    fields = text.split()
    if len(fields) != 5:
        raise ValueError(f"expected exactly 5 fields, found {len(fields)}: {_go_fields(fields)}")
    bounds = (MINUTES, HOURS, DAYS_OF_MONTH, MONTHS, DAYS_OF_WEEK)
    minute, hour, day_of_month, month, day_of_week = (
        _field_bits(field, limit) for field, limit in zip(fields, bounds, strict=True)
    )
    return SpecSchedule(minute, hour, day_of_month, month, day_of_week, zone)


def parse_schedule(expression: str, timezone: str | None = None) -> Schedule:
    """One CronWorkflow schedule with the CronWorkflow's ``timezone``, as Argo parses it."""
    text = f"CRON_TZ={timezone} {expression}" if timezone else expression
    try:
        return parse_expression(text)
    except ValueError as error:
        raise CronScheduleError(f"cron schedule {text} is malformed: {error}") from error
