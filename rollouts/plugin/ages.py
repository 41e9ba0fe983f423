"""Ages and remaining times printed the way kubectl prints them (``7m5s``, ``3h``, ``12d``).

kubectl's ``HumanDuration`` drops detail as durations grow, so columns stay narrow; the same
thresholds are kept so our tables line up with ``kubectl get`` output users read next to them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rollouts.planner.inputs import parse_time

__all__ = ["age", "go_duration", "human_duration"]


def human_duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 60 * 2:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        rest = seconds % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def go_duration(span: timedelta) -> str:
    """Go's ``Duration.String`` for whole seconds (``0s``, ``45s``, ``10m0s``, ``1h30m0s``),
    the form Argo's plugin prints durations in."""
    seconds = int(span.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{seconds}s"
    if minutes:
        return f"{minutes}m{seconds}s"
    return f"{seconds}s"


def age(created: object, now: datetime) -> str:
    """Age of an object from its ``creationTimestamp``; ``<unknown>`` when absent or malformed."""
    moment = parse_time(created)
    return "<unknown>" if moment is None else human_duration(now - moment)
