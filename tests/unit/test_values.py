"""IntOrString and Go duration readings (reference §0.3, §0.4).

Expected values in the tables were checked against Go itself (hack/gojson's
oracle); tests/integration/test_gojson_generated.py repeats that comparison
on generated inputs.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from analysis.values import (
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    DurationError,
    IntOrStringError,
    format_go_duration,
    go_atoi,
    int_or_string_value,
    max_surge_count,
    max_unavailable_count,
    parse_go_duration,
    parse_go_duration_ns,
    pause_duration_seconds,
    resolve_fenceposts,
    scaled_value,
)

SECOND = 1_000_000_000
HOUR = 3600 * SECOND


@pytest.mark.parametrize(
    ("text", "nanoseconds"),
    [
        ("0", 0),
        ("+0", 0),
        ("-0", 0),
        ("0s", 0),
        ("30s", 30 * SECOND),
        ("5m", 300 * SECOND),
        ("1h", HOUR),
        ("1h30m", 5400 * SECOND),
        ("1.5h", 5400 * SECOND),
        ("1h0.5m", HOUR + 30 * SECOND),
        ("-1.5h", -5400 * SECOND),
        ("+10s", 10 * SECOND),
        ("1.s", SECOND),
        (".5s", SECOND // 2),
        ("1ns", 1),
        ("1us", 1_000),
        ("1µs", 1_000),  # U+00B5 micro sign
        ("1μs", 1_000),  # U+03BC Greek mu
        ("1ms", 1_000_000),
        ("100ms", 100_000_000),
        ("1h1m1s1ms1us1ns", HOUR + 61 * SECOND + 1_001_001),
        ("0.000000001s", 1),
        ("0.0000000015s", 1),  # below a nanosecond: truncated
        ("3s3s", 6 * SECOND),  # a unit may repeat
        ("9223372036854775807ns", INT64_MAX),
        ("-9223372036854775808ns", INT64_MIN),
        ("2562047h47m16.854775807s", INT64_MAX),
        ("0.100000000000000000000h", 360 * SECOND),  # fraction digits past int64 ignored
    ],
)
def test_go_durations(text: str, nanoseconds: int) -> None:
    assert parse_go_duration_ns(text) == nanoseconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "invalid duration"),
        ("+", "invalid duration"),
        ("-", "invalid duration"),
        ("10", "missing unit"),
        ("1.5", "missing unit"),
        ("00", "missing unit"),
        ("s", "invalid duration"),
        (".s", "invalid duration"),
        ("-.s", "invalid duration"),
        ("1d", 'unknown unit "d"'),
        ("1 s", 'unknown unit " s"'),
        ("1S", 'unknown unit "S"'),
        ("1sec", 'unknown unit "sec"'),
        ("1h-5m", 'unknown unit "h-"'),
        (" 1s", "invalid duration"),
        ("1s ", 'unknown unit "s "'),
        ("1e3s", 'unknown unit "e"'),
        ("9223372036854775808ns", "invalid duration"),  # one past int64
        ("2562048h", "invalid duration"),
        ("99999999999999999999s", "invalid duration"),
    ],
)
def test_malformed_go_durations(text: str, message: str) -> None:
    with pytest.raises(DurationError, match=message):
        parse_go_duration_ns(text)


def test_parse_go_duration_is_float_seconds() -> None:
    assert parse_go_duration("1m30s") == 90.0
    assert parse_go_duration("1.5ms") == 0.0015
    assert parse_go_duration("-2.5s") == -2.5
    assert parse_go_duration("9223372036854775807ns") == 9223372036.854775807


@pytest.mark.parametrize(
    ("nanoseconds", "text"),
    [
        (0, "0s"),
        (1, "1ns"),
        (999, "999ns"),
        (1_000, "1µs"),
        (1_500, "1.5µs"),
        (1_000_000, "1ms"),
        (1_234_567, "1.234567ms"),
        (SECOND, "1s"),
        (SECOND + 1, "1.000000001s"),
        (90 * SECOND, "1m30s"),
        (HOUR, "1h0m0s"),
        (5400 * SECOND, "1h30m0s"),
        (-5400 * SECOND, "-1h30m0s"),
        (-1, "-1ns"),
        (INT64_MAX, "2562047h47m16.854775807s"),
        (INT64_MIN, "-2562047h47m16.854775808s"),
    ],
)
def test_format_go_duration(nanoseconds: int, text: str) -> None:
    assert format_go_duration(nanoseconds) == text


def test_format_go_duration_rejects_values_outside_int64() -> None:
    with pytest.raises(DurationError):
        format_go_duration(INT64_MAX + 1)


@settings(deadline=None)  # never a wall-clock limit
@given(st.integers(min_value=INT64_MIN, max_value=INT64_MAX))
def test_go_formatted_durations_parse_back(nanoseconds: int) -> None:
    assert parse_go_duration_ns(format_go_duration(nanoseconds)) == nanoseconds


_UNIT_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": SECOND, "m": 60 * SECOND, "h": HOUR}
_parts = st.tuples(st.integers(min_value=0, max_value=10**6), st.sampled_from(sorted(_UNIT_NS)))


@settings(deadline=None)  # never a wall-clock limit
@example([(562048, "h"), (1000000, "h"), (1000000, "h")], "")  # past int64: Go's overflow error
@example([(2562047, "h"), (47, "m"), (16, "s"), (854775808, "ns")], "-")  # exactly -1<<63 ns
@given(st.lists(_parts, min_size=1, max_size=5), st.sampled_from(["", "+", "-"]))
def test_chained_units_add_up(parts: list[tuple[int, str]], sign: str) -> None:
    text = sign + "".join(f"{count}{unit}" for count, unit in parts)
    total = sum(count * _UNIT_NS[unit] for count, unit in parts)
    # Go keeps the magnitude in a uint64: up to 1<<63 for a negative duration, 1<<63-1 otherwise.
    limit = 1 << 63 if sign == "-" else INT64_MAX
    if total > limit:
        with pytest.raises(DurationError, match="invalid duration"):
            parse_go_duration_ns(text)
    else:
        assert parse_go_duration_ns(text) == (-total if sign == "-" else total)


@pytest.mark.parametrize(
    ("duration", "seconds"),
    [
        (None, 0),
        (0, 0),
        (30, 30),
        (-5, -5),  # ints are taken as they are; validation rejects negatives
        ("30", 30),
        ("+30", 30),
        ("-30", -30),
        ("007", 7),
        ("30s", 30),
        ("5m", 300),
        ("1h30m", 5400),
        ("1.9s", 1),  # truncated toward zero
        ("-1.9s", -1),
        ("500ms", 0),
        ("0", 0),
        ("2147483647", INT32_MAX),
        ("2147483648", -1),  # not an int32 and no unit
        ("1000000h", -1),  # beyond int32 seconds
        ("30 s", -1),
        ("", -1),
        ("abc", -1),
        ("1.5", -1),
        ("0x10", -1),
        ("{{args.pause}}", -1),
    ],
)
def test_pause_duration_seconds(duration: int | str | None, seconds: int) -> None:
    assert pause_duration_seconds(duration) == seconds


@settings(deadline=None)  # never a wall-clock limit
@given(st.integers(min_value=INT32_MIN, max_value=INT32_MAX))
def test_pause_duration_numeric_strings_are_seconds(seconds: int) -> None:
    assert pause_duration_seconds(str(seconds)) == seconds
    assert pause_duration_seconds(f"{seconds}s") == seconds
    assert pause_duration_seconds(seconds) == seconds


@pytest.mark.parametrize("bad", [True, 1.5, [], {}, 2**31])
def test_pause_duration_rejects_non_int_or_string(bad: object) -> None:
    with pytest.raises(IntOrStringError):
        pause_duration_seconds(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "replicas", "surge", "unavailable"),
    [
        (0, 10, 0, 0),
        (3, 10, 3, 3),
        ("25%", 10, 3, 2),  # surge rounds up, unavailable down
        ("25", 10, 3, 2),  # any string is a percentage, '%' or not (Argo's defaults are "25")
        ("25%", 4, 1, 1),
        ("25%", 1, 1, 0),
        ("10%", 5, 1, 0),
        ("0%", 10, 0, 0),
        ("100%", 7, 7, 7),
        ("150%", 4, 6, 6),
        ("2%5", 8, 2, 2),  # every '%' is removed: "25"
        ("%25%", 8, 2, 2),
        ("33%", 3, 1, 0),  # 0.99 -> 1 up, 0 down
        ("1%", 0, 0, 0),
        ("-10%", 10, -1, -1),
        (" 5%", 10, None, None),
        ("", 10, None, None),
        ("%", 10, None, None),
        ("abc", 10, None, None),
        ("2.5%", 10, None, None),
    ],
)
def test_surge_and_unavailable(
    value: int | str, replicas: int, surge: int | None, unavailable: int | None
) -> None:
    if surge is None:
        with pytest.raises(IntOrStringError, match="invalid value"):
            max_surge_count(value, replicas)
        with pytest.raises(IntOrStringError, match="invalid value"):
            max_unavailable_count(value, replicas)
        return
    assert max_surge_count(value, replicas) == surge
    assert max_unavailable_count(value, replicas) == unavailable


@pytest.mark.parametrize("bad", [None, True, 1.0, ["25%"], 2**31, -(2**31) - 1])
def test_scaled_value_rejects_non_int_or_string(bad: object) -> None:
    with pytest.raises(IntOrStringError):
        scaled_value(bad, 10, round_up=True)  # type: ignore[arg-type]


@settings(deadline=None)  # never a wall-clock limit
@given(st.integers(min_value=0, max_value=1000), st.integers(min_value=0, max_value=10_000))
def test_percentages_bracket_the_exact_share(percent: int, replicas: int) -> None:
    surge = max_surge_count(f"{percent}%", replicas)
    unavailable = max_unavailable_count(f"{percent}%", replicas)
    assert unavailable <= percent * replicas / 100 <= surge
    assert surge - unavailable in (0, 1)


@pytest.mark.parametrize(
    ("surge", "unavailable", "resolved"),
    [
        (0, 0, (0, 1)),
        (1, 0, (1, 0)),
        (0, 2, (0, 2)),
        (3, 1, (3, 1)),
    ],
)
def test_resolve_fenceposts_forces_one_unavailable_when_both_zero(
    surge: int, unavailable: int, resolved: tuple[int, int]
) -> None:
    assert resolve_fenceposts(surge, unavailable) == resolved


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (None, 0),
        (5, 5),
        (-1, -1),
        ("5", 5),
        ("+5", 5),
        ("-1", -1),
        ("0005", 5),
        ("", 0),
        ("five", 0),
        ("{{args.count}}", 0),  # unresolved argument
        ("5.0", 0),
        (" 5", 0),
        ("5%", 0),
        ("1_000", 0),
        ("99999999999999999999", INT64_MAX),  # Atoi clamps out-of-range values
        ("-99999999999999999999", INT64_MIN),
    ],
)
def test_metric_counts_read_strings_as_integers(value: int | str | None, number: int) -> None:
    assert int_or_string_value(value) == number


@settings(deadline=None)  # never a wall-clock limit
@given(st.integers(min_value=INT64_MIN, max_value=INT64_MAX))
def test_atoi_reads_every_int64(number: int) -> None:
    assert go_atoi(str(number)) == (number, True)
    assert int_or_string_value(str(number)) == number


@pytest.mark.parametrize("bad", [1.5, True, [], {"a": 1}])
def test_metric_count_rejects_non_int_or_string(bad: object) -> None:
    with pytest.raises(IntOrStringError):
        int_or_string_value(bad)  # type: ignore[arg-type]
