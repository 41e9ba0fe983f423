"""Dashboard actions map onto the planner's operations (the CLI's exact patches)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from rollouts.dashboard.actions import ActionError, patches_for
from rollouts.planner import operations

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


def paused_canary() -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "uid": "u1"},
        "spec": {
            "paused": True,
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"image": "web:2"}]},
            },
            "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}]}},
        },
        "status": {
            "currentStepIndex": 1,
            "currentPodHash": "bbb",
            "stableRS": "aaa",
            "pauseConditions": [{"reason": "CanaryPauseStep"}],
            "controllerPause": True,
        },
    }


@pytest.mark.parametrize(
    ("action", "body", "expected"),
    [
        ("promote", {}, operations.promote),
        ("promote", {"full": False}, operations.promote),
        ("promote", {"full": True}, operations.promote_full),
        ("abort", {}, operations.abort),
        ("retry", {}, operations.retry),
        ("pause", {}, operations.pause),
        ("resume", {}, operations.resume),
    ],
)
def test_actions_are_the_plugins_patches(action: str, body: dict[str, Any], expected: Any) -> None:
    assert patches_for(action, paused_canary(), body, now=NOW) == expected(paused_canary())


def test_restart_is_now() -> None:
    patches = patches_for("restart", paused_canary(), {}, now=NOW)
    assert patches.spec == {"spec": {"restartAt": "2026-05-01T12:00:00Z"}}


def test_undo_needs_history_and_says_so() -> None:
    with pytest.raises(ActionError) as caught:
        patches_for("undo", paused_canary(), {}, now=NOW)
    assert (caught.value.status, caught.value.message) == (409, "no rollout history found")


def test_undo_to_a_revision() -> None:
    old = {
        "metadata": {"annotations": {"rollout.argoproj.io/revision": "1"}},
        "spec": {
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"image": "web:1"}]}}
        },
    }
    patches = patches_for("undo", paused_canary(), {}, replica_sets=[old], revision=1, now=NOW)
    assert patches.json_patch is not None
    assert patches.json_patch[0]["value"]["spec"]["containers"] == [{"image": "web:1"}]


def test_undo_of_a_workload_ref_points_to_the_cli() -> None:
    body = paused_canary()
    body["spec"]["workloadRef"] = {"kind": "Deployment", "name": "web"}
    with pytest.raises(ActionError) as caught:
        patches_for("undo", body, {}, revision=1, now=NOW)
    assert caught.value.status == 400
    assert "kubectl rollouts undo" in caught.value.message


def test_unknown_action() -> None:
    with pytest.raises(ActionError) as caught:
        patches_for("explode", paused_canary(), {}, now=NOW)
    assert caught.value.status == 404
