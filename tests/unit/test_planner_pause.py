"""Pause/abort folding (§3.1 status write step 3)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from planner_world import canary_rollout

from rollouts.planner.inputs import RolloutView
from rollouts.planner.pause import CANARY_PAUSE_STEP, INCONCLUSIVE_ANALYSIS, PauseChanges

NOW = datetime(2024, 1, 1, 12, tzinfo=UTC)
EARLIER = {"reason": CANARY_PAUSE_STEP, "startTime": "2024-01-01T11:00:00Z"}


def view(**status: Any) -> RolloutView:
    rollout = canary_rollout([{"pause": {}}])
    rollout["status"] = {"stableRS": "old", "currentPodHash": "new", **status}
    return RolloutView(rollout)


def applied(ro: RolloutView, changes: PauseChanges) -> dict[str, Any]:
    status: dict[str, Any] = {"abort": "stale", "pauseConditions": "stale"}
    changes.apply(ro, status, NOW)
    return status


def test_adding_a_pause_stamps_now_and_sets_controller_pause() -> None:
    ro = view()
    changes = PauseChanges.for_rollout(ro)
    changes.add.append(CANARY_PAUSE_STEP)
    assert applied(ro, changes) == {
        "pauseConditions": [{"reason": CANARY_PAUSE_STEP, "startTime": "2024-01-01T12:00:00Z"}],
        "controllerPause": True,
    }


def test_existing_pause_keeps_its_start_time() -> None:
    ro = view(pauseConditions=[EARLIER], controllerPause=True)
    changes = PauseChanges.for_rollout(ro)
    changes.add.append(CANARY_PAUSE_STEP)
    assert applied(ro, changes)["pauseConditions"] == [EARLIER]


def test_removing_the_last_pause_clears_controller_pause() -> None:
    ro = view(pauseConditions=[EARLIER], controllerPause=True)
    changes = PauseChanges.for_rollout(ro)
    changes.remove.append(CANARY_PAUSE_STEP)
    assert applied(ro, changes) == {}


def test_abort_drops_pauses_and_keeps_the_first_abort_time() -> None:
    ro = view(pauseConditions=[EARLIER], controllerPause=True, abort=True, abortedAt="2024-01-01T11:30:00Z")
    changes = PauseChanges.for_rollout(ro)
    changes.add.append(INCONCLUSIVE_ANALYSIS)
    assert applied(ro, changes) == {"abort": True, "abortedAt": "2024-01-01T11:30:00Z"}


def test_new_abort_is_stamped_now() -> None:
    ro = view()
    changes = PauseChanges.for_rollout(ro)
    changes.abort("analysis failed")
    assert changes.aborted
    assert applied(ro, changes) == {"abort": True, "abortedAt": "2024-01-01T12:00:00Z"}


def test_fully_promoted_rollout_drops_a_stale_abort() -> None:
    ro = view(abort=True, abortedAt="2024-01-01T11:30:00Z", stableRS="a", currentPodHash="a")
    changes = PauseChanges.for_rollout(ro)
    assert not changes.aborted
    assert applied(ro, changes) == {}


def test_clear_removes_every_pause() -> None:
    ro = view(pauseConditions=[EARLIER], controllerPause=True)
    changes = PauseChanges.for_rollout(ro)
    changes.clear = True
    changes.add.append(CANARY_PAUSE_STEP)
    assert applied(ro, changes) == {}
