"""``status.duration`` (§3.23) over whole updates in the planner world, and the attempts the shell
turns into histograms."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from planner_world import T0, World, apply_merge_patch, blue_green_rollout, canary_rollout

from rollouts.planner import operations as ops
from rollouts.planner import plan_rollout
from rollouts.planner.duration import FinishedAttempt, finished_attempts
from rollouts.planner.inputs import ServiceView, format_time


def at(seconds: float) -> str:
    return format_time(T0 + timedelta(seconds=seconds))


def canary(steps: list[dict[str, Any]], **spec: Any) -> World:
    w = World(canary_rollout(steps, replicas=4), plan_rollout)
    w.rollout["spec"].update(spec)
    w.run()
    return w


def operate(w: World, patches: ops.Patches) -> None:
    if patches.spec is not None:
        apply_merge_patch(w.rollout, patches.spec)
        w.rollout["metadata"]["generation"] += 1
    if patches.status is not None:
        apply_merge_patch(w.rollout, patches.status)


def update(w: World, image: str) -> float:
    """Change the template; returns the world's clock (seconds since T0) at that moment."""
    w.advance(10)
    w.update_template(image)
    return (w.now - T0).total_seconds()


def test_the_first_deploy_is_not_an_update_and_writes_no_duration() -> None:
    w = canary([{"setWeight": 50}, {"pause": {}}])
    assert w.status["stableRS"] == w.status["currentPodHash"]
    assert "duration" not in w.status


def test_an_update_through_a_manual_pause_is_promoted_with_its_pause_time_counted() -> None:
    w = canary([{"setWeight": 50}, {"pause": {}}])
    started = update(w, "nginx:1.28")
    w.run()
    assert w.status["pauseConditions"][0]["reason"] == "CanaryPauseStep"
    paused_at = w.status["duration"]["manualPauseStartedAt"]
    assert w.status["duration"]["rolloutStartedAt"] == at(started)
    w.advance(120)
    operate(w, ops.promote(w.rollout))
    w.run()
    duration = w.status["duration"]
    assert duration["completionStatus"] == "Promoted"
    assert "manualPauseStartedAt" not in duration
    assert duration["totalManualPauseDurationSeconds"] >= 120
    assert duration["finishedAt"] > paused_at > duration["rolloutStartedAt"]


def test_a_timed_pause_is_not_manual() -> None:
    w = canary([{"setWeight": 50}, {"pause": {"duration": 30}}])
    update(w, "nginx:1.28")
    w.run()
    assert "manualPauseStartedAt" not in w.status["duration"]
    w.advance(31)
    w.run()
    assert w.status["duration"]["completionStatus"] == "Promoted"
    assert "totalManualPauseDurationSeconds" not in w.status["duration"]


def test_spec_paused_mid_update_counts_as_manual_pause() -> None:
    w = canary([{"setWeight": 50}, {"pause": {"duration": 3600}}])
    update(w, "nginx:1.28")
    w.run()
    operate(w, ops.pause(w.rollout))
    w.run()
    assert "manualPauseStartedAt" in w.status["duration"]
    w.advance(45)
    operate(w, ops.resume(w.rollout))
    w.run()
    assert "manualPauseStartedAt" not in w.status["duration"]
    assert w.status["duration"]["totalManualPauseDurationSeconds"] >= 45


def test_spec_paused_on_a_healthy_rollout_touches_no_duration() -> None:
    w = canary([{"setWeight": 50}])
    update(w, "nginx:1.28")
    w.run()
    before = dict(w.status["duration"])
    operate(w, ops.pause(w.rollout))
    w.run()
    assert w.status["duration"] == before


def test_promote_full_finishes_fast_promoted() -> None:
    w = canary([{"setWeight": 20}, {"pause": {}}, {"setWeight": 60}, {"pause": {}}])
    update(w, "nginx:1.28")
    w.run()
    operate(w, ops.promote_full(w.rollout))
    w.run()
    assert w.status["duration"]["completionStatus"] == "FastPromoted"


