"""§3.11 / §13.3 user operations: the exact patches Argo's plugin and Argo CD send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from planner_world import blue_green_rollout, canary_rollout

from rollouts.planner import operations
from rollouts.planner.operations import OperationError

NOW = datetime(2024, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
STEPS = [{"setWeight": 20}, {"pause": {}}, {"analysis": {"templates": [{"templateName": "t"}]}}]
PAUSED = [{"reason": "CanaryPauseStep", "startTime": "2024-03-01T09:00:00Z"}]


def rollout(status: dict[str, Any], *, paused: bool = False, blue_green: bool = False) -> dict[str, Any]:
    obj = blue_green_rollout() if blue_green else canary_rollout(STEPS)
    obj["spec"]["paused"] = paused
    obj["status"] = status
    return obj


@pytest.mark.parametrize(
    ("obj", "spec", "status"),
    [
        (rollout({"currentStepIndex": 1, "pauseConditions": PAUSED}), None, {"pauseConditions": None}),
        (
            rollout({"currentStepIndex": 1, "pauseConditions": PAUSED}, paused=True),
            {"paused": False},
            {"pauseConditions": None},
        ),
        (rollout({"currentStepIndex": 0}), None, {"pauseConditions": None, "currentStepIndex": 1}),
        (rollout({}), None, {"pauseConditions": None, "currentStepIndex": 1}),
        (rollout({"currentStepIndex": 3}), None, {"pauseConditions": None, "currentStepIndex": 3}),
        (
            rollout(
                {
                    "currentStepIndex": 2,
                    "controllerPause": True,
                    "pauseConditions": [
                        {"reason": "InconclusiveAnalysisRun", "startTime": "2024-03-01T09:00:00Z"}
                    ],
                    "canary": {"currentStepAnalysisRunStatus": {"name": "r", "status": "Inconclusive"}},
                }
            ),
            None,
            {"pauseConditions": None, "controllerPause": False, "currentStepIndex": 3},
        ),
        (
            rollout({"pauseConditions": [{"reason": "BlueGreenPause"}]}, blue_green=True),
            None,
            {"pauseConditions": None},
        ),
        (rollout({}, blue_green=True), None, None),
        (rollout({}, paused=True, blue_green=True), {"paused": False}, None),
    ],
)
def test_promote(obj: dict[str, Any], spec: dict[str, Any] | None, status: dict[str, Any] | None) -> None:
    patches = operations.promote(obj)
    assert patches.spec == (None if spec is None else {"spec": spec})
    assert patches.status == (None if status is None else {"status": status})


def test_promote_full() -> None:
    patches = operations.promote_full(rollout({"currentPodHash": "b", "stableRS": "a"}, paused=True))
    assert patches.spec == {"spec": {"paused": False}}
    assert patches.status == {"status": {"promoteFull": True}}
    assert operations.promote_full(rollout({"currentPodHash": "a", "stableRS": "a"})).empty


def test_abort_retry_pause_resume() -> None:
    obj = rollout({"pauseConditions": PAUSED}, paused=True)
    assert operations.abort(obj).status == {"status": {"abort": True}}
    assert operations.retry(obj).status == {"status": {"abort": False}}
    assert operations.pause(obj).spec == {"spec": {"paused": True}}
    resume = operations.resume(obj)
    assert resume.spec == {"spec": {"paused": False}}
    assert resume.status == {"status": {"pauseConditions": None}}
    assert operations.resume(rollout({})).spec is None


def test_skip_current_step() -> None:
    patches = operations.skip_current_step(rollout({"currentStepIndex": 1, "pauseConditions": PAUSED}))
    assert patches.status == {"status": {"pauseConditions": None, "currentStepIndex": 2}}
    with pytest.raises(OperationError):
        operations.skip_current_step(rollout({"currentStepIndex": 3}))
    with pytest.raises(OperationError):
        operations.skip_current_step(rollout({}, blue_green=True))


def test_restart() -> None:
    assert operations.restart(rollout({}), now=NOW).spec == {"spec": {"restartAt": "2024-03-01T09:30:15Z"}}
    later = operations.restart(rollout({}), now=NOW, delay=timedelta(minutes=5))
    assert later.spec == {"spec": {"restartAt": "2024-03-01T09:35:15Z"}}
    with pytest.raises(OperationError):
        operations.restart(rollout({}), now=NOW, delay=timedelta(seconds=-1))


def replica_set(revision: str, image: str, pod_hash: str) -> dict[str, Any]:
    return {
        "metadata": {"name": f"web-{pod_hash}", "annotations": {"rollout.argoproj.io/revision": revision}},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "web", "rollouts-pod-template-hash": pod_hash}},
                "spec": {"containers": [{"name": "web", "image": image}]},
            }
        },
    }


HISTORY = [
    replica_set("1", "nginx:1.25", "a"),
    replica_set("2", "nginx:1.26", "b"),
    replica_set("3", "nginx:1.27", "c"),
]


def test_undo_to_previous_revision() -> None:
    patches = operations.undo(rollout({}), HISTORY)
    assert patches.json_patch == [
        {
            "op": "replace",
            "path": "/spec/template",
            "value": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.26"}]},
            },
        }
    ]


def test_undo_to_a_revision() -> None:
    patches = operations.undo(rollout({}), HISTORY, to_revision=1)
    assert patches.json_patch is not None
    assert patches.json_patch[0]["value"]["spec"]["containers"][0]["image"] == "nginx:1.25"


def test_undo_no_op_when_template_matches() -> None:
    obj = rollout({})
    obj["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.26"
    patches = operations.undo(obj, HISTORY)
    assert patches.empty
    assert patches.message == "skipped rollback (current template already matches revision 2)"


@pytest.mark.parametrize(
    ("history", "revision", "message"),
    [
        (HISTORY, 7, "unable to find specified revision 7 in history"),
        (HISTORY, -1, "unable to find specified revision -1 in history"),
        (HISTORY[:1], 0, "no rollout history found"),
    ],
)
def test_undo_errors(history: list[dict[str, Any]], revision: int, message: str) -> None:
    with pytest.raises(OperationError, match=message):
        operations.undo(rollout({}), history, to_revision=revision)
