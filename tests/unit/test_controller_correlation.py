"""Event correlation as client-go's recorder does it (rollouts/controller/correlation.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from rollouts.controller.correlation import COMBINED_PREFIX, Correlator
from rollouts.controller.events import event_body

T0 = datetime(2026, 12, 7, 12, 0, 0, tzinfo=UTC)
ROLLOUT = {"metadata": {"name": "web", "namespace": "prod", "uid": "u-1", "resourceVersion": "7"}}


def event(reason: str, message: str, now: datetime = T0, **rollout: Any) -> dict[str, Any]:
    body = {**ROLLOUT, **rollout}
    return event_body(body, reason=reason, message=message, warning=False, now=now, instance="host")


def test_a_first_event_is_created_as_it_is() -> None:
    body = event("RolloutPaused", "Rollout is paused (CanaryPauseStep)")
    correlated = Correlator().correlate(body, T0)
    assert correlated.patch is None
    assert correlated.body == body


def test_a_repeat_patches_the_count_of_the_first_event() -> None:
    correlator = Correlator()
    first = correlator.correlate(event("RolloutPaused", "Rollout is paused"), T0).body
    later = T0 + timedelta(seconds=30)
    again = correlator.correlate(event("RolloutPaused", "Rollout is paused", later), later)
    assert again.patch == {
        "count": 2,
        "lastTimestamp": "2026-12-07T12:00:30Z",
        "message": "Rollout is paused",
    }
    assert again.body["metadata"]["name"] == first["metadata"]["name"]
    assert again.body["firstTimestamp"] == first["firstTimestamp"] == "2026-12-07T12:00:00Z"
    third = correlator.correlate(event("RolloutPaused", "Rollout is paused", later), later)
    assert third.patch is not None and third.patch["count"] == 3


def test_another_message_type_or_object_is_another_event() -> None:
    correlator = Correlator()
    correlator.correlate(event("RolloutPaused", "Rollout is paused"), T0)
    assert correlator.correlate(event("RolloutPaused", "other"), T0).patch is None
    warning = event("RolloutPaused", "Rollout is paused")
    warning["type"] = "Warning"
    assert correlator.correlate(warning, T0).patch is None
    other = event("RolloutPaused", "Rollout is paused", metadata={**ROLLOUT["metadata"], "uid": "u-2"})
    assert correlator.correlate(other, T0).patch is None


def test_the_tenth_distinct_message_of_a_reason_is_combined_and_counted_from_then_on() -> None:
    correlator = Correlator()
    messages = [f"Scaled up ReplicaSet web-1 from {n} to {n + 1}" for n in range(12)]
    results = [correlator.correlate(event("ScalingReplicaSet", m), T0) for m in messages]
    assert all(r.patch is None and not r.body["message"].startswith(COMBINED_PREFIX) for r in results[:9])
    combined = results[9]
    assert combined.patch is None
    assert combined.body["message"] == COMBINED_PREFIX + messages[9]
    assert combined.body["count"] == 1
    assert [r.patch["count"] if r.patch else None for r in results[10:]] == [2, 3]
    assert results[11].body["metadata"]["name"] == combined.body["metadata"]["name"]
    # other reasons are not affected
    assert (
        not correlator.correlate(event("RolloutPaused", "x"), T0).body["message"].startswith(COMBINED_PREFIX)
    )


def test_similar_events_ten_minutes_apart_start_counting_again() -> None:
    correlator = Correlator()
    for n in range(9):
        correlator.correlate(event("ScalingReplicaSet", f"m{n}"), T0)
    later = T0 + timedelta(seconds=601)
    result = correlator.correlate(event("ScalingReplicaSet", "m9", later), later)
    assert not result.body["message"].startswith(COMBINED_PREFIX)


def test_the_memory_is_bounded_least_recently_used_first() -> None:
    correlator = Correlator(max_entries=2)
    correlator.correlate(event("A", "a"), T0)
    correlator.correlate(event("B", "b"), T0)
    correlator.correlate(event("A", "a"), T0)  # A is fresh again
    correlator.correlate(event("C", "c"), T0)  # B is forgotten
    assert correlator.correlate(event("A", "a"), T0).patch is not None
    assert correlator.correlate(event("B", "b"), T0).patch is None


def test_an_event_recreated_after_a_404_is_patched_under_its_new_name() -> None:
    correlator = Correlator()
    correlator.correlate(event("RolloutPaused", "p"), T0)
    repeat = correlator.correlate(event("RolloutPaused", "p"), T0)
    recreated = {**repeat.body, "metadata": {**repeat.body["metadata"], "name": "web.new"}}
    correlator.posted(recreated)
    again = correlator.correlate(event("RolloutPaused", "p"), T0)
    assert again.body["metadata"]["name"] == "web.new"
    assert again.patch is not None and again.patch["count"] == 3
