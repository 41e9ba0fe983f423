"""Experiment analyses (§8.3, §6.4): when runs are created, their templated args, following, stopping."""

from __future__ import annotations

from typing import Any

from experiment_world import (
    NOW,
    UID,
    all_running,
    experiment,
    running_status,
    stamp,
    template,
    with_status,
)

from rollouts.experiments import Observed, RunView, plan_experiment
from rollouts.experiments.actions import CreateExperimentRun, EmitRolloutEvent
from rollouts.experiments.analyses import reconcile_analysis
from rollouts.experiments.inputs import ExperimentObject
from rollouts.planner.actions import EmitEvent, TerminateAnalysisRun

ANALYSIS = {"name": "smoke", "templateName": "checks"}


def _available(analyses: list[dict[str, Any]] | None = None, **spec: Any) -> dict[str, Any]:
    body = experiment(template("baseline"), template("canary"), analyses=analyses or [ANALYSIS], **spec)
    return with_status(body, running_status(body))


def _one(body: dict[str, Any], observed: Observed, index: int = 0) -> Any:
    ex = ExperimentObject(body)
    return reconcile_analysis(ex, ex.analyses[index], observed)


def _events(actions: Any) -> list[tuple[str, str, bool]]:
    return [(a.reason, a.message, a.warning) for a in actions if isinstance(a, EmitEvent)]


def test_no_run_before_every_template_is_available() -> None:
    body = experiment(analyses=[ANALYSIS])
    plan = plan_experiment(body, Observed(), NOW)
    assert not any(isinstance(a, CreateExperimentRun) for a in plan.actions)
    assert plan.status["analysisRuns"] == [{"name": "smoke", "analysisRun": "", "phase": ""}]


def test_a_missing_template_is_an_error_before_availability() -> None:
    body = experiment(analyses=[ANALYSIS])
    message = (
        "AnalysisTemplate verification failed for analysis 'smoke': "
        'analysistemplate.argoproj.io "checks" not found'
    )
    outcome = _one(body, Observed(analysis_errors={"smoke": message}))
    assert (outcome.status["phase"], outcome.status["message"]) == ("Error", message)
    assert _events(outcome.actions) == [
        ("AnalysisRunError", f"AnalysisRun 'smoke' transitioned from  -> Error: {message}", True)
    ]


