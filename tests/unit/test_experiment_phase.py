"""The Experiment's phase, availableAt, conditions, Events and timers (§8.2, §8.3), pass by pass."""

from __future__ import annotations

from typing import Any

import pytest
from experiment_world import (
    NOW,
    Observed,
    RunView,
    all_running,
    at,
    experiment,
    replica_set,
    running_status,
    stamp,
    template,
    with_status,
)

from rollouts.experiments import plan_experiment
from rollouts.experiments.status import REQUIRED_ANALYSES_COMPLETED, assess_analyses, assess_templates
from rollouts.planner.actions import EmitEvent


def _events(plan: Any) -> list[tuple[str, str, bool]]:
    return [(a.reason, a.message, a.warning) for a in plan.actions if isinstance(a, EmitEvent)]


def _progressing(plan: Any) -> dict[str, Any]:
    return next(c for c in plan.status["conditions"] if c["type"] == "Progressing")


def test_the_first_pass_only_sets_pending() -> None:
    plan = plan_experiment(experiment(), all_running(experiment()), NOW)
    assert plan.status["phase"] == "Pending"
    assert "availableAt" not in plan.status
    assert ("ExperimentPending", "Experiment transitioned from  -> Pending", False) in _events(plan)


def test_all_templates_running_sets_available_at_and_running() -> None:
    body = experiment(duration="30s")
    body = with_status(body, {"phase": "Pending"})
    plan = plan_experiment(body, all_running(body), NOW)
    assert (plan.status["phase"], plan.status["availableAt"]) == ("Running", stamp())
    assert ("ExperimentRunning", "Experiment transitioned from Pending -> Running", False) in _events(plan)
    assert _progressing(plan)["reason"] == "ReplicaSetUpdated"  # the counts moved this pass
    assert _progressing(plan)["message"] == 'Experiment "ex" is progressing.'


def test_one_template_short_keeps_it_pending() -> None:
    body = with_status(experiment(template("a"), template("b", replicas=2)), {"phase": "Pending"})
    observed = Observed(
        replica_sets=(
            replica_set(body, "a", available=1),
            replica_set(body, "b", spec_replicas=2, available=1),
        )
    )
    plan = plan_experiment(body, observed, NOW)
    assert plan.status["phase"] == "Pending"
    assert "availableAt" not in plan.status
    assert plan.wake_at == at(600.001)  # b's progress deadline


def test_a_running_experiment_waits_for_its_duration() -> None:
    body = experiment(duration="90s")
    body = with_status(body, running_status(body, available_at=-60))
    plan = plan_experiment(body, all_running(body), NOW)
    assert plan.status["phase"] == "Running"
    assert plan.wake_at == at(30.001)
    assert _progressing(plan)["reason"] == "NewReplicaSetAvailable"
    assert _progressing(plan)["message"] == 'Experiment "ex" is running.'


def test_duration_over_without_analyses_is_successful_and_completed() -> None:
    body = experiment(duration="10s")
    body = with_status(body, running_status(body, available_at=-11))
    plan = plan_experiment(body, all_running(body), NOW)
    assert plan.status["phase"] == "Successful"
    assert "message" not in plan.status
    assert ("ExperimentSuccessful", "Experiment transitioned from Running -> Successful", False) in _events(
        plan
    )
    assert _progressing(plan) == {
        "type": "Progressing",
        "status": "False",
        "reason": "ExperimentCompleted",
        "message": 'Experiment "ex" has successfully ran and completed.',
        "lastUpdateTime": stamp(),
        "lastTransitionTime": stamp(),
    }


def test_a_failed_template_fails_the_experiment_with_its_message() -> None:
    body = experiment(template("a", replicas=2), progressDeadlineSeconds=30)
    status = running_status(body, since=-31)
    status.pop("availableAt")
    status["phase"] = "Pending"
    status["templateStatuses"][0].update(status="Progressing", availableReplicas=1, readyReplicas=1)
    body = with_status(body, status)
    observed = Observed(replica_sets=(replica_set(body, "a", spec_replicas=2, available=1, replicas=2),))
    plan = plan_experiment(body, observed, NOW)
    assert plan.status["phase"] == "Failed"
    assert plan.status["message"] == "Template 'a' exceeded its progressDeadlineSeconds (30)"
    assert ("ExperimentFailed", "Experiment transitioned from Pending -> Failed", True) in _events(plan)


