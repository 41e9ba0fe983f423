"""The shared status write: omitempty normalization, the paused-condition pre-pass, InvalidSpec,
and the condition rules that only show over several passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from planner_world import World, canary_rollout

from rollouts.planner.actions import Requeue
from rollouts.planner.canary import plan_canary
from rollouts.planner.context import PassContext
from rollouts.planner.inputs import Observed, ReplicaSetView
from rollouts.planner.status import (
    create_error_plan,
    format_selector,
    invalid_spec_plan,
    normalized_status,
    paused_condition_prepass,
)

NOW = datetime(2024, 1, 1, 12, tzinfo=UTC)


def context(status: dict[str, Any], *, paused: bool = False, generation: int = 1) -> PassContext:
    rollout = canary_rollout([{"pause": {}}])
    rollout["spec"]["paused"] = paused
    rollout["metadata"]["generation"] = generation
    rollout["status"] = status
    return PassContext.start(rollout, Observed(), NOW)


def test_normalized_status_drops_what_go_omits() -> None:
    status = {
        "abort": False,
        "replicas": 0,
        "selector": "",
        "conditions": [],
        "currentStepIndex": 0,
        "collisionCount": None,
        "canary": {"weights": None, "currentExperiment": ""},
        "blueGreen": {"scaleUpPreviewCheckPoint": False, "activeSelector": "a"},
        "phase": "Healthy",
    }
    assert normalized_status(status) == {
        "currentStepIndex": 0,
        "canary": {},
        "blueGreen": {"activeSelector": "a"},
        "phase": "Healthy",
    }


def test_prepass_marks_a_paused_rollout() -> None:
    ctx = context({"observedGeneration": "1", "pauseConditions": [{"reason": "CanaryPauseStep"}]})
    plan = paused_condition_prepass(ctx)
    assert plan is not None and plan.status is not None
    kinds = {c["type"]: (c["status"], c["reason"]) for c in plan.status["conditions"]}
    assert kinds == {"Progressing": ("Unknown", "RolloutPaused"), "Paused": ("True", "RolloutPaused")}
    assert plan.status["phase"] == "Paused"


def test_prepass_marks_a_resume_and_a_retry() -> None:
    paused = {"type": "Paused", "status": "True", "reason": "RolloutPaused", "message": "Rollout is paused"}
    progressing = {"type": "Progressing", "status": "Unknown", "reason": "RolloutPaused", "message": "m"}
    plan = paused_condition_prepass(context({"observedGeneration": "1", "conditions": [progressing, paused]}))
    assert plan is not None and plan.status is not None
    kinds = {c["type"]: (c["status"], c["reason"]) for c in plan.status["conditions"]}
    assert kinds == {"Progressing": ("Unknown", "RolloutResumed"), "Paused": ("False", "RolloutPaused")}

    aborted = {"type": "Progressing", "status": "False", "reason": "RolloutAborted", "message": "m"}
    plan = paused_condition_prepass(context({"observedGeneration": "1", "conditions": [aborted]}))
    assert plan is not None and plan.status is not None
    assert plan.status["conditions"][0]["reason"] == "RolloutRetry"


def test_prepass_waits_for_the_generation_and_is_silent_when_in_line() -> None:
    assert paused_condition_prepass(context({"observedGeneration": "1"}, paused=True, generation=2)) is None
    assert paused_condition_prepass(context({"observedGeneration": "1"})) is None


def test_invalid_spec_replaces_a_changed_message() -> None:
    old = {
        "type": "InvalidSpec",
        "status": "True",
        "reason": "InvalidSpec",
        "message": "old",
        "lastTransitionTime": "x",
    }
    plan = invalid_spec_plan(context({"conditions": [old]}), "new problem")
    assert plan.status is not None
    (condition,) = plan.status["conditions"]
    assert condition["message"] == 'The Rollout "web" is invalid: new problem'
    assert condition["lastTransitionTime"] == "2024-01-01T12:00:00Z"
    assert plan.of_type(Requeue)[0].at == NOW + timedelta(seconds=20)


def test_format_selector() -> None:
    selector = {
        "matchLabels": {"tier": "web", "app": "x"},
        "matchExpressions": [
            {"key": "env", "operator": "In", "values": ["prod", "dev"]},
            {"key": "zone", "operator": "NotIn", "values": ["a"]},
            {"key": "canary", "operator": "Exists"},
            {"key": "legacy", "operator": "DoesNotExist"},
        ],
    }
    assert format_selector(selector) == "app=x,tier=web,env in (dev,prod),zone notin (a),canary,!legacy"
    assert format_selector({}) == "<none>"


def test_replica_failure_is_copied_from_the_new_replica_set() -> None:
    w = World(canary_rollout([{"setWeight": 50}], replicas=2), plan_canary)
    w.run()
    (name,) = w.replica_sets
    failure = {
        "type": "ReplicaFailure",
        "status": "True",
        "reason": "FailedCreate",
        "message": "pods are forbidden: exceeded quota",
        "lastTransitionTime": "2024-05-01T12:00:09Z",
    }
    rs = w.replica_sets[name]
    w.replica_sets[name] = ReplicaSetView(**{**rs.__dict__, "replica_failure": failure})
    w.reconcile()
    copied = next(c for c in w.status["conditions"] if c["type"] == "ReplicaFailure")
    assert copied["reason"] == "FailedCreate"
    assert copied["lastUpdateTime"] == copied["lastTransitionTime"] == "2024-05-01T12:00:09Z"
    w.replica_sets[name] = rs
    w.reconcile()
    assert all(c["type"] != "ReplicaFailure" for c in w.status["conditions"])


def test_rollout_not_completed_event_when_an_update_starts() -> None:
    w = World(canary_rollout([{"setWeight": 50}], replicas=2), plan_canary)
    w.run()
    w.update_template("nginx:1.28")
    plan = w.reconcile()
    messages = [a.message for a in plan.actions if getattr(a, "reason", "") == "RolloutNotCompleted"]
    assert messages == [f"Rollout not completed, started update to revision 2 ({w.status['currentPodHash']})"]


def test_replica_set_create_error() -> None:
    rollout = canary_rollout([{"pause": {}}])
    plan = create_error_plan(rollout, "web-abc", 'pods "x" is forbidden: exceeded quota', NOW)
    message = 'Failed to create new replica set "web-abc": pods "x" is forbidden: exceeded quota'
    assert plan.status is not None
    (condition,) = plan.status["conditions"]
    assert (condition["type"], condition["status"], condition["reason"], condition["message"]) == (
        "Progressing",
        "False",
        "ReplicaSetCreateError",
        message,
    )
    (event,) = plan.actions
    assert (event.reason, event.message, event.warning) == ("ReplicaSetCreateError", message, True)  # type: ignore[union-attr]
