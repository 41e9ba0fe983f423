"""§2.2 condition helpers: the set/no-op/transition-time rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rollouts.planner.conditions import (
    PROGRESSING,
    find_condition,
    new_condition,
    remove_condition,
    set_condition,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)


def test_new_condition_has_both_stamps_in_go_order() -> None:
    condition = new_condition(PROGRESSING, "True", "ReplicaSetUpdated", "m", T0)
    assert list(condition) == ["type", "status", "lastUpdateTime", "lastTransitionTime", "reason", "message"]
    assert condition["lastUpdateTime"] == condition["lastTransitionTime"] == "2024-01-01T00:00:00Z"


def test_same_status_and_reason_is_a_no_op() -> None:
    before = [new_condition(PROGRESSING, "True", "A", "old", T0)]
    after, changed = set_condition(before, new_condition(PROGRESSING, "True", "A", "new message", T1))
    assert not changed
    assert after == before


def test_same_status_new_reason_keeps_transition_time() -> None:
    before = [new_condition(PROGRESSING, "True", "A", "m", T0)]
    after, changed = set_condition(before, new_condition(PROGRESSING, "True", "B", "m", T1))
    assert changed
    assert after[0]["reason"] == "B"
    assert after[0]["lastTransitionTime"] == "2024-01-01T00:00:00Z"
    assert after[0]["lastUpdateTime"] == "2024-01-01T00:05:00Z"


def test_status_change_moves_transition_time_and_the_condition_to_the_end() -> None:
    before = [
        new_condition(PROGRESSING, "True", "A", "m", T0),
        new_condition("Available", "True", "X", "m", T0),
    ]
    after, changed = set_condition(before, new_condition(PROGRESSING, "False", "A", "m", T1))
    assert changed
    assert [c["type"] for c in after] == ["Available", PROGRESSING]
    assert after[1]["lastTransitionTime"] == "2024-01-01T00:05:00Z"


def test_inputs_are_never_mutated() -> None:
    before = [new_condition(PROGRESSING, "True", "A", "m", T0)]
    snapshot = [dict(c) for c in before]
    set_condition(before, new_condition(PROGRESSING, "False", "B", "m", T1))
    remove_condition(before, PROGRESSING)
    assert before == snapshot


def test_find_and_remove() -> None:
    conditions = [new_condition(PROGRESSING, "True", "A", "m", T0)]
    assert find_condition(conditions, PROGRESSING) is conditions[0]
    assert find_condition(conditions, "Healthy") is None
    assert remove_condition(conditions, PROGRESSING) == []