def _with_runs(runs: dict[str, str], required: tuple[str, ...] = (), duration_over: bool = False) -> Any:
    analyses = [
        {"name": name, "templateName": "t", **({"requiredForCompletion": True} if name in required else {})}
        for name in runs
    ]
    body = experiment(duration="10s", analyses=analyses)
    status = running_status(body, available_at=-11 if duration_over else -5)
    status["analysisRuns"] = [
        {"name": name, "analysisRun": f"ex-{name}", "phase": "Running"} for name in runs
    ]
    body = with_status(body, status)
    views = {f"ex-{name}": RunView(f"ex-{name}", phase, f"{name} is {phase}") for name, phase in runs.items()}
    return plan_experiment(body, all_running(body, runs=views), NOW)


@pytest.mark.parametrize(
    ("runs", "required", "duration_over", "phase", "message"),
    [
        ({"a": "Running"}, (), False, "Running", ""),
        ({"a": "Successful"}, (), False, "Running", ""),  # not required: the duration decides
        ({"a": "Failed", "b": "Running"}, (), False, "Failed", "a is Failed"),
        ({"a": "Inconclusive"}, (), False, "Inconclusive", "a is Inconclusive"),
        ({"a": "Error", "b": "Failed"}, (), False, "Failed", "b is Failed"),
        ({"a": "Successful"}, ("a",), False, "Successful", REQUIRED_ANALYSES_COMPLETED),
        ({"a": "Successful", "b": "Successful"}, ("a",), False, "Successful", REQUIRED_ANALYSES_COMPLETED),
        ({"a": "Successful", "b": "Running"}, ("a",), False, "Running", "b is Running"),
        ({"a": "Running"}, (), True, "Successful", ""),  # duration over, nothing required
        (
            {"a": "Running"},
            ("a",),
            True,
            "Running",
            "a is Running",
        ),  # duration over, the required run decides
        ({"a": "Successful"}, ("a",), True, "Successful", REQUIRED_ANALYSES_COMPLETED),
        ({"a": "Failed"}, (), True, "Failed", "a is Failed"),
    ],
)
def test_phase_combines_templates_and_analyses(
    runs: dict[str, str], required: tuple[str, ...], duration_over: bool, phase: str, message: str
) -> None:
    plan = _with_runs(runs, required, duration_over)
    assert (plan.status["phase"], plan.status.get("message", "")) == (phase, message)


def test_worst_orders() -> None:
    templates = [{"name": n} for n in "abc"]
    assert assess_templates(
        templates, [{"name": "a", "status": "Running"}, {"name": "b", "status": "Successful"}]
    ) == ("Pending", "")
    assert assess_templates(templates[:1], [{"name": "a", "status": "Error", "message": "m"}]) == (
        "Error",
        "m",
    )
    assert assess_templates([], []) == ("Successful", "")
    analyses = [{"name": n} for n in "ab"]
    assert assess_analyses(
        analyses, [{"name": "a", "phase": "Pending"}, {"name": "b", "phase": "Running"}]
    ) == ("Running", "")
    assert assess_analyses([], []) == ("Successful", "")


def test_completed_experiments_never_change_phase() -> None:
    body = experiment(duration="10s")
    status = running_status(body, available_at=-100)
    status["phase"] = "Failed"
    body = with_status(body, status)
    plan = plan_experiment(body, all_running(body), NOW)
    assert plan.status["phase"] == "Failed"


def test_terminate_ends_a_running_experiment_successfully_and_only_scale_down_wakes_it() -> None:
    body = experiment(duration="1h", terminate=True)
    body = with_status(body, running_status(body))
    plan = plan_experiment(body, all_running(body), NOW)
    assert plan.status["phase"] == "Successful"
    assert plan.wake_at == at(30)  # the scale-down deadline, not the hour


def test_restart_replans_to_the_same_decisions() -> None:
    """Level-triggered: the same object and children give the same plan, whenever it is made."""
    body = experiment(duration="90s", analyses=[{"name": "a", "templateName": "t"}])
    body = with_status(body, running_status(body, available_at=-60))
    first = plan_experiment(body, all_running(body), NOW)
    again = plan_experiment(body, all_running(body), NOW)
    assert first == again
