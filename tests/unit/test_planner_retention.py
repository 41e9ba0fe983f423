"""§3.9/§3.10 retention: which finished AnalysisRuns and Experiments a Rollout deletes.

The rule is one function over both kinds (`retention.children_to_delete`), tested here as a table
for each view type, then through the canary and blue-green planners: only non-current runs of
this Rollout go, never while aborting or promoting fully, and each only once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from planner_world import World, apply_merge_patch, blue_green_rollout, canary_rollout

from rollouts.planner import operations
from rollouts.planner.actions import CreateAnalysisRun, DeleteAnalysisRun, TerminateAnalysisRun
from rollouts.planner.bluegreen import plan_bluegreen
from rollouts.planner.canary import plan_canary
from rollouts.planner.inputs import AnalysisRunView, ExperimentView, ReplicaSetView, RolloutView, ServiceView
from rollouts.planner.retention import DEFAULT_RUN_HISTORY_LIMIT, children_to_delete, run_history_limits

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
STEP_ANALYSIS = {"templates": [{"templateName": "smoke"}]}


def rs(pod_hash: str, *, deleting: bool = False) -> ReplicaSetView:
    return ReplicaSetView(f"web-{pod_hash}", pod_hash, 1, T0, deleting=deleting)


# (name, phase, pod hash, age in minutes, being deleted) -> expected deleted?
TABLE: list[tuple[str, str, str | None, int, bool, bool]] = [
    ("no-label", "Successful", None, 0, False, True),
    ("rs-gone", "Successful", "zz", 0, False, True),
    ("rs-deleting", "Failed", "b", 0, False, True),
    ("rs-gone-running", "Running", "zz", 0, False, True),
    ("ok-new", "Successful", "a", 1, False, False),
    ("ok-old", "Successful", "a", 2, False, False),
    ("ok-oldest", "Successful", "a", 3, False, True),
    ("bad-new", "Error", "a", 1, False, False),
    ("bad-old", "Inconclusive", "a", 2, False, True),
    ("failed-oldest", "Failed", "a", 4, False, True),
    ("running", "Running", "a", 9, False, False),
    ("pending", "", "a", 9, False, False),
    ("already-going", "Successful", "zz", 0, True, False),
]


@pytest.mark.parametrize("view", [AnalysisRunView, ExperimentView])
def test_the_rule_is_the_same_for_runs_and_experiments(view: type[Any]) -> None:
    children = [
        view(name, phase, pod_hash=pod_hash, created_at=T0 - timedelta(minutes=age), deleting=deleting)
        for name, phase, pod_hash, age, deleting, _ in TABLE
    ]
    doomed = children_to_delete(children, [rs("a"), rs("b", deleting=True)], 2, 1)
    assert sorted(child.name for child in doomed) == sorted(name for name, *_, gone in TABLE if gone)
    assert all(isinstance(child, view) for child in doomed)


def test_newest_first_and_a_tie_in_age_is_broken_by_name() -> None:
    same_age = [AnalysisRunView(name, "Successful", pod_hash="a", created_at=T0) for name in ("x", "z", "y")]
    assert [r.name for r in children_to_delete(same_age, [rs("a")], 1, 0)] == ["y", "x"]


@pytest.mark.parametrize(("limits", "kept"), [((0, 0), 0), ((1, 0), 1), ((5, 5), 3)])
def test_limits_of_zero_delete_every_finished_one(limits: tuple[int, int], kept: int) -> None:
    runs = [
        AnalysisRunView(f"r{i}", "Successful", pod_hash="a", created_at=T0 + timedelta(i)) for i in range(3)
    ]
    assert len(children_to_delete(runs, [rs("a")], *limits)) == 3 - kept


@pytest.mark.parametrize(
    ("analysis", "expected"),
    [
        (None, (DEFAULT_RUN_HISTORY_LIMIT, DEFAULT_RUN_HISTORY_LIMIT)),
        ({"successfulRunHistoryLimit": 1}, (1, DEFAULT_RUN_HISTORY_LIMIT)),
        ({"successfulRunHistoryLimit": 0, "unsuccessfulRunHistoryLimit": 2}, (0, 2)),
        ({"successfulRunHistoryLimit": "one", "unsuccessfulRunHistoryLimit": True}, (5, 5)),
        ("not a mapping", (5, 5)),
    ],
)
def test_history_limits_default_to_five_and_tolerate_wrong_types(
    analysis: Any, expected: tuple[int, int]
) -> None:
    spec: dict[str, Any] = {} if analysis is None else {"analysis": analysis}
    assert run_history_limits(RolloutView({"spec": spec})) == expected


# -- through the canary planner


def canary_world(**spec: Any) -> World:
    rollout = canary_rollout([{"setWeight": 50}, {"analysis": STEP_ANALYSIS}], replicas=2)
    rollout["spec"].update(spec)
    w = World(rollout, plan_canary)
    w.run()
    return w


def release(w: World, image: str) -> str:
    """Update the template and drive the canary through its analysis step to Healthy; the step's
    run is marked Successful as the analysis controller would. Returns the run's name."""
    w.update_template(image)
    w.run()
    run = w.status["canary"]["currentStepAnalysisRunStatus"]["name"]
    w.analysis_runs[run] = replace(w.analysis_runs[run], phase="Successful")
    w.run()
    assert w.status["stableRS"] == w.status["currentPodHash"]
    return run


