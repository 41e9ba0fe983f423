"""§3.3 step state machine queries: current step, setWeight in force, completion, descriptions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rollouts.planner.steps import (
    StepFacts,
    active_set_canary_scale,
    current_set_weight,
    current_step,
    pause_expires_at,
    pause_step_completed,
    step_completed,
    step_description,
    step_kind,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)
STEPS: list[dict[str, Any]] = [{"setWeight": 10}, {"pause": {}}, {"setWeight": 40}, {"analysis": {}}]


@pytest.mark.parametrize(
    ("steps", "index", "expected"),
    [
        ([], None, (None, None)),
        ([], 3, (None, None)),
        (STEPS, None, (STEPS[0], 0)),
        (STEPS, 2, (STEPS[2], 2)),
        (STEPS, 4, (None, 4)),
        (STEPS, 9, (None, 9)),
    ],
)
def test_current_step(steps: list[dict[str, Any]], index: int | None, expected: tuple[Any, Any]) -> None:
    assert current_step(steps, index) == expected


@pytest.mark.parametrize(
    ("index", "aborted", "max_weight", "expected"),
    [
        (0, False, 100, 10),
        (1, False, 100, 10),
        (2, False, 100, 40),
        (3, False, 100, 40),
        (4, False, 100, 100),
        (4, False, 1000, 1000),
        (2, True, 100, 0),
        (None, False, 100, 10),
    ],
)
def test_current_set_weight(index: int | None, aborted: bool, max_weight: int, expected: int) -> None:
    assert current_set_weight(STEPS, index, aborted=aborted, max_weight=max_weight) == expected


def test_no_set_weight_before_the_current_step_is_zero() -> None:
    assert current_set_weight([{"pause": {}}, {"setWeight": 50}], 0, aborted=False) == 0


def test_set_canary_scale_needs_routing_and_respects_abort() -> None:
    steps = [{"setCanaryScale": {"replicas": 2}}, {"pause": {}}]
    assert (
        active_set_canary_scale(
            steps, 1, traffic_routed=False, aborted=False, abort_scale_down_delay_seconds=None
        )
        is None
    )
    found = active_set_canary_scale(
        steps, 1, traffic_routed=True, aborted=False, abort_scale_down_delay_seconds=None
    )
    assert found == {"replicas": 2}
    assert (
        active_set_canary_scale(
            steps, 1, traffic_routed=True, aborted=True, abort_scale_down_delay_seconds=30
        )
        is None
    )
    kept = active_set_canary_scale(
        steps, 1, traffic_routed=True, aborted=True, abort_scale_down_delay_seconds=0
    )
    assert kept == {"replicas": 2}
    assert (
        active_set_canary_scale(
            steps, 2, traffic_routed=True, aborted=False, abort_scale_down_delay_seconds=None
        )
        is None
    )


@pytest.mark.parametrize(
    ("step", "kind", "description"),
    [
        ({"setWeight": 20}, "setWeight", "setWeight: 20"),
        ({"pause": {}}, "pause", "pause"),
        ({"pause": {"duration": "10s"}}, "pause", "pause: 10s"),
        ({"pause": {"duration": 10}}, "pause", "pause: 10"),
        ({"experiment": {}}, "experiment", "experiment"),
        ({"analysis": {}}, "analysis", "analysis"),
        ({"setCanaryScale": {"weight": 25}}, "setCanaryScale", "setCanaryScale{weight: 25}"),
        ({"setCanaryScale": {"replicas": 3}}, "setCanaryScale", "setCanaryScale{replicas: 3}"),
        (
            {"setCanaryScale": {"matchTrafficWeight": True}},
            "setCanaryScale",
            "setCanaryScale{matchTrafficWeight: true}",
        ),
        ({"setCanaryScale": {}}, "setCanaryScale", "invalid"),
        ({"plugin": {"name": "slack"}}, "plugin", "plugin: slack"),
        ({"setHeaderRoute": {"name": "h"}}, "setHeaderRoute", "setHeaderRoute: h"),
        ({"setMirrorRoute": {"name": "m"}}, "setMirrorRoute", "setMirrorRoute: m"),
        ({}, "", "invalid"),
    ],
)
def test_kind_and_description(step: dict[str, Any], kind: str, description: str) -> None:
    assert step_kind(step) == kind
    assert step_description(step) == description


PAUSED = {"reason": "CanaryPauseStep", "startTime": "2024-01-01T00:00:00Z"}


@pytest.mark.parametrize(
    ("step", "condition", "controller_pause", "seconds", "done"),
    [
        ({"pause": {}}, PAUSED, True, 10_000, False),  # indefinite: only a resume ends it
        ({"pause": {}}, None, True, 0, True),  # user cleared the condition
        ({"pause": {}}, None, False, 0, False),  # the controller has not paused yet
        ({"pause": {"duration": "10s"}}, PAUSED, True, 10, False),  # strictly after
        ({"pause": {"duration": "10s"}}, PAUSED, True, 11, True),
        ({"pause": {"duration": 60}}, PAUSED, True, 59, False),
        ({"pause": {"duration": "1m"}}, PAUSED, True, 61, True),
        ({"pause": {"duration": "oops"}}, PAUSED, True, 10_000, False),
    ],
)
def test_pause_step_completion(
    step: dict[str, Any], condition: dict[str, str] | None, controller_pause: bool, seconds: int, done: bool
) -> None:
    now = T0 + timedelta(seconds=seconds)
    assert pause_step_completed(step, condition, controller_pause=controller_pause, now=now) is done


def test_pause_expiry() -> None:
    assert pause_expires_at({"pause": {"duration": "1h30m"}}, PAUSED) == T0 + timedelta(minutes=90)
    assert pause_expires_at({"pause": {}}, PAUSED) is None
    assert pause_expires_at({"pause": {"duration": 5}}, None) is None


@pytest.mark.parametrize(
    ("step", "facts", "done"),
    [
        ({"setWeight": 20}, StepFacts(at_desired_counts=True), True),
        ({"setWeight": 20}, StepFacts(at_desired_counts=False), False),
        ({"setWeight": 20}, StepFacts(at_desired_counts=True, weight_verified=False), False),
        ({"setWeight": 20}, StepFacts(at_desired_counts=True, weight_verified=True), True),
        ({"setCanaryScale": {"replicas": 1}}, StepFacts(at_desired_counts=True), True),
        ({"experiment": {}}, StepFacts(experiment_phase="Running"), False),
        ({"experiment": {}}, StepFacts(experiment_phase="Successful"), True),
        ({"analysis": {}}, StepFacts(analysis_phase="Inconclusive"), False),
        ({"analysis": {}}, StepFacts(analysis_phase="Successful"), True),
        ({"setHeaderRoute": {"name": "h"}}, StepFacts(), True),
        ({"setMirrorRoute": {"name": "m"}}, StepFacts(), True),
        ({"plugin": {"name": "p"}}, StepFacts(plugin_phase="Running"), False),
        ({"plugin": {"name": "p"}}, StepFacts(plugin_phase="Failed"), True),
        ({"plugin": {"name": "p"}}, StepFacts(plugin_disabled=True), True),
        ({}, StepFacts(at_desired_counts=True), False),
    ],
)
def test_step_completed(step: dict[str, Any], facts: StepFacts, done: bool) -> None:
    assert (
        step_completed(step, facts, spec_paused=False, pause_condition=None, controller_pause=False, now=T0)
        is done
    )


def test_nothing_completes_while_spec_paused() -> None:
    facts = StepFacts(at_desired_counts=True)
    assert not step_completed(
        {"setWeight": 5}, facts, spec_paused=True, pause_condition=None, controller_pause=False, now=T0
    )
