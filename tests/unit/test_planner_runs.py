"""§3.9/§3.10 runs a canary owns: background analysis, experiments, re-runs, names."""

from __future__ import annotations

from typing import Any

from planner_world import World, apply_merge_patch, canary_rollout

from rollouts.planner import operations
from rollouts.planner.actions import (
    CreateAnalysisRun,
    CreateExperiment,
    TerminateAnalysisRun,
    TerminateExperiment,
)
from rollouts.planner.canary import plan_canary
from rollouts.planner.inputs import AnalysisRunView, ExperimentView

BACKGROUND = {"templates": [{"templateName": "errors"}], "startingStep": 1}


def deployed(steps: list[dict[str, Any]], **canary: Any) -> World:
    w = World(canary_rollout(steps, replicas=4, **canary), plan_canary)
    w.run()
    w.update_template("nginx:1.28")
    return w


def created(w: World, kind: type) -> list[Any]:
    return [a for p in w.plans for a in p.of_type(kind)]


def test_background_analysis_starts_at_its_starting_step_and_stops_on_promotion() -> None:
    w = deployed([{"setWeight": 25}, {"pause": {}}, {"setWeight": 50}], analysis=BACKGROUND)
    w.reconcile()
    w.reconcile()
    assert created(w, CreateAnalysisRun) == []  # step 0 < startingStep 1
    w.run()
    (run,) = created(w, CreateAnalysisRun)
    assert (run.kind, run.name) == ("Background", f"web-{w.status['currentPodHash']}-2")
    assert w.status["canary"]["currentBackgroundAnalysisRunStatus"]["name"] == run.name
    w.analysis_runs[run.name] = AnalysisRunView(run.name, "Running")
    apply_merge_patch(w.rollout, operations.promote(w.rollout).status or {})
    w.run()
    assert w.status["stableRS"] == w.status["currentPodHash"]
    w.reconcile()
    assert TerminateAnalysisRun(run.name) in created(w, TerminateAnalysisRun)
    assert "currentBackgroundAnalysisRunStatus" not in w.status["canary"]


def test_background_failure_aborts() -> None:
    w = deployed([{"setWeight": 25}, {"pause": {}}], analysis={"templates": [{"templateName": "errors"}]})
    w.run()
    (run,) = created(w, CreateAnalysisRun)
    w.analysis_runs[run.name] = AnalysisRunView(run.name, "Error", "prometheus unreachable")
    w.run()
    assert w.status["abort"] is True
    assert w.status["message"].endswith("Background analysis phase error: prometheus unreachable")


def test_resuming_an_inconclusive_step_starts_a_fresh_run() -> None:
    analysis = {"templates": [{"templateName": "t"}]}
    w = deployed([{"setWeight": 25}, {"analysis": analysis}])
    w.run()
    (first,) = created(w, CreateAnalysisRun)
    w.analysis_runs[first.name] = AnalysisRunView(first.name, "Inconclusive")
    w.run()
    assert w.status["pauseConditions"][0]["reason"] == "InconclusiveAnalysisRun"
    apply_merge_patch(w.rollout, {"status": {"pauseConditions": None}})  # a plain resume
    w.run()
    second = created(w, CreateAnalysisRun)[-1]
    assert second.name == f"{first.name}.1"


def test_experiment_step_lifecycle() -> None:
    experiment = {"duration": "5m", "templates": [{"name": "baseline", "specRef": "stable"}]}
    w = deployed([{"setWeight": 25}, {"experiment": experiment}, {"setWeight": 50}])
    w.run()
    (create,) = created(w, CreateExperiment)
    assert create.name == f"web-{w.status['currentPodHash']}-2-1"
    assert (create.step_index, create.experiment) == (1, experiment)
    assert w.status["canary"]["currentExperiment"] == create.name
    w.experiments[create.name] = ExperimentView(create.name, "Running")
    w.run()
    assert w.status["currentStepIndex"] == 1
    w.experiments[create.name] = ExperimentView(create.name, "Successful")
    w.run()
    assert w.status["currentStepIndex"] == 3
    assert "currentExperiment" not in w.status["canary"]


def test_failed_experiment_aborts_and_terminates() -> None:
    experiment = {"templates": [{"name": "canary", "specRef": "canary"}]}
    w = deployed([{"setWeight": 25}, {"experiment": experiment}])
    w.run()
    (create,) = created(w, CreateExperiment)
    w.experiments[create.name] = ExperimentView(create.name, "Failed", "canary pods crashed")
    w.run()
    assert w.status["message"].endswith("Experiment analysis phase is failed: canary pods crashed")
    w.experiments[create.name] = ExperimentView(create.name, "Running")
    w.status["canary"]["currentExperiment"] = create.name
    w.reconcile()
    assert TerminateExperiment(create.name) in created(w, TerminateExperiment)
