"""The two value parsers the planners need: IntOrString counts (§0.3) and pause durations (§0.3/§0.4).

`analysis/values.py` is the project's home for these rules; until it exists the planners reach them
only through the functions below, so switching is a change to this one module. The rules, quoted:

* maxSurge / maxUnavailable: an int is a count; *any* string is a percentage, with or without a
  trailing ``%`` (the defaults are the strings ``"25"``). Surge rounds up, unavailable rounds down.
  If both resolve to 0, maxUnavailable becomes 1 (canary), then it is capped at the replica count.
* ``pause.duration``: int -> seconds; a string holding an integer -> seconds; otherwise a Go duration
  (``30s``, ``1h30m``) truncated to whole seconds; anything unparsable -> -1.
"""

from __future__ import annotations

import math
import re
from typing import Final

__all__ = [
    "INVALID_DURATION",
    "go_duration_seconds",
    "pause_duration_seconds",
    "scaled_count",
    "surge_and_unavailable",
]

INVALID_DURATION: Final = -1

_GO_UNIT_SECONDS: Final[dict[str, float]] = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,  # U+00B5 micro sign
    "μs": 1e-6,  # U+03BC greek mu
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_GO_DURATION_TERM: Final = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def scaled_count(value: int | str, total: int, *, round_up: bool) -> int:
    """Resolve an IntOrString against ``total``: ints are counts, every string is a percentage.

    Raises ``ValueError`` with the offending value when a string is not a whole percentage, and
    ``TypeError`` for values of other JSON kinds (booleans included, as Go would reject them).
    """
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"{value!r} is neither an integer nor a percentage string")
    if isinstance(value, int):
        return value
    digits = value.replace("%", "")
    if not re.fullmatch(r"[+-]?\d+", digits):
        raise ValueError(
            f"invalid value for IntOrString: invalid type: string is not a percentage: {value!r}"
        )
    percent = int(digits)
    exact = percent * total / 100
    return math.ceil(exact) if round_up else math.floor(exact)


def surge_and_unavailable(max_surge: int | str, max_unavailable: int | str, replicas: int) -> tuple[int, int]:
    """Resolve maxSurge/maxUnavailable together as the canary replica math does (§0.3, §3.4).

    Both resolving to zero forces one unavailable pod (validation forbids an explicit double zero,
    but percentages can round down to it); unavailable never exceeds ``replicas``.
    """
    surge = scaled_count(max_surge, replicas, round_up=True)
    unavailable = scaled_count(max_unavailable, replicas, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    if replicas == 0:
        unavailable = 0
    return surge, min(unavailable, replicas)


def go_duration_seconds(text: str) -> float:
    """Parse Go's ``time.ParseDuration`` syntax into seconds; ``ValueError`` when it is not one."""
    body = text
    sign = 1.0
    if body[:1] in ("+", "-"):
        sign = -1.0 if body[0] == "-" else 1.0
        body = body[1:]
    if body == "0":
        return 0.0
    if not body:
        raise ValueError(f'time: invalid duration "{text}"')
    total = 0.0
    position = 0
    for match in _GO_DURATION_TERM.finditer(body):
        if match.start() != position:
            break
        total += float(match.group(1)) * _GO_UNIT_SECONDS[match.group(2)]
        position = match.end()
    if position != len(body):
        raise ValueError(f'time: invalid duration "{text}"')
    return sign * total


def pause_duration_seconds(value: int | str | None) -> int | None:
    """Seconds of a pause step's ``duration``; ``None`` when absent, ``INVALID_DURATION`` if unparsable."""
    if value is None:
        return None
    if isinstance(value, bool):
        return INVALID_DURATION
    if isinstance(value, int):
        return value
    if re.fullmatch(r"[+-]?\d+", value):
        return int(value)
    try:
        return math.trunc(go_duration_seconds(value))
    except ValueError:
        return INVALID_DURATION
