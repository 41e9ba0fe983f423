"""§0.3/§0.4 value rules as the planners use them (IntOrString counts, pause durations)."""

from __future__ import annotations

import pytest

from rollouts.planner.units import (
    INVALID_DURATION,
    go_duration_seconds,
    pause_duration_seconds,
    scaled_count,
    surge_and_unavailable,
)


@pytest.mark.parametrize(
    ("value", "total", "round_up", "expected"),
    [
        (3, 10, True, 3),
        ("25%", 10, True, 3),
        ("25%", 10, False, 2),
        ("25", 10, True, 3),  # strings are percentages with or without %
        ("3", 10, True, 1),
        ("0%", 10, True, 0),
        ("100%", 7, False, 7),
        ("33%", 3, True, 1),
        ("33%", 3, False, 0),
    ],
)
def test_scaled_count(value: int | str, total: int, round_up: bool, expected: int) -> None:
    assert scaled_count(value, total, round_up=round_up) == expected


@pytest.mark.parametrize("value", ["abc", "", "1.5%", "%"])
def test_scaled_count_rejects_non_percentages(value: str) -> None:
    with pytest.raises(ValueError, match="not a percentage"):
        scaled_count(value, 10, round_up=True)


@pytest.mark.parametrize("value", [True, 1.5, None, [1]])
def test_scaled_count_rejects_other_kinds(value: object) -> None:
    with pytest.raises(TypeError):
        scaled_count(value, 10, round_up=True)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("surge", "unavailable", "replicas", "expected"),
    [
        ("25", "25", 10, (3, 2)),
        ("25%", "25%", 1, (1, 0)),
        (0, 0, 10, (0, 1)),  # both zero: one unavailable
        ("0%", "1%", 10, (0, 1)),  # percentage rounds down to zero
        (0, 20, 5, (0, 5)),  # capped at replicas
        (1, 1, 0, (1, 0)),
    ],
)
def test_surge_and_unavailable(
    surge: int | str, unavailable: int | str, replicas: int, expected: tuple[int, int]
) -> None:
    assert surge_and_unavailable(surge, unavailable, replicas) == expected


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0.0),
        ("30s", 30.0),
        ("1h30m", 5400.0),
        ("1.5h", 5400.0),
        ("500ms", 0.5),
        ("-2m", -120.0),
        ("+5s", 5.0),
        ("1us", 1e-6),
        ("1µs", 1e-6),
    ],
)
def test_go_duration(text: str, seconds: float) -> None:
    assert go_duration_seconds(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5", "1d", "s", "1h 30m", "--1s", "1.2.3s"])
def test_go_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"^time: (invalid duration|missing unit in duration|unknown unit)"):
        go_duration_seconds(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (10, 10),
        ("10", 10),
        ("10s", 10),
        ("1m30s", 90),
        ("1500ms", 1),
        ("soon", INVALID_DURATION),
        (True, INVALID_DURATION),
        (-3, -3),
    ],
)
def test_pause_duration(value: int | str | None, expected: int | None) -> None:
    assert pause_duration_seconds(value) == expected
