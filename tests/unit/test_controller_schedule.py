"""When a loop looks again (`rollouts.controller.schedule`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rollouts.controller.apply import Outcome, Unsupported
from rollouts.controller.schedule import (
    IMMEDIATE_REPLAN_LIMIT,
    MAX_BACKOFF,
    SPIN_PAUSE,
    TIMER_SLACK,
    UNSUPPORTED_RETRY,
    NextPass,
    failure_backoff,
    next_pass,
)

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_nothing_to_do_waits_for_an_event_or_the_resync() -> None:
    assert next_pass(None, now=NOW) == NextPass()
    assert next_pass(Outcome(), now=NOW) == NextPass()
    assert next_pass(Outcome(gone=True, replan=True), now=NOW) == NextPass()


def test_a_future_requeue_is_honoured_just_after_its_deadline() -> None:
    decision = next_pass(Outcome(requeue_at=NOW + timedelta(seconds=30)), now=NOW)
    assert decision == NextPass(after=30 + TIMER_SLACK)


@pytest.mark.parametrize("outcome", [Outcome(replan=True, writes=1), Outcome(requeue_at=NOW, writes=1)])
def test_a_replan_or_a_due_requeue_runs_at_once(outcome: Outcome) -> None:
    assert next_pass(outcome, now=NOW, idle_replans=5) == NextPass(at_once=True, idle_replans=0)


def test_re_planning_without_writing_is_cut_short() -> None:
    idle = 0
    for _ in range(IMMEDIATE_REPLAN_LIMIT - 1):
        decision = next_pass(Outcome(replan=True), now=NOW, idle_replans=idle)
        assert decision.at_once
        idle = decision.idle_replans
    assert next_pass(Outcome(replan=True), now=NOW, idle_replans=idle) == NextPass(
        after=SPIN_PAUSE, spinning=True
    )


def test_an_unsupported_action_is_retried_slowly() -> None:
    outcome = Outcome(unsupported=Unsupported("ReconciliationError", "x"), replan=True)
    assert next_pass(outcome, now=NOW) == NextPass(after=UNSUPPORTED_RETRY)


def test_failures_back_off_exponentially_up_to_a_cap() -> None:
    assert [failure_backoff(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert failure_backoff(50) == MAX_BACKOFF
    assert failure_backoff(0) == 1.0