def deletions(w: World) -> list[str]:
    return [action.name for plan in w.plans for action in plan.of_type(DeleteAnalysisRun)]


def test_successful_runs_beyond_the_limit_are_deleted_once_newest_kept() -> None:
    w = canary_world(analysis={"successfulRunHistoryLimit": 1})
    runs = [release(w, f"nginx:1.{minor}") for minor in range(26, 30)]
    assert sorted(w.analysis_runs) == [runs[-1]]
    assert sorted(deletions(w)) == sorted(runs[:-1])  # each exactly once
    w.plans.clear()
    w.run()
    assert deletions(w) == []


def test_runs_of_a_revision_whose_replica_set_is_gone_are_deleted() -> None:
    w = canary_world(revisionHistoryLimit=0)
    first = release(w, "nginx:1.26")
    release(w, "nginx:1.27")
    assert first in deletions(w)
    assert first not in w.analysis_runs


def test_the_current_run_stays_with_limits_of_zero() -> None:
    w = canary_world(analysis={"successfulRunHistoryLimit": 0, "unsuccessfulRunHistoryLimit": 0})
    w.update_template("nginx:1.26")
    w.run()
    current = w.status["canary"]["currentStepAnalysisRunStatus"]["name"]
    w.analysis_runs[current] = replace(w.analysis_runs[current], phase="Inconclusive")
    w.run()
    assert w.status["pauseConditions"][0]["reason"] == "InconclusiveAnalysisRun"
    assert current in w.analysis_runs and current not in deletions(w)


def test_a_running_non_current_run_is_terminated_once_then_pruned_when_finished() -> None:
    w = canary_world(analysis={"successfulRunHistoryLimit": 0})
    w.update_template("nginx:1.26")
    w.run()
    orphan = AnalysisRunView("web-lost-1", "Running", pod_hash=w.status["currentPodHash"], created_at=T0)
    w.analysis_runs[orphan.name] = orphan  # e.g. created by a pass whose status write was lost
    w.run()
    terminated = [a.name for p in w.plans for a in p.of_type(TerminateAnalysisRun)]
    assert terminated == [orphan.name]
    assert orphan.name not in deletions(w)
    w.analysis_runs[orphan.name] = replace(w.analysis_runs[orphan.name], phase="Successful")
    w.run()
    assert deletions(w) == [orphan.name]


def test_nothing_is_pruned_while_aborted_or_promoting_fully() -> None:
    w = canary_world(analysis={"successfulRunHistoryLimit": 0})
    release(w, "nginx:1.26")
    w.update_template("nginx:1.27")
    w.run()
    stale = AnalysisRunView("web-old-9", "Successful", pod_hash="gone", created_at=T0)
    w.analysis_runs[stale.name] = stale
    w.plans.clear()
    apply_merge_patch(w.rollout, operations.abort(w.rollout).status or {})
    w.reconcile()
    assert deletions(w) == []
    apply_merge_patch(w.rollout, operations.retry(w.rollout).status or {})
    apply_merge_patch(w.rollout, operations.promote_full(w.rollout).status or {})
    w.reconcile()
    assert deletions(w) == []
    w.run()
    assert stale.name in deletions(w)


# -- through the blue-green planner


def test_blue_green_prunes_old_pre_promotion_runs() -> None:
    rollout = blue_green_rollout(
        activeService="web-active",
        prePromotionAnalysis=STEP_ANALYSIS,
        autoPromotionEnabled=True,
    )
    rollout["spec"]["analysis"] = {"successfulRunHistoryLimit": 1}
    w = World(rollout, plan_bluegreen)
    w.services = {"web-active": ServiceView("web-active", {"app": "web"})}
    w.run()
    names = []
    for minor in range(26, 29):
        w.update_template(f"nginx:1.{minor}")
        w.run()
        (name,) = [a.name for p in w.plans[-40:] for a in p.of_type(CreateAnalysisRun) if a.name not in names]
        names.append(name)
        w.analysis_runs[name] = replace(w.analysis_runs[name], phase="Successful")
        w.run()
        assert w.status["stableRS"] == w.status["currentPodHash"]
    assert sorted(deletions(w)) == sorted(names[:-1])
    assert sorted(w.analysis_runs) == [names[-1]]