def test_abort_finishes_the_attempt_and_retry_starts_a_new_one() -> None:
    w = canary([{"setWeight": 50}, {"pause": {}}])
    update(w, "nginx:1.28")
    w.run()
    w.advance(5)
    operate(w, ops.abort(w.rollout))
    w.run()
    aborted = dict(w.status["duration"])
    assert aborted["completionStatus"] == "Aborted"
    assert "manualPauseStartedAt" not in aborted
    w.advance(30)
    w.run()
    assert w.status["duration"] == aborted  # an aborted rollout stays where it ended
    operate(w, ops.retry(w.rollout))
    w.reconcile()
    retried = w.status["duration"]
    assert retried["rolloutStartedAt"] > aborted["rolloutStartedAt"]
    assert "finishedAt" not in retried and "completionStatus" not in retried


def test_going_back_to_the_stable_template_mid_update_is_a_fast_rollback() -> None:
    w = canary([{"setWeight": 50}, {"pause": {}}])
    update(w, "nginx:1.28")
    w.run()
    update(w, "nginx:1.27")
    w.run()
    assert w.status["duration"]["completionStatus"] == "FastRolledBack"


def test_a_newer_template_mid_update_supersedes_the_attempt() -> None:
    w = canary([{"setWeight": 50}, {"pause": {}}])
    first = update(w, "nginx:1.28")
    w.run()
    observed = {**w.status, "duration": dict(w.status["duration"])}
    second = update(w, "nginx:1.29")
    w.run()
    duration = w.status["duration"]
    assert duration["rolloutStartedAt"] == at(second) != at(first)
    assert "finishedAt" not in duration
    (ended,) = finished_attempts(observed, w.status, w.now)
    assert ended.completion_status == "Superseded"


def test_an_undo_through_the_steps_is_rolled_back_and_inside_the_window_fast_rolled_back() -> None:
    for window, expected in ((None, "RolledBack"), ({"revisions": 3}, "FastRolledBack")):
        w = canary([{"setWeight": 50}, {"pause": {"duration": 10}}])
        if window is not None:
            w.rollout["spec"]["rollbackWindow"] = window
        update(w, "nginx:1.28")
        w.run()
        w.advance(11)
        w.run()
        assert w.status["duration"]["completionStatus"] == "Promoted"
        update(w, "nginx:1.27")  # the template of revision 1, whose ReplicaSet is still kept
        w.run()
        w.advance(11)
        w.run()
        assert w.status["duration"]["completionStatus"] == expected, window


def test_blue_green_waiting_for_promote_is_manual_pause() -> None:
    w = World(blue_green_rollout(autoPromotionEnabled=False), plan_rollout)
    w.services["web-active"] = ServiceView("web-active", {"app": "web"})
    w.run()
    update(w, "nginx:1.28")
    w.run()
    assert w.status["pauseConditions"][0]["reason"] == "BlueGreenPause"
    assert "manualPauseStartedAt" in w.status["duration"]
    w.advance(60)
    operate(w, ops.promote(w.rollout))
    w.run()
    duration = w.status["duration"]
    assert duration["completionStatus"] == "Promoted"
    assert duration["totalManualPauseDurationSeconds"] >= 60


def test_finished_attempts_are_reported_once_with_their_times() -> None:
    running = {"duration": {"rolloutStartedAt": at(0), "totalManualPauseDurationSeconds": 20}}
    done = {"duration": {**running["duration"], "finishedAt": at(100), "completionStatus": "Promoted"}}
    (ended,) = finished_attempts(running, done, T0 + timedelta(seconds=100))
    assert ended == FinishedAttempt("Promoted", 100.0, 20.0)
    assert ended.progression_seconds == 80.0
    assert finished_attempts(done, done, T0 + timedelta(seconds=200)) == []
    assert finished_attempts({}, running, T0) == []