def test_run_created_once_available_with_templated_args_and_metadata() -> None:
    analysis = {
        "name": "smoke",
        "templateName": "checks",
        "clusterScope": True,
        "args": [
            {"name": "canary-hash", "value": "{{templates.canary.podTemplateHash}}"},
            {"name": "rs", "value": "{{ templates.baseline.replicaset.name }}"},
            {"name": "window", "value": "{{experiment.availableAt}}..{{experiment.finishedAt}}"},
            {"name": "plain", "value": "x"},
            {"name": "from", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        ],
    }
    body = _available(
        [analysis],
        duration="90s",
        dryRun=[{"metricName": "m"}],
        measurementRetention=[{"metricName": "m", "limit": 3}],
        analysisRunMetadata={"labels": {"team": "a"}, "annotations": {"note": "n"}},
    )
    body["metadata"]["labels"] = {"argo-rollouts.argoproj.io/controller-instance-id": "blue"}
    observed = all_running(body)
    canary_hash = observed.replica_sets[1].pod_hash
    outcome = _one(body, observed)
    [create] = [a for a in outcome.actions if isinstance(a, CreateExperimentRun)]
    assert create == CreateExperimentRun(
        analysis="smoke",
        name="ex-smoke",
        template_name="checks",
        cluster_scope=True,
        args=[
            {"name": "canary-hash", "value": canary_hash},
            {"name": "rs", "value": "ex-baseline"},
            {"name": "window", "value": f"{stamp(-60)}..{stamp(30)}"},
            {"name": "plain", "value": "x"},
            {"name": "from"},
        ],
        dry_run=[{"metricName": "m"}],
        measurement_retention=[{"metricName": "m", "limit": 3}],
        metadata={
            "name": "ex-smoke",
            "namespace": "ns",
            "labels": {"team": "a", "argo-rollouts.argoproj.io/controller-instance-id": "blue"},
            "annotations": {"note": "n"},
            "ownerReferences": [
                {
                    "apiVersion": "argoproj.io/v1alpha1",
                    "kind": "Experiment",
                    "name": "ex",
                    "uid": UID,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
    )
    assert outcome.status == {"name": "smoke", "analysisRun": "ex-smoke", "phase": "Pending"}
    assert _events(outcome.actions) == [
        ("AnalysisRunPending", "AnalysisRun 'smoke' transitioned from  -> Pending", False)
    ]


def test_an_unknown_placeholder_is_an_error_not_a_run() -> None:
    body = _available([{**ANALYSIS, "args": [{"name": "h", "value": "{{templates.nope.podTemplateHash}}"}]}])
    outcome = _one(body, all_running(body))
    assert not any(isinstance(a, CreateExperimentRun) for a in outcome.actions)
    assert outcome.status["phase"] == "Error"
    assert outcome.status["message"] == (
        "Failed to create AnalysisRun for analysis 'smoke': "
        "failed to resolve {{templates.nope.podTemplateHash}}"
    )


def test_a_failed_creation_reported_by_the_shell_is_an_error() -> None:
    body = _available()
    message = "Failed to create AnalysisRun for analysis 'smoke': two metrics have the same name 'm'"
    outcome = _one(body, all_running(body, analysis_errors={"smoke": message}))
    assert not any(isinstance(a, CreateExperimentRun) for a in outcome.actions)
    assert (outcome.status["phase"], outcome.status["message"]) == ("Error", message)


def test_an_owned_run_missing_from_the_status_is_recorded_not_created_again() -> None:
    body = _available()
    runs = {
        "ex-smoke": RunView("ex-smoke", "Running"),
        "ex-smoke.2": RunView("ex-smoke.2", "Running", "going"),
    }
    outcome = _one(body, all_running(body, runs=runs))
    assert not any(isinstance(a, CreateExperimentRun) for a in outcome.actions)
    assert outcome.status == {
        "name": "smoke",
        "analysisRun": "ex-smoke.2",
        "phase": "Running",
        "message": "going",
    }


def test_no_run_is_created_while_terminating() -> None:
    body = _available(terminate=True)
    assert not any(isinstance(a, CreateExperimentRun) for a in _one(body, all_running(body)).actions)


def test_a_recorded_run_is_followed() -> None:
    body = _available()
    body["status"]["analysisRuns"] = [{"name": "smoke", "analysisRun": "ex-smoke", "phase": "Pending"}]
    outcome = _one(
        body, all_running(body, runs={"ex-smoke": RunView("ex-smoke", "Failed", "metric m failed")})
    )
    assert outcome.status == {
        "name": "smoke",
        "analysisRun": "ex-smoke",
        "phase": "Failed",
        "message": "metric m failed",
    }
    assert _events(outcome.actions) == [
        (
            "AnalysisRunFailed",
            "AnalysisRun 'smoke' transitioned from Pending -> Failed: metric m failed",
            True,
        )
    ]


def test_a_completed_run_status_is_final() -> None:
    body = _available()
    body["status"]["analysisRuns"] = [{"name": "smoke", "analysisRun": "ex-smoke", "phase": "Successful"}]
    outcome = _one(body, all_running(body, runs={"ex-smoke": RunView("ex-smoke", "Failed")}))
    assert outcome.status["phase"] == "Successful"
    assert outcome.actions == []


def test_a_recorded_run_that_vanished_is_an_error() -> None:
    body = _available()
    body["status"]["analysisRuns"] = [{"name": "smoke", "analysisRun": "ex-smoke", "phase": "Running"}]
    outcome = _one(body, all_running(body))
    assert (outcome.status["phase"], outcome.status["message"]) == (
        "Error",
        'analysisruns.argoproj.io "ex-smoke" not found',
    )


def test_terminating_stops_running_runs_once_and_keeps_their_recorded_phase() -> None:
    body = _available(terminate=True)
    body["status"]["analysisRuns"] = [{"name": "smoke", "analysisRun": "ex-smoke", "phase": "Running"}]
    outcome = _one(body, all_running(body, runs={"ex-smoke": RunView("ex-smoke", "Running")}))
    assert outcome.actions == [
        TerminateAnalysisRun("ex-smoke"),
        EmitEvent("AnalysisRunTerminating", "Terminating smoke (ex-smoke)"),
    ]
    assert outcome.status["phase"] == "Running"
    asked = _one(body, all_running(body, runs={"ex-smoke": RunView("ex-smoke", "Running", terminate=True)}))
    assert asked.actions == []


def test_phase_changes_of_a_rollout_step_are_mirrored_on_the_rollout() -> None:
    body = _available()
    body["metadata"]["ownerReferences"] = [
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Rollout",
            "name": "web",
            "uid": "r1",
            "controller": True,
        }
    ]
    body["status"]["analysisRuns"] = [{"name": "smoke", "analysisRun": "ex-smoke", "phase": "Running"}]
    outcome = _one(body, all_running(body, runs={"ex-smoke": RunView("ex-smoke", "Successful")}))
    assert (
        EmitRolloutEvent(
            "web",
            "r1",
            "AnalysisRunSuccessful",
            "AnalysisRun 'smoke' transitioned from Running -> Successful",
        )
        in outcome.actions
    )


def test_a_run_from_before_a_retry_is_not_reused() -> None:
    body = _available()  # available since 60 s ago; the old run is older than that
    old = RunView("ex-smoke", "Successful", created_at=NOW.replace(hour=11))
    outcome = _one(body, all_running(body, runs={"ex-smoke": old}))
    [create] = [a for a in outcome.actions if isinstance(a, CreateExperimentRun)]
    assert create.name == "ex-smoke"  # the shell moves on to ex-smoke.1: that name is taken
    assert outcome.status["phase"] == "Pending"
