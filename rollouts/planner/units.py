"""The planners' view of IntOrString counts (§0.3) and pause durations (§0.3/§0.4).

The rules themselves live in `analysis.values` (shared with the analysis package, which may not
import us); this module only adapts them to the shapes the planners want: ``None`` for an absent
pause duration, and the canary's both-zero fencepost rule applied together with the counts.
"""

from __future__ import annotations

from typing import Final

from analysis import values

__all__ = [
    "INVALID_DURATION",
    "go_duration_seconds",
    "pause_duration_seconds",
    "scaled_count",
    "surge_and_unavailable",
]

INVALID_DURATION: Final = -1


def scaled_count(value: int | str, total: int, *, round_up: bool) -> int:
    """Resolve an IntOrString against ``total``: ints are counts, every string is a percentage.

    Raises ``ValueError`` (``analysis.values.IntOrStringError``) naming the offending value, and
    ``TypeError`` for values of other JSON kinds (booleans included, as Go would reject them).
    """
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"{value!r} is neither an integer nor a percentage string")
    return values.scaled_value(value, total, round_up=round_up)


def surge_and_unavailable(max_surge: int | str, max_unavailable: int | str, replicas: int) -> tuple[int, int]:
    """Resolve maxSurge/maxUnavailable together as the canary replica math does (§0.3, §3.4).

    Both resolving to zero forces one unavailable pod (validation forbids an explicit double zero,
    but percentages can round down to it); unavailable never exceeds ``replicas``.
    """
    surge, unavailable = values.resolve_fenceposts(
        values.max_surge_count(max_surge, replicas), values.max_unavailable_count(max_unavailable, replicas)
    )
    if replicas == 0:
        unavailable = 0
    return surge, min(unavailable, replicas)


def go_duration_seconds(text: str) -> float:
    """Go's ``time.ParseDuration`` in seconds; ``ValueError`` (``DurationError``) when it is not one."""
    return values.parse_go_duration(text)


def pause_duration_seconds(value: int | str | None) -> int | None:
    """Seconds of a pause step's ``duration``; ``None`` when absent, ``INVALID_DURATION`` if unparsable."""
    if value is None:
        return None
    try:
        return values.pause_duration_seconds(value)
    except values.IntOrStringError:
        return INVALID_DURATION
