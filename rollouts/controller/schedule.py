"""When a Rollout's loop looks again, decided from the outcome of a pass (pure, clock passed in).

* at once — the world moved under the plan (a conflict, a stale cache) or the plan asked for a
  requeue that is already due; but a loop that keeps asking to look again *without writing
  anything* is paused after `IMMEDIATE_REPLAN_LIMIT` passes, so a planner bug cannot spin a core;
* at the earliest `Requeue` of the plan, a little after it so a ``<`` deadline has passed;
* after a failed pass, exponentially later (1 s doubling to `MAX_BACKOFF`), as a work queue does;
* after a cause the controller cannot handle yet (`apply.Unsupported`), in `UNSUPPORTED_RETRY`;
* otherwise only when an event wakes it, or at the resync period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from rollouts.controller.apply import Outcome

__all__ = [
    "IMMEDIATE_REPLAN_LIMIT",
    "MAX_BACKOFF",
    "SPIN_PAUSE",
    "TIMER_SLACK",
    "UNSUPPORTED_RETRY",
    "NextPass",
    "failure_backoff",
    "next_pass",
]

IMMEDIATE_REPLAN_LIMIT: Final = 10
SPIN_PAUSE: Final = 1.0
TIMER_SLACK: Final = 0.05
UNSUPPORTED_RETRY: Final = 60.0
MAX_BACKOFF: Final = 300.0


@dataclass(frozen=True)
class NextPass:
    """``at_once``: wake immediately; else ``after`` seconds (``None``: on an event or resync)."""

    at_once: bool = False
    after: float | None = None
    idle_replans: int = 0
    """Consecutive immediate passes that wrote nothing (carried to the next decision)."""
    spinning: bool = False
    """The immediate re-plans were cut short (worth a warning)."""


def failure_backoff(failures: int) -> float:
    """Seconds before retrying after ``failures`` consecutive failed passes."""
    return min(2.0 ** max(failures - 1, 0), MAX_BACKOFF)


def next_pass(outcome: Outcome | None, *, now: datetime, idle_replans: int = 0) -> NextPass:
    if outcome is None or outcome.gone:
        return NextPass()
    if outcome.unsupported is not None:
        return NextPass(after=UNSUPPORTED_RETRY)
    delay = None if outcome.requeue_at is None else max((outcome.requeue_at - now).total_seconds(), 0.0)
    if outcome.replan or delay == 0.0:
        idle = 0 if outcome.writes else idle_replans + 1
        if idle >= IMMEDIATE_REPLAN_LIMIT:
            return NextPass(after=SPIN_PAUSE, spinning=True)
        return NextPass(at_once=True, idle_replans=idle)
    return NextPass(after=None if delay is None else delay + TIMER_SLACK)
