"""Event reason → trigger name (Argo's two-regex rule) and trigger conditions."""

from __future__ import annotations

import pytest

from rollouts.notifications.triggers import Condition, ConditionResult, run_trigger, trigger_name


@pytest.mark.parametrize(
    ("reason", "trigger"),
    [
        ("RolloutCompleted", "on-rollout-completed"),
        ("RolloutStepCompleted", "on-rollout-step-completed"),
        ("AnalysisRunFailed", "on-analysis-run-failed"),
        ("AnalysisRunError", "on-analysis-run-error"),
        ("ScalingReplicaSet", "on-scaling-replica-set"),
        ("RolloutAddedToInformer", "on-rollout-added-to-informer"),
        ("NewReplicaSetCreated", "on-new-replica-set-created"),
        ("TargetGroupVerified", "on-target-group-verified"),
        ("SwitchService", "on-switch-service"),
        # the space survives and the first rule leaves "Service" to the second, as Go's regexps do
        ("Updated VirtualService", "on-updated -virtual-service"),
        ("ABCDef", "on-abc-def"),
        ("Metric1Failed", "on-metric1-failed"),
        ("Rollout", "on-rollout"),
        ("", "on-"),
    ],
)
def test_event_reasons_map_to_argos_trigger_names(reason: str, trigger: str) -> None:
    assert trigger_name(reason) == trigger


def test_a_condition_without_when_always_fires() -> None:
    condition = Condition.parse({"send": ["a", "b"]})
    assert run_trigger((condition,), {"rollout": {}}) == [ConditionResult(("a", "b"), True)]


def test_when_is_evaluated_against_the_rollout() -> None:
    conditions = (
        Condition.parse({"when": "rollout.status.phase == 'Healthy'", "send": ["healthy"]}),
        Condition.parse({"when": "rollout.spec.replicas > 3", "send": ["big"]}),
    )
    rollout = {"status": {"phase": "Healthy"}, "spec": {"replicas": 2}}
    assert run_trigger(conditions, {"rollout": rollout}) == [
        ConditionResult(("healthy",), True),
        ConditionResult(("big",), False),
    ]


def test_a_when_that_fails_or_is_not_bool_is_that_conditions_error_only() -> None:
    conditions = (
        Condition.parse({"when": "rollout.spec.replicas", "send": ["a"]}),
        Condition.parse({"when": "rollout.nope.deeper > 1", "send": ["b"]}),
        Condition.parse({"send": ["c"]}),
    )
    results = run_trigger(conditions, {"rollout": {"spec": {"replicas": 2}}})
    assert "expected bool" in results[0].error and not results[0].triggered
    assert results[1].error and not results[1].triggered
    assert results[2] == ConditionResult(("c",), True)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("send: [a]", "must be a mapping"),
        ({"send": []}, "non-empty list"),
        ({"send": "a"}, "non-empty list"),
        ({"send": ["a"], "when": 3}, "'when' must be an expression string"),
        ({"send": ["a"], "when": "rollout.status.phase =="}, "'when' does not compile"),
    ],
)
def test_malformed_conditions_are_refused_with_the_reason(raw: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Condition.parse(raw)
